/**
 * A minimal Matroska stream of raw RGB frames, each with its own timestamp: what the encoder's
 * ffmpeg reads on its stdin so that a variable-frame-rate video keeps its timing (raw video on a
 * pipe has no timestamps; ffmpeg would number the frames at a constant rate).
 *
 * Layout (EBML, see: https://www.matroska.org/technical/elements.html):
 *
 *     EBML header (DocType 'matroska')
 *     Segment (size unknown: streamed)
 *       Info     TimestampScale = 1000 ns (timestamps in microseconds)
 *       Tracks   one video track, CodecID 'V_UNCOMPRESSED', ColourSpace 'RGB' 24 (FourCC of rgb24)
 *       Cluster  Timestamp = the frame's µs, SimpleBlock (track 1, relative time 0, keyframe) = the frame
 *       Cluster  …  one per frame, so no block's int16 relative timestamp can overflow
 *
 * ffmpeg's Matroska muxer refuses raw RGB, but its demuxer reads it (checked with ffmpeg 5.1).
 */

/** Microseconds per Matroska tick of this stream (TimestampScale is in nanoseconds). */
export const MATROSKA_TICK_US = 1;

/** An EBML variable-size integer (the size of an element), 1–8 bytes. */
function sizeVint(size: number): Uint8Array {
  for (let length = 1; length <= 8; length++) {
    // all ones is reserved for 'unknown size'
    if (size < 2 ** (7 * length) - 1) {
      const bytes = new Uint8Array(length);
      let rest = size;
      for (let i = length - 1; i >= 0; i--) {
        bytes[i] = rest % 256;
        rest = Math.floor(rest / 256);
      }
      bytes[0] |= 1 << (8 - length);
      return bytes;
    }
  }
  throw new RangeError(`an element of ${size} bytes is too large for Matroska`);
}

/** An unsigned integer in as few big-endian bytes as it needs. */
function unsigned(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${value} is not an unsigned integer Matroska can store`);
  const bytes: number[] = [];
  let rest = value;
  do {
    bytes.unshift(rest % 256);
    rest = Math.floor(rest / 256);
  } while (rest > 0);
  return Uint8Array.from(bytes);
}

const text = (value: string) => new TextEncoder().encode(value);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** One element: its ID bytes, its size, its data (or its children, concatenated). */
const element = (id: readonly number[], ...data: Uint8Array[]) => {
  const body = concat(data);
  return concat([Uint8Array.from(id), sizeVint(body.length), body]);
};

// element IDs (Matroska specification)
const EBML = [0x1a, 0x45, 0xdf, 0xa3],
  EBML_VERSION = [0x42, 0x86],
  EBML_READ_VERSION = [0x42, 0xf7],
  EBML_MAX_ID_LENGTH = [0x42, 0xf2];
const EBML_MAX_SIZE_LENGTH = [0x42, 0xf3],
  DOC_TYPE = [0x42, 0x82],
  DOC_TYPE_VERSION = [0x42, 0x87],
  DOC_TYPE_READ_VERSION = [0x42, 0x85];
const SEGMENT = [0x18, 0x53, 0x80, 0x67],
  INFO = [0x15, 0x49, 0xa9, 0x66],
  TIMESTAMP_SCALE = [0x2a, 0xd7, 0xb1];
const MUXING_APP = [0x4d, 0x80],
  WRITING_APP = [0x57, 0x41];
const TRACKS = [0x16, 0x54, 0xae, 0x6b],
  TRACK_ENTRY = [0xae],
  TRACK_NUMBER = [0xd7],
  TRACK_UID = [0x73, 0xc5],
  TRACK_TYPE = [0x83];
const CODEC_ID = [0x86],
  VIDEO = [0xe0],
  PIXEL_WIDTH = [0xb0],
  PIXEL_HEIGHT = [0xba],
  COLOUR_SPACE = [0x2e, 0xb5, 0x24];
const CLUSTER = [0x1f, 0x43, 0xb6, 0x75],
  CLUSTER_TIMESTAMP = [0xe7],
  SIMPLE_BLOCK = [0xa3];
/** Segment with an 'unknown' size (8 bytes, all value bits set): the stream ends when the pipe does. */
const SEGMENT_UNKNOWN_SIZE = Uint8Array.from([...SEGMENT, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const RGB24_FOURCC = Uint8Array.from([0x52, 0x47, 0x42, 24]); // 'R' 'G' 'B' 24: ffmpeg's raw tag for rgb24

/** The stream's header: everything before the first frame. */
export function matroskaRgbHeader(width: number, height: number): Uint8Array {
  return concat([
    element(
      EBML,
      element(EBML_VERSION, unsigned(1)),
      element(EBML_READ_VERSION, unsigned(1)),
      element(EBML_MAX_ID_LENGTH, unsigned(4)),
      element(EBML_MAX_SIZE_LENGTH, unsigned(8)),
      element(DOC_TYPE, text('matroska')),
      element(DOC_TYPE_VERSION, unsigned(4)),
      element(DOC_TYPE_READ_VERSION, unsigned(2)),
    ),
    SEGMENT_UNKNOWN_SIZE,
    element(
      INFO,
      element(TIMESTAMP_SCALE, unsigned(MATROSKA_TICK_US * 1000)),
      element(MUXING_APP, text('ssd-edge')),
      element(WRITING_APP, text('ssd-edge')),
    ),
    element(
      TRACKS,
      element(
        TRACK_ENTRY,
        element(TRACK_NUMBER, unsigned(1)),
        element(TRACK_UID, unsigned(1)),
        element(TRACK_TYPE, unsigned(1)),
        element(CODEC_ID, text('V_UNCOMPRESSED')),
        element(
          VIDEO,
          element(PIXEL_WIDTH, unsigned(width)),
          element(PIXEL_HEIGHT, unsigned(height)),
          element(COLOUR_SPACE, RGB24_FOURCC),
        ),
      ),
    ),
  ]);
}

/**
 * What goes before one frame's bytes: a Cluster at `timestampUs` holding one SimpleBlock of
 * `frameBytes` bytes. The frame itself is written after it, uncopied.
 */
export function matroskaRgbFramePrefix(timestampUs: number, frameBytes: number): Uint8Array {
  // SimpleBlock: track number 1 as a vint (0x81), relative timestamp int16 0, flags 0x80 (keyframe)
  const blockHead = Uint8Array.from([0x81, 0x00, 0x00, 0x80]);
  const timestamp = element(CLUSTER_TIMESTAMP, unsigned(Math.round(timestampUs / MATROSKA_TICK_US)));
  const blockSize = blockHead.length + frameBytes;
  const block = concat([Uint8Array.from(SIMPLE_BLOCK), sizeVint(blockSize), blockHead]);
  return concat([Uint8Array.from(CLUSTER), sizeVint(timestamp.length + block.length + frameBytes), timestamp, block]);
}

/**
 * Reads an ONNX model's `metadata_props` (string key/value pairs) straight from its protobuf
 * bytes. A short wire-format walk instead of a protobuf library: no dependency in
 * browser bundles, and the graph (the weights, up to gigabytes) is skipped by its length, never
 * decoded. See onnx/onnx.proto: ModelProto field 14 is `repeated StringStringEntryProto
 * metadata_props`, whose fields 1 and 2 are `key` and `value`.
 */

/** Metadata keys (JSON values) an ssd-edge export records; createDetector reads them. */
export const METADATA_PREPROCESS = 'ssd-edge.preprocess';
export const METADATA_POSTPROCESS = 'ssd-edge.postprocess';

const MODEL_METADATA_PROPS = 14;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
const WIRE_VARINT = 0,
  WIRE_FIXED64 = 1,
  WIRE_BYTES = 2,
  WIRE_FIXED32 = 5;

/** One protobuf message's fields, in order: field number, wire type, and for bytes the range. */
function* fields(
  bytes: Uint8Array,
  start: number,
  end: number,
): Generator<[field: number, start: number, end: number, wire: number]> {
  let at = start;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= end || shift > 63) throw new RangeError(`malformed protobuf varint at byte ${at}`);
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift; // multiply, not shift: lengths can pass 2^31
      if (byte < 0x80) return value;
    }
  };
  while (at < end) {
    const tag = varint();
    const wire = tag % 8;
    let length: number;
    if (wire === WIRE_VARINT) {
      varint();
      length = 0;
    } else if (wire === WIRE_FIXED64) length = 8;
    else if (wire === WIRE_BYTES) length = varint();
    else if (wire === WIRE_FIXED32) length = 4;
    else throw new RangeError(`unsupported protobuf wire type ${wire} at byte ${at}`);
    if (at + length > end)
      throw new RangeError(`protobuf field ${Math.floor(tag / 8)} runs past the end (byte ${at + length} of ${end})`);
    yield [Math.floor(tag / 8), at, at + length, wire];
    at += length;
  }
}

/**
 * The model's metadata as a key → value map (later duplicates win). Throws a RangeError when
 * the bytes are not a well-formed protobuf message.
 */
export function readModelMetadata(bytes: Uint8Array): Record<string, string> {
  const text = new TextDecoder();
  const metadata: Record<string, string> = {};
  for (const [field, start, end, wire] of fields(bytes, 0, bytes.length)) {
    if (field !== MODEL_METADATA_PROPS || wire !== WIRE_BYTES) continue;
    let key = '',
      value = '';
    for (const [entryField, from, to, entryWire] of fields(bytes, start, end)) {
      if (entryWire !== WIRE_BYTES) continue;
      if (entryField === ENTRY_KEY) key = text.decode(bytes.subarray(from, to));
      else if (entryField === ENTRY_VALUE) value = text.decode(bytes.subarray(from, to));
    }
    metadata[key] = value;
  }
  return metadata;
}

const MODEL_GRAPH = 7;

/**
 * Whether the bytes are a protobuf message with ModelProto's `graph` (field 7, a message): an
 * image or a .tflite file can pass as a short protobuf with no metadata, but not carry a graph.
 */
export function hasOnnxGraph(bytes: Uint8Array): boolean {
  try {
    for (const [field, , , wire] of fields(bytes, 0, bytes.length)) {
      if (field === MODEL_GRAPH && wire === WIRE_BYTES) return true;
    }
  } catch {
    return false;
  }
  return false;
}

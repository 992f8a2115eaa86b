/**
 * `ssd-edge detect clip.mp4 --out annotated.mp4 --json tracks.json`: detection (and tracking) on
 * every frame of a video file, frames decoded and encoded by the system's ffmpeg (src/video/).
 *
 * - Frames carry the decoder's timestamps (a variable-frame-rate file keeps its gaps): the JSON
 *   lines' `timestamp`, the tracker's time steps and the predictions between detections all use them.
 * - `--every N`: detection on frames 0, N, 2N, … (counted in frames, as on the web). In between,
 *   with `--track` the tracks' boxes are predicted (constant velocity over the real time gap, state
 *   'predicted'); without it the last detections stand — the same rule as detector.track() on the
 *   web (src/stream/frame-tracking.ts).
 * - `--out`: the annotated video (boxes, labels, `#id` with --track) with the input's timing and
 *   its audio (copied, or re-encoded to AAC where the container cannot hold the codec), written to
 *   a temporary file beside it and renamed when complete; never over the input.
 * - `--json [file]`: JSON lines, one object per frame (to stdout without a file); written
 *   atomically too.
 *
 * One frame is in memory at a time; ffmpeg is stopped and waited for on any error or Ctrl-C, and
 * the temporary files are removed.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createTracker } from '../core/tracker.js';
import { createDetector } from '../runtime/detector.js';
import { FrameTracking, type FrameObject } from '../stream/frame-tracking.js';
import {
  containerFor,
  decodeFrames,
  findFfmpeg,
  probeVideo,
  VIDEO_OUTPUT_EXTENSIONS,
  VideoEncoder,
  type AudioPlan,
  type FfmpegTools,
  type VideoInfo,
} from '../video/ffmpeg.js';
import { annotateRgb } from './annotate.js';
import { planOutputFile } from './output-paths.js';
import { progressBar } from './progress.js';

export interface VideoDetectOptions {
  input: string;
  /** The model for createDetector: a built-in name or a file. */
  model: string;
  preset?: string;
  backend?: 'auto' | 'node' | 'wasm' | 'int8';
  threads?: number;
  minScore: number;
  /** Detection on every N-th frame; default 1. */
  every?: number;
  /** Track objects (ids, smoothed boxes, predictions between detections); default false. */
  track?: boolean;
  /** Detections before a track shows (SORT's minHits); default 3. */
  minHits?: number;
  /** Annotated video to write. */
  out?: string;
  /** JSON lines: a file, or true for stdout. */
  json?: string | true;
  /** ffmpeg executable (ffprobe beside it) or their folder; default: PATH. */
  ffmpeg?: string;
  /** Stops the run (Ctrl-C): ffmpeg stopped, temporary files removed, the promise rejects. */
  signal?: AbortSignal;
  /** Where JSON lines go without a file (default process.stdout), and the progress bar (default process.stderr). */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream;
}

/** One object of one frame in the JSON lines. */
export interface VideoObject {
  trackId?: number;
  classId: number;
  label?: string;
  score: number;
  /** (xmin, ymin, xmax, ymax), normalised to [0, 1] of the frame (clipped to it: a track's box may reach past the edge). */
  box: [number, number, number, number];
  /** The same box in the frame's pixels. */
  pixelBox: [number, number, number, number];
  /** With --track: 'confirmed' | 'lost' | 'predicted' (a frame without detection). */
  state?: FrameObject['state'];
}

/** One JSON line. */
export interface VideoFrameRecord {
  frame: number;
  /** Seconds from the start of the file: the frame's presentation time from the decoder (a variable-frame-rate file keeps its gaps). */
  timestamp: number;
  /** Whether detection ran on this frame (--every). */
  detected: boolean;
  detections: VideoObject[];
}

export interface VideoDetectSummary {
  video: VideoInfo;
  frames: number;
  detectedFrames: number;
  /** Frames the decoder gave at another size (a resolution change midway), scaled to the video's size before detection. */
  resizedFrames: number;
  /** Distinct track ids (with --track). */
  tracks: number;
  /** Objects over all frames, by label. */
  labels: Record<string, number>;
  out?: string;
  json?: string;
  encoder: FfmpegTools['encoder'];
  /** With --out: what happened to each audio stream of the input (copied, or re-encoded to AAC and why). */
  audio?: AudioPlan[];
  seconds: number;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** Where a temporary file beside `target` goes (hidden, same folder: the rename is atomic). */
const temporaryBeside = (target: string) =>
  path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);

async function writeLine(stream: NodeJS.WritableStream, line: string): Promise<void> {
  if (stream.write(line)) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      stream.off('error', onError);
      resolve();
    };
    const onError = (error: Error) => {
      stream.off('drain', onDrain);
      reject(error);
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}

async function closeStream(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

export async function detectVideo(options: VideoDetectOptions): Promise<VideoDetectSummary> {
  const started = Date.now();
  const every = options.every ?? 1;
  if (!Number.isInteger(every) || every < 1)
    throw new RangeError(`--every is ${every}; it must be an integer ≥ 1 (1 = detect on every frame)`);
  const tools = await findFfmpeg(options.ffmpeg);
  const video = await probeVideo(tools, options.input);

  // every output checked before any work
  let out: string | undefined, jsonFile: string | undefined;
  if (options.out !== undefined) {
    out = await planOutputFile(options.input, options.out, '.mp4', `--out '${options.out}'`);
    if (!containerFor(out))
      throw new Error(
        `--out '${options.out}': a video is written as ${VIDEO_OUTPUT_EXTENSIONS.join(', ')}; give one of those extensions`,
      );
  }
  if (typeof options.json === 'string') {
    jsonFile = await planOutputFile(
      options.input,
      options.json,
      '.jsonl',
      `--json '${options.json}'`,
      out ? [out] : [],
    );
  }

  const detector = await createDetector({
    model: options.model,
    preset: options.preset,
    backend: options.backend ?? 'auto',
    threads: options.threads,
  });
  const tracker = await createTracker({ minHits: options.minHits ?? 3 });
  const frames = new FrameTracking(tracker, options.track ?? false);
  const outTemp = out ? temporaryBeside(out) : undefined;
  const jsonTemp = jsonFile ? temporaryBeside(jsonFile) : undefined;
  let encoder: VideoEncoder | undefined;
  let jsonStream: WriteStream | undefined;
  let completed = false;
  const summary: VideoDetectSummary = {
    video,
    frames: 0,
    detectedFrames: 0,
    resizedFrames: 0,
    tracks: 0,
    labels: {},
    out,
    json: jsonFile,
    encoder: tools.encoder,
    seconds: 0,
  };
  const trackIds = new Set<number>();
  const progress = progressBar(
    video.frames,
    `detect ${path.basename(options.input)} (${detector.backend})`,
    options.stderr,
    { perSecond: 'fps' },
  );
  try {
    if (outTemp) {
      encoder = new VideoEncoder(
        tools,
        outTemp,
        {
          width: video.width,
          height: video.height,
          timeBase: video.timeBase,
          audioFrom: { file: options.input, streams: video.audio, startTime: video.startTime },
        },
        containerFor(out!),
      );
      summary.audio = encoder.audio;
    }
    if (jsonTemp) {
      jsonStream = createWriteStream(jsonTemp, { flags: 'wx' });
      jsonStream.on('error', () => {}); // reported by writeLine / closeStream
    }
    const lines = jsonStream ?? (options.json === true ? (options.stdout ?? process.stdout) : undefined);
    const { width, height } = video;
    for await (const frame of decodeFrames(tools, video)) {
      if (options.signal?.aborted) throw new Error(`stopped after ${summary.frames} frames`);
      if (frame.decodedWidth !== width || frame.decodedHeight !== height) summary.resizedFrames++;
      const detect = frame.index % every === 0;
      let objects: FrameObject[];
      if (detect) {
        const found = (await detector.detect({ data: frame.data, width, height, channels: 3 })).filter(
          (d) => d.score >= options.minScore,
        );
        objects = frames.detected(found, frame.timestampMs);
        summary.detectedFrames++;
      } else {
        objects = frames.between(frame.timestampMs);
      }
      const records: VideoObject[] = objects.map((o) => {
        const box = o.box.map((v) => Math.min(Math.max(v, 0), 1));
        const record: VideoObject = {
          ...(o.trackId !== undefined ? { trackId: o.trackId } : {}),
          classId: o.classId,
          ...(o.label !== undefined ? { label: o.label } : {}),
          score: round(o.score, 4),
          box: box.map((v) => round(v, 5)) as VideoObject['box'],
          pixelBox: [box[0] * width, box[1] * height, box[2] * width, box[3] * height].map((v) =>
            round(v, 1),
          ) as VideoObject['pixelBox'],
          ...(o.state !== undefined ? { state: o.state } : {}),
        };
        if (o.trackId) trackIds.add(o.trackId);
        const label = o.label ?? String(o.classId);
        summary.labels[label] = (summary.labels[label] ?? 0) + 1;
        return record;
      });
      if (encoder) await encoder.write(await annotateRgb(frame.data, width, height, records), frame.timestampMs);
      if (lines) {
        const line: VideoFrameRecord = {
          frame: frame.index,
          timestamp: round(frame.timestampMs / 1000, 6),
          detected: detect,
          detections: records,
        };
        await writeLine(lines, `${JSON.stringify(line)}\n`);
      }
      summary.frames++;
      progress.tick(`frame ${frame.index}`);
    }
    if (summary.frames === 0)
      throw new Error(`'${options.input}' has a video stream but ffmpeg decoded no frames from it`);
    if (encoder) await encoder.finish();
    if (jsonStream) await closeStream(jsonStream);
    if (outTemp) await rename(outTemp, out!);
    if (jsonTemp) await rename(jsonTemp, jsonFile!);
    completed = true;
  } finally {
    progress.done();
    if (!completed) {
      await encoder?.abort();
      jsonStream?.destroy();
      await Promise.all([outTemp, jsonTemp].map((f) => f && rm(f, { force: true })));
    }
    tracker.dispose();
    await detector.dispose();
  }
  summary.tracks = trackIds.size;
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

/**
 * createTracker: SORT-style multi-object tracking and box smoothing, run by the wasm core
 * (assembly/track.ts). Give it each frame's detections and the frame's timestamp; it returns
 * the tracks with stable integer ids, their state and smoothed boxes.
 *
 *   const tracker = await createTracker({ minHits: 3, maxAge: 10 });
 *   for (const frame of frames) {
 *     const tracks = tracker.update(detector.detect(frame), frame.timestampMs);
 *   }
 */
import { rejectUnknownKeys } from '../util/strict-keys.js';
import { instantiateCore, type Core, type CoreBuild, type LoadCoreOptions } from './loader.js';
import { blockBytes, TRACK_FRAME_FIELDS, TRACK_HEADER_BYTES, TRACK_HEADER_FIELDS, wordOf } from './params.js';
import { writeBlock } from './plan.js';
import { SMOOTHERS, type SmootherKind, type TrackerParams } from './track-params.js';

export type { SmootherKind } from './track-params.js';

export type TrackState = 'tentative' | 'confirmed' | 'lost';

export interface TrackerOptions extends LoadCoreOptions {
  /** Consecutive matched frames before a track is confirmed and gets its id. Integer ≥ 1; default 3 (SORT). */
  minHits?: number;
  /** Missed frames a confirmed track survives on predictions alone. Integer ≥ 0; default 10. */
  maxAge?: number;
  /** Smallest IoU (predicted track box vs detection) for a match, in [0, 1]; default 0.3 (SORT). */
  iouThreshold?: number;
  /** Match only detections of the track's class; default true. */
  classAware?: boolean;
  /**
   * What `smoothedBox` is: 'kalman' (default; the filter's estimate), 'one-euro', 'exponential',
   * or 'none' (the box itself).
   */
  smoother?: SmootherKind;
  /**
   * One-euro parameters (Casiez et al. 2012), on (cx, cy, w, h) in the boxes' own units:
   * minCutoff in Hz (default 1), beta in 1/(box unit) (default 10, for normalised boxes; use
   * about 10 / image size for pixels), dCutoff in Hz (default 1).
   */
  oneEuro?: { minCutoff?: number; beta?: number; dCutoff?: number };
  /** Exponential smoothing factor per frame, in (0, 1]; default 0.5 (1 = no smoothing). */
  exponential?: { alpha?: number };
  /** Return tentative tracks too (trackId 0); default false: confirmed and lost tracks only. */
  includeTentative?: boolean;
  /** Class names: a track's `label` is `labels[classId]` (else the detection's own label). */
  labels?: readonly string[];
}

/** A detection as the tracker takes it: what Detector.detect and Postprocessor.run return. */
export interface TrackInput {
  classId: number;
  score: number;
  /** (xmin, ymin, xmax, ymax), in any units (normalised or pixels), the same on every frame. */
  box: readonly [number, number, number, number] | readonly number[];
  label?: string;
}

export interface Track {
  /** Stable id, 1, 2, 3, … in order of confirmation; 0 while tentative. */
  trackId: number;
  classId: number;
  label?: string;
  /** The score of the track's latest detection. */
  score: number;
  /** This frame's detection, or the filter's prediction when the track missed it. (xmin, ymin, xmax, ymax) */
  box: [number, number, number, number];
  /** The box after the configured smoother. (xmin, ymin, xmax, ymax) */
  smoothedBox: [number, number, number, number];
  /** 'confirmed': matched this frame; 'lost': coasting on predictions; 'tentative': not yet minHits. */
  state: TrackState;
  /** Frames since the track was born (1 on its first frame). */
  age: number;
  /** Frames with a matched detection. */
  hits: number;
  /** Frames since the last matched detection (0 when matched this frame). */
  timeSinceUpdate: number;
  /** Index into this frame's detections, or −1. */
  detectionIndex: number;
}

export interface Tracker {
  /** Which core build runs. */
  readonly build: CoreBuild;
  /** Frames seen since creation or the last reset. */
  readonly frame: number;
  /**
   * One frame: `detections` of this frame (possibly none) and its time in milliseconds,
   * strictly after the previous frame's. Returns the tracks, in order of birth.
   */
  update(detections: readonly TrackInput[], timestampMs: number): Track[];
  /** Forgets every track; ids start again at 1. */
  reset(): void;
  dispose(): void;
}

/** Every TrackerOptions key; the `satisfies` keeps the list in step with the interface. */
const TRACKER_OPTION_KEYS = Object.keys({
  minHits: 1,
  maxAge: 1,
  iouThreshold: 1,
  classAware: 1,
  smoother: 1,
  oneEuro: 1,
  exponential: 1,
  includeTentative: 1,
  labels: 1,
  build: 1,
  wasmBaseUrl: 1,
} satisfies Record<keyof TrackerOptions, 1>);

// record layout: see assembly/track.ts
const RECORD_BYTES = 192;
const STATES: TrackState[] = ['tentative', 'confirmed', 'lost'];

/** Options with defaults applied and checked; the core's parameter block. */
export function resolveTrackerOptions(options: TrackerOptions = {}): TrackerParams & { includeTentative: boolean } {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`tracker options must be an object, got ${options === null ? 'null' : typeof options}`);
  rejectUnknownKeys(options, TRACKER_OPTION_KEYS, 'tracker options');
  for (const [name, keys] of [
    ['oneEuro', ['minCutoff', 'beta', 'dCutoff']],
    ['exponential', ['alpha']],
  ] as const) {
    const nested: unknown = options[name];
    if (nested === undefined) continue;
    if (nested === null || typeof nested !== 'object')
      throw new TypeError(`${name} must be an object { ${keys.join(', ')} }, got ${String(nested)}`);
    rejectUnknownKeys(nested, keys, name);
  }
  const {
    minHits = 3,
    maxAge = 10,
    iouThreshold = 0.3,
    classAware = true,
    smoother = 'kalman',
    includeTentative = false,
  } = options;
  if (!Number.isInteger(minHits) || minHits < 1 || minHits > 1e6)
    throw new RangeError(`minHits is ${minHits}; it must be an integer ≥ 1`);
  if (!Number.isInteger(maxAge) || maxAge < 0 || maxAge > 1e6)
    throw new RangeError(`maxAge is ${maxAge}; it must be an integer ≥ 0 (frames)`);
  if (typeof iouThreshold !== 'number' || !(iouThreshold >= 0 && iouThreshold <= 1))
    throw new RangeError(`iouThreshold is ${iouThreshold}; it must be in [0, 1]`);
  if (typeof classAware !== 'boolean') throw new TypeError(`classAware must be a boolean, got ${typeof classAware}`);
  if (!SMOOTHERS.includes(smoother))
    throw new RangeError(
      `smoother is '${String(smoother)}'; it must be one of ${SMOOTHERS.map((s) => `'${s}'`).join(', ')}`,
    );
  const { minCutoff = 1, beta = 10, dCutoff = 1 } = options.oneEuro ?? {};
  const { alpha = 0.5 } = options.exponential ?? {};
  if (!(minCutoff > 0 && minCutoff < Infinity))
    throw new RangeError(`oneEuro.minCutoff is ${minCutoff}; it must be a positive frequency in Hz`);
  if (!(beta >= 0 && beta < Infinity)) throw new RangeError(`oneEuro.beta is ${beta}; it must be finite and ≥ 0`);
  if (!(dCutoff > 0 && dCutoff < Infinity))
    throw new RangeError(`oneEuro.dCutoff is ${dCutoff}; it must be a positive frequency in Hz`);
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`exponential.alpha is ${alpha}; it must be in (0, 1]`);
  const [smoothA, smoothB, smoothC] =
    smoother === 'one-euro' ? [minCutoff, beta, dCutoff] : smoother === 'exponential' ? [alpha, 0, 0] : [0, 0, 0];
  return { minHits, maxAge, iouThreshold, classAware, smoother, smoothA, smoothB, smoothC, includeTentative };
}

/**
 * Checks and packs one frame's detections: f32 boxes, i32 classes, f32 scores.
 * Throws a TypeError or RangeError naming the detection and the value.
 */
export function packDetections(detections: readonly TrackInput[]): {
  boxes: Float32Array;
  classes: Int32Array;
  scores: Float32Array;
} {
  if (!Array.isArray(detections))
    throw new TypeError(
      `detections must be an array of { classId, score, box }, got ${detections === null ? 'null' : typeof detections}`,
    );
  const n = detections.length;
  const boxes = new Float32Array(4 * n),
    classes = new Int32Array(n),
    scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const det = detections[i];
    if (det === null || typeof det !== 'object')
      throw new TypeError(
        `detections[${i}] is ${det === null ? 'null' : typeof det}; it must be { classId, score, box }`,
      );
    const { box, classId, score } = det;
    if (!box || typeof box !== 'object' || box.length !== 4)
      throw new TypeError(`detections[${i}].box must be [xmin, ymin, xmax, ymax]`);
    for (let k = 0; k < 4; k++) {
      if (typeof box[k] !== 'number' || !Number.isFinite(box[k])) {
        throw new RangeError(`detections[${i}].box[${k}] is ${box[k]}; box corners must be finite numbers`);
      }
      boxes[4 * i + k] = box[k];
    }
    if (!(boxes[4 * i + 2] > boxes[4 * i] && boxes[4 * i + 3] > boxes[4 * i + 1])) {
      throw new RangeError(
        `detections[${i}].box is [${box.join(', ')}]: width ${+(box[2] - box[0]).toPrecision(6)}, height ${+(box[3] - box[1]).toPrecision(6)}; ` +
          'a box needs xmax > xmin and ymax > ymin (as f32)',
      );
    }
    if (!Number.isInteger(classId) || classId < 0 || classId > 0x7fffffff)
      throw new RangeError(`detections[${i}].classId is ${classId}; it must be an integer ≥ 0`);
    if (typeof score !== 'number' || !Number.isFinite(score))
      throw new RangeError(`detections[${i}].score is ${score}; it must be a finite number`);
    classes[i] = classId;
    scores[i] = score;
  }
  return { boxes, classes, scores };
}

/** Time between frames in seconds, as the f32 the core and the reference both use. */
export function frameSeconds(timestampMs: number, previousMs: number | undefined): number {
  return previousMs === undefined ? 0 : Math.fround((timestampMs - previousMs) / 1000);
}

export function checkTimestamp(timestampMs: number, previousMs: number | undefined): void {
  if (typeof timestampMs !== 'number' || !Number.isFinite(timestampMs)) {
    throw new RangeError(`timestampMs is ${timestampMs}; it must be a finite number of milliseconds`);
  }
  if (previousMs !== undefined && !(timestampMs > previousMs)) {
    throw new RangeError(
      `timestampMs ${timestampMs} is not after the previous frame's ${previousMs}; timestamps must increase ` +
        '(call reset() to start a new sequence)',
    );
  }
}

class WasmTracker implements Tracker {
  readonly build: CoreBuild;
  private core: Core | null;
  private previousMs: number | undefined;
  private readonly params: ReturnType<typeof resolveTrackerOptions>;

  constructor(
    core: Core,
    options: TrackerOptions,
    private readonly labels?: readonly string[],
  ) {
    this.core = core;
    this.build = core.build;
    this.params = resolveTrackerOptions(options);
    this.reset();
  }

  private live(): Core {
    if (!this.core) throw new Error('this tracker was disposed; create a new one');
    return this.core;
  }

  get frame(): number {
    const core = this.live();
    return new Int32Array(core.memory.buffer, core.heapBase, 16)[wordOf(TRACK_HEADER_FIELDS, 'frame')];
  }

  reset(): void {
    const core = this.live();
    const base = core.scratch(TRACK_HEADER_BYTES);
    const p = this.params;
    new Uint8Array(core.memory.buffer, base, TRACK_HEADER_BYTES).fill(0);
    writeBlock(core.memory.buffer, base, TRACK_HEADER_FIELDS, {
      numTracks: 0,
      nextId: 1,
      minHits: p.minHits,
      maxAge: p.maxAge,
      smoother: SMOOTHERS.indexOf(p.smoother),
      classAware: p.classAware ? 1 : 0,
      iouThreshold: p.iouThreshold,
      smoothA: p.smoothA,
      smoothB: p.smoothB,
      smoothC: p.smoothC,
      frame: 0,
    });
    this.previousMs = undefined;
  }

  update(detections: readonly TrackInput[], timestampMs: number): Track[] {
    const core = this.live();
    checkTimestamp(timestampMs, this.previousMs);
    const { boxes, classes, scores } = packDetections(detections);
    const D = classes.length;
    const base = core.heapBase;
    const T = new Int32Array(core.memory.buffer, base, 1)[wordOf(TRACK_HEADER_FIELDS, 'numTracks')];
    // layout: header | records (T + D) | frame block | boxes | classes | scores | scratch
    const frameAt = base + TRACK_HEADER_BYTES + (T + D) * RECORD_BYTES;
    const boxesAt = frameAt + ((blockBytes(TRACK_FRAME_FIELDS) + 15) & ~15);
    const classesAt = boxesAt + D * 16;
    const scoresAt = classesAt + ((D * 4 + 15) & ~15);
    const scratchAt = scoresAt + ((D * 4 + 15) & ~15);
    core.scratch(scratchAt - base + core.exports.trackScratchBytes(T, D));
    const buffer = core.memory.buffer;
    new Float32Array(buffer, boxesAt, 4 * D).set(boxes);
    new Int32Array(buffer, classesAt, D).set(classes);
    new Float32Array(buffer, scoresAt, D).set(scores);
    writeBlock(buffer, frameAt, TRACK_FRAME_FIELDS, {
      boxesPtr: boxesAt,
      classesPtr: classesAt,
      scoresPtr: scoresAt,
      dt: frameSeconds(timestampMs, this.previousMs),
      scratchPtr: scratchAt,
    });
    const count = core.exports.trackerUpdate(base, D, frameAt);
    this.previousMs = timestampMs;
    return this.read(count, detections);
  }

  private read(count: number, detections: readonly TrackInput[]): Track[] {
    const core = this.live();
    const at = core.heapBase + TRACK_HEADER_BYTES;
    const f = new Float32Array(core.memory.buffer, at, (count * RECORD_BYTES) / 4);
    const i32 = new Int32Array(core.memory.buffer, at, (count * RECORD_BYTES) / 4);
    const tracks: Track[] = [];
    for (let t = 0; t < count; t++) {
      const r = (t * RECORD_BYTES) / 4;
      const state = STATES[i32[r + 38]];
      if (state === 'tentative' && !this.params.includeTentative) continue;
      const classId = i32[r + 37],
        detectionIndex = i32[r + 43];
      const track: Track = {
        trackId: i32[r + 36],
        classId,
        score: f[r + 44],
        box: [f[r + 20], f[r + 21], f[r + 22], f[r + 23]],
        smoothedBox: [f[r + 24], f[r + 25], f[r + 26], f[r + 27]],
        state,
        age: i32[r + 39],
        hits: i32[r + 40],
        timeSinceUpdate: i32[r + 42],
        detectionIndex,
      };
      const label = this.labels?.[classId] ?? (detectionIndex >= 0 ? detections[detectionIndex].label : undefined);
      if (label !== undefined) track.label = label;
      tracks.push(track);
    }
    return tracks;
  }

  dispose(): void {
    this.core = null;
  }
}

/** A tracker with its own core instance. Options are checked here (RangeError / TypeError). */
export async function createTracker(options: TrackerOptions = {}): Promise<Tracker> {
  resolveTrackerOptions(options);
  if (options.labels !== undefined && !Array.isArray(options.labels))
    throw new TypeError('labels must be an array of strings');
  const core = await instantiateCore({ build: options.build, wasmBaseUrl: options.wasmBaseUrl });
  return new WasmTracker(core, options, options.labels);
}

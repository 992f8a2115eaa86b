/**
 * Validation and normalisation of a PostprocessConfig into the numbers the core runs on.
 * Errors name the field, the value and what is expected: TypeError for a wrong type,
 * RangeError for a value out of range.
 */
import type { PostprocessConfig } from './types.js';
import { optionalBoolean, rejectUnknownKeys } from '../util/strict-keys.js';

/** Single-precision rounding: the core computes in f32. */
const f32 = Math.fround;

/** Per-component offset multipliers, in (x, y, w, h) order, and the offsets' order in `loc`. */
export interface Coding {
  scales: readonly [sx: number, sy: number, sw: number, sh: number];
  order: 'xywh' | 'yxhw';
}

/** Every PostprocessConfig key; the `satisfies` keeps the list in step with the interface. */
export const POSTPROCESS_CONFIG_KEYS = Object.keys({
  priors: 1,
  numClasses: 1,
  backgroundClass: 1,
  boxCoding: 1,
  scoreActivation: 1,
  scoreThreshold: 1,
  nmsThreshold: 1,
  topK: 1,
  keepTopK: 1,
  classAgnostic: 1,
  softNms: 1,
  clip: 1,
  tfliteNms: 1,
  keypoints: 1,
  weightedNms: 1,
  labels: 1,
} satisfies Record<keyof PostprocessConfig, 1>);

/** Checks that `values` is an array (or typed array) of exactly `count` entries. */
function requireLength(name: string, values: unknown, count: number): void {
  const isList = Array.isArray(values) || ArrayBuffer.isView(values);
  if (!isList)
    throw new TypeError(
      `${name} must be an array of ${count} numbers, got ${values === null ? 'null' : typeof values}`,
    );
  const { length } = values as ArrayLike<number>;
  if (length !== count) throw new RangeError(`${name} has ${length} values; it needs exactly ${count}`);
}

export type Activation = 'softmax' | 'sigmoid' | 'none';

/** A validated configuration with defaults filled in and priors generated. */
export interface ResolvedConfig {
  priors: Float32Array;
  numPriors: number;
  numClasses: number;
  /** −1 = none. */
  backgroundClass: number;
  coding: Coding;
  activation: Activation;
  /** One f32 threshold per class (the background entry is unused). */
  thresholds: Float32Array;
  nmsThreshold: number;
  /** Candidates per list, capped at what a list can hold. */
  topK: number;
  keepTopK: number;
  classAgnostic: boolean;
  softNms: { method: 'linear' | 'gaussian'; sigma: number } | null;
  clip: boolean;
  labels: readonly string[] | undefined;
  /** TensorFlow Lite's NMS (`tfliteNms`), or null for ssd-edge's own. */
  tflite: ResolvedTflite | null;
  /** Detection records one image can produce: keepTopK, times the classes per anchor in TFLite's fast mode. */
  outputCapacity: number;
  /** MediaPipe's post-processing (LinearCoding, `keypoints` or `weightedNms`), or null. */
  mediapipe: ResolvedMediapipe | null;
  /** Values per prior in `loc`: 4, plus 2 per keypoint. */
  locValues: number;
}

/** MediaPipe's post-processing with defaults filled in (see `weightedNms` in types.ts). */
export interface ResolvedMediapipe {
  /** false: the linear coding (no exp). */
  exponential: boolean;
  /** The divisors x_scale, y_scale, w_scale, h_scale, f32, in (x, y, w, h) order. */
  divisors: readonly [dx: number, dy: number, dw: number, dh: number];
  numKeypoints: number;
  weighted: boolean;
}

/** `tfliteNms` with defaults filled in. */
export interface ResolvedTflite {
  regular: boolean;
  /** Fast mode: classes reported per kept anchor, min(maxClassesPerDetection, foreground classes). */
  categories: number;
  detectionsPerClass: number;
  /** nms_score_threshold as f32; a score passes when ≥ it. */
  threshold: number;
  /** The scale factors themselves (TFLite divides by them), f32, in (x, y, w, h) order. */
  factors: readonly [fx: number, fy: number, fw: number, fh: number];
}

const f32Bits = new Float32Array(1);
const f32Word = new Int32Array(f32Bits.buffer);

/** The largest f32 below the f32 `x` (x ≥ 0): `score > it` is `score ≥ x` for every f32 score. */
export function f32Below(x: number): number {
  f32Bits[0] = x;
  if (x === 0)
    f32Word[0] = 0x80000001; // −(smallest subnormal)
  else f32Word[0] -= 1;
  return f32Bits[0];
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function requireUnitInterval(name: string, value: unknown): number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} is ${value}; it must be in [0, 1]`);
  return value;
}

function requirePositiveInteger(name: string, value: unknown): number {
  if (!isInteger(value) || value <= 0) throw new RangeError(`${name} is ${String(value)}; it must be an integer ≥ 1`);
  return value;
}

function requirePositive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value < Infinity)) {
    throw new RangeError(`${name} is ${String(value)}; it must be a finite number > 0`);
  }
  return value;
}

/** Checks a (cx, cy, w, h) prior table: non-empty, whole rows, finite, sizes ≥ 0. */
export function validatePriors(priors: Float32Array): void {
  if (!(priors instanceof Float32Array)) throw new TypeError('priors must be a Float32Array or a PriorConfig');
  if (priors.length === 0) throw new RangeError('priors is empty; an SSD needs at least one prior (cx, cy, w, h)');
  if (priors.length % 4 !== 0) {
    throw new RangeError(`priors has ${priors.length} values, not a multiple of 4 (rows of cx, cy, w, h)`);
  }
  for (let i = 0; i < priors.length; i++) {
    const v = priors[i];
    if (!Number.isFinite(v)) throw new RangeError(`priors[${i}] (prior ${i >> 2}) is ${v}; priors must be finite`);
    if ((i & 3) >= 2 && v < 0) throw new RangeError(`priors[${i}] (prior ${i >> 2}) has negative size ${v}`);
  }
}

function resolveCoding(config: PostprocessConfig): Coding {
  const coding = config.boxCoding ?? { variances: [0.1, 0.2] as const };
  if (coding === null || typeof coding !== 'object')
    throw new TypeError('boxCoding must be { variances }, { scaleFactors, order } or { linearScales, order }');
  if ('variances' in coding) {
    rejectUnknownKeys(coding, ['variances'], 'boxCoding');
    requireLength('boxCoding.variances', coding.variances, 2);
    const [v0, v1] = coding.variances;
    requirePositive('boxCoding.variances[0]', v0);
    requirePositive('boxCoding.variances[1]', v1);
    return { scales: [f32(v0), f32(v0), f32(v1), f32(v1)], order: 'xywh' };
  }
  if ('scaleFactors' in coding) {
    rejectUnknownKeys(coding, ['scaleFactors', 'order'], 'boxCoding');
    requireLength('boxCoding.scaleFactors', coding.scaleFactors, 4);
    if (coding.order !== 'xywh' && coding.order !== 'yxhw') {
      throw new RangeError(`boxCoding.order is '${String(coding.order)}'; it must be 'xywh' or 'yxhw'`);
    }
    const [a, b, c, d] = Array.from(coding.scaleFactors, (v, i) =>
      f32(1 / requirePositive(`boxCoding.scaleFactors[${i}]`, v)),
    );
    // factors are given in the model's order; scales are kept in (x, y, w, h) order
    return { scales: coding.order === 'yxhw' ? [b, a, d, c] : [a, b, c, d], order: coding.order };
  }
  if ('linearScales' in coding) {
    rejectUnknownKeys(coding, ['linearScales', 'order'], 'boxCoding');
    requireLength('boxCoding.linearScales', coding.linearScales, 4);
    if (coding.order !== 'xywh' && coding.order !== 'yxhw') {
      throw new RangeError(`boxCoding.order is '${String(coding.order)}'; it must be 'xywh' or 'yxhw'`);
    }
    const [a, b, c, d] = Array.from(coding.linearScales, (v, i) =>
      f32(1 / requirePositive(`boxCoding.linearScales[${i}]`, v)),
    );
    // the multipliers are unused (MediaPipe divides by the scales); kept for a uniform Coding
    return { scales: [a, b, c, d], order: coding.order };
  }
  throw new TypeError("boxCoding must have 'variances', 'scaleFactors' or 'linearScales'");
}

/** MediaPipe's post-processing, when the config asks for it (a LinearCoding, keypoints or weightedNms). */
function resolveMediapipe(config: PostprocessConfig): ResolvedMediapipe | null {
  const coding = config.boxCoding ?? { variances: [0.1, 0.2] as const };
  const linear = 'linearScales' in coding;
  if (!linear && config.keypoints === undefined && !config.weightedNms) return null;
  if (config.weightedNms !== undefined && typeof config.weightedNms !== 'boolean') {
    throw new TypeError(`weightedNms must be true or false, got ${typeof config.weightedNms}`);
  }
  const why = linear ? 'a linearScales box coding' : config.keypoints !== undefined ? 'keypoints' : 'weightedNms';
  if (config.tfliteNms) throw new RangeError(`tfliteNms cannot be combined with ${why} (MediaPipe's post-processing)`);
  if (config.softNms)
    throw new RangeError(
      `softNms cannot be combined with ${why} (MediaPipe's post-processing has greedy or weighted NMS)`,
    );
  if (config.classAgnostic)
    throw new RangeError(
      `classAgnostic cannot be combined with ${why}: MediaPipe's post-processing is class-agnostic already (one candidate per prior)`,
    );
  if (config.clip) throw new RangeError(`clip cannot be combined with ${why}: MediaPipe does not clip decoded boxes`);
  if ((config.scoreActivation ?? 'softmax') === 'softmax') {
    throw new RangeError(
      `scoreActivation must be 'sigmoid' or 'none' with ${why} (MediaPipe's post-processing has no softmax)`,
    );
  }
  let numKeypoints = 0;
  if (config.keypoints !== undefined) {
    if (config.keypoints === null || typeof config.keypoints !== 'object')
      throw new TypeError('keypoints must be an object { count }');
    rejectUnknownKeys(config.keypoints, ['count'], 'keypoints');
    const count = config.keypoints.count;
    if (!isInteger(count) || count < 0 || count > 64)
      throw new RangeError(`keypoints.count is ${String(count)}; it must be an integer in [0, 64]`);
    numKeypoints = count;
  }
  let divisors: ResolvedMediapipe['divisors'];
  if ('linearScales' in coding) {
    const [a, b, c, d] = coding.linearScales.map(f32);
    divisors = [a, b, c, d];
  } else if ('variances' in coding) {
    const [v0, v1] = coding.variances;
    divisors = [f32(1 / v0), f32(1 / v0), f32(1 / v1), f32(1 / v1)];
  } else {
    const [a, b, c, d] = coding.scaleFactors.map(f32);
    divisors = coding.order === 'yxhw' ? [b, a, d, c] : [a, b, c, d];
  }
  return { exponential: !linear, divisors, numKeypoints, weighted: config.weightedNms ?? false };
}

/** TFLite's scale factors (the divisors) in (x, y, w, h) order, as f32. */
function tfliteFactors(config: PostprocessConfig): ResolvedTflite['factors'] {
  const coding = config.boxCoding ?? { variances: [0.1, 0.2] as const };
  if ('variances' in coding) {
    const [v0, v1] = coding.variances;
    return [f32(1 / v0), f32(1 / v0), f32(1 / v1), f32(1 / v1)];
  }
  if ('linearScales' in coding)
    throw new RangeError("tfliteNms cannot be combined with a linearScales box coding (MediaPipe's post-processing)");
  const [a, b, c, d] = coding.scaleFactors.map(f32);
  return coding.order === 'yxhw' ? [b, a, d, c] : [a, b, c, d];
}

/** Validates `tfliteNms` against the rest of the config (called after the common checks). */
function resolveTflite(config: PostprocessConfig, backgroundClass: number, foreground: number): ResolvedTflite {
  const given = config.tfliteNms!;
  if (given === null || typeof given !== 'object')
    throw new TypeError('tfliteNms must be an object { useRegularNms, ... }');
  rejectUnknownKeys(given, ['useRegularNms', 'maxClassesPerDetection', 'detectionsPerClass'], 'tfliteNms');
  if (typeof given.useRegularNms !== 'boolean') {
    throw new TypeError(
      `tfliteNms.useRegularNms must be true (regular per-class NMS) or false (fast NMS), got ${String(given.useRegularNms)}`,
    );
  }
  if (config.classAgnostic) {
    throw new RangeError(
      "classAgnostic cannot be combined with tfliteNms: TFLite's fast NMS (useRegularNms: false) is its class-agnostic mode",
    );
  }
  if (config.softNms)
    throw new RangeError('softNms cannot be combined with tfliteNms: TFLite_Detection_PostProcess has greedy NMS only');
  if (backgroundClass !== 0 && backgroundClass !== -1) {
    throw new RangeError(
      `backgroundClass is ${backgroundClass}; with tfliteNms it must be 0 (TFLite's background column 0, label offset 1) or −1 (no background)`,
    );
  }
  if (typeof config.scoreThreshold !== 'number') {
    throw new RangeError('scoreThreshold must be one number with tfliteNms (TFLite has one nms_score_threshold)');
  }
  if (!(config.nmsThreshold > 0)) {
    throw new RangeError(
      `nmsThreshold is ${config.nmsThreshold}; with tfliteNms it must be in (0, 1] (TFLite rejects an IoU threshold of 0)`,
    );
  }
  const maxClasses = requirePositiveInteger('tfliteNms.maxClassesPerDetection', given.maxClassesPerDetection ?? 1);
  const detectionsPerClass = requirePositiveInteger('tfliteNms.detectionsPerClass', given.detectionsPerClass ?? 100);
  return {
    regular: given.useRegularNms,
    categories: Math.min(maxClasses, foreground),
    detectionsPerClass,
    threshold: f32(config.scoreThreshold),
    factors: tfliteFactors(config),
  };
}

/** Validates `config` and fills in defaults; `priors` are the generated or given prior rows. */
export function resolveConfig(config: PostprocessConfig, priors: Float32Array): ResolvedConfig {
  if (config === null || typeof config !== 'object') throw new TypeError('config must be a PostprocessConfig object');
  rejectUnknownKeys(config, POSTPROCESS_CONFIG_KEYS, 'the PostprocessConfig');
  validatePriors(priors);
  const numPriors = priors.length / 4;
  const numClasses = requirePositiveInteger('numClasses', config.numClasses);
  const backgroundClass = config.backgroundClass ?? 0;
  if (!isInteger(backgroundClass) || backgroundClass < -1 || backgroundClass >= numClasses) {
    throw new RangeError(
      `backgroundClass is ${String(backgroundClass)}; it must be −1 (none) or a class in [0, ${numClasses - 1}]`,
    );
  }
  const activation = config.scoreActivation ?? 'softmax';
  if (activation !== 'softmax' && activation !== 'sigmoid' && activation !== 'none') {
    throw new RangeError(`scoreActivation is '${String(activation)}'; it must be 'softmax', 'sigmoid' or 'none'`);
  }
  const thresholds = new Float32Array(numClasses);
  const given = config.scoreThreshold;
  if (typeof given === 'number') {
    thresholds.fill(requireUnitInterval('scoreThreshold', given));
  } else if (given instanceof Float32Array || Array.isArray(given)) {
    if (given.length !== numClasses) {
      throw new RangeError(`scoreThreshold has ${given.length} values; it needs one per class (${numClasses})`);
    }
    for (let c = 0; c < numClasses; c++) thresholds[c] = requireUnitInterval(`scoreThreshold[${c}]`, given[c]);
  } else {
    throw new TypeError('scoreThreshold must be a number or one number per class');
  }
  const nmsThreshold = requireUnitInterval('nmsThreshold', config.nmsThreshold);
  const classAgnostic = optionalBoolean('classAgnostic', config.classAgnostic) ?? false;
  const foreground = numClasses - (backgroundClass >= 0 ? 1 : 0);
  if (foreground === 0)
    throw new RangeError('numClasses is 1 and that class is the background: nothing can be detected');
  const coding = resolveCoding(config);
  const tflite = config.tfliteNms === undefined ? null : resolveTflite(config, backgroundClass, foreground);
  const mediapipe = resolveMediapipe(config);
  // TFLite's fast NMS has one candidate per anchor
  const listCapacity = classAgnostic ? numPriors * foreground : numPriors;
  const topK = Math.min(requirePositiveInteger('topK', config.topK), listCapacity);
  let keptCapacity = classAgnostic || mediapipe ? topK : topK * numClasses;
  if (tflite) keptCapacity = tflite.regular ? Math.min(topK, tflite.detectionsPerClass) * foreground : topK;
  const keepTopK = Math.min(requirePositiveInteger('keepTopK', config.keepTopK), keptCapacity);
  // TFLite's threshold is ≥: the core compares > against the f32 just below it
  if (tflite) thresholds.fill(f32Below(tflite.threshold));
  // so is MediaPipe's min_score_thresh (a score below it is skipped)
  if (mediapipe) for (let c = 0; c < numClasses; c++) thresholds[c] = f32Below(thresholds[c]);
  let softNms: ResolvedConfig['softNms'] = null;
  if (config.softNms) {
    if (typeof config.softNms !== 'object')
      throw new TypeError("softNms must be { method: 'linear' | 'gaussian', sigma? }");
    rejectUnknownKeys(config.softNms, ['method', 'sigma'], 'softNms');
    const { method, sigma = 0.5 } = config.softNms;
    if (method !== 'linear' && method !== 'gaussian') {
      throw new RangeError(`softNms.method is '${String(method)}'; it must be 'linear' or 'gaussian'`);
    }
    softNms = { method, sigma: f32(requirePositive('softNms.sigma', sigma)) };
  }
  const labels = config.labels;
  if (labels !== undefined && (!Array.isArray(labels) || labels.length !== numClasses)) {
    throw new RangeError(
      `labels has ${Array.isArray(labels) ? labels.length : 'no'} entries; it needs one per class (${numClasses})`,
    );
  }
  return {
    priors,
    numPriors,
    numClasses,
    backgroundClass,
    coding,
    activation,
    thresholds,
    nmsThreshold: f32(nmsThreshold),
    topK,
    keepTopK,
    classAgnostic,
    softNms,
    clip: optionalBoolean('clip', config.clip) ?? false,
    labels,
    tflite,
    outputCapacity: tflite && !tflite.regular ? keepTopK * tflite.categories : keepTopK,
    mediapipe,
    locValues: 4 + 2 * (mediapipe?.numKeypoints ?? 0),
  };
}

/** The lowest score threshold of any foreground class. */
export function lowestThreshold(config: ResolvedConfig): number {
  let lowest = Infinity;
  for (let c = 0; c < config.numClasses; c++) {
    if (c !== config.backgroundClass) lowest = Math.min(lowest, config.thresholds[c]);
  }
  return lowest;
}

/**
 * The row-skipping bound handed to the core (see assembly/scores.ts): a row whose value
 * (softmax: best foreground logit − row maximum; otherwise the best foreground logit) is below
 * it cannot pass any class threshold. The margins keep the bound safe against f32 rounding.
 */
export function scoreGate(config: ResolvedConfig): number {
  const lowest = lowestThreshold(config);
  if (config.activation === 'none') return lowest;
  if (lowest <= 0) return -Infinity;
  if (config.activation === 'softmax') return Math.log(lowest) - 1e-3;
  if (lowest >= 1) return Infinity;
  const logit = Math.log(lowest / (1 - lowest));
  return logit - 0.05 - 1e-3 * Math.abs(logit);
}

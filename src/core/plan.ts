/**
 * The arena: one layout of the core's linear memory per configuration and batch capacity,
 * described to the core in a plan block (PLAN_FIELDS below, the Plan class of assembly/plan.ts). Regions are
 * 16-byte aligned; the core never allocates.
 *
 *   heapBase → plan | priors | thresholds | counts | row | candidates | keptKeys | boxes |
 *              keptBoxes | order | mergeScores | mergeCodes | mergeTmp | outCounts | out | loc | conf
 *
 * order … mergeTmp serve TensorFlow Lite's NMS (assembly/tflite.ts); they are a few bytes
 * otherwise (order holds the kept count of each greedy NMS list). `keptBoxes` holds the kept boxes
 * of every candidate list at once (greedy NMS merges the lists best key first). MediaPipe's post-processing (assembly/mediapipe.ts) decodes its candidates into
 * `boxes` (topK rows of 4 + 2·keypoints f32) and blends into `keptBoxes` (the same per kept
 * detection); its output records carry the keypoints after the 7 usual words.
 */
import { lowestThreshold, type ResolvedConfig } from './config.js';
import type { Core } from './loader.js';

export const RECORD_WORDS = 7;
/** Words reserved for the plan block (assembly/plan.ts PLAN_WORDS). */
export const PLAN_WORDS = 64;

/** Rows the core's score scan batches (assembly/plan.ts SCAN_ROWS): the row region holds SCAN_ROWS × C f32. */
export const SCAN_ROWS = 256;

/** How a plan field is stored: a 32-bit integer, an f32, or a byte offset into the core's memory. */
export type FieldType = 'i32' | 'f32' | 'ptr';

/**
 * The plan block's fields in word order: the host twin of assembly/plan.ts's Plan class (its
 * comments say what each field means). tests/core/plan-layout.test.ts fails when they disagree.
 */
export const PLAN_FIELDS = {
  numPriors: 'i32',
  numClasses: 'i32',
  backgroundClass: 'i32',
  activation: 'i32',
  topK: 'i32',
  keepTopK: 'i32',
  classAgnostic: 'i32',
  clip: 'i32',
  softNms: 'i32',
  nmsThreshold: 'f32',
  softNmsSigma: 'f32',
  gate: 'f32',
  scaleX: 'f32',
  scaleY: 'f32',
  scaleW: 'f32',
  scaleH: 'f32',
  order: 'i32',
  priorsPtr: 'ptr',
  locPtr: 'ptr',
  confPtr: 'ptr',
  thresholdsPtr: 'ptr',
  heapsPtr: 'ptr',
  countsPtr: 'ptr',
  keptKeysPtr: 'ptr',
  boxesPtr: 'ptr',
  keptBoxesPtr: 'ptr',
  rowPtr: 'ptr',
  outPtr: 'ptr',
  outCountsPtr: 'ptr',
  minThreshold: 'f32',
  limitsPtr: 'ptr',
  tfliteMode: 'i32',
  tfliteCategories: 'i32',
  tfliteDetectionsPerClass: 'i32',
  tfliteScaleX: 'f32',
  tfliteScaleY: 'f32',
  tfliteScaleW: 'f32',
  tfliteScaleH: 'f32',
  tfliteScoreThreshold: 'f32',
  orderPtr: 'ptr',
  mergeScoresPtr: 'ptr',
  mergeCodesPtr: 'ptr',
  mergeTmpPtr: 'ptr',
  recordsPerImage: 'i32',
  mediapipeMode: 'i32',
  mediapipeExponential: 'i32',
  numKeypoints: 'i32',
  locValues: 'i32',
  recordWords: 'i32',
  mediapipeScaleX: 'f32',
  mediapipeScaleY: 'f32',
  mediapipeScaleW: 'f32',
  mediapipeScaleH: 'f32',
} as const satisfies Record<string, FieldType>;

/** The block runQuantized writes beside the plan: assembly/plan.ts's QuantBlock. */
export const QUANT_FIELDS = {
  locQPtr: 'ptr',
  confQPtr: 'ptr',
  gatesPtr: 'ptr',
  allPass: 'i32',
  locLutPtr: 'ptr',
  confLutPtr: 'ptr',
  rowsPtr: 'ptr',
  priorsPtr: 'ptr',
} as const satisfies Record<string, FieldType>;

/** Byte offset, from the quant block, of the plan copy the core writes (assembly/plan.ts QUANT_PLAN_OFFSET). */
export const QUANT_PLAN_OFFSET = 64;

/** A value for every field of a block: a missing or misspelt field does not compile. */
export type BlockValues<Fields> = { [name in keyof Fields]: number };

/** Writes `values` as the block `fields` describes, field i at byte `at + 4i`. */
export function writeBlock<Fields extends Record<string, FieldType>>(
  buffer: ArrayBufferLike,
  at: number,
  fields: Fields,
  values: BlockValues<Fields>,
): void {
  const names = Object.keys(fields) as (keyof Fields & string)[];
  const words = new Int32Array(buffer, at, names.length);
  const reals = new Float32Array(buffer, at, names.length);
  names.forEach((name, i) => {
    if (fields[name] === 'f32') reals[i] = values[name];
    else words[i] = values[name];
  });
}
const TFLITE_MODES = { fast: 1, regular: 2 } as const;
const ACTIVATIONS = { none: 0, softmax: 1, sigmoid: 2 } as const;
const SOFT_NMS_METHODS = { linear: 1, gaussian: 2 } as const;

export interface Layout {
  batch: number;
  plan: number;
  priors: number;
  thresholds: number;
  loc: number;
  conf: number;
  out: number;
  outCounts: number;
  end: number;
}

const align = (n: number) => (n + 15) & ~15;

/** Words per output record: classId, priorIndex, score, 4 corners, then (x, y) per keypoint. */
export function recordWords(config: ResolvedConfig): number {
  return RECORD_WORDS + 2 * (config.mediapipe?.numKeypoints ?? 0);
}

/** Byte offsets of every region for `batch` images. */
export function layout(config: ResolvedConfig, base: number, batch: number): Layout & Record<string, number> {
  const { numPriors: P, numClasses: C, topK, keepTopK, tflite } = config;
  const capacity = (topK + 7) & ~7;
  // one pooled candidate list: class-agnostic NMS, or TFLite's fast NMS (one candidate per anchor)
  const pooled = config.classAgnostic || (tflite !== null && !tflite.regular) || config.mediapipe !== null;
  const rowBytes = config.locValues * 4;
  // TFLite's regular merge: the best keepTopK so far plus one class's selections
  const mergeCapacity = tflite ? keepTopK + Math.min(topK, tflite.detectionsPerClass) : 0;
  const sizes: [string, number][] = [
    ['plan', PLAN_WORDS * 4],
    ['priors', P * 16],
    ['thresholds', C * 4],
    ['counts', C * 4],
    // scanScores keeps the exponentials of a batch of softmax rows
    ['row', SCAN_ROWS * C * 4],
    // MediaPipe collects every passing prior before its top-k
    ['heaps', (config.mediapipe ? P : pooled ? topK : C * topK) * 8],
    ['limits', C * 4],
    // soft-NMS's kept keys; greedy NMS's tournament of the lists' best keys (2 · lists − 1)
    ['keptKeys', Math.max(pooled ? topK : C * topK, 2 * C) * 8],
    ['boxes', topK * rowBytes],
    // per candidate list (TFLite's NMS runs one list at a time)
    ['keptBoxes', Math.max(5 * capacity * 4 * (pooled || tflite ? 1 : C), config.mediapipe ? topK * rowBytes : 0)],
    ['order', Math.max(C, mergeCapacity) * 4],
    ['mergeScores', mergeCapacity * 4],
    ['mergeCodes', mergeCapacity * 4],
    ['mergeTmp', (tflite ? keepTopK : 0) * 8],
    ['outCounts', batch * 4],
    ['out', batch * config.outputCapacity * recordWords(config) * 4],
    ['loc', batch * P * rowBytes],
    ['conf', batch * P * C * 4],
  ];
  const regions: Record<string, number> = { batch };
  let at = align(base);
  for (const [name, bytes] of sizes) {
    regions[name] = at;
    at = align(at + bytes);
  }
  regions.end = at;
  return regions as Layout & Record<string, number>;
}

/** Grows the core's memory to hold the layout and writes the plan, priors and thresholds. */
export function writePlan(
  core: Core,
  config: ResolvedConfig,
  gate: number,
  regions: Layout & Record<string, number>,
): void {
  core.scratch(
    regions.end - core.heapBase,
    `the post-processing arena of a batch of ${regions.batch} (${config.numPriors} priors × ${config.numClasses} classes)`,
  );
  const buffer = core.memory.buffer;
  const { tflite, mediapipe, coding } = config;
  const [scaleX, scaleY, scaleW, scaleH] = coding.scales;
  const [tfliteScaleX, tfliteScaleY, tfliteScaleW, tfliteScaleH] = tflite?.factors ?? [0, 0, 0, 0];
  const [mediapipeScaleX, mediapipeScaleY, mediapipeScaleW, mediapipeScaleH] = mediapipe?.divisors ?? [0, 0, 0, 0];
  new Uint8Array(buffer, regions.plan, PLAN_WORDS * 4).fill(0);
  writeBlock(buffer, regions.plan, PLAN_FIELDS, {
    numPriors: config.numPriors,
    numClasses: config.numClasses,
    backgroundClass: config.backgroundClass,
    activation: ACTIVATIONS[config.activation],
    topK: config.topK,
    keepTopK: config.keepTopK,
    classAgnostic: config.classAgnostic ? 1 : 0,
    clip: config.clip ? 1 : 0,
    softNms: config.softNms === null ? 0 : SOFT_NMS_METHODS[config.softNms.method],
    nmsThreshold: config.nmsThreshold,
    softNmsSigma: config.softNms?.sigma ?? 0.5,
    gate,
    scaleX,
    scaleY,
    scaleW,
    scaleH,
    order: config.coding.order === 'yxhw' ? 1 : 0,
    priorsPtr: regions.priors,
    locPtr: regions.loc,
    confPtr: regions.conf,
    thresholdsPtr: regions.thresholds,
    heapsPtr: regions.heaps,
    countsPtr: regions.counts,
    keptKeysPtr: regions.keptKeys,
    boxesPtr: regions.boxes,
    keptBoxesPtr: regions.keptBoxes,
    rowPtr: regions.row,
    outPtr: regions.out,
    outCountsPtr: regions.outCounts,
    minThreshold: lowestThreshold(config),
    limitsPtr: regions.limits,
    tfliteMode: tflite === null ? 0 : TFLITE_MODES[tflite.regular ? 'regular' : 'fast'],
    tfliteCategories: tflite?.categories ?? 0,
    tfliteDetectionsPerClass: tflite?.detectionsPerClass ?? 0,
    tfliteScaleX,
    tfliteScaleY,
    tfliteScaleW,
    tfliteScaleH,
    tfliteScoreThreshold: tflite?.threshold ?? 0,
    orderPtr: regions.order,
    mergeScoresPtr: regions.mergeScores,
    mergeCodesPtr: regions.mergeCodes,
    mergeTmpPtr: regions.mergeTmp,
    recordsPerImage: config.outputCapacity,
    mediapipeMode: mediapipe === null ? 0 : mediapipe.weighted ? 2 : 1,
    mediapipeExponential: mediapipe?.exponential ? 1 : 0,
    numKeypoints: mediapipe?.numKeypoints ?? 0,
    locValues: config.locValues,
    recordWords: recordWords(config),
    mediapipeScaleX,
    mediapipeScaleY,
    mediapipeScaleW,
    mediapipeScaleH,
  });
  new Float32Array(buffer, regions.priors, config.priors.length).set(config.priors);
  const thresholds = new Float32Array(buffer, regions.thresholds, config.numClasses);
  thresholds.set(config.thresholds);
  // the background is never a candidate: an infinite limit keeps it out of every bound
  if (config.backgroundClass >= 0) thresholds[config.backgroundClass] = Infinity;
}

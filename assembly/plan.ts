// The plan: the block of 32-bit fields the host writes once per configuration to describe the
// arena (src/core/plan.ts writePlan) and every post-processing kernel reads. Fields are laid out
// in declaration order, four bytes each (@unmanaged: no object header), so field i is word i.
// src/core/plan.ts PLAN_FIELDS repeats the names and types in the same order;
// tests/core/plan-layout.test.ts fails when the two disagree.
//
// Calling convention of the core's post-processing exports: (planPtr, numImages[, blockPtr])
// → void (detectBatch: whether its score scan found the input finite); results land in the
// regions the plan names. A kernel reads the plan through
// `planAt(planPtr)` and takes regions and counts as plain arguments below that.

/** What the host describes once per configuration (word index and meaning beside each field). */
// @ts-ignore: decorator
@unmanaged
export class Plan {
  numPriors: i32; //  0  priors per image
  numClasses: i32; //  1  classes, background included
  backgroundClass: i32; //  2  −1: none
  activation: i32; //  3  ACTIVATION_* of scores.ts
  topK: i32; //  4  candidates per list before NMS
  keepTopK: i32; //  5  detections per image after NMS
  classAgnostic: i32; //  6  1: one pooled list
  clip: i32; //  7  1: clip boxes to [0, 1]
  softNms: i32; //  8  0 greedy, SOFT_NMS_LINEAR, SOFT_NMS_GAUSSIAN
  nmsThreshold: f32; //  9  IoU
  softNmsSigma: f32; // 10  gaussian soft-NMS
  gate: f32; // 11  row-skipping bound (src/core/config.ts scoreGate)
  scaleX: f32; // 12  offset scales (coder.ts)
  scaleY: f32; // 13
  scaleW: f32; // 14
  scaleH: f32; // 15
  order: i32; // 16  ORDER_XYWH or ORDER_YXHW
  priorsPtr: usize; // 17  numPriors × 4 f32, cxcywh
  locPtr: usize; // 18  batch × numPriors × locValues f32
  confPtr: usize; // 19  batch × numPriors × numClasses f32
  thresholdsPtr: usize; // 20  numClasses f32 (background +∞)
  heapsPtr: usize; // 21  numClasses × topK u64 (pooled: topK)
  countsPtr: usize; // 22  numClasses i32
  keptKeysPtr: usize; // 23  max(numClasses × topK, 2 × numClasses) u64: soft-NMS keys, greedy NMS tournament
  boxesPtr: usize; // 24  topK × 4 f32
  keptBoxesPtr: usize; // 25  5 × capacity f32 per candidate list (TFLite: one), capacity = topK ↑ 8
  rowPtr: usize; // 26  SCAN_ROWS × numClasses f32 scratch
  outPtr: usize; // 27  batch × recordsPerImage × recordWords words
  outCountsPtr: usize; // 28  batch i32
  minThreshold: f32; // 29  lowest class threshold (soft-NMS drop-out when pooled)
  limitsPtr: usize; // 30  numClasses f32
  tfliteMode: i32; // 31  0 off, TFLITE_FAST, TFLITE_REGULAR
  tfliteCategories: i32; // 32  classes reported per kept anchor (fast)
  tfliteDetectionsPerClass: i32; // 33  regular NMS
  tfliteScaleX: f32; // 34  scale factors (e.g. 10)
  tfliteScaleY: f32; // 35
  tfliteScaleW: f32; // 36
  tfliteScaleH: f32; // 37
  tfliteScoreThreshold: f32; // 38  nms_score_threshold (score ≥ it)
  orderPtr: usize; // 39  max(numClasses, mergeCapacity) i32: TFLite's merge order, the greedy lists' kept counts
  mergeScoresPtr: usize; // 40  mergeCapacity f32
  mergeCodesPtr: usize; // 41  mergeCapacity u32
  mergeTmpPtr: usize; // 42  keepTopK × 8 bytes
  recordsPerImage: i32; // 43  output records per image
  mediapipeMode: i32; // 44  0 off, 1 greedy, MEDIAPIPE_WEIGHTED
  mediapipeExponential: i32; // 45  1: exponential box size
  numKeypoints: i32; // 46  keypoints per box
  locValues: i32; // 47  4 + 2 · numKeypoints
  recordWords: i32; // 48  7 + 2 · numKeypoints
  mediapipeScaleX: f32; // 49  divisors x_scale, y_scale, w_scale, h_scale
  mediapipeScaleY: f32; // 50
  mediapipeScaleW: f32; // 51
  mediapipeScaleH: f32; // 52
}

/** Words the host reserves for the plan (src/core/plan.ts PLAN_WORDS); Plan must fit. */
export const PLAN_WORDS: i32 = 64;

/**
 * Rows scanScores (scores.ts) gates and scores in one batch: the plan's `rowPtr` region holds
 * SCAN_ROWS × numClasses f32 (src/core/plan.ts SCAN_ROWS).
 */
export const SCAN_ROWS: i32 = 256;

/** The plan at `planPtr`. */
// @ts-ignore: decorator
@inline
export function planAt(planPtr: usize): Plan {
  return changetype<Plan>(planPtr);
}

/**
 * The block detectBatchQuantized reads beside the plan (src/core/postprocessor.ts runQuantized
 * writes it; src/core/plan.ts QUANT_FIELDS is its twin): the uint8 heads and their tables.
 * A copy of the plan describing the packed candidates follows at QUANT_PLAN_OFFSET.
 */
// @ts-ignore: decorator
@unmanaged
export class QuantBlock {
  locQPtr: usize; //  0  batch × numPriors × 4 u8, + 16 readable bytes
  confQPtr: usize; //  1  batch × numPriors × numClasses u8, + 16 readable bytes
  gatesPtr: usize; //  2  numClasses u8, then 255 up to a multiple of 16 plus 16
  allPass: i32; //  3  1: some class passes at q = 0, so every row is a candidate
  locLutPtr: usize; //  4  256 f32: the dequantised value of every byte
  confLutPtr: usize; //  5  256 f32
  rowsPtr: usize; //  6  numPriors i32: candidate row → prior index
  priorsPtr: usize; //  7  numPriors × 4 f32: the candidates' priors
}

/** Byte offset, from the QuantBlock, of the plan copy detectBatchQuantized writes. */
export const QUANT_PLAN_OFFSET: usize = 64;

/** The quant block at `quantPtr`. */
// @ts-ignore: decorator
@inline
export function quantAt(quantPtr: usize): QuantBlock {
  return changetype<QuantBlock>(quantPtr);
}

// Detection output for a batch of images: threshold → top-k → decode → NMS → keep-top-k.
//
// The host lays out one arena and describes it in a plan block of 32-bit words at `planPtr`
// (written once per configuration, see src/core/plan.ts). Kernels only read and write inside
// the regions the plan names; nothing here allocates.
//
//   word  field                        word  field
//   0     numPriors                    15    scale sh (f32)
//   1     numClasses                   16    order (0 xywh, 1 yxhw)
//   2     backgroundClass (−1 none)    17    priorsPtr   (numPriors × 4 f32, cxcywh)
//   3     activation                   18    locPtr      (batch × numPriors × 4 f32)
//   4     topK                         19    confPtr     (batch × numPriors × numClasses f32)
//   5     keepTopK                     20    thresholdsPtr (numClasses f32)
//   6     classAgnostic                21    heapsPtr    (numClasses × topK u64; pooled: topK)
//   7     clip                         22    countsPtr   (numClasses i32)
//   8     softNms (0, 1 lin, 2 gauss)  23    keptKeysPtr (numClasses × topK u64)
//   9     nmsThreshold (f32)           24    boxesPtr    (topK × 4 f32)
//   10    softNmsSigma (f32)           25    keptBoxesPtr (5 × capacity f32, capacity = topK ↑ 8)
//   11    gate (f32)                   26    rowPtr      (numClasses f32)
//   12    scale sx (f32)               27    outPtr      (batch × keepTopK × 7 words)
//   13    scale sy (f32)               28    outCountsPtr (batch i32)
//   14    scale sw (f32)               29    minThreshold (f32, soft-NMS drop-out)
//                                      30    limitsPtr   (numClasses f32)
//
// TensorFlow Lite's TFLite_Detection_PostProcess (tflite.ts) reads these as well:
//   31    tflite mode (0 off, 1 fast, 2 regular)   38    nms_score_threshold (f32, score ≥ it)
//   32    classes per kept anchor (fast)           39    orderPtr     (mergeCapacity i32)
//   33    detections_per_class (regular)           40    mergeScoresPtr (mergeCapacity f32)
//   34    scale factor x (f32, e.g. 10)            41    mergeCodesPtr  (mergeCapacity u32)
//   35    scale factor y (f32)                     42    mergeTmpPtr  (keepTopK × 8 bytes)
//   36    scale factor w (f32)                     43    records per image in the output
//   37    scale factor h (f32)                     (mergeCapacity = keepTopK + topK)
//
// MediaPipe's post-processing (mediapipe.ts) reads these as well; its `loc` rows are
// `locValues` f32 (box, then keypoint pairs), `boxesPtr` holds topK such rows and `keptBoxesPtr`
// at least as many, and its records are `recordWords` long (the 7 words, then keypoint pairs):
//   44    mediapipe mode (0 off, 1 greedy, 2 weighted)   48    recordWords (7 + 2 · keypoints)
//   45    exponential box size (0 linear, 1 exp)         49–52 divisors x_scale, y_scale, w_scale, h_scale (f32)
//   46    keypoints per box
//   47    locValues (4 + 2 · keypoints)
//
// An output record is 7 words: classId i32, priorIndex i32, score f32, xmin, ymin, xmax, ymax.

import { decodeBox } from "./coder";
import { ptr, real, word } from "./plan";
import { keyCode, keyScore } from "./keys";
import { detectImageMediapipe } from "./mediapipe";
import { keepIfClear, softNms } from "./nms";
import { scanScores } from "./scores";
import { detectImageTfliteFast, detectImageTfliteRegular, TFLITE_FAST, TFLITE_REGULAR } from "./tflite";
import {
  boundedExcludes, finishBounded, heapify, heapifyLargestFirst, popLargest, pushBounded, selectTopKeys, sortHeapDescending
} from "./topk";

export const RECORD_WORDS: i32 = 7;

/** Runs the whole post-processing for `numImages` images laid out in the plan's arena. */
export function detectBatch(planPtr: usize, numImages: i32): void {
  for (let image = 0; image < numImages; image++) detectImage(planPtr, image);
}

function detectImage(planPtr: usize, image: i32): void {
  const tflite = word(planPtr, 31);
  if (tflite == TFLITE_FAST) { detectImageTfliteFast(planPtr, image); return; }
  if (tflite == TFLITE_REGULAR) { detectImageTfliteRegular(planPtr, image); return; }
  if (word(planPtr, 44) != 0) { detectImageMediapipe(planPtr, image); return; }
  const numPriors = word(planPtr, 0), numClasses = word(planPtr, 1), background = word(planPtr, 2);
  const topK = word(planPtr, 4);
  const pooled = word(planPtr, 6) != 0, clip = word(planPtr, 7) != 0, soft = word(planPtr, 8);
  const nmsThreshold = real(planPtr, 9), sigma = real(planPtr, 10);
  const sx = real(planPtr, 12), sy = real(planPtr, 13), sw = real(planPtr, 14), sh = real(planPtr, 15);
  const order = word(planPtr, 16);
  const priors = ptr(planPtr, 17);
  const loc = ptr(planPtr, 18) + <usize>image * (<usize>numPriors << 4);
  const conf = ptr(planPtr, 19) + <usize>image * (<usize>numPriors * <usize>numClasses << 2);
  const thresholds = ptr(planPtr, 20), heaps = ptr(planPtr, 21), counts = ptr(planPtr, 22);
  const keptKeys = ptr(planPtr, 23), limits = ptr(planPtr, 30);

  memory.copy(limits, thresholds, <usize>numClasses << 2);
  memory.fill(counts, 0, <usize>numClasses << 2);
  scanScores(conf, numPriors, numClasses, background, word(planPtr, 3), limits, real(planPtr, 11),
    pooled, heaps, counts, topK, ptr(planPtr, 26));

  const numLists = pooled ? 1 : numClasses;
  const numOut = soft != 0
    ? softNmsLists(planPtr, numLists, loc, order, sx, sy, sw, sh, clip, soft, nmsThreshold, sigma)
    : greedyNmsLists(planPtr, numLists, loc, order, sx, sy, sw, sh, clip, nmsThreshold);
  const outBase = ptr(planPtr, 27) + <usize>image * (<usize>word(planPtr, 43) * RECORD_WORDS << 2);
  for (let i = 0; i < numOut; i++) {
    const key = load<u64>(keptKeys + (<usize>i << 3));
    const code = keyCode(key);
    const prior = <i32>(code / <u32>numClasses);
    const record = outBase + <usize>i * (RECORD_WORDS << 2);
    store<i32>(record, <i32>(code % <u32>numClasses), 0);
    store<i32>(record, prior, 4);
    store<f32>(record, keyScore(key), 8);
    decodeBox(loc + (<usize>prior << 4), priors + (<usize>prior << 4), order, sx, sy, sw, sh, clip, record + 12);
  }
  store<i32>(ptr(planPtr, 28) + (<usize>image << 2), numOut);
}

/**
 * Greedy NMS of every candidate list into the image's best keepTopK keys, sorted descending at
 * `keptKeys`; returns how many. Each list hands out its keys best first (popLargest) and is
 * decoded as it goes; the best keepTopK kept so far are a bounded heap, and a list stops at
 * its first key below that heap's weakest once it is full: neither that key nor any later one
 * of the list (all lower) can reach the output, and a list's NMS only affects its own keys.
 */
function greedyNmsLists(
  planPtr: usize, numLists: i32, loc: usize, order: i32, sx: f32, sy: f32, sw: f32, sh: f32,
  clip: bool, nmsThreshold: f32
): i32 {
  const numClasses = word(planPtr, 1), topK = word(planPtr, 4), keepTopK = word(planPtr, 5);
  const priors = ptr(planPtr, 17), heaps = ptr(planPtr, 21), counts = ptr(planPtr, 22);
  const keptKeys = ptr(planPtr, 23), box = ptr(planPtr, 24), keptBoxes = ptr(planPtr, 25);
  const stride = <usize>((topK + 7) & ~7) << 2;
  let numOut = 0;
  for (let list = 0; list < numLists; list++) {
    const keys = heaps + <usize>list * (<usize>topK << 3);
    let remaining = load<i32>(counts + (<usize>list << 2));
    heapifyLargestFirst(keys, remaining);
    let numKept = 0;
    while (remaining > 0) {
      const key = popLargest(keys, remaining--);
      if (boundedExcludes(keptKeys, numOut, keepTopK, key)) break;
      const prior = <i32>(keyCode(key) / <u32>numClasses);
      decodeBox(loc + (<usize>prior << 4), priors + (<usize>prior << 4), order, sx, sy, sw, sh, clip, box);
      if (!keepIfClear(box, keptBoxes, stride, numKept, nmsThreshold)) continue;
      numKept++;
      numOut = pushBounded(keptKeys, numOut, keepTopK, key);
    }
  }
  finishBounded(keptKeys, numOut, keepTopK);
  return numOut;
}

/**
 * Soft-NMS of every candidate list (each sorted and decoded whole: decayed scores re-rank it),
 * then the best keepTopK of what each kept, sorted descending at `keptKeys`; returns how many.
 */
function softNmsLists(
  planPtr: usize, numLists: i32, loc: usize, order: i32, sx: f32, sy: f32, sw: f32, sh: f32,
  clip: bool, method: i32, nmsThreshold: f32, sigma: f32
): i32 {
  const numClasses = word(planPtr, 1), topK = word(planPtr, 4), keepTopK = word(planPtr, 5);
  const pooled = word(planPtr, 6) != 0;
  const priors = ptr(planPtr, 17), thresholds = ptr(planPtr, 20), heaps = ptr(planPtr, 21);
  const counts = ptr(planPtr, 22), keptKeys = ptr(planPtr, 23), boxes = ptr(planPtr, 24);
  let numKept = 0;
  for (let list = 0; list < numLists; list++) {
    const keys = heaps + <usize>list * (<usize>topK << 3);
    const num = load<i32>(counts + (<usize>list << 2));
    if (num == 0) continue;
    if (num < topK) heapify(keys, num); // full heaps are heaps already
    sortHeapDescending(keys, num);
    for (let i = 0; i < num; i++) {
      const prior = <i32>(keyCode(load<u64>(keys + (<usize>i << 3))) / <u32>numClasses);
      decodeBox(loc + (<usize>prior << 4), priors + (<usize>prior << 4), order, sx, sy, sw, sh, clip,
        boxes + (<usize>i << 4));
    }
    const threshold = pooled ? real(planPtr, 29) : load<f32>(thresholds + (<usize>list << 2));
    numKept += softNms(keys, boxes, num, method, nmsThreshold, sigma, threshold, keptKeys + (<usize>numKept << 3));
  }
  return selectTopKeys(keptKeys, numKept, keepTopK);
}

// ---- uint8 heads: threshold in uint8, dequantise only the candidates ------------------------
//
// `detectBatchQuantized` reads a block of words at `quantPtr` the host writes
// (src/core/postprocessor.ts runQuantized):
//   0 locQPtr   (batch × numPriors × 4 u8, + 16 readable bytes)
//   1 confQPtr  (batch × numPriors × numClasses u8, + 16 readable bytes)
//   2 gatesPtr  (numClasses u8, then 255 up to a multiple of 16 plus 16): a score byte q of class c
//               can pass iff q > gates[c]; 255 = never (the background, or a threshold no q beats)
//   3 allPass   (1: some class passes at q = 0, so every row is a candidate)
//   4 locLutPtr, 5 confLutPtr (256 f32 each: the dequantised value of every byte)
//   6 rowsPtr   (numPriors i32: candidate row → prior index)
//   7 priorsPtr (numPriors × 4 f32: the candidates' priors)
//   16… a copy of the plan (64 words) that describes the candidates only
// A row with no class above its gate has no effect on any mode but softmax (every one of its
// scores fails its threshold; the host refuses softmax and MediaPipe here), so only the other
// rows are dequantised, packed in prior order into the plan's loc and conf regions (slot 0) and
// run as an image of that many priors; records get their real prior index back at the end.

/** Post-processing of `numImages` images from uint8 heads (word map above). */
export function detectBatchQuantized(planPtr: usize, numImages: i32, quantPtr: usize): void {
  const numPriors = word(planPtr, 0), numClasses = word(planPtr, 1);
  const gates = ptr(quantPtr, 2), allPass = word(quantPtr, 3) != 0;
  const locLut = ptr(quantPtr, 4), confLut = ptr(quantPtr, 5);
  const rows = ptr(quantPtr, 6), packedPriors = ptr(quantPtr, 7), packed = quantPtr + 64;
  const priors = ptr(planPtr, 17), loc = ptr(planPtr, 18), conf = ptr(planPtr, 19);
  const rowBytes = <usize>numClasses << 2;
  const perImage = <usize>word(planPtr, 43) * RECORD_WORDS << 2;
  for (let image = 0; image < numImages; image++) {
    const locQ = ptr(quantPtr, 0) + <usize>image * (<usize>numPriors << 2);
    const confQ = ptr(quantPtr, 1) + <usize>image * <usize>numPriors * <usize>numClasses;
    let n = 0;
    for (let p = 0; p < numPriors; p++) {
      const row = confQ + <usize>p * <usize>numClasses;
      if (!allPass && !anyAbove(row, gates, numClasses)) continue;
      const to = conf + <usize>n * rowBytes;
      for (let c = 0; c < numClasses; c++) {
        store<f32>(to + (<usize>c << 2), load<f32>(confLut + (<usize>load<u8>(row + <usize>c) << 2)));
      }
      const from = locQ + (<usize>p << 2), at = <usize>n << 4;
      for (let k: usize = 0; k < 4; k++) store<f32>(loc + at + (k << 2), load<f32>(locLut + (<usize>load<u8>(from + k) << 2)));
      memory.copy(packedPriors + at, priors + (<usize>p << 4), 16);
      store<i32>(rows + (<usize>n << 2), p);
      n++;
    }
    memory.copy(packed, planPtr, 64 << 2);
    store<i32>(packed, n);
    store<u32>(packed + (17 << 2), <u32>packedPriors);
    const outBase = ptr(planPtr, 27) + <usize>image * perImage, countAt = ptr(planPtr, 28) + (<usize>image << 2);
    store<u32>(packed + (27 << 2), <u32>outBase);
    store<u32>(packed + (28 << 2), <u32>countAt);
    detectImage(packed, 0);
    const count = load<i32>(countAt);
    for (let i = 0; i < count; i++) {
      const record = outBase + <usize>i * (RECORD_WORDS << 2);
      store<i32>(record, load<i32>(rows + (<usize>load<i32>(record, 4) << 2)), 4);
    }
  }
}

/** Whether some byte of the `num`-byte row beats its gate (gates past `num` are 255). */
// @ts-ignore: decorator
@inline
function anyAbove(row: usize, gates: usize, num: i32): bool {
  if (ASC_FEATURE_SIMD) {
    for (let c = 0; c < num; c += 16) {
      if (v128.any_true(i8x16.gt_u(v128.load(row + <usize>c), v128.load(gates + <usize>c)))) return true;
    }
    return false;
  }
  for (let c = 0; c < num; c++) {
    if (load<u8>(row + <usize>c) > load<u8>(gates + <usize>c)) return true;
  }
  return false;
}

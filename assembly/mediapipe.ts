// MediaPipe's detection post-processing for one image: TensorsToDetectionsCalculator (one
// candidate per prior: its best foreground class, kept when the score is ≥ min_score_thresh;
// MediaPipe's box decode, linear or exponential, with keypoints; boxes of negative width or
// height dropped) followed by NonMaxSuppressionCalculator (greedy, or WEIGHTED: overlapping
// boxes and keypoints blended by score). Reads the plan's mediapipe fields (Plan in plan.ts).
//
// see: mediapipe/calculators/tensor/tensors_to_detections_calculator.cc (ProcessCPU, DecodeBoxes,
//      ConvertToDetections) and mediapipe/calculators/util/non_max_suppression_calculator.cc
//      (NonMaxSuppression, WeightedNonMaxSuppression, OverlapSimilarity with INTERSECTION_OVER_UNION).
//
// A decoded candidate row (in the plan's `boxes` region, `locValues` f32 per row) is
//   x1, y1, x2, y2, then (x, y) per keypoint,
// where (x2, y2) = (xmin + width, ymin + height) as MediaPipe's Rectangle_f rebuilds them from
// the Detection's (xmin, ymin, width, height).
//
// Ties: candidates rank by score, then lower prior index (the key order, keys.ts); MediaPipe
// sorts with std::sort, whose order of exactly equal scores is unspecified.

import { boxArea, iou, ORDER_YXHW } from "./coder";
import { candidateKey, keyCode, keyScore } from "./keys";
import { planAt } from "./plan";
import { ACTIVATION_SIGMOID } from "./scores";
import { selectTopKeys } from "./topk";

export const MEDIAPIPE_GREEDY: i32 = 1;
export const MEDIAPIPE_WEIGHTED: i32 = 2;
const RECORD_HEAD_WORDS: i32 = 7;

/**
 * MediaPipe's sigmoid: 1 / (1 + e^−x) in f32, with e^−x rounded to f32 from f64 (MediaPipe
 * calls std::exp on a float; a correctly rounded expf gives the same value).
 */
// @ts-ignore: decorator
@inline
export function sigmoidMediapipe(x: f32): f32 {
  return <f32>1 / (<f32>1 + <f32>Math.exp(-<f64>x));
}

/**
 * Decodes one candidate as MediaPipe's DecodeBoxes. `locPtr`: the prior's row (4 box values in
 * `order`, then keypoint pairs in the same order); `priorPtr`: (cx, cy, w, h); `dx … dh`: the
 * divisors x_scale … h_scale; `exponential`: apply_exponential_on_box_size. Writes a candidate
 * row at `outPtr` (see the file comment). Returns false when the width or height is negative or
 * NaN (ConvertToDetections drops those). Decoding runs for the candidates only (at most topK), so
 * it has no SIMD twin, like decodeBoxTflite; both builds run these same f32 operations.
 */
export function decodeMediapipe(
  locPtr: usize, priorPtr: usize, order: i32, exponential: bool,
  dx: f32, dy: f32, dw: f32, dh: f32, numKeypoints: i32, outPtr: usize
): bool {
  let tx = load<f32>(locPtr, 0), ty = load<f32>(locPtr, 4);
  let tw = load<f32>(locPtr, 8), th = load<f32>(locPtr, 12);
  if (order == ORDER_YXHW) {
    const t = tx; tx = ty; ty = t;
    const u = tw; tw = th; th = u;
  }
  const pcx = load<f32>(priorPtr, 0), pcy = load<f32>(priorPtr, 4);
  const pw = load<f32>(priorPtr, 8), ph = load<f32>(priorPtr, 12);
  const cx = tx / dx * pw + pcx;
  const cy = ty / dy * ph + pcy;
  let w = tw / dw, h = th / dh;
  if (exponential) {
    // std::exp on a float, then × anchor size
    w = <f32>Math.exp(<f64>w);
    h = <f32>Math.exp(<f64>h);
  }
  w *= pw;
  h *= ph;
  const xmin = cx - w / 2, ymin = cy - h / 2, xmax = cx + w / 2, ymax = cy + h / 2;
  const width = xmax - xmin, height = ymax - ymin;
  store<f32>(outPtr, xmin, 0); store<f32>(outPtr, ymin, 4);
  store<f32>(outPtr, xmin + width, 8); store<f32>(outPtr, ymin + height, 12);
  for (let k = 0; k < numKeypoints; k++) {
    const at = locPtr + 16 + (<usize>k << 3);
    let rx = load<f32>(at, 0), ry = load<f32>(at, 4);
    if (order == ORDER_YXHW) { const t = rx; rx = ry; ry = t; }
    const to = outPtr + 16 + (<usize>k << 3);
    store<f32>(to, rx / dx * pw + pcx, 0);
    store<f32>(to, ry / dy * ph + pcy, 4);
  }
  // width < 0, height < 0 or NaN: not ≥ 0
  return width >= 0 && height >= 0;
}

/** IoU of the candidate rows at `aPtr` and `bPtr` (corners first), as MediaPipe's OverlapSimilarity(a, b). */
function rowIou(aPtr: usize, bPtr: usize): f32 {
  const ax1 = load<f32>(aPtr, 0), ay1 = load<f32>(aPtr, 4), ax2 = load<f32>(aPtr, 8), ay2 = load<f32>(aPtr, 12);
  const bx1 = load<f32>(bPtr, 0), by1 = load<f32>(bPtr, 4), bx2 = load<f32>(bPtr, 8), by2 = load<f32>(bPtr, 12);
  return iou(ax1, ay1, ax2, ay2, boxArea(ax1, ay1, ax2, ay2), bx1, by1, bx2, by2, boxArea(bx1, by1, bx2, by2));
}

/**
 * One candidate per prior: the best foreground class (first on equal scores, as MediaPipe's
 * `max_score < score`), kept when its score beats the class's entry in `thresholdsPtr` (the host
 * stores the f32 just below min_score_thresh: ≥ it passes). Writes the candidates' keys at
 * `keysPtr` (room for numPriors), then moves the best `topK` to the front, best first; returns
 * how many that is.
 */
export function scanMediapipe(
  confPtr: usize, numPriors: i32, numClasses: i32, background: i32, activation: i32,
  thresholdsPtr: usize, keysPtr: usize, topK: i32
): i32 {
  let n = 0;
  for (let p = 0; p < numPriors; p++) {
    const row = confPtr + (<usize>p * <usize>numClasses << 2);
    let best: f32 = -f32.MAX_VALUE;
    let bestClass = -1;
    for (let c = 0; c < numClasses; c++) {
      if (c == background) continue;
      let score = load<f32>(row + (<usize>c << 2));
      if (activation == ACTIVATION_SIGMOID) score = sigmoidMediapipe(score);
      if (best < score) { best = score; bestClass = c; }
    }
    if (bestClass < 0 || !(best > load<f32>(thresholdsPtr + (<usize>bestClass << 2)))) continue;
    // + 0 turns −0 into +0 so that its key ranks as 0
    store<u64>(keysPtr + (<usize>n << 3), candidateKey(best + 0, p, bestClass, numClasses));
    n++;
  }
  return selectTopKeys(keysPtr, n, topK);
}

/**
 * MediaPipe's NMS over `num` candidates best first (`keysPtr`, consumed: removed keys become 0;
 * `rowsPtr`, rows of `rowBytes`). Repeatedly, the best remaining candidate T and every remaining
 * candidate R with IoU(R, T) > `threshold` (T itself included) leave the list, where
 * IoU(R, T) = inter / (area_R + area_T − inter) (MediaPipe's OverlapSimilarity with
 * INTERSECTION_OVER_UNION; f32 addition commutes, so the greedy loop's IoU(kept, R) is the same
 * number). Writes up to `maxKeep` detections: T's key at `outKeysPtr`, and at `outRowsPtr`
 * - greedy (algorithm DEFAULT; taking the best remaining and dropping what it overlaps is the
 *   greedy loop): T's row; a zero-area T overlaps nothing, not even itself, and leaves alone;
 * - `weighted` (algorithm WEIGHTED): the score-weighted mean of the leaving rows (corners and
 *   keypoints, accumulated in f32 in rank order; width = mean xmax − xmin, xmax = xmin + width).
 *   When not even T overlaps itself, T is output as it is and the loop ends, as MediaPipe's does.
 * Returns how many detections were written.
 */
export function nmsMediapipe(keysPtr: usize, rowsPtr: usize, rowBytes: usize, num: i32, numKeypoints: i32,
                             threshold: f32, weighted: bool, maxKeep: i32, outKeysPtr: usize, outRowsPtr: usize): i32 {
  let numOut = 0;
  let first = 0;
  const values = 4 + 2 * numKeypoints;
  while (numOut < maxKeep) {
    while (first < num && load<u64>(keysPtr + (<usize>first << 3)) == 0) first++;
    if (first == num) break;
    const topKey = load<u64>(keysPtr + (<usize>first << 3));
    const top = rowsPtr + <usize>first * rowBytes;
    const out = outRowsPtr + <usize>numOut * rowBytes;
    memory.fill(out, 0, rowBytes);
    let total: f32 = 0;
    let blended = 0;
    for (let i = first; i < num; i++) {
      const at = keysPtr + (<usize>i << 3);
      const key = load<u64>(at);
      if (key == 0) continue;
      const r = rowsPtr + <usize>i * rowBytes;
      if (!(rowIou(r, top) > threshold)) continue;
      const score = keyScore(key);
      total += score;
      for (let v = 0; v < values; v++) {
        const o = out + (<usize>v << 2);
        store<f32>(o, load<f32>(o) + load<f32>(r + (<usize>v << 2)) * score);
      }
      if (i != first) store<u64>(at, 0);
      blended++;
    }
    store<u64>(keysPtr + (<usize>first << 3), 0);
    store<u64>(outKeysPtr + (<usize>numOut << 3), topKey);
    numOut++;
    if (!weighted || blended == 0) {
      memory.copy(out, top, rowBytes);
      if (weighted) break;
      continue;
    }
    const xmin = load<f32>(out, 0) / total, ymin = load<f32>(out, 4) / total;
    const width = load<f32>(out, 8) / total - xmin, height = load<f32>(out, 12) / total - ymin;
    store<f32>(out, xmin, 0); store<f32>(out, ymin, 4);
    store<f32>(out, xmin + width, 8); store<f32>(out, ymin + height, 12);
    for (let v = 4; v < values; v++) {
      const o = out + (<usize>v << 2);
      store<f32>(o, load<f32>(o) / total);
    }
  }
  return numOut;
}

/** The whole MediaPipe post-processing of image `image` (Plan in plan.ts). */
export function detectImageMediapipe(planPtr: usize, image: i32): void {
  const plan = planAt(planPtr);
  const numPriors = plan.numPriors, numClasses = plan.numClasses, background = plan.backgroundClass;
  const topK = plan.topK, keepTopK = plan.keepTopK;
  const threshold = plan.nmsThreshold;
  const order = plan.order;
  const priors = plan.priorsPtr;
  const exponential = plan.mediapipeExponential != 0, numKeypoints = plan.numKeypoints;
  const locValues = plan.locValues, recordWords = plan.recordWords;
  const dx = plan.mediapipeScaleX, dy = plan.mediapipeScaleY, dw = plan.mediapipeScaleW, dh = plan.mediapipeScaleH;
  const rowBytes = <usize>locValues << 2;
  const loc = plan.locPtr + <usize>image * <usize>numPriors * rowBytes;
  const conf = plan.confPtr + (<usize>image * <usize>numPriors * <usize>numClasses << 2);
  const keys = plan.heapsPtr, rows = plan.boxesPtr, kept = plan.keptBoxesPtr, keptKeys = plan.keptKeysPtr;

  const num = scanMediapipe(conf, numPriors, numClasses, background, plan.activation, plan.thresholdsPtr, keys, topK);
  // decode the candidates, dropping those of negative size (the survivors stay in rank order)
  let valid = 0;
  for (let i = 0; i < num; i++) {
    const key = load<u64>(keys + (<usize>i << 3));
    const prior = <i32>(keyCode(key) / <u32>numClasses);
    if (decodeMediapipe(loc + <usize>prior * rowBytes, priors + (<usize>prior << 4), order, exponential,
                        dx, dy, dw, dh, numKeypoints, rows + <usize>valid * rowBytes)) {
      store<u64>(keys + (<usize>valid << 3), key);
      valid++;
    }
  }

  const numOut = nmsMediapipe(keys, rows, rowBytes, valid, numKeypoints, threshold, plan.mediapipeMode == MEDIAPIPE_WEIGHTED,
    keepTopK, keptKeys, kept);

  const outBase = plan.outPtr + <usize>image * (<usize>plan.recordsPerImage * <usize>recordWords << 2);
  for (let j = 0; j < numOut; j++) {
    const key = load<u64>(keptKeys + (<usize>j << 3));
    const code = keyCode(key);
    const record = outBase + <usize>j * (<usize>recordWords << 2);
    store<i32>(record, <i32>(code % <u32>numClasses), 0);
    store<i32>(record, <i32>(code / <u32>numClasses), 4);
    store<f32>(record, keyScore(key), 8);
    memory.copy(record + (<usize>(RECORD_HEAD_WORDS - 4) << 2), kept + <usize>j * rowBytes, rowBytes);
  }
  store<i32>(plan.outCountsPtr + (<usize>image << 2), numOut);
}

// Score activation and per-class threshold: turns one image's conf rows into candidate keys.
//
// Candidates are u64 keys (see keys.ts) kept in one min-heap of `topK` per class (topk.ts), so
// only the best topK are ever stored. `limits` holds, per class, the score a candidate must
// strictly beat: the class threshold, then, once its heap is full, the heap's weakest score
// (a later candidate with an equal score has a higher prior index and ranks lower anyway).
// One vector compare against `limits` thus finds the few (prior, class) pairs that enter.
// Most rows of a trained SSD are confident background. For softmax, prob_c ≤ exp(l_c − max)
// because the sum of exponentials is ≥ 1, so a row whose best foreground logit is more than
// −ln(threshold) below its maximum cannot pass and needs no exponentials at all; the host
// passes that bound as `gate` (with a safety margin), and only the rows above it are scored.
// Near-uniform rows defeat that bound (their maximum is a foreground logit), so softmax rows
// get a second one from the AM–GM inequality: Σ_j e^{l_j} ≥ C·e^{mean}, hence
// prob_c ≤ e^{l_c − mean} / C, checked against the lowest current limit (which only rises, so a
// gate computed from it a few rows ago is still safe).

import { expf, expf4 } from "./expf";
import { candidateKey, keyScore } from "./keys";
import { heapify, replaceRoot } from "./topk";

export const ACTIVATION_NONE: i32 = 0;
export const ACTIVATION_SOFTMAX: i32 = 1;
export const ACTIVATION_SIGMOID: i32 = 2;

/**
 * Largest of `num` f32 at `ptr` (num ≥ 1, no NaN: the host rejects non-finite input first).
 * Max is exact, so lane order does not matter; pmax is one instruction where max needs a
 * NaN-propagating sequence.
 */
// @ts-ignore: decorator
@inline
export function maxSpan(ptr: usize, num: i32): f32 {
  let i = 0;
  let m: f32 = -Infinity;
  if (ASC_FEATURE_SIMD) {
    if (num >= 4) {
      let a = v128.load(ptr);
      let b = a;
      for (i = 4; i + 8 <= num; i += 8) {
        a = f32x4.pmax(a, v128.load(ptr + (<usize>i << 2)));
        b = f32x4.pmax(b, v128.load(ptr + (<usize>i << 2), 16));
      }
      if (i + 4 <= num) { a = f32x4.pmax(a, v128.load(ptr + (<usize>i << 2))); i += 4; }
      a = f32x4.pmax(a, b);
      a = f32x4.pmax(a, v128.shuffle<f32>(a, a, 2, 3, 0, 1));
      a = f32x4.pmax(a, v128.shuffle<f32>(a, a, 1, 0, 3, 2));
      m = f32x4.extract_lane(a, 0);
    }
  }
  for (; i < num; i++) m = max<f32>(m, load<f32>(ptr + (<usize>i << 2)));
  return m;
}

/**
 * Writes exp(row[c] − shift) for c < num into `outPtr` and returns their sum. The sum is kept
 * in four interleaved partial sums — s_j adds the classes c ≡ j (mod 4) below 4·⌊num/4⌋, in
 * order — combined as (s0 + s1) + (s2 + s3), then the remaining classes are added in order.
 * That is the natural order for f32x4 lanes, and four independent chains for the scalar build;
 * the reference sums the same way.
 */
export function expRow(rowPtr: usize, num: i32, shift: f32, outPtr: usize): f32 {
  const whole = num & ~3;
  let sum: f32;
  if (ASC_FEATURE_SIMD) {
    const s = f32x4.splat(shift);
    let acc = f32x4.splat(0);
    for (let i = 0; i < whole; i += 4) {
      const off = <usize>i << 2;
      const e = expf4(f32x4.sub(v128.load(rowPtr + off), s));
      v128.store(outPtr + off, e);
      acc = f32x4.add(acc, e);
    }
    sum = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) +
          (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (let i = 0; i < whole; i += 4) {
      const off = <usize>i << 2;
      const e0 = expf(load<f32>(rowPtr + off) - shift), e1 = expf(load<f32>(rowPtr + off, 4) - shift);
      const e2 = expf(load<f32>(rowPtr + off, 8) - shift), e3 = expf(load<f32>(rowPtr + off, 12) - shift);
      store<f32>(outPtr + off, e0); store<f32>(outPtr + off, e1, 4);
      store<f32>(outPtr + off, e2, 8); store<f32>(outPtr + off, e3, 12);
      s0 += e0; s1 += e1; s2 += e2; s3 += e3;
    }
    sum = (s0 + s1) + (s2 + s3);
  }
  for (let i = whole; i < num; i++) {
    const off = <usize>i << 2;
    const e = expf(load<f32>(rowPtr + off) - shift);
    store<f32>(outPtr + off, e);
    sum += e;
  }
  return sum;
}

/**
 * Scans `numPriors` rows of `numClasses` scores at `confPtr` and keeps, per class ≠ background,
 * the best `topK` candidate keys whose activated score is strictly greater than the class
 * threshold. Heap c is at `heapsPtr + c·topK·8` with its size in the i32 at `countsPtr + 4c`
 * (one heap, index 0, when `pooled`). On entry counts are zero and `limitsPtr` holds the class
 * thresholds (numClasses f32); both are updated. `rowPtr` is scratch for numClasses f32.
 * Heaps that never filled are not heapified; the caller sorts them (heapify is idempotent).
 */
export function scanScores(
  confPtr: usize, numPriors: i32, numClasses: i32, background: i32, activation: i32,
  limitsPtr: usize, gate: f32, pooled: bool, heapsPtr: usize, countsPtr: usize, topK: i32, rowPtr: usize
): void {
  const rowBytes = <usize>numClasses << 2;
  const heapBytes = <usize>topK << 3;
  const invClasses: f32 = <f32>1 / <f32>numClasses;
  let meanGate: f32 = -Infinity;
  for (let p = 0; p < numPriors; p++) {
    const row = confPtr + <usize>p * rowBytes;
    if ((p & 63) == 0 && activation == ACTIVATION_SOFTMAX) meanGate = softmaxMeanGate(limitsPtr, numClasses);
    // best foreground logit, and the row maximum
    let bestFg: f32;
    if (background == 0) bestFg = maxSpan(row + 4, numClasses - 1);
    else if (background < 0) bestFg = maxSpan(row, numClasses);
    else {
      bestFg = maxSpan(row, background);
      if (background + 1 < numClasses) {
        bestFg = max<f32>(bestFg, maxSpan(row + (<usize>(background + 1) << 2), numClasses - background - 1));
      }
    }
    let probs = row;
    if (activation == ACTIVATION_SOFTMAX) {
      const rowMax = background >= 0 ? max<f32>(bestFg, load<f32>(row + (<usize>background << 2))) : bestFg;
      if (bestFg - rowMax < gate) continue;
      const mean = sumSpan(row, numClasses) * invClasses;
      // the margin covers the rounding of the f32 sum: a few ulp of the largest magnitude
      if (bestFg - mean < meanGate - 1e-5 * (abs<f32>(rowMax) + abs<f32>(mean))) continue;
      const sum = expRow(row, numClasses, rowMax, rowPtr);
      divideRow(rowPtr, numClasses, sum);
      probs = rowPtr;
    } else {
      if (bestFg < gate) continue;
      if (activation == ACTIVATION_SIGMOID) {
        sigmoidRow(row, numClasses, rowPtr);
        probs = rowPtr;
      }
    }
    emitPassing(probs, limitsPtr, numClasses, background, p, pooled, heapsPtr, countsPtr, heapBytes, topK);
  }
}

/**
 * ln(C · lowest limit) − margin: a softmax row whose best foreground logit is less than this
 * above the row mean cannot beat any class limit (AM–GM bound, see the top of this file).
 * Background limits are +∞ (set by the host), so they never lower the minimum.
 */
function softmaxMeanGate(limitsPtr: usize, numClasses: i32): f32 {
  let lowest: f32 = Infinity;
  for (let c = 0; c < numClasses; c++) lowest = min<f32>(lowest, load<f32>(limitsPtr + (<usize>c << 2)));
  if (!(lowest > 0)) return -Infinity;
  return Mathf.log(<f32>numClasses * lowest) - 1e-3;
}

/** Sum of `num` f32 at `ptr`; any order will do (it only feeds a bound with a margin). */
// @ts-ignore: decorator
@inline
function sumSpan(ptr: usize, num: i32): f32 {
  let i = 0;
  let sum: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f32x4.splat(0);
    for (; i + 4 <= num; i += 4) acc = f32x4.add(acc, v128.load(ptr + (<usize>i << 2)));
    sum = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  }
  for (; i < num; i++) sum += load<f32>(ptr + (<usize>i << 2));
  return sum;
}

/** row[c] /= sum. Division is exact IEEE in every lane, so the twins agree. */
export function divideRow(rowPtr: usize, num: i32, sum: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const s = f32x4.splat(sum);
    for (; i + 4 <= num; i += 4) {
      const at = rowPtr + (<usize>i << 2);
      v128.store(at, f32x4.div(v128.load(at), s));
    }
  }
  for (; i < num; i++) {
    const at = rowPtr + (<usize>i << 2);
    store<f32>(at, load<f32>(at) / sum);
  }
}

/** out[c] = 1 / (1 + exp(−row[c])). */
export function sigmoidRow(rowPtr: usize, num: i32, outPtr: usize): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1);
    for (; i + 4 <= num; i += 4) {
      const off = <usize>i << 2;
      const e = expf4(f32x4.neg(v128.load(rowPtr + off)));
      v128.store(outPtr + off, f32x4.div(one, f32x4.add(one, e)));
    }
  }
  for (; i < num; i++) {
    const off = <usize>i << 2;
    store<f32>(outPtr + off, <f32>1 / (<f32>1 + expf(-load<f32>(rowPtr + off))));
  }
}

/** Offers every class of one row whose probability beats its limit to that class's heap. */
function emitPassing(
  probs: usize, limitsPtr: usize, numClasses: i32, background: i32, prior: i32,
  pooled: bool, heapsPtr: usize, countsPtr: usize, heapBytes: usize, topK: i32
): void {
  let c = 0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 4 <= numClasses; c += 4) {
      const off = <usize>c << 2;
      let mask = i32x4.bitmask(f32x4.gt(v128.load(probs + off), v128.load(limitsPtr + off)));
      while (mask != 0) {
        const cls = c + ctz(mask);
        mask &= mask - 1;
        if (cls != background) {
          offer(load<f32>(probs + (<usize>cls << 2)), prior, cls, numClasses, pooled, limitsPtr, heapsPtr, countsPtr, heapBytes, topK);
        }
      }
    }
  }
  for (; c < numClasses; c++) {
    const score = load<f32>(probs + (<usize>c << 2));
    if (c != background && score > load<f32>(limitsPtr + (<usize>c << 2))) {
      offer(score, prior, c, numClasses, pooled, limitsPtr, heapsPtr, countsPtr, heapBytes, topK);
    }
  }
}

/** Puts a candidate that beats its limit into its heap and raises the limit once the heap is full. */
function offer(
  score: f32, prior: i32, cls: i32, numClasses: i32, pooled: bool,
  limitsPtr: usize, heapsPtr: usize, countsPtr: usize, heapBytes: usize, topK: i32
): void {
  const list = pooled ? 0 : cls;
  const heap = heapsPtr + <usize>list * heapBytes;
  const countAt = countsPtr + (<usize>list << 2);
  // + 0 turns −0 into +0 (a passing −0 is possible only with TFLite's ≥ 0 threshold): its key must rank as 0
  const key = candidateKey(score + 0, prior, cls, numClasses);
  let n = load<i32>(countAt);
  if (n < topK) {
    store<u64>(heap + (<usize>n << 3), key);
    store<i32>(countAt, ++n);
    if (n < topK) return;
    heapify(heap, n);
  } else {
    // in pooled mode the limit may have risen since this row's lanes were compared
    if (key <= load<u64>(heap)) return;
    replaceRoot(heap, key, n);
  }
  // the heap is full: a newcomer must beat its weakest key
  const weakest = keyScore(load<u64>(heap));
  const first = pooled ? 0 : cls, last = pooled ? numClasses : cls + 1;
  for (let c = first; c < last; c++) {
    const at = limitsPtr + (<usize>c << 2);
    store<f32>(at, max<f32>(load<f32>(at), weakest));
  }
}

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
import { finiteSum } from "./finite";
import { candidateKey, keyScore } from "./keys";
import { SCAN_ROWS } from "./plan";
import { heapify, replaceRoot } from "./topk";

export const ACTIVATION_NONE: i32 = 0;
export const ACTIVATION_SOFTMAX: i32 = 1;
export const ACTIVATION_SIGMOID: i32 = 2;

/**
 * Largest of `num` f32 at `ptr` (num ≥ 1; a NaN may be lost: the host rejects non-finite input,
 * before the run or after it, see scanScores, and never reads the results of one).
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

/** maxSpan as a call, for the paths that take it once per candidate rather than once per row. */
export function maxOf(ptr: usize, num: i32): f32 {
  return maxSpan(ptr, num);
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
    let acc = f32x4.splat(0), tail = acc;
    // the last step of a row that is not whole vectors takes its last four floats (reaching
    // before the row when num < 4: read, never used) and keeps their exponentials for the
    // remaining classes, which the lanes of expf4 give bit for bit as expf would, and cheaper
    for (let i = 0; i < num; i += 4) {
      const off = <usize>min<i32>(i, num - 4) << 2;
      const e = expf4(f32x4.sub(v128.load(rowPtr + off), s));
      if (i < whole) {
        v128.store(outPtr + off, e);
        acc = f32x4.add(acc, e);
      } else {
        tail = e;
      }
    }
    sum = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) +
          (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    // the remaining classes whole … num − 1 are lanes 4 − (num − whole) … 3, in that order
    const out = outPtr + (<usize>num << 2) - 16;
    const left = num - whole;
    if (left == 3) { const e = f32x4.extract_lane(tail, 1); store<f32>(out, e, 4); sum += e; }
    if (left >= 2) { const e = f32x4.extract_lane(tail, 2); store<f32>(out, e, 8); sum += e; }
    if (left >= 1) { const e = f32x4.extract_lane(tail, 3); store<f32>(out, e, 12); sum += e; }
    return sum;
  }
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
 * thresholds (numClasses f32); both are updated. `rowPtr` is scratch for SCAN_ROWS × numClasses
 * f32 (softmax rows leave their exponentials e^(l − max) there, undivided, one slot per scored
 * row of the last batch; see emitSoftmax).
 * Heaps that never filled are not heapified; the caller sorts them (heapify is idempotent).
 * With `locPtr` ≠ 0 (the image's 4 offsets per prior), returns whether every conf value and every
 * offset is finite, or may be false on a finite input (finite.ts finiteSum); with 0 it checks nothing
 * and returns false.
 */
export function scanScores(
  confPtr: usize, locPtr: usize, numPriors: i32, numClasses: i32, background: i32, activation: i32,
  limitsPtr: usize, gate: f32, pooled: bool, heapsPtr: usize, countsPtr: usize, topK: i32, rowPtr: usize
): bool {
  const rowBytes = <usize>numClasses << 2;
  const heapBytes = <usize>topK << 3;
  const invClasses: f32 = <f32>1 / <f32>numClasses;
  const softmax = activation == ACTIVATION_SOFTMAX;
  let witness: f32 = 0;
  // NaN: no log of the class gate is valid for this image's limits yet
  if (softmax) memory.fill(GATE_LIMITS, 0xFF, <usize>min<i32>(numClasses, CLASS_GATE_MAX) << 2);
  for (let start = 0; start < numPriors; start += SCAN_ROWS) {
    // pass 1, without branches: the rows whose bound reaches the gate, with their best
    // foreground logit and maximum (whether a row passes is a coin toss on dense outputs,
    // and a mispredicted branch per row cost more than the row's own work)
    const end = min<i32>(start + SCAN_ROWS, numPriors);
    let numListed = 0;
    for (let p = start; p < end; p++) {
      const row = confPtr + <usize>p * rowBytes;
      const bestFg = bestForeground(row, numClasses, background);
      const rowMax = softmax && background >= 0 ? max<f32>(bestFg, load<f32>(row + (<usize>background << 2))) : bestFg;
      const at = <usize>numListed << 2;
      store<i32>(SCAN_LIST + at, p);
      store<f32>(SCAN_BEST + at, bestFg);
      store<f32>(SCAN_MAX + at, rowMax);
      // !(a < b) rather than a ≥ b: the same rows as the `continue` it replaces, NaN included
      numListed += <i32>!((softmax ? bestFg - rowMax : bestFg) < gate);
    }
    if (locPtr != 0) {
      // the host's NaN check, while the batch's rows are in the cache rather than in a pass of its own
      witness += finiteSum(confPtr + <usize>start * rowBytes, (end - start) * numClasses) +
        finiteSum(locPtr + (<usize>start << 4), (end - start) << 2);
    }
    if (softmax) {
      scoreSoftmaxRows(confPtr, numListed, numClasses, background, limitsPtr, invClasses, pooled,
        heapsPtr, countsPtr, heapBytes, topK, rowPtr);
      continue;
    }
    // pass 2: score the listed rows and offer their passing classes
    for (let i = 0; i < numListed; i++) {
      const p = load<i32>(SCAN_LIST + (<usize>i << 2));
      const row = confPtr + <usize>p * rowBytes;
      let probs = row;
      if (activation == ACTIVATION_SIGMOID) {
        sigmoidRow(row, numClasses, rowPtr);
        probs = rowPtr;
      }
      emitPassing(probs, limitsPtr, numClasses, background, p, pooled, heapsPtr, countsPtr, heapBytes, topK);
    }
  }
  return locPtr != 0 && abs<f32>(witness) < Infinity;
}

/**
 * Pass 2 for softmax over the `numListed` rows of SCAN_LIST: first every row's exponentials and
 * their sum, each row into its own slot of `rowPtr` (SCAN_ROWS × numClasses f32) — the rows are
 * independent, so one row's exponentials overlap the previous row's sum instead of waiting for
 * it — then the passing classes of each, in row order (emitSoftmax).
 */
function scoreSoftmaxRows(
  confPtr: usize, numListed: i32, numClasses: i32, background: i32, limitsPtr: usize, invClasses: f32,
  pooled: bool, heapsPtr: usize, countsPtr: usize, heapBytes: usize, topK: i32, rowPtr: usize
): void {
  const rowBytes = <usize>numClasses << 2;
  const meanGate = softmaxMeanGate(limitsPtr, numClasses);
  const classGate = numClasses <= CLASS_GATE_MAX;
  if (classGate) refreshLogLimits(limitsPtr, numClasses);
  let numScored = 0;
  for (let i = 0; i < numListed; i++) {
    const at = <usize>i << 2;
    const p = load<i32>(SCAN_LIST + at);
    const bestFg = load<f32>(SCAN_BEST + at), rowMax = load<f32>(SCAN_MAX + at);
    const row = confPtr + <usize>p * rowBytes;
    const mean = sumSpan(row, numClasses) * invClasses;
    // the margin covers the rounding of the f32 sum: a few ulp of the largest magnitude
    if (bestFg - mean < meanGate - 1e-5 * (abs<f32>(rowMax) + abs<f32>(mean))) continue;
    // second: near-uniform rows (the mean gate's) would pass it anyway
    if (classGate && !someClassReaches(row, rowMax, numClasses)) continue;
    const sum = expRow(row, numClasses, rowMax, rowPtr + <usize>numScored * rowBytes);
    // entry numScored ≤ i was read already: the lists now hold the scored rows and their sums
    store<i32>(SCAN_LIST + (<usize>numScored << 2), p);
    store<f32>(SCAN_BEST + (<usize>numScored << 2), sum);
    numScored++;
  }
  for (let j = 0; j < numScored; j++) {
    const at = <usize>j << 2;
    emitSoftmax(rowPtr + <usize>j * rowBytes, load<f32>(SCAN_BEST + at), limitsPtr, numClasses, background,
      load<i32>(SCAN_LIST + at), pooled, heapsPtr, countsPtr, heapBytes, topK);
  }
}

/**
 * The per-class gate: prob_c ≤ e^(l_c − max) (the sum of exponentials is ≥ 1), so a row none of
 * whose logits reaches ln(limit_c) above its maximum cannot enter any heap. It catches the rows
 * the fixed gate lets through for a class whose heap is full and whose limit has risen (the busy
 * class of dense outputs). The logs are refreshed once per batch, for the classes whose limit
 * moved; limits only rise, so logs from the batch's start stay safe for all of it. The margin
 * 10⁻³ covers the few ulp of expf and Mathf.log; below e⁻⁶⁹ (expf clamps at −87) no bound is used.
 */
const CLASS_GATE_MAX: i32 = 128;
/** Per class (up to CLASS_GATE_MAX): the limit GATE_LOGS was computed from, and ln(limit) − margin. */
const GATE_LIMITS: usize = memory.data(CLASS_GATE_MAX << 2, 16);
const GATE_LOGS: usize = memory.data(CLASS_GATE_MAX << 2, 16);

function refreshLogLimits(limitsPtr: usize, numClasses: i32): void {
  for (let c = 0; c < numClasses; c++) {
    const at = <usize>c << 2;
    const limit = load<f32>(limitsPtr + at);
    if (limit == load<f32>(GATE_LIMITS + at)) continue;
    store<f32>(GATE_LIMITS + at, limit);
    store<f32>(GATE_LOGS + at, limit > 1e-30 ? Mathf.log(limit) - 1e-3 : -Infinity);
  }
}

/** Whether some class of the row has l_c − max ≥ GATE_LOGS[c] (the background's log is +∞). */
// @ts-ignore: decorator
@inline
function someClassReaches(row: usize, rowMax: f32, numClasses: i32): bool {
  if (ASC_FEATURE_SIMD) {
    const m = f32x4.splat(rowMax);
    let reach = f32x4.splat(0);
    // the last step takes the last four classes (and before the row when there are fewer than
    // four: whatever those lanes say can only keep a row, never drop one)
    for (let c = 0; c < numClasses; c += 4) {
      const at = <usize>min<i32>(c, numClasses - 4) << 2;
      reach = v128.or(reach, f32x4.ge(f32x4.sub(v128.load(row + at), m), v128.load(GATE_LOGS + at)));
    }
    return v128.any_true(reach);
  }
  for (let c = 0; c < numClasses; c++) {
    const at = <usize>c << 2;
    if (load<f32>(row + at) - rowMax >= load<f32>(GATE_LOGS + at)) return true;
  }
  return false;
}

/** scanScores' lists for the rows of one batch (prior index, best foreground logit, maximum). */
const SCAN_LIST: usize = memory.data(SCAN_ROWS << 2, 16);
const SCAN_BEST: usize = memory.data(SCAN_ROWS << 2, 16);
const SCAN_MAX: usize = memory.data(SCAN_ROWS << 2, 16);

/** The largest logit of a row outside the background class (−∞ when every class is background). */
// @ts-ignore: decorator
@inline
function bestForeground(row: usize, numClasses: i32, background: i32): f32 {
  // the classes before the background (all of them when there is none, none when it is class 0),
  // then those after it: two spans, so the scan carries two copies of maxSpan rather than four
  const first = background == 0 ? 1 : 0;
  const span = background < 0 ? numClasses : background == 0 ? numClasses - 1 : background;
  let best = maxSpan(row + (<usize>first << 2), span);
  if (background > 0 && background + 1 < numClasses) {
    best = max<f32>(best, maxSpan(row + (<usize>(background + 1) << 2), numClasses - background - 1));
  }
  return best;
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
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1);
    const whole = num & ~3;
    // as in expRow: the last step of a row that is not whole vectors takes its last four floats
    for (let i = 0; i < num; i += 4) {
      const off = <usize>min<i32>(i, num - 4) << 2;
      const p = f32x4.div(one, f32x4.add(one, expf4(f32x4.neg(v128.load(rowPtr + off)))));
      if (i < whole) {
        v128.store(outPtr + off, p);
      } else {
        const left = num - whole, out = outPtr + off;
        if (left == 3) store<f32>(out, f32x4.extract_lane(p, 1), 4);
        if (left >= 2) store<f32>(out, f32x4.extract_lane(p, 2), 8);
        store<f32>(out, f32x4.extract_lane(p, 3), 12);
      }
    }
    return;
  }
  for (let i = 0; i < num; i++) {
    const off = <usize>i << 2;
    store<f32>(outPtr + off, <f32>1 / (<f32>1 + expf(-load<f32>(rowPtr + off))));
  }
}

/**
 * Offers every class of one row whose probability beats its limit to that class's heap, in
 * class order. The compares of up to 32 classes are gathered into one bit mask first, so a row
 * costs one loop over its passing classes rather than a branch per group of four.
 */
function emitPassing(
  probs: usize, limitsPtr: usize, numClasses: i32, background: i32, prior: i32,
  pooled: bool, heapsPtr: usize, countsPtr: usize, heapBytes: usize, topK: i32
): void {
  for (let group = 0; group < numClasses; group += 32) {
    const end = min<i32>(group + 32, numClasses);
    let mask: u32 = 0;
    let c = group;
    if (ASC_FEATURE_SIMD) {
      for (; c + 4 <= end; c += 4) {
        const off = <usize>c << 2;
        mask |= <u32>i32x4.bitmask(f32x4.gt(v128.load(probs + off), v128.load(limitsPtr + off))) << <u32>(c - group);
      }
    }
    for (; c < end; c++) {
      const off = <usize>c << 2;
      mask |= <u32>(load<f32>(probs + off) > load<f32>(limitsPtr + off)) << <u32>(c - group);
    }
    // the background's limit is +∞ (set by the host), but a pass-through scan may see any value
    if (background >= group && background < end) mask &= ~(<u32>1 << <u32>(background - group));
    // in pooled mode a limit may rise while this mask is used up: offer checks the heap again
    while (mask != 0) {
      const cls = group + <i32>ctz(mask);
      mask &= mask - 1;
      offer(load<f32>(probs + (<usize>cls << 2)), prior, cls, numClasses, pooled, limitsPtr, heapsPtr, countsPtr, heapBytes, topK);
    }
  }
}

/** 1 − 2⁻²⁰ and the smallest normal f32: the slack of emitSoftmax's bound (proof there). */
const SOFTMAX_BOUND_SCALE: f32 = 0.99999904632568359375;
const SMALLEST_NORMAL: f32 = 1.17549435e-38;

/**
 * emitPassing for softmax from the row's exponentials e_c (at `expsPtr`) and their sum S,
 * dividing only the few classes that can pass. A class is tested exactly, fl(e_c / S) > limit
 * as divideRow and emitPassing would, only when e_c > T = fl(fl(fl(limit·S)·(1 − 2⁻²⁰)) − 2⁻¹²⁶).
 * The bound loses no class: every f32 operation errs by at most u·|result| + 2⁻¹⁵⁰ (u = 2⁻²⁴),
 * so T < limit·S·(1 − 2⁻²¹) (the − 2⁻¹²⁶ outweighs the absolute terms, S ≥ 1 as exp(0) = 1
 * is one of its terms), while fl(e/S) > limit means e/S ≥ (limit + 2⁻¹⁵⁰)/(1 + u), so
 * e > limit·S·(1 − u). A negative limit gives T < 0 < e, +∞ gives T = +∞: both exact.
 */
function emitSoftmax(
  expsPtr: usize, sum: f32, limitsPtr: usize, numClasses: i32, background: i32, prior: i32,
  pooled: bool, heapsPtr: usize, countsPtr: usize, heapBytes: usize, topK: i32
): void {
  for (let group = 0; group < numClasses; group += 32) {
    const end = min<i32>(group + 32, numClasses);
    let mask: u32 = 0;
    let c = group;
    if (ASC_FEATURE_SIMD) {
      const s = f32x4.splat(sum), scale = f32x4.splat(SOFTMAX_BOUND_SCALE), tiny = f32x4.splat(SMALLEST_NORMAL);
      for (; c + 4 <= end; c += 4) {
        const off = <usize>c << 2;
        const bound = f32x4.sub(f32x4.mul(f32x4.mul(v128.load(limitsPtr + off), s), scale), tiny);
        mask |= <u32>i32x4.bitmask(f32x4.gt(v128.load(expsPtr + off), bound)) << <u32>(c - group);
      }
    }
    for (; c < end; c++) {
      const off = <usize>c << 2;
      const bound = load<f32>(limitsPtr + off) * sum * SOFTMAX_BOUND_SCALE - SMALLEST_NORMAL;
      mask |= <u32>(load<f32>(expsPtr + off) > bound) << <u32>(c - group);
    }
    if (background >= group && background < end) mask &= ~(<u32>1 << <u32>(background - group));
    while (mask != 0) {
      const cls = group + <i32>ctz(mask);
      mask &= mask - 1;
      const at = <usize>cls << 2;
      const score = load<f32>(expsPtr + at) / sum;
      if (score > load<f32>(limitsPtr + at)) {
        offer(score, prior, cls, numClasses, pooled, limitsPtr, heapsPtr, countsPtr, heapBytes, topK);
      }
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

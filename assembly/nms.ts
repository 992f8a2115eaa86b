// Non-maximum suppression over one list of candidates sorted best first.
//
// Greedy NMS keeps a candidate unless its IoU with an already kept box is strictly greater
// than the threshold. Kept boxes live in structure-of-arrays form (x1, y1, x2, y2, area, each
// `capacity` floats, capacity a multiple of 8), so one candidate is tested against eight kept
// boxes per step (two v128). Unused lanes of the last block hold zero boxes, whose IoU is 0
// (or NaN), never above a threshold, so the loop needs no scalar tail.

import { boxArea, iou } from "./coder";
import { expf } from "./expf";
import { candidateKeyWithScore, keyScore } from "./keys";

export const SOFT_NMS_LINEAR: i32 = 1;
export const SOFT_NMS_GAUSSIAN: i32 = 2;

/**
 * Greedy NMS. `keysPtr`: `num` candidate keys sorted descending; `boxesPtr`: their boxes,
 * 4 f32 (xmin, ymin, xmax, ymax) each, same order. `keptPtr`: scratch of 5·capacity f32,
 * capacity ≥ num rounded up to 8. Appends kept keys at `outKeysPtr`; returns how many.
 * Stops once `maxKeep` boxes are kept (TFLite's NMS stops at max_detections; the boxes kept
 * before that point are the same as without the limit).
 */
export function greedyNms(
  keysPtr: usize, boxesPtr: usize, num: i32, threshold: f32,
  keptPtr: usize, capacity: i32, outKeysPtr: usize, maxKeep: i32 = i32.MAX_VALUE
): i32 {
  const stride = <usize>capacity << 2;
  let numKept = 0;
  for (let i = 0; i < num && numKept < maxKeep; i++) {
    if (!keepIfClear(boxesPtr + (<usize>i << 4), keptPtr, stride, numKept, threshold)) continue;
    store<u64>(outKeysPtr + (<usize>numKept << 3), load<u64>(keysPtr + (<usize>i << 3)));
    numKept++;
  }
  return numKept;
}

/**
 * One step of greedy NMS: whether the box (4 f32 xyxy at `boxPtr`) overlaps none of the
 * `numKept` kept boxes by IoU > threshold; if so it is appended to them (structure of arrays
 * at `keptPtr`, `stride` bytes per coordinate, a multiple of 32).
 */
// @ts-ignore: decorator
@inline
export function keepIfClear(boxPtr: usize, keptPtr: usize, stride: usize, numKept: i32, threshold: f32): bool {
  const x1 = load<f32>(boxPtr, 0), y1 = load<f32>(boxPtr, 4), x2 = load<f32>(boxPtr, 8), y2 = load<f32>(boxPtr, 12);
  const area = boxArea(x1, y1, x2, y2);
  const suppressed = ASC_FEATURE_SIMD
    ? overlapsKeptSimd(x1, y1, x2, y2, area, keptPtr, stride, numKept, threshold)
    : overlapsKeptScalar(x1, y1, x2, y2, area, keptPtr, stride, numKept, threshold);
  if (suppressed) return false;
  const slot = <usize>numKept << 2;
  if ((numKept & 7) == 0) {
    // open a new block of eight: zero boxes in the lanes not yet used
    for (let a: usize = 0; a < 5; a++) memory.fill(keptPtr + a * stride + slot, 0, 32);
  }
  store<f32>(keptPtr + slot, x1);
  store<f32>(keptPtr + stride + slot, y1);
  store<f32>(keptPtr + 2 * stride + slot, x2);
  store<f32>(keptPtr + 3 * stride + slot, y2);
  store<f32>(keptPtr + 4 * stride + slot, area);
  return true;
}

/** Whether the box overlaps any of the `numKept` kept boxes by IoU > threshold. */
export function overlapsKeptScalar(
  x1: f32, y1: f32, x2: f32, y2: f32, area: f32,
  keptPtr: usize, stride: usize, numKept: i32, threshold: f32
): bool {
  for (let k = 0; k < numKept; k++) {
    const at = keptPtr + (<usize>k << 2);
    const overlap = iou(
      load<f32>(at), load<f32>(at + stride), load<f32>(at + 2 * stride), load<f32>(at + 3 * stride),
      load<f32>(at + 4 * stride), x1, y1, x2, y2, area
    );
    if (overlap > threshold) return true;
  }
  return false;
}

/** overlapsKeptScalar eight kept boxes at a time; the same f32 operations per lane. */
export function overlapsKeptSimd(
  x1: f32, y1: f32, x2: f32, y2: f32, area: f32,
  keptPtr: usize, stride: usize, numKept: i32, threshold: f32
): bool {
  const bx1 = f32x4.splat(x1), by1 = f32x4.splat(y1), bx2 = f32x4.splat(x2), by2 = f32x4.splat(y2);
  const bArea = f32x4.splat(area), limit = f32x4.splat(threshold);
  for (let k = 0; k < numKept; k += 8) {
    const at = keptPtr + (<usize>k << 2);
    const over = v128.or(
      iouAbove(at, stride, bx1, by1, bx2, by2, bArea, limit),
      iouAbove(at + 16, stride, bx1, by1, bx2, by2, bArea, limit)
    );
    if (v128.any_true(over)) return true;
  }
  return false;
}

/** Lane mask: IoU of four kept boxes at `at` with the candidate > limit. */
// @ts-ignore: decorator
@inline
function iouAbove(at: usize, stride: usize, bx1: v128, by1: v128, bx2: v128, by2: v128, bArea: v128, limit: v128): v128 {
  // pmin/pmax (one instruction each) differ from min/max only for NaN, which boxes never are,
  // and in the sign of a zero, which changes no comparison below
  const zero = f32x4.splat(0);
  const iw = f32x4.pmax(f32x4.sub(f32x4.pmin(v128.load(at + 2 * stride), bx2), f32x4.pmax(v128.load(at), bx1)), zero);
  const ih = f32x4.pmax(f32x4.sub(f32x4.pmin(v128.load(at + 3 * stride), by2), f32x4.pmax(v128.load(at + stride), by1)), zero);
  const inter = f32x4.mul(iw, ih);
  const union = f32x4.sub(f32x4.add(v128.load(at + 4 * stride), bArea), inter);
  return f32x4.gt(f32x4.div(inter, union), limit);
}

/**
 * Soft-NMS (Bodla et al. 2017): repeatedly keep the best remaining candidate and decay the
 * others by their IoU with it — linear: s·(1 − IoU) when IoU > threshold; gaussian:
 * s·exp(−IoU²/sigma). Candidates whose decayed score is no longer strictly above
 * `scoreThreshold` drop out. Rewrites the keys at `keysPtr` with decayed scores; appends kept
 * keys (with their decayed scores) at `outKeysPtr`; returns how many.
 */
export function softNms(
  keysPtr: usize, boxesPtr: usize, num: i32, method: i32, threshold: f32, sigma: f32,
  scoreThreshold: f32, outKeysPtr: usize
): i32 {
  let numKept = 0;
  let remaining = num;
  while (remaining > 0) {
    // best remaining key (keys carry the tie rule); removed keys are 0
    let best = -1;
    let bestKey: u64 = 0;
    for (let i = 0; i < num; i++) {
      const key = load<u64>(keysPtr + (<usize>i << 3));
      if (key > bestKey) { bestKey = key; best = i; }
    }
    if (best < 0 || !(keyScore(bestKey) > scoreThreshold)) break;
    store<u64>(outKeysPtr + (<usize>numKept << 3), bestKey);
    numKept++;
    store<u64>(keysPtr + (<usize>best << 3), 0);
    remaining--;
    const kept = boxesPtr + (<usize>best << 4);
    const kx1 = load<f32>(kept, 0), ky1 = load<f32>(kept, 4), kx2 = load<f32>(kept, 8), ky2 = load<f32>(kept, 12);
    const keptArea = boxArea(kx1, ky1, kx2, ky2);
    for (let i = 0; i < num; i++) {
      const at = keysPtr + (<usize>i << 3);
      const key = load<u64>(at);
      if (key == 0) continue;
      const box = boxesPtr + (<usize>i << 4);
      const bx1 = load<f32>(box, 0), by1 = load<f32>(box, 4), bx2 = load<f32>(box, 8), by2 = load<f32>(box, 12);
      const overlap = iou(kx1, ky1, kx2, ky2, keptArea, bx1, by1, bx2, by2, boxArea(bx1, by1, bx2, by2));
      let score = keyScore(key);
      if (method == SOFT_NMS_LINEAR) {
        if (overlap > threshold) score = score * (<f32>1 - overlap);
      } else {
        // NaN IoU (two zero-area boxes) means no overlap
        if (overlap > 0) score = score * expf(-(overlap * overlap) / sigma);
      }
      if (score > scoreThreshold) {
        store<u64>(at, candidateKeyWithScore(score, key));
      } else {
        store<u64>(at, 0);
        remaining--;
      }
    }
  }
  return numKept;
}

// Multi-object tracking, SORT-style (see: Bewley et al. 2016, "Simple Online and Realtime
// Tracking", github.com/abewley/sort sort.py): a constant-velocity Kalman filter per track,
// detections associated to predicted tracks by IoU with an optimal assignment, birth after
// `minHits` consecutive hits, death after `maxAge` missed frames; plus box smoothers.
//
// The Kalman filter is SORT's: state (cx, cy, s, r, vx, vy, vs) with s = area and r = w / h,
// measurement (cx, cy, s, r), F = constant velocity (dt = 1 frame), H = identity on the first
// four, and diagonal P0, Q, R. With F, H, P0, Q, R of that shape the covariance stays block
// diagonal: (cx, vx), (cy, vy), (s, vs) are three independent 2-state filters and r a 1-state
// one. We run them as four lanes of one 2-state filter (lane r with zero velocity variance,
// which keeps its velocity at exactly 0) — exactly SORT's filter, at a fraction of the cost,
// and one v128 per quantity in the SIMD build. Each lane's gain depends only on ratios of its
// own P0, Q, R, so SORT's constants work unchanged for normalised or pixel coordinates.
//
// Memory (laid out by the host, nothing allocated here):
//
//   statePtr:  header (HEADER_BYTES): the TrackHeader class of params.ts (numTracks, nextId,
//              options, frame), whose host twin is src/core/params.ts TRACK_HEADER_FIELDS;
//              then the track records, RECORD_BYTES each, in creation order; room for
//              numTracks + numDets records (births are appended)
//   record:    0 x v128 (cx, cy, s, r) · 16 v v128 (vx, vy, vs, 0) · 32 p00 · 48 p01 · 64 p11
//              80 box (xmin, ymin, xmax, ymax): the matched detection, else the prediction
//              96 smoothed box (xmin, ymin, xmax, ymax) · 112 smoother state (cx, cy, w, h)
//              128 smoother derivative (cx, cy, w, h) per second · 144 id i32 (0 = tentative)
//              148 classId · 152 state · 156 age · 160 hits · 164 hitStreak
//              168 timeSinceUpdate · 172 detIndex (this frame's detection, −1) · 176 score f32
//   detections: boxes (xmin, ymin, xmax, ymax) f32 ×4 at boxesPtr, classes i32, scores f32
//   scratch:   trackScratchBytes(numTracks, numDets) bytes, 16-byte aligned

import { TrackHeader } from "./params";

/** Bytes reserved for the header (src/core/params.ts TRACK_HEADER_BYTES); TrackHeader must fit. */
export const HEADER_BYTES: i32 = 64;
export const RECORD_BYTES: i32 = 192;

export const STATE_TENTATIVE: i32 = 0;
export const STATE_CONFIRMED: i32 = 1;
export const STATE_LOST: i32 = 2;

export const SMOOTH_KALMAN: i32 = 0;
export const SMOOTH_ONE_EURO: i32 = 1;
export const SMOOTH_EXPONENTIAL: i32 = 2;
export const SMOOTH_NONE: i32 = 3;

// record fields
const R_X: usize = 0, R_V: usize = 16, R_P00: usize = 32, R_P01: usize = 48, R_P11: usize = 64;
const R_BOX: usize = 80, R_SBOX: usize = 96, R_SM: usize = 112, R_DSM: usize = 128;
const R_ID: usize = 144, R_CLASS: usize = 148, R_STATE: usize = 152, R_AGE: usize = 156;
const R_HITS: usize = 160, R_STREAK: usize = 164, R_TSU: usize = 168, R_DET: usize = 172;
const R_SCORE: usize = 176;

// SORT's constants (sort.py KalmanBoxTracker), per lane (cx, cy, s, r)
const P0_POS: usize = memory.data<f32>([10, 10, 10, 10]);             // P *= 10
const P0_VEL: usize = memory.data<f32>([10000, 10000, 10000, 0]);     // P[4:,4:] *= 1000, r has no velocity
const Q_POS: usize = memory.data<f32>([1, 1, 1, 1]);
const Q_VEL: usize = memory.data<f32>([0.01, 0.01, 0.0001, 0]);       // Q[4:,4:] *= 0.01, Q[-1,-1] *= 0.01
const R_MEAS: usize = memory.data<f32>([1, 1, 10, 10]);               // R[2:,2:] *= 10

/** 2π rounded to f32, for the one-euro filter's α = 2πf·Δt / (2πf·Δt + 1). */
export const TWO_PI: f32 = 6.2831854820251465;

/** Feasible costs are 1 − IoU ≤ 1; an infeasible pair costs more than any set of feasible ones. */
const FEASIBLE_MAX: f64 = 1;

// ---------------------------------------------------------------- Kalman, 4 lanes of 2 states

/** SORT: a predicted area that would turn non-positive stops the area from shrinking. */
// @ts-ignore: decorator
@inline
function guardArea(rec: usize): void {
  if (load<f32>(rec, R_X + 8) + load<f32>(rec, R_V + 8) <= 0) store<f32>(rec, 0, R_V + 8);
}

/** Predict, dt = 1: x += v; P = F·P·Fᵀ + Q with F = [[1, 1], [0, 1]]. */
export function kalmanPredictScalar(rec: usize): void {
  guardArea(rec);
  for (let k: usize = 0; k < 16; k += 4) {
    const at = rec + k;
    const p00 = load<f32>(at, R_P00), p01 = load<f32>(at, R_P01), p11 = load<f32>(at, R_P11);
    store<f32>(at, load<f32>(at, R_X) + load<f32>(at, R_V), R_X);
    store<f32>(at, ((p00 + p01) + (p01 + p11)) + load<f32>(Q_POS + k), R_P00);
    store<f32>(at, p01 + p11, R_P01);
    store<f32>(at, p11 + load<f32>(Q_VEL + k), R_P11);
  }
}

export function kalmanPredictSimd(rec: usize): void {
  guardArea(rec);
  const p00 = v128.load(rec, R_P00), p01 = v128.load(rec, R_P01), p11 = v128.load(rec, R_P11);
  v128.store(rec, f32x4.add(v128.load(rec, R_X), v128.load(rec, R_V)), R_X);
  v128.store(rec, f32x4.add(f32x4.add(f32x4.add(p00, p01), f32x4.add(p01, p11)), v128.load(Q_POS)), R_P00);
  v128.store(rec, f32x4.add(p01, p11), R_P01);
  v128.store(rec, f32x4.add(p11, v128.load(Q_VEL)), R_P11);
}

/**
 * Update with the measurement (cx, cy, s, r) at `zPtr`: S = p00 + R, K = (p00, p01) / S,
 * x += K₀·y, v += K₁·y, P = (I − K·H)·P.
 */
export function kalmanUpdateScalar(rec: usize, zPtr: usize): void {
  for (let k: usize = 0; k < 16; k += 4) {
    const at = rec + k;
    const p00 = load<f32>(at, R_P00), p01 = load<f32>(at, R_P01), p11 = load<f32>(at, R_P11);
    const s = p00 + load<f32>(R_MEAS + k);
    const k0 = p00 / s, k1 = p01 / s;
    const y = load<f32>(zPtr + k) - load<f32>(at, R_X);
    store<f32>(at, load<f32>(at, R_X) + k0 * y, R_X);
    store<f32>(at, load<f32>(at, R_V) + k1 * y, R_V);
    store<f32>(at, p00 - k0 * p00, R_P00);
    store<f32>(at, p01 - k0 * p01, R_P01);
    store<f32>(at, p11 - k1 * p01, R_P11);
  }
}

export function kalmanUpdateSimd(rec: usize, zPtr: usize): void {
  const p00 = v128.load(rec, R_P00), p01 = v128.load(rec, R_P01), p11 = v128.load(rec, R_P11);
  const s = f32x4.add(p00, v128.load(R_MEAS));
  const k0 = f32x4.div(p00, s), k1 = f32x4.div(p01, s);
  const y = f32x4.sub(v128.load(zPtr), v128.load(rec, R_X));
  v128.store(rec, f32x4.add(v128.load(rec, R_X), f32x4.mul(k0, y)), R_X);
  v128.store(rec, f32x4.add(v128.load(rec, R_V), f32x4.mul(k1, y)), R_V);
  v128.store(rec, f32x4.sub(p00, f32x4.mul(k0, p00)), R_P00);
  v128.store(rec, f32x4.sub(p01, f32x4.mul(k0, p01)), R_P01);
  v128.store(rec, f32x4.sub(p11, f32x4.mul(k1, p01)), R_P11);
}

/** A new track: x = z, v = 0, P = P0. */
function kalmanInit(rec: usize, zPtr: usize): void {
  copy16(rec + R_X, zPtr);
  zero16(rec + R_V);
  copy16(rec + R_P00, P0_POS);
  zero16(rec + R_P01);
  copy16(rec + R_P11, P0_VEL);
}

// ------------------------------------------------------------------------- box conversions

/** Copies 16 bytes (no v128: the baseline build has no SIMD). */
// @ts-ignore: decorator
@inline
function copy16(dst: usize, src: usize): void {
  store<u64>(dst, load<u64>(src));
  store<u64>(dst, load<u64>(src, 8), 8);
}

// @ts-ignore: decorator
@inline
function zero16(dst: usize): void {
  store<u64>(dst, 0);
  store<u64>(dst, 0, 8);
}

/** (xmin, ymin, xmax, ymax) at `boxPtr` → SORT's measurement (cx, cy, s, r) at `outPtr`. */
export function boxToMeasurement(boxPtr: usize, outPtr: usize): void {
  const x1 = load<f32>(boxPtr, 0), y1 = load<f32>(boxPtr, 4);
  const w = load<f32>(boxPtr, 8) - x1, h = load<f32>(boxPtr, 12) - y1;
  store<f32>(outPtr, x1 + 0.5 * w, 0);
  store<f32>(outPtr, y1 + 0.5 * h, 4);
  store<f32>(outPtr, w * h, 8);
  store<f32>(outPtr, w / h, 12);
}

/** (xmin, ymin, xmax, ymax) → (cx, cy, w, h), the smoothers' coordinates. */
function boxToCenterSize(boxPtr: usize, outPtr: usize): void {
  const x1 = load<f32>(boxPtr, 0), y1 = load<f32>(boxPtr, 4);
  const w = load<f32>(boxPtr, 8) - x1, h = load<f32>(boxPtr, 12) - y1;
  store<f32>(outPtr, x1 + 0.5 * w, 0);
  store<f32>(outPtr, y1 + 0.5 * h, 4);
  store<f32>(outPtr, w, 8);
  store<f32>(outPtr, h, 12);
}

/** The Kalman state (cx, cy, s, r) → (cx, cy, w, h): w = √(s·r), h = s / w (sort.py). */
function stateToCenterSize(rec: usize, outPtr: usize): void {
  const s = load<f32>(rec, R_X + 8);
  const w = sqrt<f32>(s * load<f32>(rec, R_X + 12));
  store<f32>(outPtr, load<f32>(rec, R_X), 0);
  store<f32>(outPtr, load<f32>(rec, R_X + 4), 4);
  store<f32>(outPtr, w, 8);
  store<f32>(outPtr, s / w, 12);
}

/** (cx, cy, w, h) → (cx − w/2, cy − h/2, cx + w/2, cy + h/2). */
function centerSizeToBox(cswPtr: usize, outPtr: usize): void {
  const cx = load<f32>(cswPtr, 0), cy = load<f32>(cswPtr, 4);
  const hw: f32 = 0.5 * load<f32>(cswPtr, 8), hh: f32 = 0.5 * load<f32>(cswPtr, 12);
  store<f32>(outPtr, cx - hw, 0);
  store<f32>(outPtr, cy - hh, 4);
  store<f32>(outPtr, cx + hw, 8);
  store<f32>(outPtr, cy + hh, 12);
}

// ------------------------------------------------------------------------------- smoothers

/**
 * One-euro filter (see: Casiez, Roussel, Vogel 2012, "1€ Filter"), per lane of (cx, cy, w, h):
 * ė = ė + α(Δt, dCutoff)·((x − x̂)/Δt − ė); f = minCutoff + β·|ė|; x̂ += α(Δt, f)·(x − x̂),
 * α(Δt, f) = 2πfΔt / (2πfΔt + 1). Input at `inPtr`, state at R_SM / R_DSM.
 */
export function oneEuroScalar(rec: usize, inPtr: usize, dt: f32, minCutoff: f32, beta: f32, dCutoff: f32): void {
  const tdt = TWO_PI * dt;
  const rd = tdt * dCutoff;
  const ad = rd / (rd + 1);
  for (let k: usize = 0; k < 16; k += 4) {
    const at = rec + k;
    const x = load<f32>(inPtr + k), sm = load<f32>(at, R_SM), dsm = load<f32>(at, R_DSM);
    const dx = (x - sm) / dt;
    const edx = dsm + ad * (dx - dsm);
    const r = tdt * (minCutoff + beta * abs<f32>(edx));
    const a = r / (r + 1);
    store<f32>(at, edx, R_DSM);
    store<f32>(at, sm + a * (x - sm), R_SM);
  }
}

export function oneEuroSimd(rec: usize, inPtr: usize, dt: f32, minCutoff: f32, beta: f32, dCutoff: f32): void {
  const tdt = TWO_PI * dt;
  const rd = tdt * dCutoff;
  const ad = rd / (rd + 1);
  const x = v128.load(inPtr), sm = v128.load(rec, R_SM), dsm = v128.load(rec, R_DSM);
  const dx = f32x4.div(f32x4.sub(x, sm), f32x4.splat(dt));
  const edx = f32x4.add(dsm, f32x4.mul(f32x4.splat(ad), f32x4.sub(dx, dsm)));
  const r = f32x4.mul(f32x4.splat(tdt), f32x4.add(f32x4.splat(minCutoff), f32x4.mul(f32x4.splat(beta), f32x4.abs(edx))));
  const a = f32x4.div(r, f32x4.add(r, f32x4.splat(1)));
  v128.store(rec, edx, R_DSM);
  v128.store(rec, f32x4.add(sm, f32x4.mul(a, f32x4.sub(x, sm))), R_SM);
}

/** Exponential smoothing: x̂ += α·(x − x̂) per lane of (cx, cy, w, h). */
export function exponentialScalar(rec: usize, inPtr: usize, alpha: f32): void {
  for (let k: usize = 0; k < 16; k += 4) {
    const sm = load<f32>(rec + k, R_SM);
    store<f32>(rec + k, sm + alpha * (load<f32>(inPtr + k) - sm), R_SM);
  }
}

export function exponentialSimd(rec: usize, inPtr: usize, alpha: f32): void {
  const sm = v128.load(rec, R_SM);
  v128.store(rec, f32x4.add(sm, f32x4.mul(f32x4.splat(alpha), f32x4.sub(v128.load(inPtr), sm))), R_SM);
}

// ---------------------------------------------------------------------- optimal assignment

/**
 * Minimum-cost assignment on a dense `numRows` × `numCols` f64 cost matrix, row-major at
 * `costPtr` (read transposed when `transposed`), numRows ≤ numCols: the shortest augmenting
 * path algorithm with potentials (Kuhn–Munkres as refined by Jonker–Volgenant; see: e-maxx
 * "Hungarian algorithm", O(n²·m)). Writes the column of each row at `rowToColPtr` (i32).
 * Scratch at `workPtr`: 3·(numCols + 1) f64 then 3·(numCols + 1) i32.
 */
export function assignMinCost(costPtr: usize, numRows: i32, numCols: i32, transposed: bool,
                              rowToColPtr: usize, workPtr: usize): void {
  const n = numRows, m = numCols;
  const stride = <usize>(m + 1) << 3;
  const u = workPtr, v = u + stride, minv = v + stride;
  const p = minv + stride, way = p + (<usize>(m + 1) << 2), used = way + (<usize>(m + 1) << 2);
  for (let j = 0; j <= m; j++) {
    store<f64>(u + (<usize>j << 3), 0);
    store<f64>(v + (<usize>j << 3), 0);
    store<i32>(p + (<usize>j << 2), 0);
    store<i32>(way + (<usize>j << 2), 0);
  }
  for (let i = 1; i <= n; i++) {
    store<i32>(p, i);
    let j0 = 0;
    for (let j = 0; j <= m; j++) {
      store<f64>(minv + (<usize>j << 3), Infinity);
      store<i32>(used + (<usize>j << 2), 0);
    }
    do {
      store<i32>(used + (<usize>j0 << 2), 1);
      const i0 = load<i32>(p + (<usize>j0 << 2));
      const ui0 = load<f64>(u + (<usize>i0 << 3));
      let delta: f64 = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (load<i32>(used + (<usize>j << 2))) continue;
        const at = transposed ? <usize>((j - 1) * n + (i0 - 1)) : <usize>((i0 - 1) * m + (j - 1));
        const cur = load<f64>(costPtr + (at << 3)) - ui0 - load<f64>(v + (<usize>j << 3));
        const mj = minv + (<usize>j << 3);
        if (cur < load<f64>(mj)) {
          store<f64>(mj, cur);
          store<i32>(way + (<usize>j << 2), j0);
        }
        if (load<f64>(mj) < delta) {
          delta = load<f64>(mj);
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (load<i32>(used + (<usize>j << 2))) {
          const pu = u + (<usize>load<i32>(p + (<usize>j << 2)) << 3);
          store<f64>(pu, load<f64>(pu) + delta);
          store<f64>(v + (<usize>j << 3), load<f64>(v + (<usize>j << 3)) - delta);
        } else {
          store<f64>(minv + (<usize>j << 3), load<f64>(minv + (<usize>j << 3)) - delta);
        }
      }
      j0 = j1;
    } while (load<i32>(p + (<usize>j0 << 2)) != 0);
    do {
      const j1 = load<i32>(way + (<usize>j0 << 2));
      store<i32>(p + (<usize>j0 << 2), load<i32>(p + (<usize>j1 << 2)));
      j0 = j1;
    } while (j0 != 0);
  }
  for (let i = 0; i < n; i++) store<i32>(rowToColPtr + (<usize>i << 2), -1);
  for (let j = 1; j <= m; j++) {
    const i = load<i32>(p + (<usize>j << 2));
    if (i != 0) store<i32>(rowToColPtr + (<usize>(i - 1) << 2), j - 1);
  }
}

// ------------------------------------------------------------------------------ the update

// @ts-ignore: decorator
@inline
function align16(n: usize): usize {
  return (n + 15) & ~15;
}

/** Bytes of scratch trackerUpdate needs for `numTracks` tracks and `numDets` detections. */
export function trackScratchBytes(numTracks: i32, numDets: i32): i32 {
  const k = <usize>max<i32>(numTracks, numDets) + 1;
  const d4 = <usize>((numDets + 3) & ~3);
  return <i32>(align16(<usize>numTracks * <usize>numDets << 3)  // cost
    + 5 * align16(d4 << 2)                                      // detection SoA: x1, y1, x2, y2, area
    + align16(<usize>numTracks << 2) + align16(<usize>numDets << 2) // track → det, det → track
    + align16(k << 2)                                           // row → column
    + align16(3 * k << 3) + align16(3 * k << 2)                 // assignment work
    + 32);                                                      // z and (cx, cy, w, h) temporaries
}

/**
 * Cost of track `rec` against every detection: 1 − IoU(predicted box, detection), or `big`
 * when the classes differ (class-aware) or IoU < the threshold (or is NaN). Row at `rowPtr`.
 */
function costRow(rec: usize, numDets: i32, classesPtr: usize, soaPtr: usize, soaStride: usize,
                 classAware: bool, threshold: f32, big: f64, rowPtr: usize, iousPtr: usize): void {
  const ax1 = load<f32>(rec, R_BOX), ay1 = load<f32>(rec, R_BOX + 4);
  const ax2 = load<f32>(rec, R_BOX + 8), ay2 = load<f32>(rec, R_BOX + 12);
  const areaA = max<f32>(ax2 - ax1, 0) * max<f32>(ay2 - ay1, 0);
  const cls = load<i32>(rec, R_CLASS);
  const x1s = soaPtr, y1s = x1s + soaStride, x2s = y1s + soaStride, y2s = x2s + soaStride, areas = y2s + soaStride;
  let d = 0;
  if (ASC_FEATURE_SIMD) {
    const vx1 = f32x4.splat(ax1), vy1 = f32x4.splat(ay1), vx2 = f32x4.splat(ax2), vy2 = f32x4.splat(ay2);
    const va = f32x4.splat(areaA), zero = f32x4.splat(0);
    for (; d + 4 <= numDets; d += 4) {
      const o = <usize>d << 2;
      const iw = f32x4.max(f32x4.sub(f32x4.min(vx2, v128.load(x2s + o)), f32x4.max(vx1, v128.load(x1s + o))), zero);
      const ih = f32x4.max(f32x4.sub(f32x4.min(vy2, v128.load(y2s + o)), f32x4.max(vy1, v128.load(y1s + o))), zero);
      const inter = f32x4.mul(iw, ih);
      const ious = f32x4.div(inter, f32x4.sub(f32x4.add(va, v128.load(areas + o)), inter));
      v128.store(iousPtr, ious);
      for (let lane = 0; lane < 4; lane++) {
        const o4 = o + (<usize>lane << 2);
        writeCost(rowPtr, d + lane, load<f32>(iousPtr + (<usize>lane << 2)), cls, load<i32>(classesPtr + o4), classAware, threshold, big);
      }
    }
  }
  for (; d < numDets; d++) {
    const o = <usize>d << 2;
    const iw = max<f32>(min<f32>(ax2, load<f32>(x2s + o)) - max<f32>(ax1, load<f32>(x1s + o)), 0);
    const ih = max<f32>(min<f32>(ay2, load<f32>(y2s + o)) - max<f32>(ay1, load<f32>(y1s + o)), 0);
    const inter = iw * ih;
    const overlap = inter / ((areaA + load<f32>(areas + o)) - inter);
    writeCost(rowPtr, d, overlap, cls, load<i32>(classesPtr + o), classAware, threshold, big);
  }
}

function writeCost(rowPtr: usize, d: i32, overlap: f32, cls: i32, detClass: i32,
                   classAware: bool, threshold: f32, big: f64): void {
  const feasible = overlap >= threshold && (!classAware || cls == detClass);
  store<f64>(rowPtr + (<usize>d << 3), feasible ? 1.0 - <f64>overlap : big);
}

/** Runs the smoother on a surviving track whose box (detection or prediction) is final. */
function smoothTrack(header: TrackHeader, rec: usize, dt: f32, tmp: usize): void {
  const kind = header.smoother;
  if (kind == SMOOTH_KALMAN) {
    stateToCenterSize(rec, rec + R_SM);
  } else if (kind == SMOOTH_NONE) {
    boxToCenterSize(rec + R_BOX, rec + R_SM);
  } else {
    boxToCenterSize(rec + R_BOX, tmp);
    if (kind == SMOOTH_ONE_EURO) {
      const a = header.smoothA, b = header.smoothB, c = header.smoothC;
      if (ASC_FEATURE_SIMD) oneEuroSimd(rec, tmp, dt, a, b, c);
      else oneEuroScalar(rec, tmp, dt, a, b, c);
    } else {
      if (ASC_FEATURE_SIMD) exponentialSimd(rec, tmp, header.smoothA);
      else exponentialScalar(rec, tmp, header.smoothA);
    }
  }
  centerSizeToBox(rec + R_SM, rec + R_SBOX);
}

/**
 * One frame: predict every track, associate the `numDets` detections (boxes at `boxesPtr`,
 * classes at `classesPtr`, scores at `scoresPtr`) by optimal IoU assignment, update matched
 * tracks, age and delete missed ones, and start a track for every unmatched detection.
 * `dt` is the time since the previous frame in seconds (used by the one-euro smoother only;
 * the Kalman filter steps one frame per call, as SORT). Inputs must be finite boxes with
 * xmax > xmin and ymax > ymin (the host checks). The state block must have room for
 * numTracks + numDets records; scratch holds trackScratchBytes(numTracks, numDets) bytes.
 * Returns the number of tracks after the frame.
 */
// inlined into its one caller, calls.ts trackerUpdate (the core's size budget)
// @ts-ignore: decorator
@inline
export function trackerUpdate(statePtr: usize, boxesPtr: usize, classesPtr: usize, scoresPtr: usize,
                              numDets: i32, dt: f32, scratchPtr: usize): i32 {
  const header = changetype<TrackHeader>(statePtr);
  const numTracks = header.numTracks;
  const records = statePtr + <usize>HEADER_BYTES;
  header.frame++;

  // scratch layout (see trackScratchBytes)
  const k = <usize>max<i32>(numTracks, numDets) + 1;
  const soaStride = align16(<usize>((numDets + 3) & ~3) << 2);
  const cost = scratchPtr;
  const soa = cost + align16(<usize>numTracks * <usize>numDets << 3);
  const trackToDet = soa + 5 * soaStride;
  const detToTrack = trackToDet + align16(<usize>numTracks << 2);
  const rowToCol = detToTrack + align16(<usize>numDets << 2);
  const work = rowToCol + align16(k << 2);
  const tmp = work + align16(3 * k << 3) + align16(3 * k << 2);

  // 1. predict (sort.py KalmanBoxTracker.predict)
  for (let t = 0; t < numTracks; t++) {
    const rec = records + <usize>t * RECORD_BYTES;
    if (ASC_FEATURE_SIMD) kalmanPredictSimd(rec);
    else kalmanPredictScalar(rec);
    store<i32>(rec, load<i32>(rec, R_AGE) + 1, R_AGE);
    if (load<i32>(rec, R_TSU) > 0) store<i32>(rec, 0, R_STREAK);
    store<i32>(rec, load<i32>(rec, R_TSU) + 1, R_TSU);
    stateToCenterSize(rec, tmp);
    centerSizeToBox(tmp, rec + R_BOX);
  }

  // 2. costs: detections as structure of arrays, then one row per track
  for (let d = 0; d < numDets; d++) {
    const box = boxesPtr + (<usize>d << 4), o = <usize>d << 2;
    const x1 = load<f32>(box, 0), y1 = load<f32>(box, 4), x2 = load<f32>(box, 8), y2 = load<f32>(box, 12);
    store<f32>(soa + o, x1);
    store<f32>(soa + soaStride + o, y1);
    store<f32>(soa + 2 * soaStride + o, x2);
    store<f32>(soa + 3 * soaStride + o, y2);
    store<f32>(soa + 4 * soaStride + o, max<f32>(x2 - x1, 0) * max<f32>(y2 - y1, 0));
  }
  const classAware = header.classAware != 0;
  const threshold = header.iouThreshold;
  const big: f64 = <f64>min<i32>(numTracks, numDets) + 1;
  for (let t = 0; t < numTracks; t++) {
    costRow(records + <usize>t * RECORD_BYTES, numDets, classesPtr, soa, soaStride, classAware, threshold, big,
      cost + (<usize>t * <usize>numDets << 3), tmp + 16);
  }

  // 3. optimal assignment over the smaller side, infeasible pairs dropped
  for (let t = 0; t < numTracks; t++) store<i32>(trackToDet + (<usize>t << 2), -1);
  for (let d = 0; d < numDets; d++) store<i32>(detToTrack + (<usize>d << 2), -1);
  if (numTracks > 0 && numDets > 0) {
    const byTrack = numTracks <= numDets;
    const rows = byTrack ? numTracks : numDets, cols = byTrack ? numDets : numTracks;
    assignMinCost(cost, rows, cols, !byTrack, rowToCol, work);
    for (let r = 0; r < rows; r++) {
      const c = load<i32>(rowToCol + (<usize>r << 2));
      if (c < 0) continue;
      const t = byTrack ? r : c, d = byTrack ? c : r;
      if (load<f64>(cost + (<usize>(t * numDets + d) << 3)) > FEASIBLE_MAX) continue;
      store<i32>(trackToDet + (<usize>t << 2), d);
      store<i32>(detToTrack + (<usize>d << 2), t);
    }
  }

  // 4. update matched tracks, then states, deaths and smoothing, compacting in order
  const minHits = header.minHits, maxAge = header.maxAge;
  let nextId = header.nextId;
  let kept = 0;
  for (let t = 0; t < numTracks; t++) {
    const rec = records + <usize>t * RECORD_BYTES;
    const d = load<i32>(trackToDet + (<usize>t << 2));
    store<i32>(rec, d, R_DET);
    if (d >= 0) {
      const box = boxesPtr + (<usize>d << 4);
      boxToMeasurement(box, tmp);
      if (ASC_FEATURE_SIMD) kalmanUpdateSimd(rec, tmp);
      else kalmanUpdateScalar(rec, tmp);
      copy16(rec + R_BOX, box);
      store<i32>(rec, load<i32>(classesPtr + (<usize>d << 2)), R_CLASS);
      store<f32>(rec, load<f32>(scoresPtr + (<usize>d << 2)), R_SCORE);
      store<i32>(rec, load<i32>(rec, R_HITS) + 1, R_HITS);
      store<i32>(rec, load<i32>(rec, R_STREAK) + 1, R_STREAK);
      store<i32>(rec, 0, R_TSU);
    }
    const tsu = load<i32>(rec, R_TSU);
    let alive: bool;
    if (load<i32>(rec, R_STATE) == STATE_TENTATIVE) {
      alive = tsu == 0;
      if (alive && load<i32>(rec, R_STREAK) >= minHits) {
        store<i32>(rec, STATE_CONFIRMED, R_STATE);
        store<i32>(rec, nextId++, R_ID);
      }
    } else {
      alive = tsu <= maxAge;
      store<i32>(rec, tsu == 0 ? STATE_CONFIRMED : STATE_LOST, R_STATE);
    }
    // a prediction collapsed to no area (or not finite) ends the track, as sort.py's NaN check
    const w = load<f32>(rec, R_BOX + 8) - load<f32>(rec, R_BOX), h = load<f32>(rec, R_BOX + 12) - load<f32>(rec, R_BOX + 4);
    if (!(w > 0 && h > 0 && w < Infinity && h < Infinity)) alive = false;
    if (!alive) continue;
    smoothTrack(header, rec, dt, tmp + 16);
    if (kept != t) memory.copy(records + <usize>kept * RECORD_BYTES, rec, <usize>RECORD_BYTES);
    kept++;
  }

  // 5. births, in detection order
  for (let d = 0; d < numDets; d++) {
    if (load<i32>(detToTrack + (<usize>d << 2)) >= 0) continue;
    const rec = records + <usize>kept * RECORD_BYTES;
    const box = boxesPtr + (<usize>d << 4);
    boxToMeasurement(box, tmp);
    kalmanInit(rec, tmp);
    copy16(rec + R_BOX, box);
    copy16(rec + R_SBOX, box);
    boxToCenterSize(box, rec + R_SM);
    zero16(rec + R_DSM);
    const confirmed = minHits <= 1;
    store<i32>(rec, confirmed ? nextId++ : 0, R_ID);
    store<i32>(rec, load<i32>(classesPtr + (<usize>d << 2)), R_CLASS);
    store<i32>(rec, confirmed ? STATE_CONFIRMED : STATE_TENTATIVE, R_STATE);
    store<i32>(rec, 1, R_AGE);
    store<i32>(rec, 1, R_HITS);
    store<i32>(rec, 1, R_STREAK);
    store<i32>(rec, 0, R_TSU);
    store<i32>(rec, d, R_DET);
    store<f32>(rec, load<f32>(scoresPtr + (<usize>d << 2)), R_SCORE);
    store<i32>(rec, 0, R_SCORE + 4); // padding, kept deterministic
    store<u64>(rec, 0, R_SCORE + 8);
    kept++;
  }
  header.nextId = nextId;
  header.numTracks = kept;
  return kept;
}

/**
 * The tracker in plain TypeScript: the same SORT-style algorithm as assembly/track.ts, the same
 * operations in the same order, f32 arithmetic by Math.fround after every operation (see
 * f32.ts), so it equals the core bit for bit. Used by the parity tests and as the baseline.
 */
import { f32 } from './f32.js';
import { SMOOTHERS, type SmootherKind, type TrackerParams } from '../track-params.js';

export { SMOOTHERS, type SmootherKind, type TrackerParams };

export type Box4 = [number, number, number, number];

export const STATE_TENTATIVE = 0;
export const STATE_CONFIRMED = 1;
export const STATE_LOST = 2;

/** One track's full state, the fields of the core's record. */
export interface RefTrack {
  x: number[];
  v: number[];
  p00: number[];
  p01: number[];
  p11: number[];
  box: number[];
  smoothedBox: number[];
  sm: number[];
  dsm: number[];
  id: number;
  classId: number;
  state: number;
  age: number;
  hits: number;
  hitStreak: number;
  timeSinceUpdate: number;
  detIndex: number;
  score: number;
}

export interface RefDetections {
  /** (xmin, ymin, xmax, ymax) per detection, f32 values */
  boxes: Box4[];
  classes: number[];
  scores: number[];
}

// sort.py's constants, per lane (cx, cy, s, r); see assembly/track.ts
const P0_POS = [10, 10, 10, 10];
const P0_VEL = [10000, 10000, 10000, 0];
const Q_POS = [1, 1, 1, 1];
const Q_VEL = [0.01, 0.01, 0.0001, 0].map(f32);
const R_MEAS = [1, 1, 10, 10];
const TWO_PI = f32(2 * Math.PI);

export function kalmanPredict(t: RefTrack): void {
  if (f32(t.x[2] + t.v[2]) <= 0) t.v[2] = 0;
  for (let k = 0; k < 4; k++) {
    const p00 = t.p00[k],
      p01 = t.p01[k],
      p11 = t.p11[k];
    t.x[k] = f32(t.x[k] + t.v[k]);
    t.p00[k] = f32(f32(f32(p00 + p01) + f32(p01 + p11)) + Q_POS[k]);
    t.p01[k] = f32(p01 + p11);
    t.p11[k] = f32(p11 + Q_VEL[k]);
  }
}

export function kalmanUpdate(t: RefTrack, z: number[]): void {
  for (let k = 0; k < 4; k++) {
    const p00 = t.p00[k],
      p01 = t.p01[k],
      p11 = t.p11[k];
    const s = f32(p00 + R_MEAS[k]);
    const k0 = f32(p00 / s),
      k1 = f32(p01 / s);
    const y = f32(z[k] - t.x[k]);
    t.x[k] = f32(t.x[k] + f32(k0 * y));
    t.v[k] = f32(t.v[k] + f32(k1 * y));
    t.p00[k] = f32(p00 - f32(k0 * p00));
    t.p01[k] = f32(p01 - f32(k0 * p01));
    t.p11[k] = f32(p11 - f32(k1 * p01));
  }
}

/** (xmin, ymin, xmax, ymax) → SORT's measurement (cx, cy, s, r). */
export function boxToMeasurement(b: ArrayLike<number>): number[] {
  const w = f32(b[2] - b[0]),
    h = f32(b[3] - b[1]);
  return [f32(b[0] + f32(0.5 * w)), f32(b[1] + f32(0.5 * h)), f32(w * h), f32(w / h)];
}

function boxToCenterSize(b: ArrayLike<number>): number[] {
  const w = f32(b[2] - b[0]),
    h = f32(b[3] - b[1]);
  return [f32(b[0] + f32(0.5 * w)), f32(b[1] + f32(0.5 * h)), w, h];
}

function stateToCenterSize(x: number[]): number[] {
  const w = f32(Math.sqrt(f32(x[2] * x[3])));
  return [x[0], x[1], w, f32(x[2] / w)];
}

function centerSizeToBox(c: number[]): number[] {
  const hw = f32(0.5 * c[2]),
    hh = f32(0.5 * c[3]);
  return [f32(c[0] - hw), f32(c[1] - hh), f32(c[0] + hw), f32(c[1] + hh)];
}

export function oneEuro(t: RefTrack, x: number[], dt: number, minCutoff: number, beta: number, dCutoff: number): void {
  const tdt = f32(TWO_PI * dt);
  const rd = f32(tdt * dCutoff);
  const ad = f32(rd / f32(rd + 1));
  for (let k = 0; k < 4; k++) {
    const sm = t.sm[k],
      dsm = t.dsm[k];
    const dx = f32(f32(x[k] - sm) / dt);
    const edx = f32(dsm + f32(ad * f32(dx - dsm)));
    const r = f32(tdt * f32(minCutoff + f32(beta * Math.abs(edx))));
    const a = f32(r / f32(r + 1));
    t.dsm[k] = edx;
    t.sm[k] = f32(sm + f32(a * f32(x[k] - sm)));
  }
}

export function exponential(t: RefTrack, x: number[], alpha: number): void {
  for (let k = 0; k < 4; k++) t.sm[k] = f32(t.sm[k] + f32(alpha * f32(x[k] - t.sm[k])));
}

/**
 * Minimum-cost assignment of each row to a distinct column (rows ≤ columns), as the core's
 * assignMinCost (shortest augmenting paths with potentials, e-maxx). `cost(i, j)` in f64.
 * Returns the column of each row.
 */
export function assignMinCost(cost: (i: number, j: number) => number, n: number, m: number): Int32Array {
  if (n > m) throw new RangeError(`assignMinCost needs rows (${n}) ≤ columns (${m}); transpose the matrix`);
  const u = new Float64Array(m + 1),
    v = new Float64Array(m + 1),
    minv = new Float64Array(m + 1);
  const p = new Int32Array(m + 1),
    way = new Int32Array(m + 1),
    used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      const ui0 = u[i0];
      let delta = Infinity,
        j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - ui0 - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const rowToCol = new Int32Array(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j] !== 0) rowToCol[p[j] - 1] = j - 1;
  return rowToCol;
}

/** IoU as the core's coder computes it, f32. */
function iouF32(a: ArrayLike<number>, areaA: number, b: ArrayLike<number>, areaB: number): number {
  const iw = Math.max(f32(Math.min(a[2], b[2]) - Math.max(a[0], b[0])), 0);
  const ih = Math.max(f32(Math.min(a[3], b[3]) - Math.max(a[1], b[1])), 0);
  const inter = f32(iw * ih);
  return f32(inter / f32(f32(areaA + areaB) - inter));
}

function area(b: ArrayLike<number>): number {
  return f32(Math.max(f32(b[2] - b[0]), 0) * Math.max(f32(b[3] - b[1]), 0));
}

/** The reference tracker: state as plain objects, one `update` per frame. */
export class ReferenceTracker {
  tracks: RefTrack[] = [];
  nextId = 1;
  frame = 0;

  constructor(readonly params: TrackerParams) {}

  /** One frame; `dt` in seconds (f32), as the host passes it to the core. */
  update(dets: RefDetections, dt: number): RefTrack[] {
    const { minHits, maxAge, classAware, smoother } = this.params;
    const threshold = f32(this.params.iouThreshold);
    const [A, B, C] = [this.params.smoothA, this.params.smoothB, this.params.smoothC].map(f32);
    this.frame++;
    const tracks = this.tracks;
    const T = tracks.length,
      D = dets.boxes.length;
    for (const t of tracks) {
      kalmanPredict(t);
      t.age++;
      if (t.timeSinceUpdate > 0) t.hitStreak = 0;
      t.timeSinceUpdate++;
      t.box = centerSizeToBox(stateToCenterSize(t.x));
    }
    const big = Math.min(T, D) + 1;
    const detAreas = dets.boxes.map(area);
    const cost = new Float64Array(T * D);
    tracks.forEach((t, ti) => {
      const areaT = area(t.box);
      for (let d = 0; d < D; d++) {
        const overlap = iouF32(t.box, areaT, dets.boxes[d], detAreas[d]);
        const feasible = overlap >= threshold && (!classAware || t.classId === dets.classes[d]);
        cost[ti * D + d] = feasible ? 1 - overlap : big;
      }
    });
    const trackToDet = new Int32Array(T).fill(-1),
      detToTrack = new Int32Array(D).fill(-1);
    if (T > 0 && D > 0) {
      const byTrack = T <= D;
      const rowToCol = byTrack
        ? assignMinCost((i, j) => cost[i * D + j], T, D)
        : assignMinCost((i, j) => cost[j * D + i], D, T);
      rowToCol.forEach((c, r) => {
        if (c < 0) return;
        const t = byTrack ? r : c,
          d = byTrack ? c : r;
        if (cost[t * D + d] > 1) return;
        trackToDet[t] = d;
        detToTrack[d] = t;
      });
    }
    const kept: RefTrack[] = [];
    tracks.forEach((t, ti) => {
      const d = trackToDet[ti];
      t.detIndex = d;
      if (d >= 0) {
        kalmanUpdate(t, boxToMeasurement(dets.boxes[d]));
        t.box = [...dets.boxes[d]];
        t.classId = dets.classes[d];
        t.score = f32(dets.scores[d]);
        t.hits++;
        t.hitStreak++;
        t.timeSinceUpdate = 0;
      }
      let alive: boolean;
      if (t.state === STATE_TENTATIVE) {
        alive = t.timeSinceUpdate === 0;
        if (alive && t.hitStreak >= minHits) {
          t.state = STATE_CONFIRMED;
          t.id = this.nextId++;
        }
      } else {
        alive = t.timeSinceUpdate <= maxAge;
        t.state = t.timeSinceUpdate === 0 ? STATE_CONFIRMED : STATE_LOST;
      }
      const w = f32(t.box[2] - t.box[0]),
        h = f32(t.box[3] - t.box[1]);
      if (!(w > 0 && h > 0 && w < Infinity && h < Infinity)) alive = false;
      if (!alive) return;
      if (smoother === 'kalman') t.sm = stateToCenterSize(t.x);
      else if (smoother === 'none') t.sm = boxToCenterSize(t.box);
      else if (smoother === 'one-euro') oneEuro(t, boxToCenterSize(t.box), dt, A, B, C);
      else exponential(t, boxToCenterSize(t.box), A);
      t.smoothedBox = centerSizeToBox(t.sm);
      kept.push(t);
    });
    for (let d = 0; d < D; d++) {
      if (detToTrack[d] >= 0) continue;
      const box = [...dets.boxes[d]];
      const confirmed = minHits <= 1;
      kept.push({
        x: boxToMeasurement(box),
        v: [0, 0, 0, 0],
        p00: [...P0_POS],
        p01: [0, 0, 0, 0],
        p11: [...P0_VEL],
        box,
        smoothedBox: [...box],
        sm: boxToCenterSize(box),
        dsm: [0, 0, 0, 0],
        id: confirmed ? this.nextId++ : 0,
        classId: dets.classes[d],
        state: confirmed ? STATE_CONFIRMED : STATE_TENTATIVE,
        age: 1,
        hits: 1,
        hitStreak: 1,
        timeSinceUpdate: 0,
        detIndex: d,
        score: f32(dets.scores[d]),
      });
    }
    this.tracks = kept;
    return kept;
  }
}

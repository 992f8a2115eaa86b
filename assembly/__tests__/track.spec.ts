// The tracker: Kalman predict/update on hand-computed lanes, scalar == SIMD, the optimal
// assignment on small matrices with a known optimum (where greedy fails), birth and death
// timing, and the smoothers.

import {
  HEADER_BYTES, RECORD_BYTES, SMOOTH_EXPONENTIAL, SMOOTH_KALMAN, SMOOTH_ONE_EURO, STATE_CONFIRMED, STATE_LOST,
  STATE_TENTATIVE, TWO_PI, assignMinCost, exponentialScalar, exponentialSimd, kalmanPredictScalar,
  kalmanPredictSimd, kalmanUpdateScalar, kalmanUpdateSimd, oneEuroScalar, oneEuroSimd, trackScratchBytes,
  trackerUpdate,
} from "../track";
import { Rng, bits, expectNear, f32s, i32s, ptr } from "./helpers";

// record offsets in f32 units (see assembly/track.ts)
const X = 0, V = 4, P00 = 8, P01 = 12, P11 = 16, BOX = 20, SM = 28, DSM = 32;
const ID = 36, CLASS = 37, STATE = 38, AGE = 39, HITS = 40, TSU = 42, DET = 43;

function record(): StaticArray<f32> {
  return new StaticArray<f32>(RECORD_BYTES / 4);
}

function setLane(r: StaticArray<f32>, lane: i32, x: f32, v: f32, p00: f32, p01: f32, p11: f32): void {
  r[X + lane] = x; r[V + lane] = v; r[P00 + lane] = p00; r[P01 + lane] = p01; r[P11 + lane] = p11;
}

describe("Kalman predict, one lane (dt = 1)", () => {
  // x = 2, v = 0.5, P = [[1, 0.5], [0.5, 0.25]]; Q(cx) = (1, 0.01):
  //   x' = 2.5; p00' = (1 + 0.5) + (0.5 + 0.25) + 1 = 3.25; p01' = 0.75; p11' = 0.25 + 0.01
  it("moves the position by the velocity and grows the covariance by F·P·Fᵀ + Q", () => {
    const r = record();
    setLane(r, 0, 2, 0.5, 1, 0.5, 0.25);
    kalmanPredictScalar(ptr(r));
    expect<f32>(r[X]).toBe(2.5, "x + v");
    expect<f32>(r[P00]).toBe(3.25, "p00 + 2·p01 + p11 + q");
    expect<f32>(r[P01]).toBe(0.75, "p01 + p11");
    expect<f32>(r[P11]).toBe(<f32>0.25 + <f32>0.01, "p11 + q_v");
  });

  it("stops the area from shrinking below zero (sort.py: s + vs ≤ 0 ⇒ vs = 0)", () => {
    const r = record();
    setLane(r, 2, 1, -2, 10, 0, 10000);
    kalmanPredictScalar(ptr(r));
    expect<f32>(r[X + 2]).toBe(1, "area unchanged");
    expect<f32>(r[V + 2]).toBe(0, "area velocity zeroed");
  });

  it("keeps the area from being guarded when it stays positive", () => {
    const r = record();
    setLane(r, 2, 3, -2, 10, 0, 10000);
    kalmanPredictScalar(ptr(r));
    expect<f32>(r[X + 2]).toBe(1, "3 − 2");
  });
});

describe("Kalman update, one lane", () => {
  // lane 0 (R = 1): p00 = 3, p01 = 1, p11 = 2; x = 0, v = 0; z = 4.
  //   S = 4, k0 = 0.75, k1 = 0.25; y = 4; x = 3; v = 1; p00 = 3 − 2.25 = 0.75;
  //   p01 = 1 − 0.75 = 0.25; p11 = 2 − 0.25 = 1.75
  it("moves the state by the gain times the innovation and shrinks the covariance", () => {
    const r = record();
    setLane(r, 0, 0, 0, 3, 1, 2);
    const z = f32s([4, 0, 0, 0]);
    kalmanUpdateScalar(ptr(r), ptr(z));
    expect<f32>(r[X]).toBe(3, "x + k0·y");
    expect<f32>(r[V]).toBe(1, "v + k1·y");
    expect<f32>(r[P00]).toBe(0.75, "(1 − k0)·p00");
    expect<f32>(r[P01]).toBe(0.25, "(1 − k0)·p01");
    expect<f32>(r[P11]).toBe(1.75, "p11 − k1·p01");
  });

  // lane 2 (R = 10): p00 = 10, z − x = 6 ⇒ k0 = 0.5, x moves by 3
  it("uses the larger measurement noise (10) on the area lane", () => {
    const r = record();
    setLane(r, 2, 1, 0, 10, 0, 0);
    const z = f32s([0, 0, 7, 0]);
    kalmanUpdateScalar(ptr(r), ptr(z));
    expect<f32>(r[X + 2]).toBe(4, "1 + 0.5·6");
    expect<f32>(r[P00 + 2]).toBe(5, "10 − 0.5·10");
  });

  it("keeps the ratio lane's velocity at exactly zero through predict and update", () => {
    const r = record();
    setLane(r, 3, 0.5, 0, 10, 0, 0);
    const z = f32s([0, 0, 0, 2]);
    for (let i = 0; i < 5; i++) {
      kalmanPredictScalar(ptr(r));
      kalmanUpdateScalar(ptr(r), ptr(z));
    }
    expect<u32>(bits(r[V + 3])).toBe(0, "+0: P01 = P11 = 0 gives a zero gain");
    expect<f32>(r[P11 + 3]).toBe(0, "no velocity variance");
  });

  it("scalar and SIMD agree bit for bit on 200 random records", () => {
    const rng = new Rng(42);
    for (let n = 0; n < 200; n++) {
      const a = record(), b = record();
      for (let i = 0; i < 20; i++) a[i] = rng.uniform(-5, 5);
      for (let lane = 0; lane < 4; lane++) {
        a[P00 + lane] = rng.uniform(0.1, 50); a[P11 + lane] = rng.uniform(0.1, 50);
      }
      for (let i = 0; i < a.length; i++) b[i] = a[i];
      const z = f32s([rng.uniform(-5, 5), rng.uniform(-5, 5), rng.uniform(0.1, 5), rng.uniform(0.2, 3)]);
      kalmanPredictScalar(ptr(a)); kalmanPredictSimd(ptr(b));
      kalmanUpdateScalar(ptr(a), ptr(z)); kalmanUpdateSimd(ptr(b), ptr(z));
      const input = f32s([rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0, 1)]);
      oneEuroScalar(ptr(a), ptr(input), 0.033, 1, 10, 1); oneEuroSimd(ptr(b), ptr(input), 0.033, 1, 10, 1);
      exponentialScalar(ptr(a), ptr(input), 0.3); exponentialSimd(ptr(b), ptr(input), 0.3);
      for (let i = 0; i < 36; i++) expect<u32>(bits(b[i])).toBe(bits(a[i]), "lane value " + i.toString());
    }
  });
});

describe("smoothers", () => {
  it("exponential: x̂ += α·(x − x̂), α = 0.5 from 0 toward 1", () => {
    const r = record();
    const input = f32s([1, 2, 4, 8]);
    exponentialScalar(ptr(r), ptr(input), 0.5);
    expect<f32>(r[SM]).toBe(0.5, "half way");
    expect<f32>(r[SM + 3]).toBe(4, "half way");
  });

  // β = 0: a plain low-pass at minCutoff; α = 2πfΔt / (2πfΔt + 1) with 2πfΔt = 1 ⇒ α = 0.5
  it("one-euro with β = 0 is a low-pass with α = 2πfΔt / (2πfΔt + 1)", () => {
    const r = record();
    const input = f32s([1, 1, 1, 1]);
    oneEuroScalar(ptr(r), ptr(input), 0.1, <f32>1 / (TWO_PI * <f32>0.1), 0, 1);
    expectNear(r[SM], 0.5, 1e-6, "α = 1 / (1 + 1)");
    // the derivative estimate: dx = 1 / 0.1 = 10, α_d = 2π·0.1 / (2π·0.1 + 1) ≈ 0.385869
    expectNear(r[DSM], 10 * 0.6283185 / 1.6283185, 1e-4, "low-passed speed");
  });

  it("one-euro follows fast motion more closely than slow (β > 0 raises the cutoff)", () => {
    const slow = record(), fast = record();
    oneEuroScalar(ptr(slow), ptr(f32s([0.01, 0, 0, 0])), 0.033, 1, 10, 1);
    oneEuroScalar(ptr(fast), ptr(f32s([0.3, 0, 0, 0])), 0.033, 1, 10, 1);
    expect<f64>(fast[SM] / 0.3).toBeGreaterThan(slow[SM] / 0.01, "a larger share of a larger step");
  });
});

/** Runs assignMinCost on a row-major matrix and returns each row's column. */
function assign(cost: f64[], rows: i32, cols: i32, transposed: bool): StaticArray<i32> {
  const c = new StaticArray<f64>(cost.length);
  for (let i = 0; i < cost.length; i++) c[i] = cost[i];
  const out = new StaticArray<i32>(rows);
  const work = new StaticArray<u8>(48 * (cols + 1));
  assignMinCost(ptr(c), rows, cols, transposed, ptr(out), ptr(work));
  return out;
}

describe("assignMinCost", () => {
  // [[4,1,3],[2,0,5],[3,2,2]]: optimum 1 + 2 + 2 = 5 with rows → (1, 0, 2)
  it("finds the optimum of a 3×3 matrix", () => {
    const a = assign([4, 1, 3, 2, 0, 5, 3, 2, 2], 3, 3, false);
    expect<i32>(a[0]).toBe(1, "row 0 → column 1");
    expect<i32>(a[1]).toBe(0, "row 1 → column 0");
    expect<i32>(a[2]).toBe(2, "row 2 → column 2");
  });

  // [[1,2,3],[2,4,6]]: greedy takes (0,0) = 1 then (1,1) = 4: 5; optimal (0,1) + (1,0) = 4
  it("beats greedy on a 2×3 matrix", () => {
    const a = assign([1, 2, 3, 2, 4, 6], 2, 3, false);
    expect<i32>(a[0]).toBe(1, "row 0 gives up its cheapest column");
    expect<i32>(a[1]).toBe(0, "so that row 1 gets column 0");
  });

  // the same matrix stored 3×2 (columns as rows): read transposed
  it("reads a transposed matrix", () => {
    const a = assign([1, 2, 2, 4, 3, 6], 2, 3, true);
    expect<i32>(a[0]).toBe(1, "as before");
    expect<i32>(a[1]).toBe(0, "as before");
  });

  it("solves a 1×1 and leaves no row unassigned on 4×6", () => {
    expect<i32>(assign([7], 1, 1, false)[0]).toBe(0, "the only column");
    const a = assign([9, 9, 9, 9, 9, 1, 9, 9, 9, 9, 1, 9, 9, 9, 9, 1, 9, 9, 9, 9, 1, 9, 9, 9], 4, 6, false);
    expect<i32>(a[0]).toBe(5, "the 1s");
    expect<i32>(a[1]).toBe(4, "the 1s");
    expect<i32>(a[2]).toBe(3, "the 1s");
    expect<i32>(a[3]).toBe(2, "the 1s");
  });
});

class Harness {
  state: StaticArray<u8>;
  scratch: StaticArray<u8>;
  constructor(minHits: i32, maxAge: i32, smoother: i32) {
    this.state = new StaticArray<u8>(HEADER_BYTES + 8 * RECORD_BYTES);
    this.scratch = new StaticArray<u8>(trackScratchBytes(8, 8));
    const s = ptr(this.state);
    store<i32>(s, 1, 4);
    store<i32>(s, minHits, 8);
    store<i32>(s, maxAge, 12);
    store<i32>(s, smoother, 16);
    store<i32>(s, 1, 20);
    store<f32>(s, 0.3, 24);
    store<f32>(s, 0.5, 28);
  }
  step(boxes: f32[], classes: i32[]): i32 {
    const b = f32s(boxes), c = i32s(classes);
    const scores = new StaticArray<f32>(classes.length);
    return trackerUpdate(ptr(this.state), ptr(b), ptr(c), ptr(scores), classes.length, 0.033, ptr(this.scratch));
  }
  field(track: i32, f32Index: i32): i32 {
    return load<i32>(ptr(this.state) + HEADER_BYTES + track * RECORD_BYTES + (f32Index << 2));
  }
}

describe("trackerUpdate: birth and death", () => {
  it("confirms on the minHits-th consecutive hit and gives ids in order of confirmation", () => {
    const h = new Harness(2, 1, SMOOTH_KALMAN);
    expect<i32>(h.step([0.1, 0.1, 0.2, 0.2], [1])).toBe(1, "one tentative track");
    expect<i32>(h.field(0, STATE)).toBe(STATE_TENTATIVE, "1 hit < minHits 2");
    expect<i32>(h.field(0, ID)).toBe(0, "no id yet");
    h.step([0.11, 0.1, 0.21, 0.2, 0.6, 0.6, 0.7, 0.7], [1, 1]);
    expect<i32>(h.field(0, STATE)).toBe(STATE_CONFIRMED, "second hit");
    expect<i32>(h.field(0, ID)).toBe(1, "first id");
    expect<i32>(h.field(0, DET)).toBe(0, "matched detection 0");
    expect<i32>(h.field(1, STATE)).toBe(STATE_TENTATIVE, "the newcomer");
    h.step([0.6, 0.6, 0.7, 0.7, 0.12, 0.1, 0.22, 0.2], [1, 1]);
    expect<i32>(h.field(0, DET)).toBe(1, "the first track found its box at index 1");
    expect<i32>(h.field(1, ID)).toBe(2, "the newcomer confirmed second");
    expect<i32>(h.field(0, HITS)).toBe(3, "three hits");
    expect<i32>(h.field(0, AGE)).toBe(3, "three frames old");
  });

  it("coasts a confirmed track for maxAge missed frames and deletes it after", () => {
    const h = new Harness(1, 2, SMOOTH_KALMAN);
    h.step([0.1, 0.1, 0.2, 0.2], [1]);
    expect<i32>(h.field(0, STATE)).toBe(STATE_CONFIRMED, "minHits 1: confirmed at birth");
    expect<i32>(h.step([], [])).toBe(1, "first miss");
    expect<i32>(h.field(0, STATE)).toBe(STATE_LOST, "coasting");
    expect<i32>(h.field(0, TSU)).toBe(1, "one frame since update");
    expect<i32>(h.field(0, DET)).toBe(-1, "no detection");
    expect<i32>(h.step([], [])).toBe(1, "second miss: 2 ≤ maxAge");
    expect<i32>(h.step([], [])).toBe(0, "third miss: gone");
  });

  it("deletes a tentative track on its first miss", () => {
    const h = new Harness(3, 5, SMOOTH_KALMAN);
    h.step([0.1, 0.1, 0.2, 0.2], [1]);
    expect<i32>(h.step([], [])).toBe(0, "tentative tracks do not coast");
  });

  it("does not match a detection of another class, nor one under the IoU threshold", () => {
    const h = new Harness(1, 3, SMOOTH_KALMAN);
    h.step([0.1, 0.1, 0.2, 0.2], [1]);
    expect<i32>(h.step([0.1, 0.1, 0.2, 0.2], [2])).toBe(2, "class 2 is a new track");
    expect<i32>(h.field(0, STATE)).toBe(STATE_LOST, "the class-1 track missed");
    expect<i32>(h.field(1, CLASS)).toBe(2, "the new track's class");
    // far away from both: IoU 0 < 0.3
    expect<i32>(h.step([0.5, 0.5, 0.6, 0.6], [1])).toBe(3, "a third track");
  });

  it("writes the prediction as the box of a track that missed", () => {
    const h = new Harness(1, 3, SMOOTH_EXPONENTIAL);
    h.step([0.1, 0.1, 0.2, 0.2], [1]);
    h.step([], []);
    const box = ptr(h.state) + HEADER_BYTES + (BOX << 2);
    expectNear(load<f32>(box), 0.1, 1e-6, "zero velocity after one hit: the box stays");
    expectNear(load<f32>(box, 8), 0.2, 1e-6, "zero velocity after one hit: the box stays");
    expect<i32>(SMOOTH_ONE_EURO).toBe(1, "smoother numbering the host relies on");
  });
});

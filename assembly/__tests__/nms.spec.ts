// Greedy NMS and Soft-NMS: hand cases for the tie and edge rules of DESIGN.md, the 8-lane kept
// blocks and their zero padding, and the scalar ↔ SIMD overlap test.

import { boxArea } from "../coder";
import { candidateKey, keyCode, keyScore } from "../keys";
import { SOFT_NMS_GAUSSIAN, SOFT_NMS_LINEAR, greedyNms, overlapsKeptScalar, overlapsKeptSimd, softNms } from "../nms";
import { selectTopKeys } from "../topk";
import { Rng, expectNear, f32s, ptr } from "./helpers";

const NUM_CLASSES = 2; // background + one class; every candidate here is class 1
const NMS: f32 = 0.45;

function key(score: f32, prior: i32): u64 {
  return candidateKey(score, prior, 1, NUM_CLASSES);
}

function priorOf(k: u64): i32 {
  return <i32>(keyCode(k) / NUM_CLASSES);
}

/** Runs greedyNms on `boxes` (4 f32 each) with keys in the given order; returns kept priors. */
function greedy(keys: StaticArray<u64>, boxes: StaticArray<f32>, threshold: f32): i32[] {
  const num = keys.length;
  const capacity = (num + 7) & ~7;
  const kept = new StaticArray<f32>(5 * max<i32>(capacity, 8));
  const out = new StaticArray<u64>(max<i32>(num, 1));
  const n = greedyNms(ptr(keys), ptr(boxes), num, threshold, ptr(kept), capacity, ptr(out));
  const priors: i32[] = [];
  for (let i = 0; i < n; i++) priors.push(priorOf(out[i]));
  return priors;
}

function expectPriors(actual: i32[], expected: i32[], why: string): void {
  expect<i32>(actual.length).toBe(expected.length, why + ": number kept");
  const n = min<i32>(actual.length, expected.length);
  for (let i = 0; i < n; i++) expect<i32>(actual[i]).toBe(expected[i], why + ": kept #" + i.toString());
}

function keys2(a: u64, b: u64): StaticArray<u64> {
  const k = new StaticArray<u64>(2); k[0] = a; k[1] = b; return k;
}

function keys3(a: u64, b: u64, c: u64): StaticArray<u64> {
  const k = new StaticArray<u64>(3); k[0] = a; k[1] = b; k[2] = c; return k;
}

describe("greedyNms: the IoU threshold is strict", () => {
  // A = [0,1]², B = [0,1]×[0,h] ⊂ A: IoU = h
  it("suppresses a second box whose IoU with the first is 0.4501 > 0.45", () => {
    const kept = greedy(keys2(key(0.9, 0), key(0.8, 1)), f32s([0, 0, 1, 1, 0, 0, 1, 0.4501]), NMS);
    expectPriors(kept, [0], "IoU just above the threshold suppresses");
  });

  it("keeps a second box whose IoU with the first is 0.4499 ≤ 0.45", () => {
    const kept = greedy(keys2(key(0.9, 0), key(0.8, 1)), f32s([0, 0, 1, 1, 0, 0, 1, 0.4499]), NMS);
    expectPriors(kept, [0, 1], "IoU just below the threshold keeps both");
  });

  it("keeps a box whose IoU equals the threshold exactly (0.5 vs NMS 0.5)", () => {
    // B = [0,1]×[0,0.5]: IoU = 0.5 exactly in f32; suppression needs IoU > threshold
    const kept = greedy(keys2(key(0.9, 0), key(0.8, 1)), f32s([0, 0, 1, 1, 0, 0, 1, 0.5]), 0.5);
    expectPriors(kept, [0, 1], "equal is not greater");
  });

  it("suppresses the same pair once the threshold is a hair lower (0.4999)", () => {
    const kept = greedy(keys2(key(0.9, 0), key(0.8, 1)), f32s([0, 0, 1, 1, 0, 0, 1, 0.5]), 0.4999);
    expectPriors(kept, [0], "0.5 > 0.4999");
  });
});

describe("greedyNms: identical and zero-area boxes", () => {
  it("keeps one of two identical boxes: the better-ranked one", () => {
    const kept = greedy(keys2(key(0.9, 4), key(0.6, 2)), f32s([0.1, 0.1, 0.4, 0.5, 0.1, 0.1, 0.4, 0.5]), NMS);
    expectPriors(kept, [4], "IoU 1 > 0.45; the first (higher score) wins");
  });

  it("keeps both of two different boxes", () => {
    const kept = greedy(keys2(key(0.9, 4), key(0.6, 2)), f32s([0.1, 0.1, 0.4, 0.5, 0.6, 0.6, 0.9, 0.9]), NMS);
    expectPriors(kept, [4, 2], "disjoint boxes do not interact");
  });

  it("never lets a zero-area box suppress, nor be suppressed", () => {
    // Z = point (0.5, 0.5) first; A = [0,1]² contains it; Z' = the same point again;
    // S = vertical segment inside A. IoU(Z, A) = 0, IoU(Z, Z') = 0/0 = NaN, IoU(S, ·) = 0 or NaN.
    const keys = new StaticArray<u64>(4);
    keys[0] = key(0.9, 0); keys[1] = key(0.8, 1); keys[2] = key(0.7, 2); keys[3] = key(0.6, 3);
    const boxes = f32s([
      0.5, 0.5, 0.5, 0.5,
      0, 0, 1, 1,
      0.5, 0.5, 0.5, 0.5,
      0.3, 0.2, 0.3, 0.8
    ]);
    expectPriors(greedy(keys, boxes, NMS), [0, 1, 2, 3], "zero area means zero (or NaN) IoU, never > 0.45");
  });

  it("still suppresses a real box under a real box around a zero-area one", () => {
    // the same, plus A' = A again at the end: A' is suppressed by A, not protected by the points
    const keys = new StaticArray<u64>(3);
    keys[0] = key(0.9, 0); keys[1] = key(0.8, 1); keys[2] = key(0.7, 2);
    const boxes = f32s([0.5, 0.5, 0.5, 0.5, 0, 0, 1, 1, 0, 0, 1, 1]);
    expectPriors(greedy(keys, boxes, NMS), [0, 1], "IoU(A, A') = 1");
  });
});

describe("greedyNms: only kept boxes suppress", () => {
  // A = [0,1]², B = A shifted 0.3 right, C = A shifted 0.6 right (all unit squares):
  //   IoU(A,B) = 0.7/1.3 = 0.538 > 0.45   → B suppressed by A
  //   IoU(B,C) = 0.7/1.3 = 0.538 > 0.45   → but B is not kept, so it cannot suppress C
  //   IoU(A,C) = 0.4/1.6 = 0.25  ≤ 0.45   → C survives
  it("keeps C in the chain A–B–C where B is suppressed by A", () => {
    const boxes = f32s([0, 0, 1, 1, 0.3, 0, 1.3, 1, 0.6, 0, 1.6, 1]);
    expectPriors(greedy(keys3(key(0.9, 0), key(0.8, 1), key(0.7, 2)), boxes, NMS), [0, 2], "B is gone, C only overlapped B");
  });

  it("suppresses C when B outranks A (B then suppresses both A and C)", () => {
    const boxes = f32s([0.3, 0, 1.3, 1, 0, 0, 1, 1, 0.6, 0, 1.6, 1]); // B first
    expectPriors(greedy(keys3(key(0.9, 1), key(0.8, 0), key(0.7, 2)), boxes, NMS), [1], "B overlaps both by 0.538");
  });
});

describe("greedyNms: equal scores", () => {
  it("resolves an equal-score tie by key order: the lower prior index is kept", () => {
    // the same box on priors 5 and 3, both 0.6; given in prior order 5, 3 and sorted by key
    const keys = keys2(key(0.6, 5), key(0.6, 3));
    selectTopKeys(ptr(keys), 2, 2);
    expect<i32>(priorOf(keys[0])).toBe(3, "the key puts prior 3 first on a tie");
    const box = f32s([0.2, 0.2, 0.6, 0.6, 0.2, 0.2, 0.6, 0.6]);
    expectPriors(greedy(keys, box, NMS), [3], "the lower prior index survives");
  });

  it("keeps prior 5 instead when it scores one ulp higher", () => {
    const up = reinterpret<f32>(reinterpret<u32>(<f32>0.6) + 1);
    const keys = keys2(key(0.6, 3), key(up, 5));
    selectTopKeys(ptr(keys), 2, 2);
    const box = f32s([0.2, 0.2, 0.6, 0.6, 0.2, 0.2, 0.6, 0.6]);
    expectPriors(greedy(keys, box, NMS), [5], "score first, index only on exact ties");
  });
});

// 13 disjoint squares side by side (box i = [0.07i, 0, 0.07i + 0.05, 0.05]), scores falling
// with i, then copies of boxes 9 and 10 (in the second block) and of box 0, lower scores.
function blockCase(): StaticArray<f32> {
  const boxes = new StaticArray<f32>(16 * 4);
  for (let i = 0; i < 13; i++) {
    const x = <f32>i * 0.07;
    boxes[4 * i] = x; boxes[4 * i + 1] = 0; boxes[4 * i + 2] = x + 0.05; boxes[4 * i + 3] = 0.05;
  }
  const copies: i32[] = [9, 10, 0];
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 4; v++) boxes[4 * (13 + c) + v] = boxes[4 * copies[c] + v];
  }
  return boxes;
}

function blockKeys(): StaticArray<u64> {
  const keys = new StaticArray<u64>(16);
  for (let i = 0; i < 16; i++) keys[i] = key(<f32>0.95 - <f32>i * 0.05, i);
  return keys;
}

describe("greedyNms: more than one block of eight kept boxes", () => {
  it("keeps the 13 disjoint boxes and suppresses copies found in the second block", () => {
    const boxes = blockCase();
    const keys = blockKeys();
    // Scratch dirtied on purpose: lane L holds candidate L's own box. Candidate i is tested
    // while i boxes are kept, so the SIMD loop reads lane i (padding of the open block) before
    // it is written: were the padding not zeroed, every candidate would suppress itself.
    const capacity = 16;
    const kept = new StaticArray<f32>(5 * capacity);
    for (let lane = 0; lane < capacity; lane++) {
      const src = min<i32>(lane, 12);
      const x1 = boxes[4 * src], y1 = boxes[4 * src + 1], x2 = boxes[4 * src + 2], y2 = boxes[4 * src + 3];
      kept[lane] = x1; kept[capacity + lane] = y1; kept[2 * capacity + lane] = x2; kept[3 * capacity + lane] = y2;
      kept[4 * capacity + lane] = boxArea(x1, y1, x2, y2);
    }
    const out = new StaticArray<u64>(16);
    const n = greedyNms(ptr(keys), ptr(boxes), 16, NMS, ptr(kept), capacity, ptr(out));
    expect<i32>(n).toBe(13, "13 disjoint boxes are kept; the three copies are not");
    for (let i = 0; i < min<i32>(n, 13); i++) {
      expect<i32>(priorOf(out[i])).toBe(i, "kept in rank order, none lost to stale padding lanes");
    }
    // the padding of the second block (lanes 13..15) must now be zero boxes
    for (let lane = 13; lane < 16; lane++) {
      expect<f32>(kept[4 * capacity + lane]).toBe(0, "unused lanes of an opened block hold zero areas");
    }
  });

  it("keeps a copy of a second-block box when the threshold allows IoU 1", () => {
    // at threshold 1, IoU 1 is not > 1: nothing is ever suppressed
    const n = greedy(blockKeys(), blockCase(), 1.0).length;
    expect<i32>(n).toBe(16, "with threshold 1 every box is kept");
  });
});

describe("overlapsKeptScalar vs overlapsKeptSimd", () => {
  it("agree on 6 000 random kept sets and candidates, including zero-area boxes", () => {
    const rng = new Rng(2024);
    const capacity = 32;
    const stride = <usize>capacity << 2;
    const kept = new StaticArray<f32>(5 * capacity);
    let disagreements = 0, hits = 0, misses = 0;
    for (let trial = 0; trial < 6000; trial++) {
      const numKept = rng.below(capacity + 1);
      for (let lane = 0; lane < capacity; lane++) {
        let x1: f32 = 0, y1: f32 = 0, x2: f32 = 0, y2: f32 = 0;
        if (lane < numKept) {
          x1 = rng.uniform(0, 0.9); y1 = rng.uniform(0, 0.9);
          const degenerate = rng.below(10) == 0;
          x2 = degenerate ? x1 : x1 + rng.uniform(0.02, 0.5);
          y2 = y1 + rng.uniform(0.02, 0.5);
        }
        // lanes ≥ numKept are zero boxes, as greedyNms leaves them
        kept[lane] = x1; kept[capacity + lane] = y1; kept[2 * capacity + lane] = x2; kept[3 * capacity + lane] = y2;
        kept[4 * capacity + lane] = boxArea(x1, y1, x2, y2);
      }
      const x1 = rng.uniform(0, 0.9), y1 = rng.uniform(0, 0.9);
      const x2 = rng.below(10) == 0 ? x1 : x1 + rng.uniform(0.02, 0.5);
      const y2 = y1 + rng.uniform(0.02, 0.5);
      const area = boxArea(x1, y1, x2, y2);
      const threshold = rng.uniform(0.1, 0.8);
      const a = overlapsKeptScalar(x1, y1, x2, y2, area, ptr(kept), stride, numKept, threshold);
      const b = overlapsKeptSimd(x1, y1, x2, y2, area, ptr(kept), stride, numKept, threshold);
      if (a != b) disagreements++;
      if (a) hits++; else misses++;
    }
    expect<i32>(disagreements).toBe(0, "both compute IoU with the same f32 operations per lane");
    expect<i32>(hits).toBeGreaterThan(500, "the sample must exercise the suppressing outcome");
    expect<i32>(misses).toBeGreaterThan(500, "and the keeping outcome");
  });

  it("both report no overlap against an empty kept set", () => {
    const kept = new StaticArray<f32>(5 * 8);
    expect<bool>(overlapsKeptScalar(0, 0, 1, 1, 1, ptr(kept), 32, 0, 0.1)).toBe(false, "nothing kept, nothing overlaps");
    expect<bool>(overlapsKeptSimd(0, 0, 1, 1, 1, ptr(kept), 32, 0, 0.1)).toBe(false, "the zero block alone never overlaps");
  });
});

// Soft-NMS hand case. A = [0,1]² (0.9, prior 0), B = [0,1]×[0,0.6] (0.8, prior 1),
// C = [0,1]×[0.5,1.5] (0.7, prior 2).
//   IoU(A,B) = 0.6/1 = 0.6;  IoU(A,C) = 0.5/1.5 = 1/3;  IoU(B,C) = 0.1/1.5 = 1/15.
function softCase(): StaticArray<f32> {
  return f32s([0, 0, 1, 1, 0, 0, 1, 0.6, 0, 0.5, 1, 1.5]);
}

function runSoft(method: i32, threshold: f32, sigma: f32, scoreThreshold: f32, out: StaticArray<u64>): i32 {
  const keys = keys3(key(0.9, 0), key(0.8, 1), key(0.7, 2));
  return softNms(ptr(keys), ptr(softCase()), 3, method, threshold, sigma, scoreThreshold, ptr(out));
}

describe("softNms linear", () => {
  // threshold 0.3. Round 1 keeps A 0.9; B: 0.6 > 0.3 → 0.8·(1 − 0.6) = 0.32;
  //   C: 1/3 > 0.3 → 0.7·(2/3) = 0.466667.
  // Round 2 keeps C 0.466667; B: 1/15 ≤ 0.3, unchanged. Round 3 keeps B 0.32.
  it("decays overlapping scores by (1 − IoU) and re-ranks: A 0.9, C 0.4667, B 0.32", () => {
    const out = new StaticArray<u64>(3);
    const n = runSoft(SOFT_NMS_LINEAR, 0.3, 0.5, 0.01, out);
    expect<i32>(n).toBe(3, "all three stay above 0.01");
    expect<i32>(priorOf(out[0])).toBe(0, "A first");
    expect<f32>(keyScore(out[0])).toBe(0.9, "the first kept box is never decayed");
    expect<i32>(priorOf(out[1])).toBe(2, "C overtakes the decayed B");
    expectNear(keyScore(out[1]), 0.7 * 2.0 / 3.0, 1e-6, "0.7·(1 − 1/3)");
    expect<i32>(priorOf(out[2])).toBe(1, "B last");
    expectNear(keyScore(out[2]), 0.32, 1e-6, "0.8·(1 − 0.6); IoU(B,C) is under 0.3");
  });

  it("does not decay an IoU at or under the threshold: at 0.45, C keeps 0.7", () => {
    const out = new StaticArray<u64>(3);
    const n = runSoft(SOFT_NMS_LINEAR, 0.45, 0.5, 0.01, out);
    expect<i32>(n).toBe(3, "still three");
    expect<i32>(priorOf(out[1])).toBe(2, "C second");
    expect<f32>(keyScore(out[1])).toBe(0.7, "1/3 ≤ 0.45: no decay at all");
    expectNear(keyScore(out[2]), 0.32, 1e-6, "0.6 > 0.45: B still decays");
  });

  it("drops a candidate whose decayed score falls to the score threshold or below", () => {
    // B decays to 0.32 ≤ 0.35 and drops out; C at 0.4667 stays
    const out = new StaticArray<u64>(3);
    const n = runSoft(SOFT_NMS_LINEAR, 0.3, 0.5, 0.35, out);
    expect<i32>(n).toBe(2, "B is gone");
    expect<i32>(priorOf(out[0])).toBe(0, "A");
    expect<i32>(priorOf(out[1])).toBe(2, "C");
  });

  it("keeps B when the score threshold is just under its decayed score", () => {
    const out = new StaticArray<u64>(3);
    expect<i32>(runSoft(SOFT_NMS_LINEAR, 0.3, 0.5, 0.31, out)).toBe(3, "0.32 > 0.31");
  });
});

describe("softNms gaussian", () => {
  // sigma 0.5. Round 1 keeps A 0.9; B: 0.8·exp(−0.36/0.5) = 0.8·0.4867523 = 0.3894018;
  //   C: 0.7·exp(−(1/9)/0.5) = 0.7·0.8007374 = 0.5605162.
  // Round 2 keeps C; B: 0.3894018·exp(−(1/225)/0.5) = 0.3894018·0.9911505 = 0.3859558.
  it("decays every overlap by exp(−IoU²/sigma): A 0.9, C 0.5605, B 0.3860", () => {
    const out = new StaticArray<u64>(3);
    const n = runSoft(SOFT_NMS_GAUSSIAN, 0.45, 0.5, 0.01, out);
    expect<i32>(n).toBe(3, "all three stay above 0.01");
    expect<i32>(priorOf(out[0])).toBe(0, "A first");
    expect<f32>(keyScore(out[0])).toBe(0.9, "A undecayed");
    expect<i32>(priorOf(out[1])).toBe(2, "C second");
    expectNear(keyScore(out[1]), 0.5605161820, 2e-6, "0.7·e^(−2/9)");
    expect<i32>(priorOf(out[2])).toBe(1, "B third, decayed twice");
    expectNear(keyScore(out[2]), 0.3859557937, 2e-6, "0.8·e^(−0.72)·e^(−2/225)");
  });

  it("drops B under a score threshold between its two decays (0.387)", () => {
    // after round 1 B = 0.3894 > 0.387 survives; after round 2 B = 0.38596 ≤ 0.387 drops
    const out = new StaticArray<u64>(3);
    expect<i32>(runSoft(SOFT_NMS_GAUSSIAN, 0.45, 0.5, 0.387, out)).toBe(2, "B falls out in round 2");
  });

  it("leaves a disjoint box's score bit-identical", () => {
    const keys = keys2(key(0.9, 0), key(0.8, 1));
    const out = new StaticArray<u64>(2);
    const n = softNms(ptr(keys), ptr(f32s([0, 0, 0.2, 0.2, 0.5, 0.5, 0.9, 0.9])), 2, SOFT_NMS_GAUSSIAN, 0.45, 0.5, 0.01, ptr(out));
    expect<i32>(n).toBe(2, "both kept");
    expect<f32>(keyScore(out[1])).toBe(0.8, "IoU 0: no exp(−0) multiply, so no rounding either");
  });

  it("never decays across two identical zero-area boxes (IoU NaN)", () => {
    const keys = keys2(key(0.9, 0), key(0.8, 1));
    const out = new StaticArray<u64>(2);
    const n = softNms(ptr(keys), ptr(f32s([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])), 2, SOFT_NMS_GAUSSIAN, 0.45, 0.5, 0.01, ptr(out));
    expect<i32>(n).toBe(2, "NaN > 0 is false: no decay");
    expect<f32>(keyScore(out[1])).toBe(0.8, "score untouched");
  });
});

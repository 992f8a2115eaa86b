// Scores: the row-max kernel, the summation order of expRow, and scanScores end to end on tiny
// hand-made conf tensors (softmax / sigmoid / none, per-class thresholds, pooled lists, the
// softmax gate, heap limits).

import { expf } from "../expf";
import { SCAN_ROWS } from "../plan";
import { candidateKey, keyCode, keyScore } from "../keys";
import { ACTIVATION_NONE, ACTIVATION_SIGMOID, ACTIVATION_SOFTMAX, expRow, maxSpan, scanScores, sigmoidRow } from "../scores";
import { selectTopKeys } from "../topk";
import { Rng, bits, expectNear, f32s, ptr } from "./helpers";

const LN2: f32 = <f32>Math.LN2, LN3: f32 = <f32>Math.log(3), LN4: f32 = <f32>Math.log(4);
const LN6: f32 = <f32>Math.log(6);

// ---------------------------------------------------------------------------------------------
// maxSpan

function scalarMax(a: StaticArray<f32>, from: i32, num: i32): f32 {
  let m: f32 = -Infinity;
  for (let i = from; i < from + num; i++) if (a[i] > m) m = a[i];
  return m;
}

describe("maxSpan", () => {
  it("equals a scalar loop for every length 1..13 and every position of the maximum", () => {
    // starts one float into the array, as scanScores does for background 0 (row + 4)
    const a = new StaticArray<f32>(16);
    let wrong = 0;
    for (let num = 1; num <= 13; num++) {
      for (let at = 0; at < num; at++) {
        for (let i = 0; i < 16; i++) a[i] = -1 - <f32>((i * 7) % 11) * 0.25; // all negative
        a[0] = 100; // outside the span: must never be seen
        a[1 + at] = 3.5;
        if (maxSpan(ptr(a) + 4, num) != scalarMax(a, 1, num)) wrong++;
        if (maxSpan(ptr(a) + 4, num) != 3.5) wrong++;
      }
    }
    expect<i32>(wrong).toBe(0, "max is exact, so the vector main loop and scalar tail agree with a plain loop");
  });

  it("does not read past the span: a larger value just after it is ignored", () => {
    const a = new StaticArray<f32>(16);
    let wrong = 0;
    for (let num = 1; num <= 13; num++) {
      for (let i = 0; i < 16; i++) a[i] = -2;
      a[num] = 50; // first float after the span
      if (maxSpan(ptr(a), num) != -2) wrong++;
    }
    expect<i32>(wrong).toBe(0, "the tail stops at num");
  });

  it("returns the maximum of all-negative and -Infinity spans", () => {
    expect<f32>(maxSpan(ptr(f32s([-5, -3, -4, -9, -7])), 5)).toBe(-3, "the start value is −∞, not 0");
    expect<f32>(maxSpan(ptr(f32s([-Infinity, -Infinity, -Infinity, -Infinity])), 4)).toBe(-Infinity, "max of −∞s");
  });
});

// ---------------------------------------------------------------------------------------------
// expRow

/** The documented order: s_j over c ≡ j (mod 4) below 4⌊num/4⌋, (s0+s1)+(s2+s3), then the tail. */
function partialSums(row: StaticArray<f32>, num: i32, shift: f32): f32 {
  const whole = num & ~3;
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  for (let c = 0; c < whole; c += 4) {
    s0 += expf(row[c] - shift); s1 += expf(row[c + 1] - shift);
    s2 += expf(row[c + 2] - shift); s3 += expf(row[c + 3] - shift);
  }
  let sum = (s0 + s1) + (s2 + s3);
  for (let c = whole; c < num; c++) sum += expf(row[c] - shift);
  return sum;
}

function sequentialSum(row: StaticArray<f32>, num: i32, shift: f32): f32 {
  let sum: f32 = 0;
  for (let c = 0; c < num; c++) sum += expf(row[c] - shift);
  return sum;
}

function randomRow(rng: Rng, num: i32): StaticArray<f32> {
  const row = new StaticArray<f32>(num);
  for (let c = 0; c < num; c++) row[c] = rng.uniform(-6, 6);
  return row;
}

describe("expRow", () => {
  it("sums in four interleaved partial sums, bit for bit, for lengths 1..13, 21, 81, 91", () => {
    const rng = new Rng(31337);
    const lengths: i32[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 21, 81, 91];
    let wrong = 0;
    for (let trial = 0; trial < 50; trial++) {
      for (let l = 0; l < lengths.length; l++) {
        const num = lengths[l];
        const row = randomRow(rng, num);
        const shift = maxSpan(ptr(row), num);
        const out = new StaticArray<f32>(num);
        const sum = expRow(ptr(row), num, shift, ptr(out));
        if (bits(sum) != bits(partialSums(row, num, shift))) wrong++;
        for (let c = 0; c < num; c++) if (bits(out[c]) != bits(expf(row[c] - shift))) wrong++;
      }
    }
    expect<i32>(wrong).toBe(0, "the reference in TypeScript sums the same way, so detections agree bit for bit");
  });

  it("is distinguishable from a sequential sum (the order is observable, so the test above means something)", () => {
    const rng = new Rng(99);
    let differing = 0;
    for (let trial = 0; trial < 200; trial++) {
      const row = randomRow(rng, 21);
      const out = new StaticArray<f32>(21);
      if (bits(expRow(ptr(row), 21, 0, ptr(out))) != bits(sequentialSum(row, 21, 0))) differing++;
    }
    expect<i32>(differing).toBeGreaterThan(0, "f32 addition is not associative");
  });

  it("writes exp(row − shift) and returns their sum for a hand row", () => {
    // row (0, ln 2, ln 3, ln 4, ln 6) shifted by ln 6 → (1/6, 2/6, 3/6, 4/6, 1), sum 16/6
    const row = f32s([0, LN2, LN3, LN4, LN6]);
    const out = new StaticArray<f32>(5);
    const sum = expRow(ptr(row), 5, LN6, ptr(out));
    expectNear(sum, 16.0 / 6.0, 2e-6, "1/6 + 2/6 + 3/6 + 4/6 + 1");
    expect<f32>(out[4]).toBe(1, "exp(0) is exactly 1");
    expectNear(out[1], 2.0 / 6.0, 1e-6, "exp(ln 2 − ln 6)");
  });
});

// The SIMD builds compute a row's last classes from its last four floats (reaching before the
// row when it is shorter than four): the values must be the scalar ones and nothing outside
// the row may be written.
const GUARD = 4;
const SENTINEL: f32 = -12345;

/** Room for `num` outputs between GUARD sentinels on each side. */
function guarded(num: i32): StaticArray<f32> {
  const out = new StaticArray<f32>(num + 2 * GUARD);
  for (let i = 0; i < out.length; i++) out[i] = SENTINEL;
  return out;
}

function guardsIntact(out: StaticArray<f32>, num: i32): bool {
  for (let i = 0; i < GUARD; i++) {
    if (out[i] != SENTINEL || out[GUARD + num + i] != SENTINEL) return false;
  }
  return true;
}

describe("expRow and sigmoidRow at the edges of a row", () => {
  it("write exactly the row, the scalar values bit for bit, for lengths 1..13, 21, 91", () => {
    const rng = new Rng(4242);
    const lengths: i32[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 21, 91];
    let wrong = 0, trampled = 0;
    for (let trial = 0; trial < 20; trial++) {
      for (let l = 0; l < lengths.length; l++) {
        const num = lengths[l];
        // the row sits between non-finite neighbours: a lane read outside it must not leak in
        const padded = guarded(num);
        for (let i = 0; i < GUARD; i++) { padded[i] = NaN; padded[GUARD + num + i] = Infinity; }
        for (let c = 0; c < num; c++) padded[GUARD + c] = rng.uniform(-6, 6);
        const row = ptr(padded) + (<usize>GUARD << 2);
        const shift = maxSpan(row, num);
        const exps = guarded(num), probs = guarded(num);
        const sum = expRow(row, num, shift, ptr(exps) + (<usize>GUARD << 2));
        sigmoidRow(row, num, ptr(probs) + (<usize>GUARD << 2));
        let expected: f32 = 0;
        const whole = num & ~3;
        let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
        for (let c = 0; c < whole; c += 4) {
          s0 += expf(padded[GUARD + c] - shift); s1 += expf(padded[GUARD + c + 1] - shift);
          s2 += expf(padded[GUARD + c + 2] - shift); s3 += expf(padded[GUARD + c + 3] - shift);
        }
        expected = (s0 + s1) + (s2 + s3);
        for (let c = whole; c < num; c++) expected += expf(padded[GUARD + c] - shift);
        if (bits(sum) != bits(expected)) wrong++;
        for (let c = 0; c < num; c++) {
          const x = padded[GUARD + c];
          if (bits(exps[GUARD + c]) != bits(expf(x - shift))) wrong++;
          if (bits(probs[GUARD + c]) != bits(<f32>1 / (<f32>1 + expf(-x)))) wrong++;
        }
        if (!guardsIntact(exps, num) || !guardsIntact(probs, num)) trampled++;
      }
    }
    expect<i32>(wrong).toBe(0, "sums, exponentials and sigmoids equal the scalar ones");
    expect<i32>(trampled).toBe(0, "rows whose neighbours were written");
  });
});

// ---------------------------------------------------------------------------------------------
// scanScores

class Scan {
  heaps: StaticArray<u64>;
  counts: StaticArray<i32>;
  limits: StaticArray<f32>;
  row: StaticArray<f32>;
  constructor(public numClasses: i32, public topK: i32) {
    this.heaps = new StaticArray<u64>(numClasses * topK);
    this.counts = new StaticArray<i32>(numClasses);
    this.limits = new StaticArray<f32>(numClasses);
    this.row = new StaticArray<f32>(SCAN_ROWS * numClasses);
  }

  /** The keys of one list, best first (a copy; heaps that never filled are not heaps yet). */
  list(index: i32): StaticArray<u64> {
    const n = this.counts[index];
    const keys = new StaticArray<u64>(n);
    for (let i = 0; i < n; i++) keys[i] = this.heaps[index * this.topK + i];
    selectTopKeys(ptr(keys), n, n);
    return keys;
  }
}

function scan(
  conf: StaticArray<f32>, numPriors: i32, numClasses: i32, background: i32, activation: i32,
  thresholds: f32[], gate: f32, pooled: bool, topK: i32
): Scan {
  const s = new Scan(numClasses, topK);
  for (let c = 0; c < numClasses; c++) s.limits[c] = thresholds[c];
  scanScores(ptr(conf), 0, numPriors, numClasses, background, activation, ptr(s.limits), gate, pooled,
    ptr(s.heaps), ptr(s.counts), topK, ptr(s.row));
  return s;
}

function expectKey(key: u64, numClasses: i32, prior: i32, cls: i32, score: f64, why: string): void {
  expect<u32>(keyCode(key)).toBe(<u32>(prior * numClasses + cls), why + ": prior " + prior.toString() + ", class " + cls.toString());
  expectNear(keyScore(key), score, 1e-6, why + ": score");
}

function sameScan(a: Scan, b: Scan): bool {
  for (let c = 0; c < a.numClasses; c++) {
    if (a.counts[c] != b.counts[c]) return false;
    if (bits(a.limits[c]) != bits(b.limits[c])) return false;
    const ka = a.list(c), kb = b.list(c);
    for (let i = 0; i < ka.length; i++) if (ka[i] != kb[i]) return false;
  }
  return true;
}

// Three priors × four classes of softmax logits, background 0:
//   row 0 (0, ln4, 0, ln3):    exps (1, 4, 1, 3),  sum 9 → (0.111, 0.444, 0.111, 0.333)
//   row 1 (ln6, 0, ln2, 0):    exps (6, 1, 2, 1),  sum 10 → (0.6, 0.1, 0.2, 0.1)
//   row 2 (0, 0, ln2, ln4):    exps (1, 1, 2, 4),  sum 8 → (0.125, 0.125, 0.25, 0.5)
// At threshold 0.3 (strictly greater): class 1 ← prior 0 (4/9); class 2 ← nothing;
// class 3 ← prior 2 (0.5), prior 0 (1/3). Background 0.6 on row 1 is never a candidate.
function softmaxCase(): StaticArray<f32> {
  return f32s([0, LN4, 0, LN3, LN6, 0, LN2, 0, 0, 0, LN2, LN4]);
}

describe("scanScores: softmax, threshold 0.3, background 0", () => {
  it("keeps exactly the hand-computed candidates", () => {
    const s = scan(softmaxCase(), 3, 4, 0, ACTIVATION_SOFTMAX, [0.3, 0.3, 0.3, 0.3], -Infinity, false, 8);
    expect<i32>(s.counts[0]).toBe(0, "background is never a candidate, even at 0.6");
    expect<i32>(s.counts[1]).toBe(1, "class 1: only prior 0 (4/9)");
    expect<i32>(s.counts[2]).toBe(0, "class 2: 0.111, 0.2, 0.25 are all ≤ 0.3");
    expect<i32>(s.counts[3]).toBe(2, "class 3: priors 2 and 0");
    expectKey(s.list(1)[0], 4, 0, 1, 4.0 / 9.0, "class 1");
    const three = s.list(3);
    expectKey(three[0], 4, 2, 3, 0.5, "class 3 best");
    expectKey(three[1], 4, 0, 3, 1.0 / 3.0, "class 3 second");
  });

  it("keeps no candidate once the threshold is above the best foreground probability", () => {
    // the best foreground probabilities are 0.5 (row 2) and 4/9 (row 0); 0.51 beats both
    const s = scan(softmaxCase(), 3, 4, 0, ACTIVATION_SOFTMAX, [0.51, 0.51, 0.51, 0.51], -Infinity, false, 8);
    expect<i32>(s.counts[1] + s.counts[2] + s.counts[3]).toBe(0, "no foreground probability exceeds 0.51");
  });

  it("leaves the limits at the thresholds while no heap is full", () => {
    const s = scan(softmaxCase(), 3, 4, 0, ACTIVATION_SOFTMAX, [0.3, 0.3, 0.3, 0.3], -Infinity, false, 8);
    for (let c = 0; c < 4; c++) expect<f32>(s.limits[c]).toBe(0.3, "limits only rise when a heap fills");
  });
});

describe("scanScores: per-class thresholds", () => {
  // thresholds (–, 0.5, 0.22, 0.4): class 1 4/9 < 0.5 fails; class 2 row 2 0.25 > 0.22 passes,
  // row 1 0.2 fails; class 3 row 2 0.5 > 0.4 passes, row 0 1/3 fails.
  it("applies each class's own threshold", () => {
    const s = scan(softmaxCase(), 3, 4, 0, ACTIVATION_SOFTMAX, [0.0, 0.5, 0.22, 0.4], -Infinity, false, 8);
    expect<i32>(s.counts[1]).toBe(0, "4/9 does not beat class 1's 0.5");
    expect<i32>(s.counts[2]).toBe(1, "0.25 beats class 2's 0.22");
    expect<i32>(s.counts[3]).toBe(1, "0.5 beats 0.4, 1/3 does not");
    expectKey(s.list(2)[0], 4, 2, 2, 0.25, "class 2");
    expectKey(s.list(3)[0], 4, 2, 3, 0.5, "class 3");
  });

  it("lets the same scores through with one shared low threshold", () => {
    const s = scan(softmaxCase(), 3, 4, 0, ACTIVATION_SOFTMAX, [0.0, 0.05, 0.05, 0.05], -Infinity, false, 8);
    expect<i32>(s.counts[1]).toBe(3, "0.444, 0.1, 0.125 all beat 0.05");
    expect<i32>(s.counts[2]).toBe(3, "0.111, 0.2, 0.25");
    expect<i32>(s.counts[3]).toBe(3, "0.333, 0.1, 0.5");
  });
});

describe("scanScores: sigmoid and none", () => {
  // sigmoid(0) = 1/(1+1) = 0.5 exactly; sigmoid(ln 3) = 3/4; sigmoid(−ln 3) = 1/4;
  // sigmoid(2) = 0.8807971. No background (−1): class 0 is a real class.
  it("sigmoid: keeps 0.5 (class 0), 0.75 (class 1), 0.881 (class 3); drops 0.25", () => {
    const s = scan(f32s([0, LN3, -LN3, 2]), 1, 4, -1, ACTIVATION_SIGMOID, [0.3, 0.3, 0.3, 0.3], -Infinity, false, 4);
    expect<i32>(s.counts[0]).toBe(1, "with background −1 class 0 is scored");
    expectKey(s.list(0)[0], 4, 0, 0, 0.5, "sigmoid(0)");
    expectKey(s.list(1)[0], 4, 0, 1, 0.75, "sigmoid(ln 3)");
    expect<i32>(s.counts[2]).toBe(0, "sigmoid(−ln 3) = 0.25 ≤ 0.3");
    expectKey(s.list(3)[0], 4, 0, 3, 0.8807970779778823, "sigmoid(2)");
  });

  it("sigmoid with background 0: class 0 is skipped however high", () => {
    const s = scan(f32s([5, LN3, -LN3, 2]), 1, 4, 0, ACTIVATION_SIGMOID, [0.3, 0.3, 0.3, 0.3], -Infinity, false, 4);
    expect<i32>(s.counts[0]).toBe(0, "sigmoid(5) = 0.993 but class 0 is background");
    expect<i32>(s.counts[1]).toBe(1, "the others are unaffected");
  });

  it("none: passes raw scores through, strictly above the threshold", () => {
    // 0.3 == 0.3 does not pass; 0.31 does; 0.29 does not
    const s = scan(f32s([0.3, 0.31, 0.29, 0.3]), 1, 4, -1, ACTIVATION_NONE, [0.3, 0.3, 0.3, 0.3], -Infinity, false, 4);
    expect<i32>(s.counts[0]).toBe(0, "a score equal to the threshold fails");
    expect<i32>(s.counts[1]).toBe(1, "0.31 > 0.3");
    expect<i32>(s.counts[2]).toBe(0, "0.29 < 0.3");
    expect<i32>(s.counts[3]).toBe(0, "equal again, in the last lane");
    expect<u32>(bits(keyScore(s.list(1)[0]))).toBe(bits(<f32>0.31), "no activation: the score is the input, bit for bit");
  });

  it("none, background in the middle (class 2 of 5): skips exactly that class", () => {
    const s = scan(f32s([0.9, 0.8, 0.99, 0.7, 0.6]), 1, 5, 2, ACTIVATION_NONE, [0.5, 0.5, 0.5, 0.5, 0.5], -Infinity, false, 4);
    expect<i32>(s.counts[2]).toBe(0, "the background class, though highest");
    expect<i32>(s.counts[0] + s.counts[1] + s.counts[3] + s.counts[4]).toBe(4, "the four others pass");
  });
});

describe("scanScores: softmax with the background class elsewhere", () => {
  // row (ln4, 0, ln3, 0): exps (4, 1, 3, 1), sum 9 → (0.444, 0.111, 0.333, 0.111)
  it("background last (3): classes 0 and 2 pass 0.3", () => {
    const s = scan(f32s([LN4, 0, LN3, 0]), 1, 4, 3, ACTIVATION_SOFTMAX, [0.3, 0.3, 0.3, 0.3], -Infinity, false, 4);
    expectKey(s.list(0)[0], 4, 0, 0, 4.0 / 9.0, "class 0 is a real class here");
    expectKey(s.list(2)[0], 4, 0, 2, 1.0 / 3.0, "class 2");
    expect<i32>(s.counts[1] + s.counts[3]).toBe(0, "0.111 fails; class 3 is background");
  });

  it("background in the middle (2): class 2's 0.333 is skipped, class 0 still passes", () => {
    const s = scan(f32s([LN4, 0, LN3, 0]), 1, 4, 2, ACTIVATION_SOFTMAX, [0.3, 0.3, 0.3, 0.3], -Infinity, false, 4);
    expect<i32>(s.counts[2]).toBe(0, "background");
    expectKey(s.list(0)[0], 4, 0, 0, 4.0 / 9.0, "class 0");
  });

  it("background 0 on the same row: only class 2 passes (class 0 is background now)", () => {
    const s = scan(f32s([LN4, 0, LN3, 0]), 1, 4, 0, ACTIVATION_SOFTMAX, [0.3, 0.3, 0.3, 0.3], -Infinity, false, 4);
    expect<i32>(s.counts[0]).toBe(0, "background");
    expect<i32>(s.counts[2]).toBe(1, "class 2");
  });
});

describe("scanScores: pooled (class-agnostic) mode", () => {
  it("puts every class's candidates into list 0, best first", () => {
    // from the softmax case at 0.3: (prior 2, class 3, 0.5), (0, 1, 4/9), (0, 3, 1/3)
    const s = scan(softmaxCase(), 3, 4, 0, ACTIVATION_SOFTMAX, [0.3, 0.3, 0.3, 0.3], -Infinity, true, 8);
    expect<i32>(s.counts[0]).toBe(3, "one list holds all three");
    for (let c = 1; c < 4; c++) expect<i32>(s.counts[c]).toBe(0, "the per-class lists stay empty");
    const keys = s.list(0);
    expectKey(keys[0], 4, 2, 3, 0.5, "pooled #0");
    expectKey(keys[1], 4, 0, 1, 4.0 / 9.0, "pooled #1");
    expectKey(keys[2], 4, 0, 3, 1.0 / 3.0, "pooled #2");
  });

  it("keeps classes apart when not pooled (the opposite case)", () => {
    const s = scan(softmaxCase(), 3, 4, 0, ACTIVATION_SOFTMAX, [0.3, 0.3, 0.3, 0.3], -Infinity, false, 8);
    expect<i32>(s.counts[0]).toBe(0, "list 0 is class 0 = background: empty");
  });
});

// Host gate: a softmax row whose best foreground logit is more than −ln(0.3) = 1.204 below the
// row max cannot pass 0.3, so the host passes gate = ln(0.3) − 0.01 = −1.214.
// Row 3 = (2, 0.5, −5, −5): bestFg − max = −1.5 < gate, so the host gate skips it. (Its mean is
// −1.875, so 0.5 − mean = 2.375 is far above the core's own AM–GM bound ln(4·0.3) = 0.18: only
// the host gate can skip this row.) Scored, it gives e^(2, 0.5, −5, −5) = (7.389, 1.649, 0.0067,
// 0.0067), sum 9.0512 → (0.8164, 0.1822, 0.0007, 0.0007): nothing passes 0.3 anyway.
function gatedCase(): StaticArray<f32> {
  const a = softmaxCase();
  const out = new StaticArray<f32>(16);
  for (let i = 0; i < 12; i++) out[i] = a[i];
  out[12] = 2; out[13] = 0.5; out[14] = -5; out[15] = -5;
  return out;
}

// The per-class gate of the softmax scan: topK 1 and a first row of class-1 probability ≈ 0.5
// raise class 1's limit to ≈ 0.5 in the first batch of SCAN_ROWS rows. In the second batch,
// row 256 (logits 0, −1, −9, −9: e^(−1 − 0) = 0.37 < 0.5, probability 0.27) cannot enter and is
// not scored; row 257 (0, 0.5, −9, −9: probability 0.62) enters. Both pass the fixed gate and
// the mean gate, so only the class gate tells them apart: the scratch row's first slot of the
// last batch holds row 257's exponentials, not row 256's.
describe("scanScores: the per-class gate after a limit rose", () => {
  it("skips the row that cannot beat the risen limit and scores the one that can", () => {
    const numPriors = SCAN_ROWS + 2, numClasses = 4;
    const conf = new StaticArray<f32>(numPriors * numClasses);
    for (let p = 0; p < numPriors; p++) {
      conf[p * 4] = 0; conf[p * 4 + 1] = -9; conf[p * 4 + 2] = -9; conf[p * 4 + 3] = -9;
    }
    conf[1] = 0;                          // row 0: class 1 ≈ 0.5
    conf[SCAN_ROWS * 4 + 1] = -1;         // row 256: class 1 ≈ 0.27
    conf[(SCAN_ROWS + 1) * 4 + 1] = 0.5;  // row 257: class 1 ≈ 0.62
    const gate = <f32>(Math.log(0.01) - 1e-3);
    const s = scan(conf, numPriors, numClasses, 0, ACTIVATION_SOFTMAX, [Infinity, 0.01, 0.01, 0.01], gate, false, 1);
    expect<i32>(s.counts[1]).toBe(1, "class 1 keeps its best one");
    expectKey(s.list(1)[0], numClasses, SCAN_ROWS + 1, 1, 1.0 / (1.0 + Math.exp(-0.5) + 2 * Math.exp(-9.5)), "row 257");
    expect<f32>(s.row[1]).toBe(1, "slot 0 holds row 257: e^(0.5 − 0.5)");
    expect<u32>(bits(s.row[0])).toBe(bits(expf(-0.5)), "and its background e^(0 − 0.5)");
  });
});

/** Row 3's class 1 as scanScores leaves it in the scratch row: e^(0.5 − 2), not yet divided. */
const ROW3_EXP1: f64 = Math.exp(-1.5);

describe("scanScores: the softmax gate", () => {
  it("skips a confident-background row without changing any result", () => {
    const gate = <f32>(Math.log(0.3) - 0.01);
    const gated = scan(gatedCase(), 4, 4, 0, ACTIVATION_SOFTMAX, [0.3, 0.3, 0.3, 0.3], gate, false, 8);
    const open = scan(gatedCase(), 4, 4, 0, ACTIVATION_SOFTMAX, [0.3, 0.3, 0.3, 0.3], -Infinity, false, 8);
    expect<bool>(sameScan(gated, open)).toBe(true, "the gate is a proven bound: skipping must not change keys, counts or limits");
    // the scratch holds e^(l − max) of each scored row in turn (4 floats a slot): rows 0 and 2 fill
    // slots 0 and 1 (row 1 falls to the AM–GM bound; row 2 gives e^(0 − ln 4) = 0.25 at class 1),
    // and row 3 would fill slot 2 with e^(0.5 − 2) = 0.2231
    expectNear(gated.row[4 + 1], 0.25, 1e-6, "with the gate, slot 1 holds row 2");
    expect<f32>(gated.row[2 * 4 + 1]).toBe(0, "with the gate, row 3 was never scored: slot 2 is untouched");
    expectNear(open.row[2 * 4 + 1], ROW3_EXP1, 1e-6, "without it, row 3 was scored into slot 2");
  });

  it("lets the same row through with a gate just below its −1.5", () => {
    // rows 0 and 3 only: conf (row 0, row 3); gate −1.6 scores row 3, gate −1.4 skips it
    const conf = gatedCase();
    for (let c = 0; c < 4; c++) conf[4 + c] = conf[12 + c];
    const through = scan(conf, 2, 4, 0, ACTIVATION_SOFTMAX, [0.3, 0.3, 0.3, 0.3], -1.6, false, 8);
    expectNear(through.row[4 + 1], ROW3_EXP1, 1e-6, "−1.5 ≥ −1.6: the row was scored (slot 1)");
    const skipped = scan(conf, 2, 4, 0, ACTIVATION_SOFTMAX, [0.3, 0.3, 0.3, 0.3], -1.4, false, 8);
    expectNear(skipped.row[1], 1.0, 1e-6, "slot 0 holds row 0's e^(ln 4 − ln 4)");
    expect<f32>(skipped.row[4 + 1]).toBe(0, "−1.5 < −1.4: skipped, slot 1 is untouched");
    expect<bool>(sameScan(through, skipped)).toBe(true, "and either way the candidates are the same");
  });

  it("sigmoid gate on logits: a row under it is skipped with the same result", () => {
    // threshold 0.3 ⇔ logit > ln(0.3/0.7) = −0.847; row 1 (−3, −2, −5, −4) cannot pass
    const conf = f32s([0, 1, -1, 2, -3, -2, -5, -4]);
    const gated = scan(conf, 2, 4, -1, ACTIVATION_SIGMOID, [0.3, 0.3, 0.3, 0.3], -0.9, false, 4);
    const open = scan(conf, 2, 4, -1, ACTIVATION_SIGMOID, [0.3, 0.3, 0.3, 0.3], -Infinity, false, 4);
    expect<bool>(sameScan(gated, open)).toBe(true, "the gate never changes results");
    expect<i32>(open.counts[0] + open.counts[1] + open.counts[3]).toBe(3, "row 0: 0.5, 0.731, 0.881 pass");
  });
});

// activation none, 6 priors × 4 classes, class 1 scores (0.5, 0.7, 0.6, 0.9, 0.55, 0.8),
// other classes 0. topK 3 keeps 0.9 (p3), 0.8 (p5), 0.7 (p1); class 1's limit rises to 0.7.
function heapCase(): StaticArray<f32> {
  const s1: f32[] = [0.5, 0.7, 0.6, 0.9, 0.55, 0.8];
  const conf = new StaticArray<f32>(24);
  for (let p = 0; p < 6; p++) conf[4 * p + 1] = s1[p];
  return conf;
}

describe("scanScores: topK smaller than the passing candidates", () => {

  it("keeps the best three and raises the class limit to the weakest of them", () => {
    const s = scan(heapCase(), 6, 4, 0, ACTIVATION_NONE, [0.1, 0.1, 0.1, 0.1], -Infinity, false, 3);
    expect<i32>(s.counts[1]).toBe(3, "the heap holds topK keys");
    const keys = s.list(1);
    expectKey(keys[0], 4, 3, 1, 0.9, "best");
    expectKey(keys[1], 4, 5, 1, 0.8, "second");
    expectKey(keys[2], 4, 1, 1, 0.7, "third");
    expect<f32>(s.limits[1]).toBe(0.7, "a newcomer must now beat 0.7");
    expect<f32>(s.limits[2]).toBe(0.1, "other classes keep their own limits");
  });

  it("keeps all six when topK is large enough", () => {
    const s = scan(heapCase(), 6, 4, 0, ACTIVATION_NONE, [0.1, 0.1, 0.1, 0.1], -Infinity, false, 8);
    expect<i32>(s.counts[1]).toBe(6, "every score beats 0.1");
    expect<f32>(s.limits[1]).toBe(0.1, "the heap never filled");
  });

  it("on an equal score at the limit keeps the earlier prior", () => {
    // class 1 scores (0.5, 0.7, 0.6, 0.6), topK 2: heap {0.7 p1, 0.6 p2}; p3's 0.6 does not beat
    // the limit 0.6, which is right: at equal scores the lower prior index ranks first
    const conf = f32s([0, 0.5, 0, 0, 0, 0.7, 0, 0, 0, 0.6, 0, 0, 0, 0.6, 0, 0]);
    const s = scan(conf, 4, 4, 0, ACTIVATION_NONE, [0.1, 0.1, 0.1, 0.1], -Infinity, false, 2);
    const keys = s.list(1);
    expectKey(keys[0], 4, 1, 1, 0.7, "best");
    expectKey(keys[1], 4, 2, 1, 0.6, "prior 2 wins the tie with prior 3");
  });
});

// Pooled heaps are shared by all classes, so filling the heap raises every class's limit, but
// emitPassing's SIMD path compares a group of four classes against the limits read before the
// group's first offer. A later class of the same group then reaches `offer` without beating the
// raised limit, and `offer` replaces the root unconditionally, evicting a better key.
describe("scanScores: pooled heap limit within one group of four classes", () => {
  it("pooled topK 1, row (bg, 0.9, 0.5, 0): keeps class 1 at 0.9", () => {
    const s = scan(f32s([0, 0.9, 0.5, 0]), 1, 4, 0, ACTIVATION_NONE, [0.1, 0.1, 0.1, 0.1], -Infinity, true, 1);
    expect<i32>(s.counts[0]).toBe(1, "one slot");
    expectKey(s.list(0)[0], 4, 0, 1, 0.9, "0.9 must not be evicted by 0.5, which does not beat the raised limit 0.9");
  });

  it("pooled topK 2, row (bg, 0.9, 0.8, 0.5): keeps 0.9 and 0.8", () => {
    const s = scan(f32s([0, 0.9, 0.8, 0.5]), 1, 4, 0, ACTIVATION_NONE, [0.1, 0.1, 0.1, 0.1], -Infinity, true, 2);
    const keys = s.list(0);
    expectKey(keys[0], 4, 0, 1, 0.9, "best");
    expectKey(keys[1], 4, 0, 2, 0.8, "0.8 must not be replaced by 0.5");
  });

  it("the same row in the scalar tail (3 classes) keeps class 1 at 0.9", () => {
    const s = scan(f32s([0, 0.9, 0.5]), 1, 3, 0, ACTIVATION_NONE, [0.1, 0.1, 0.1], -Infinity, true, 1);
    expectKey(s.list(0)[0], 3, 0, 1, 0.9, "the scalar loop re-reads the limit for every class");
  });
});

// The core's own AM–GM bound (prob_c ≤ e^(l_c − mean)/C, checked against the lowest limit) is
// tight for near-uniform rows, so these put true candidates right at its edge.
//   21 equal logits: every probability is 1/21 = 0.0476190 (e^0 = 1 exactly, sum 21 exactly).
//   one logit 0.5, twenty 0: p = e^0.5/(20 + e^0.5) = 1.6487213/21.6487213 = 0.0761579.
function uniformRow(bump: f32): StaticArray<f32> {
  const row = new StaticArray<f32>(21);
  row[7] = bump;
  return row;
}

function thresholds21(t: f32, background: f32): f32[] {
  const out = new Array<f32>(21);
  for (let c = 0; c < 21; c++) out[c] = c == 0 ? background : t;
  return out;
}

describe("scanScores: the mean (AM–GM) bound never drops a true candidate", () => {
  it("keeps all 20 foreground classes of a uniform row at threshold 0.0476 < 1/21", () => {
    const s = scan(uniformRow(0), 1, 21, 0, ACTIVATION_SOFTMAX, thresholds21(0.0476, Infinity), -Infinity, false, 4);
    let passed = 0;
    for (let c = 1; c < 21; c++) passed += s.counts[c];
    expect<i32>(passed).toBe(20, "1/21 = 0.0476190 > 0.0476 for every class");
    expectKey(s.list(5)[0], 21, 0, 5, 1.0 / 21.0, "class 5");
  });

  it("keeps none of them at threshold 0.0477 > 1/21", () => {
    const s = scan(uniformRow(0), 1, 21, 0, ACTIVATION_SOFTMAX, thresholds21(0.0477, Infinity), -Infinity, false, 4);
    let passed = 0;
    for (let c = 1; c < 21; c++) passed += s.counts[c];
    expect<i32>(passed).toBe(0, "1/21 < 0.0477");
  });

  it("keeps the bumped class at 0.0761 < 0.0761579, and not at 0.0762", () => {
    const kept = scan(uniformRow(0.5), 1, 21, 0, ACTIVATION_SOFTMAX, thresholds21(0.0761, Infinity), -Infinity, false, 4);
    expect<i32>(kept.counts[7]).toBe(1, "the bound e^(0.5 − 0.5/21)/21 = 0.0766 is only 0.7% above p");
    expectKey(kept.list(7)[0], 21, 0, 7, 0.0761579, "class 7");
    const dropped = scan(uniformRow(0.5), 1, 21, 0, ACTIVATION_SOFTMAX, thresholds21(0.0762, Infinity), -Infinity, false, 4);
    expect<i32>(dropped.counts[7]).toBe(0, "0.0761579 ≤ 0.0762");
  });

  it("does the same with the background limit equal to the threshold instead of +∞", () => {
    const s = scan(uniformRow(0), 1, 21, 0, ACTIVATION_SOFTMAX, thresholds21(0.0476, 0.0476), -Infinity, false, 4);
    let passed = 0;
    for (let c = 0; c < 21; c++) passed += s.counts[c];
    expect<i32>(passed).toBe(20, "background still never passes; the 20 others do");
  });
});

// Brute force: score every row (no gates), keep every probability > threshold, sort all keys,
// take the best topK per list. The softmax is computed as the documented expRow order says.
function bruteForce(
  conf: StaticArray<f32>, numPriors: i32, numClasses: i32, threshold: f32, pooled: bool, topK: i32, list: i32
): StaticArray<u64> {
  const all = new Array<u64>();
  const row = new StaticArray<f32>(numClasses);
  for (let p = 0; p < numPriors; p++) {
    for (let c = 0; c < numClasses; c++) row[c] = conf[p * numClasses + c];
    const shift = scalarMax(row, 0, numClasses);
    const sum = partialSums(row, numClasses, shift);
    for (let c = 1; c < numClasses; c++) {
      if (!pooled && c != list) continue;
      const prob = expf(row[c] - shift) / sum;
      if (prob > threshold) all.push(candidateKey(prob, p, c, numClasses));
    }
  }
  const keys = new StaticArray<u64>(all.length);
  for (let i = 0; i < all.length; i++) keys[i] = all[i];
  const n = selectTopKeys(ptr(keys), keys.length, topK);
  const out = new StaticArray<u64>(n);
  for (let i = 0; i < n; i++) out[i] = keys[i];
  return out;
}

function randomConf(rng: Rng, numPriors: i32, numClasses: i32): StaticArray<f32> {
  const conf = new StaticArray<f32>(numPriors * numClasses);
  for (let p = 0; p < numPriors; p++) {
    const kind = rng.below(3);
    const spread: f32 = kind == 0 ? 0.05 : kind == 1 ? 0.6 : 4; // near-uniform, soft, peaked
    for (let c = 0; c < numClasses; c++) conf[p * numClasses + c] = rng.uniform(-spread, spread);
    if (rng.below(4) == 0) conf[p * numClasses] += 6; // confident background
  }
  return conf;
}

describe("scanScores vs brute force on random softmax rows", () => {
  it("per class: the same top-k keys, bit for bit, over 300 rows (limits rise, gates recomputed)", () => {
    const rng = new Rng(4242);
    let wrong = 0, found = 0;
    for (let trial = 0; trial < 4; trial++) {
      const conf = randomConf(rng, 300, 21);
      const s = scan(conf, 300, 21, 0, ACTIVATION_SOFTMAX, thresholds21(0.06, Infinity), <f32>(Math.log(0.06) - 0.01), false, 5);
      for (let c = 1; c < 21; c++) {
        const want = bruteForce(conf, 300, 21, 0.06, false, 5, c);
        const got = s.list(c);
        if (got.length != want.length) { wrong++; continue; }
        for (let i = 0; i < got.length; i++) if (got[i] != want[i]) wrong++;
        found += got.length;
      }
    }
    expect<i32>(wrong).toBe(0, "neither gate, nor the heap limits, may change which candidates are kept");
    expect<i32>(found).toBeGreaterThan(300, "the sample must actually produce candidates");
  });

  it("pooled: the same top-k keys as brute force over all classes", () => {
    const rng = new Rng(777);
    let wrong = 0;
    for (let trial = 0; trial < 4; trial++) {
      const conf = randomConf(rng, 300, 21);
      const s = scan(conf, 300, 21, 0, ACTIVATION_SOFTMAX, thresholds21(0.06, Infinity), <f32>(Math.log(0.06) - 0.01), true, 16);
      const want = bruteForce(conf, 300, 21, 0.06, true, 16, 0);
      const got = s.list(0);
      if (got.length != want.length) wrong++;
      else for (let i = 0; i < got.length; i++) if (got[i] != want[i]) wrong++;
    }
    expect<i32>(wrong).toBe(0, "one shared heap, limits raised for all classes, same result");
  });
});

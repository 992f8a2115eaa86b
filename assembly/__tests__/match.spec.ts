// Ground-truth matching (ssd.pytorch `match`): forced best priors, the 0.5 threshold, ties,
// competing truths, no truths, and encode → decode back to the truth.

import { ORDER_XYWH, decodeBoxScalar } from "../coder";
import { matchPriors } from "../match";
import { expectNear, f32s, i32s, ptr } from "./helpers";

const SX: f32 = 0.1, SY: f32 = 0.1, SW: f32 = 0.2, SH: f32 = 0.2;

class Matched {
  conf: StaticArray<i32>;
  loc: StaticArray<f32>;
  positives: i32 = 0;
  constructor(numPriors: i32) {
    this.conf = new StaticArray<i32>(numPriors);
    this.loc = new StaticArray<f32>(4 * numPriors);
  }
}

/** priors: (cx, cy, w, h) rows; truths: (xmin, ymin, xmax, ymax) rows. */
function runMatch(priors: StaticArray<f32>, truths: StaticArray<f32>, labels: StaticArray<i32>, threshold: f32): Matched {
  const numPriors = priors.length / 4, numTruths = labels.length;
  const m = new Matched(numPriors);
  for (let i = 0; i < m.loc.length; i++) m.loc[i] = 123; // must be overwritten
  const bestOverlap = new StaticArray<f32>(numPriors);
  const bestTruth = new StaticArray<i32>(numPriors);
  m.positives = matchPriors(ptr(priors), numPriors, ptr(truths), ptr(labels), numTruths, threshold,
    ORDER_XYWH, SX, SY, SW, SH, ptr(bestOverlap), ptr(bestTruth), ptr(m.conf), ptr(m.loc));
  return m;
}

describe("matchPriors: forced best prior", () => {
  // P0 = [0,0.5]², P1 = [0.5,1]². T = [0,0.3]²: IoU(T, P0) = 0.09/0.25 = 0.36 < 0.5, IoU(T, P1) = 0
  it("gives a truth its best prior even when that IoU (0.36) is under the threshold", () => {
    const m = runMatch(f32s([0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 0.5, 0.5]), f32s([0, 0, 0.3, 0.3]), i32s([7]), 0.5);
    expect<i32>(m.conf[0]).toBe(7, "P0 is forced to T's label");
    expect<i32>(m.conf[1]).toBe(0, "P1 does not overlap T at all");
    expect<i32>(m.positives).toBe(1, "one positive prior");
  });

  it("leaves the same prior background when the only truth lies elsewhere", () => {
    // the truth is P1's box exactly: IoU(P0, truth) = 0, nothing forces P0
    const m = runMatch(f32s([0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 0.5, 0.5]), f32s([0.5, 0.5, 1, 1]), i32s([3]), 0.5);
    expect<i32>(m.conf[0]).toBe(0, "P0 has IoU 0 with the only truth");
    expect<i32>(m.conf[1]).toBe(3, "P1 matches it exactly");
  });
});

// T = [0,0.5]², label 2. P0 = T (IoU 1, forced). P1 = [0,0.5]×[0,0.4]: IoU 0.2/0.25 = 0.8.
// P2 = [0,0.5]×[0,0.2]: 0.1/0.25 = 0.4. P3 = [0,0.5]×[0,0.25]: 0.125/0.25 = 0.5 exactly.
function thresholdPriors(): StaticArray<f32> {
  return f32s([0.25, 0.25, 0.5, 0.5, 0.25, 0.2, 0.5, 0.4, 0.25, 0.1, 0.5, 0.2, 0.25, 0.125, 0.5, 0.25]);
}

describe("matchPriors: the IoU threshold", () => {
  it("makes a non-forced prior with IoU 0.8 ≥ 0.5 positive", () => {
    const m = runMatch(thresholdPriors(), f32s([0, 0, 0.5, 0.5]), i32s([2]), 0.5);
    expect<i32>(m.conf[1]).toBe(2, "0.8 ≥ 0.5");
  });

  it("makes a prior with IoU exactly 0.5 positive (≥, not >)", () => {
    const m = runMatch(thresholdPriors(), f32s([0, 0, 0.5, 0.5]), i32s([2]), 0.5);
    expect<i32>(m.conf[3]).toBe(2, "0.125 / 0.25 = 0.5 exactly in f32");
  });

  it("leaves a prior with IoU 0.4 < 0.5 as background", () => {
    const m = runMatch(thresholdPriors(), f32s([0, 0, 0.5, 0.5]), i32s([2]), 0.5);
    expect<i32>(m.conf[2]).toBe(0, "0.4 < 0.5");
    expect<i32>(m.positives).toBe(3, "P0 (forced), P1, P3");
  });
});

describe("matchPriors: ties", () => {
  it("forces the lower prior index when two priors tie for a truth's best", () => {
    // P0 and P1 both [0,0.5]²; T = [0,0.3]² at 0.36 with each
    const m = runMatch(f32s([0.25, 0.25, 0.5, 0.5, 0.25, 0.25, 0.5, 0.5]), f32s([0, 0, 0.3, 0.3]), i32s([4]), 0.5);
    expect<i32>(m.conf[0]).toBe(4, "the first of the tied priors is forced");
    expect<i32>(m.conf[1]).toBe(0, "the second keeps its 0.36 < 0.5: background");
  });

  // T0 = [0,0.5]×[0,0.5] (label 1), T1 = [0.5,1]×[0,0.5] (label 2); P0 = T0, P1 = T1,
  // P2 = [0.25,0.75]×[0,0.5] overlaps each by 0.125/0.375 = 1/3: a tie, to the lower truth T0.
  // P2 is background (1/3 < 0.5) but its loc is encoded against its truth, which shows it:
  //   against T0: tx = (0.25 − 0.5)/0.5/0.1 = −5;   against T1: (0.75 − 0.5)/0.5/0.1 = +5
  it("gives a prior that ties between two truths the lower truth index", () => {
    const priors = f32s([0.25, 0.25, 0.5, 0.5, 0.75, 0.25, 0.5, 0.5, 0.5, 0.25, 0.5, 0.5]);
    const m = runMatch(priors, f32s([0, 0, 0.5, 0.5, 0.5, 0, 1, 0.5]), i32s([1, 2]), 0.5);
    expect<i32>(m.conf[0]).toBe(1, "P0 is T0's");
    expect<i32>(m.conf[1]).toBe(2, "P1 is T1's");
    expect<i32>(m.conf[2]).toBe(0, "1/3 < 0.5");
    expectNear(m.loc[8], -5, 1e-5, "P2 is encoded against T0, the lower index");
  });

  it("gives that prior T1 instead when T1 overlaps it a little more", () => {
    // widen T1 to [0.45,1]×[0,0.5]: IoU(P2, T1) = 0.15/0.375 = 0.4 > 1/3
    //   tx against T1 = (0.725 − 0.5)/0.5/0.1 = 4.5
    const priors = f32s([0.25, 0.25, 0.5, 0.5, 0.75, 0.25, 0.5, 0.5, 0.5, 0.25, 0.5, 0.5]);
    const m = runMatch(priors, f32s([0, 0, 0.5, 0.5, 0.45, 0, 1, 0.5]), i32s([1, 2]), 0.5);
    expectNear(m.loc[8], 4.5, 1e-5, "P2 is encoded against T1");
  });
});

describe("matchPriors: truths competing for one prior", () => {
  // P0 = [0,1]², P1 = [2,3]² (far away). T0 = [0,0.5]×[0,1] (IoU 0.5, label 1),
  // T1 = [0.6,1]×[0,1] (IoU 0.4, label 2). Both have P0 as their best prior. The first pass gives
  // P0 to T0 (0.5 > 0.4); then T0 forces P0, and T1 forces P0 after it: the later forcing wins.
  it("lets the later truth's forcing win the shared prior, as ssd.pytorch's loop does", () => {
    const m = runMatch(f32s([0.5, 0.5, 1, 1, 2.5, 2.5, 1, 1]), f32s([0, 0, 0.5, 1, 0.6, 0, 1, 1]), i32s([1, 2]), 0.5);
    expect<i32>(m.conf[0]).toBe(2, "T1 forced P0 last");
    expect<i32>(m.conf[1]).toBe(0, "P1 is far from both");
    expect<i32>(m.positives).toBe(1, "T0 ends up with no prior at all");
  });

  it("gives the prior to T0 when the truths come in the other order", () => {
    const m = runMatch(f32s([0.5, 0.5, 1, 1, 2.5, 2.5, 1, 1]), f32s([0.6, 0, 1, 1, 0, 0, 0.5, 1]), i32s([2, 1]), 0.5);
    expect<i32>(m.conf[0]).toBe(1, "now the 0.5-IoU truth forces last");
  });
});

describe("matchPriors: no truths", () => {
  it("marks every prior background, writes zero offsets and returns 0", () => {
    const m = runMatch(f32s([0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 0.5, 0.5]), new StaticArray<f32>(0), new StaticArray<i32>(0), 0.5);
    expect<i32>(m.positives).toBe(0, "nothing to match");
    expect<i32>(m.conf[0] + m.conf[1]).toBe(0, "all background");
    for (let i = 0; i < 8; i++) expect<f32>(m.loc[i]).toBe(0, "zero offsets, not stale scratch");
  });

  it("with one truth, offsets are written for every prior, positive or not", () => {
    const m = runMatch(f32s([0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 0.5, 0.5]), f32s([0, 0, 0.5, 0.5]), i32s([1]), 0.5);
    for (let i = 0; i < 8; i++) expect<f32>(m.loc[i]).not.toBe(123, "every row is encoded against its best truth");
  });
});

describe("matchPriors: encode → decode", () => {
  it("decodes a positive prior's offsets back to its truth within 1e-5", () => {
    // T = [0.1,0.2]–[0.45,0.6], area 0.35·0.4 = 0.14.
    //   P0 = [0.15,0.2]–[0.45,0.6], area 0.12 ⊂ T: IoU 0.12/0.14 = 0.857 (≥ 0.5)
    //   P1 = [0.09,0.2]–[0.45,0.62], area 0.1512 ⊃ T: IoU 0.14/0.1512 = 0.926 (best, forced)
    //   P2 = [0.7,0.7]–[0.9,0.9]: IoU 0
    const priors = f32s([0.3, 0.4, 0.3, 0.4, 0.27, 0.41, 0.36, 0.42, 0.8, 0.8, 0.2, 0.2]);
    const truth = f32s([0.1, 0.2, 0.45, 0.6]);
    const m = runMatch(priors, truth, i32s([5]), 0.5);
    expect<i32>(m.conf[0]).toBe(5, "P0: IoU 0.857 ≥ 0.5");
    expect<i32>(m.conf[1]).toBe(5, "P1: T's best prior");
    expect<i32>(m.conf[2]).toBe(0, "P2 is elsewhere");
    const back = new StaticArray<f32>(4);
    for (let p = 0; p < 2; p++) {
      decodeBoxScalar(ptr(m.loc) + <usize>(16 * p), ptr(priors) + <usize>(16 * p), ORDER_XYWH, SX, SY, SW, SH, false, ptr(back));
      for (let c = 0; c < 4; c++) expectNear(back[c], truth[c], 1e-5, "one coder for training and inference");
    }
  });
});

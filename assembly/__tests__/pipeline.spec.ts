// detectBatch end to end on a hand-built plan (word map at the top of pipeline.ts): 3 priors,
// 3 classes (0 = background), 2 images, scores given as probabilities (activation none).

import { findNonFinite } from "../finite";
import { ACTIVATION_NONE, ACTIVATION_SIGMOID, ACTIVATION_SOFTMAX } from "../scores";
import { Plan, PLAN_WORDS, QUANT_PLAN_OFFSET, QuantBlock, SCAN_ROWS } from "../plan";
import { detectBatch, detectBatchQuantized, RECORD_WORDS } from "../pipeline";
import { expectNear, f32s, ptr, u8s } from "./helpers";

const NUM_PRIORS = 3, NUM_CLASSES = 3, NUM_IMAGES = 2, TOP_K = 4;

// Priors (cx, cy, w, h) → corners:
//   P0 (0.25, 0.25, 0.5, 0.5) → [0, 0, 0.5, 0.5]
//   P1 (0.30, 0.25, 0.5, 0.5) → [0.05, 0, 0.55, 0.5]    IoU(P0, P1) = 0.225/0.275 = 0.818
//   P2 (0.75, 0.75, 0.5, 0.5) → [0.5, 0.5, 1, 1]        IoU with P0, P1: 0 (corner / edge)
// Image 0 moves P2 right by tx = 1: cx = 0.75 + 1·0.1·0.5 = 0.8 → [0.55, 0.5, 1.05, 1].
// Image 0 scores (bg, c1, c2): P0 (0, 0.9, 0.2), P1 (0, 0.8, 0.6), P2 (0, 0.05, 0.7)
// Image 1 scores:              P0 (0.5, 0.05, 0.05), P1 (0, 0, 0.95), P2 (0, 0.3, 0)
// Thresholds 0.1 for every class.
class Arena {
  plan: StaticArray<u32> = new StaticArray<u32>(64);
  priors: StaticArray<f32> = f32s([0.25, 0.25, 0.5, 0.5, 0.3, 0.25, 0.5, 0.5, 0.75, 0.75, 0.5, 0.5]);
  loc: StaticArray<f32> = f32s([
    0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,   // image 0
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0    // image 1
  ]);
  conf: StaticArray<f32> = f32s([
    0, 0.9, 0.2, 0, 0.8, 0.6, 0, 0.05, 0.7,      // image 0
    0.5, 0.05, 0.05, 0, 0, 0.95, 0, 0.3, 0       // image 1
  ]);
  thresholds: StaticArray<f32> = f32s([0.1, 0.1, 0.1]);
  heaps: StaticArray<u64> = new StaticArray<u64>(NUM_CLASSES * TOP_K);
  counts: StaticArray<i32> = new StaticArray<i32>(NUM_CLASSES);
  keptKeys: StaticArray<u64> = new StaticArray<u64>(NUM_CLASSES * TOP_K);
  boxes: StaticArray<f32> = new StaticArray<f32>(TOP_K * 4);
  keptBoxes: StaticArray<f32> = new StaticArray<f32>(NUM_CLASSES * 5 * 8); // per list
  row: StaticArray<f32> = new StaticArray<f32>(SCAN_ROWS * NUM_CLASSES);
  out: StaticArray<f32>;
  outCounts: StaticArray<i32> = new StaticArray<i32>(NUM_IMAGES);
  limits: StaticArray<f32> = new StaticArray<f32>(NUM_CLASSES);
  order: StaticArray<i32> = new StaticArray<i32>(NUM_CLASSES);

  constructor(public keepTopK: i32) {
    this.out = new StaticArray<f32>(NUM_IMAGES * keepTopK * RECORD_WORDS);
    const p = this.fields;
    p.numPriors = NUM_PRIORS; p.numClasses = NUM_CLASSES; p.backgroundClass = 0; p.activation = ACTIVATION_NONE;
    p.topK = TOP_K; p.keepTopK = keepTopK; p.classAgnostic = 0; p.clip = 0; p.softNms = 0;
    p.nmsThreshold = 0.45; p.softNmsSigma = 0.5; p.gate = <f32>-Infinity;
    p.scaleX = 0.1; p.scaleY = 0.1; p.scaleW = 0.2; p.scaleH = 0.2;
    p.order = 0;
    p.priorsPtr = ptr(this.priors); p.locPtr = ptr(this.loc); p.confPtr = ptr(this.conf);
    p.thresholdsPtr = ptr(this.thresholds); p.heapsPtr = ptr(this.heaps); p.countsPtr = ptr(this.counts);
    p.keptKeysPtr = ptr(this.keptKeys); p.boxesPtr = ptr(this.boxes); p.keptBoxesPtr = ptr(this.keptBoxes);
    p.rowPtr = ptr(this.row); p.outPtr = ptr(this.out); p.outCountsPtr = ptr(this.outCounts);
    p.minThreshold = 0.1; p.limitsPtr = ptr(this.limits); p.orderPtr = ptr(this.order);
    p.tfliteMode = 0; // not TFLite's NMS (tflite.spec.ts runs those modes)
    p.recordsPerImage = keepTopK;
  }

  /** The plan block, by field (assembly/plan.ts). */
  get fields(): Plan {
    return changetype<Plan>(ptr(this.plan));
  }

  /** detectBatch's answer: whether its scan found the input finite. */
  run(): bool {
    return detectBatch(ptr(this.plan), NUM_IMAGES);
  }

  classOf(image: i32, i: i32): i32 {
    return reinterpret<i32>(this.out[(image * this.keepTopK + i) * RECORD_WORDS]);
  }
  priorOf(image: i32, i: i32): i32 {
    return reinterpret<i32>(this.out[(image * this.keepTopK + i) * RECORD_WORDS + 1]);
  }
  field(image: i32, i: i32, f: i32): f32 {
    return this.out[(image * this.keepTopK + i) * RECORD_WORDS + f];
  }
}

function expectRecord(a: Arena, image: i32, i: i32, cls: i32, prior: i32, score: f64, why: string): void {
  const tag = why + " (image " + image.toString() + ", #" + i.toString() + ")";
  expect<i32>(a.classOf(image, i)).toBe(cls, tag + ": class");
  expect<i32>(a.priorOf(image, i)).toBe(prior, tag + ": prior");
  expectNear(a.field(image, i, 2), score, 1e-6, tag + ": score");
}

function expectBox(a: Arena, image: i32, i: i32, x1: f64, y1: f64, x2: f64, y2: f64, why: string): void {
  expectNear(a.field(image, i, 3), x1, 1e-6, why + ": xmin");
  expectNear(a.field(image, i, 4), y1, 1e-6, why + ": ymin");
  expectNear(a.field(image, i, 5), x2, 1e-6, why + ": xmax");
  expectNear(a.field(image, i, 6), y2, 1e-6, why + ": ymax");
}

describe("detectBatch: the input check on its way", () => {
  it("finds finite input finite, large values of both signs included", () => {
    const a = new Arena(5);
    a.conf[1] = 1e30; a.conf[4] = -1e30; a.loc[23] = -1e30;
    expect<bool>(a.run()).toBe(true, "every value is finite");
  });

  it("finds NaN, +∞ and −∞ at every loc and conf index of both images, in every activation", () => {
    // activation none and sigmoid never read the background column (index 0 of each row)
    const activations: i32[] = [ACTIVATION_NONE, ACTIVATION_SIGMOID, ACTIVATION_SOFTMAX];
    const bad: f32[] = [NaN, Infinity, -Infinity];
    const a = new Arena(5);
    let missed = 0, checks = 0;
    for (let k = 0; k < activations.length; k++) {
      a.fields.activation = activations[k];
      for (let b = 0; b < bad.length; b++) {
        for (let i = 0; i < a.conf.length; i++) {
          const was = a.conf[i];
          a.conf[i] = bad[b];
          if (a.run()) missed++;
          a.conf[i] = was;
          checks++;
        }
        for (let i = 0; i < a.loc.length; i++) {
          const was = a.loc[i];
          a.loc[i] = bad[b];
          if (a.run()) missed++;
          a.loc[i] = was;
          checks++;
        }
      }
    }
    expect<i32>(checks).toBe(3 * 3 * (18 + 24), "every activation, value and index");
    expect<i32>(missed).toBe(0, "runs that called a non-finite input finite");
    a.fields.activation = ACTIVATION_NONE;
    expect<bool>(a.run()).toBe(true, "the restored input is finite again");
    expect<i32>(a.outCounts[0]).toBe(3, "and gives image 0's three detections");
  });

  it("may call finite values non-finite when their sum overflows (the host's exact scan settles it)", () => {
    const a = new Arena(5);
    a.conf[1] = 3e38; a.conf[2] = 3e38;
    expect<bool>(a.run()).toBe(false, "3e38 + 3e38 overflows: a false alarm");
    expect<i32>(findNonFinite(ptr(a.conf), a.conf.length)).toBe(-1, "which findNonFinite clears");
  });
});

describe("detectBatch: greedy NMS per class", () => {
  // image 0: class 1 has P0 0.9, P1 0.8 → P1 suppressed (0.818 > 0.45).
  //   class 2 has P2 0.7, P1 0.6, P0 0.2 → P1 kept (IoU 0 with P2), P0 suppressed by P1.
  //   keep-top-k over all classes: (c1 P0 0.9), (c2 P2 0.7), (c2 P1 0.6).
  // image 1: class 2 P1 0.95; class 1 P2 0.3; P0's 0.5 is background.
  it("returns the hand-computed detections for both images, best first", () => {
    const a = new Arena(5);
    a.run();
    expect<i32>(a.outCounts[0]).toBe(3, "image 0: three survivors");
    expectRecord(a, 0, 0, 1, 0, 0.9, "best");
    expectBox(a, 0, 0, 0, 0, 0.5, 0.5, "P0 undisturbed by zero offsets");
    expectRecord(a, 0, 1, 2, 2, 0.7, "second");
    expectBox(a, 0, 1, 0.55, 0.5, 1.05, 1, "P2 moved right by 0.05, not clipped");
    expectRecord(a, 0, 2, 2, 1, 0.6, "third");
    expectBox(a, 0, 2, 0.05, 0, 0.55, 0.5, "P1");
    expect<i32>(a.outCounts[1]).toBe(2, "image 1: two survivors");
    expectRecord(a, 1, 0, 2, 1, 0.95, "image 1 best");
    expectRecord(a, 1, 1, 1, 2, 0.3, "image 1 second");
    expectBox(a, 1, 1, 0.5, 0.5, 1, 1, "image 1 has its own (zero) offsets for P2");
  });

  it("caps each image at keepTopK = 2, keeping the best", () => {
    const a = new Arena(2);
    a.run();
    expect<i32>(a.outCounts[0]).toBe(2, "three survivors, two slots");
    expectRecord(a, 0, 0, 1, 0, 0.9, "best");
    expectRecord(a, 0, 1, 2, 2, 0.7, "second; 0.6 is cut");
    expect<i32>(a.outCounts[1]).toBe(2, "image 1 starts at its own record block");
    expectRecord(a, 1, 0, 2, 1, 0.95, "image 1 best");
  });

  it("clips decoded boxes when the plan says so", () => {
    const a = new Arena(5);
    a.fields.clip = 1;
    a.run();
    expectBox(a, 0, 1, 0.55, 0.5, 1, 1, "P2's xmax 1.05 clipped to 1");
  });

  it("gives the same results when run twice (no state leaks between calls)", () => {
    const a = new Arena(5);
    a.run();
    a.run();
    expect<i32>(a.outCounts[0]).toBe(3, "counts and limits are reset per image");
    expectRecord(a, 0, 2, 2, 1, 0.6, "third again");
  });
});

describe("detectBatch: class-agnostic", () => {
  // one pooled list, topK 4: 0.9 (c1 P0), 0.8 (c1 P1), 0.7 (c2 P2), 0.6 (c2 P1); 0.2 is cut.
  // NMS across classes: P1 (0.8) and P1 (0.6) both overlap P0 by 0.818 → (c1 P0), (c2 P2).
  it("suppresses across classes", () => {
    const a = new Arena(5);
    a.fields.classAgnostic = 1;
    a.run();
    expect<i32>(a.outCounts[0]).toBe(2, "class 2's P1 is suppressed by class 1's P0");
    expectRecord(a, 0, 0, 1, 0, 0.9, "best");
    expectRecord(a, 0, 1, 2, 2, 0.7, "second");
  });
});

describe("detectBatch: linear soft-NMS", () => {
  // class 1: keep P0 0.9; P1 0.8·(1 − 0.818182) = 0.145455 > 0.1 stays, then kept.
  // class 2: keep P2 0.7; P1 (IoU 0) 0.6 kept; P0 0.2·0.181818 = 0.036 ≤ 0.1 drops out.
  // keep-top-k: 0.9, 0.7, 0.6, 0.145455
  it("keeps decayed candidates above the class threshold, with decayed scores", () => {
    const a = new Arena(5);
    a.fields.softNms = 1;
    a.run();
    expect<i32>(a.outCounts[0]).toBe(4, "the suppressed P1 of class 1 comes back decayed");
    expectRecord(a, 0, 0, 1, 0, 0.9, "best");
    expectRecord(a, 0, 1, 2, 2, 0.7, "second");
    expectRecord(a, 0, 2, 2, 1, 0.6, "third");
    expectRecord(a, 0, 3, 1, 1, 0.8 * (1.0 - 0.225 / 0.275), "decayed 0.8");
  });
});

describe("detectBatch: class-agnostic soft-NMS uses the plan's minThreshold (word 29)", () => {
  // pooled list (topK 4): c1 P0 0.9, c1 P1 0.8, c2 P2 0.7, c2 P1 0.6.
  // Round 1 keeps 0.9 (P0): c1 P1 → 0.8·0.181818 = 0.145455, c2 P1 → 0.6·0.181818 = 0.109091;
  //   P2 does not overlap P0. Round 2 keeps 0.7 (P2), which overlaps neither P1.
  // Round 3 keeps c1 P1 0.145455; c2 P1 is the same box (IoU 1): 0.109091·0 = 0 drops out.
  it("keeps 0.9, 0.7 and the decayed 0.1455 at minThreshold 0.1", () => {
    const a = new Arena(5);
    a.fields.classAgnostic = 1; a.fields.softNms = 1; a.fields.minThreshold = 0.1;
    a.run();
    expect<i32>(a.outCounts[0]).toBe(3, "the decayed class-2 copy of P1 is zeroed by its class-1 twin");
    expectRecord(a, 0, 0, 1, 0, 0.9, "best");
    expectRecord(a, 0, 1, 2, 2, 0.7, "second");
    expectRecord(a, 0, 2, 1, 1, 0.8 * (1.0 - 0.225 / 0.275), "decayed 0.8");
  });

  it("drops the decayed 0.1455 when minThreshold is 0.15", () => {
    const a = new Arena(5);
    a.fields.classAgnostic = 1; a.fields.softNms = 1; a.fields.minThreshold = 0.15;
    a.run();
    expect<i32>(a.outCounts[0]).toBe(2, "0.145455 ≤ 0.15");
  });
});

// detectBatchQuantized on the same arena: uint8 heads, conf = 0.05·q, loc = 0.1·(q − 10).
// Threshold 0.1: 0.05·2 = 0.1 does not pass, so the gate byte is 2 (q > 2 passes).
// Image 0: every row has a class above its gate. Image 1: P0 (10, 1, 1) has only its background
// above (0.5), so P1 and P2 are its candidates, packed as rows 0 and 1 and given back as 1 and 2.
const CONF_Q: i32[] = [0, 18, 4, 0, 16, 12, 0, 1, 14, /* image 1 */ 10, 1, 1, 0, 0, 19, 0, 6, 0];
const LOC_Q: i32[] = [10, 10, 10, 10, 10, 10, 10, 10, 20, 10, 10, 10, /* image 1 */ 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10];

function quantBlock(a: Arena, confQ: StaticArray<u8>, locQ: StaticArray<u8>, gates: StaticArray<u8>,
                    luts: StaticArray<f32>, rows: StaticArray<i32>, packed: StaticArray<f32>): StaticArray<u32> {
  const q = new StaticArray<u32>(<i32>(QUANT_PLAN_OFFSET >> 2) + PLAN_WORDS);
  const block = changetype<QuantBlock>(ptr(q));
  block.locQPtr = ptr(locQ); block.confQPtr = ptr(confQ); block.gatesPtr = ptr(gates); block.allPass = 0;
  block.locLutPtr = ptr(luts); block.confLutPtr = ptr(luts) + 1024; block.rowsPtr = ptr(rows); block.priorsPtr = ptr(packed);
  return q;
}

describe("detectBatchQuantized", () => {
  it("gives the records of dequantise + detectBatch, bit for bit, with the real prior indices", () => {
    const luts = new StaticArray<f32>(512); // loc table, then conf table
    for (let q = 0; q < 256; q++) { luts[q] = <f32>(q - 10) * <f32>0.1; luts[256 + q] = <f32>q * <f32>0.05; }
    const gates = new StaticArray<u8>(32);
    for (let c = 0; c < 32; c++) gates[c] = c == 1 || c == 2 ? 2 : 255;
    const confQ = u8s(CONF_Q), locQ = u8s(LOC_Q);
    // the float path on the dequantised heads
    const a = new Arena(5);
    for (let i = 0; i < CONF_Q.length; i++) a.conf[i] = luts[256 + CONF_Q[i]];
    for (let i = 0; i < LOC_Q.length; i++) a.loc[i] = luts[LOC_Q[i]];
    a.run();
    const expected = new StaticArray<f32>(a.out.length);
    for (let i = 0; i < a.out.length; i++) expected[i] = a.out[i];
    const counts = [a.outCounts[0], a.outCounts[1]];
    expect<i32>(counts[1]).toBe(2, "image 1: two detections in float");
    // the uint8 path on a fresh arena whose loc and conf regions start as garbage
    const b = new Arena(5);
    for (let i = 0; i < b.conf.length; i++) b.conf[i] = 7;
    for (let i = 0; i < b.loc.length; i++) b.loc[i] = 7;
    const rows = new StaticArray<i32>(NUM_PRIORS), packed = new StaticArray<f32>(NUM_PRIORS * 4);
    detectBatchQuantized(ptr(b.plan), NUM_IMAGES, ptr(quantBlock(b, confQ, locQ, gates, luts, rows, packed)));
    for (let image = 0; image < NUM_IMAGES; image++) {
      expect<i32>(b.outCounts[image]).toBe(counts[image], "image " + image.toString() + ": count");
      for (let i = 0; i < counts[image] * RECORD_WORDS; i++) {
        const at = image * 5 * RECORD_WORDS + i;
        expect<u32>(reinterpret<u32>(b.out[at])).toBe(reinterpret<u32>(expected[at]), "image " + image.toString() + ", word " + i.toString());
      }
    }
    expect<i32>(rows[0]).toBe(1, "image 1's first candidate row is P1");
    expect<i32>(rows[1]).toBe(2, "image 1's second candidate row is P2");
  });

  it("an image without a candidate row gets no detection; allPass makes every row a candidate", () => {
    const luts = new StaticArray<f32>(512);
    for (let q = 0; q < 256; q++) { luts[q] = 0; luts[256 + q] = <f32>q * <f32>0.05; }
    const never = new StaticArray<u8>(32);
    for (let c = 0; c < 32; c++) never[c] = 255;
    const a = new Arena(5);
    const rows = new StaticArray<i32>(NUM_PRIORS), packed = new StaticArray<f32>(NUM_PRIORS * 4);
    const q = quantBlock(a, u8s(CONF_Q), u8s(LOC_Q), never, luts, rows, packed);
    detectBatchQuantized(ptr(a.plan), NUM_IMAGES, ptr(q));
    expect<i32>(a.outCounts[0]).toBe(0, "image 0: no candidate");
    expect<i32>(a.outCounts[1]).toBe(0, "image 1: no candidate");
    changetype<QuantBlock>(ptr(q)).allPass = 1; // the float thresholds (0.1) decide alone
    detectBatchQuantized(ptr(a.plan), NUM_IMAGES, ptr(q));
    expect<i32>(a.outCounts[0]).toBe(3, "image 0: the three survivors of the float path");
    expect<i32>(rows[2]).toBe(2, "every row packed in order");
  });
});

describe("Plan: one 32-bit word per field, in declaration order", () => {
  it("puts numPriors at word 0, priorsPtr at 17, limitsPtr at 30, mediapipeScaleH at 52", () => {
    expect<usize>(offsetof<Plan>("numPriors")).toBe(0, "the first field opens the block (no object header)");
    expect<usize>(offsetof<Plan>("priorsPtr")).toBe(17 << 2, "usize is four bytes on wasm32");
    expect<usize>(offsetof<Plan>("limitsPtr")).toBe(30 << 2, "f32 and i32 fields between add no padding");
    expect<usize>(offsetof<Plan>("mediapipeScaleH")).toBe(52 << 2, "the last field");
    expect<bool>(offsetof<Plan>() <= <usize>PLAN_WORDS << 2).toBe(true, "the plan fits the words the host reserves");
  });

  it("QuantBlock ends before the plan copy at QUANT_PLAN_OFFSET", () => {
    expect<usize>(offsetof<QuantBlock>("priorsPtr")).toBe(7 << 2, "eight fields");
    expect<bool>(offsetof<QuantBlock>() <= QUANT_PLAN_OFFSET).toBe(true, "no overlap with the plan copy");
  });
});

// TensorFlow Lite's TFLite_Detection_PostProcess modes (tflite.ts) on hand-built plans, with the
// expected numbers worked out from detection_postprocess.cc, not from our code: the ≥ score
// threshold, the strict IoU threshold, stable tie order in NMS, libstdc++ partial_sort tie
// order for the classes of an anchor and for the regular merge, max_classes_per_detection,
// detections_per_class, zero-area boxes, and TFLite's f64 decode.
//
// Offsets are zero unless stated, so every box is its prior's corners exactly: TFLite's decode
// gives ycenter = 0/10·h + cy = cy and half_h = 0.5·exp(0)·h = h/2, both exact for the dyadic
// numbers used here. Scores are probabilities (activation none); column 0 is the background
// (TFLite's label offset 1).

import { decodeBoxTflite } from "../coder";
import { Plan, SCAN_ROWS } from "../plan";
import { RECORD_WORDS, detectBatch } from "../pipeline";
import { ACTIVATION_NONE, ACTIVATION_SIGMOID } from "../scores";
import { TFLITE_FAST, TFLITE_REGULAR, decreasingPartialArgSort } from "../tflite";
import { bits, expectNear, f32s, ptr } from "./helpers";

/** The largest f32 below x (x > 0): the limit that makes the core's `>` TFLite's `≥`. */
function below(x: f32): f32 {
  return reinterpret<f32>(reinterpret<u32>(x) - 1);
}

/** A one-image arena for detectBatch in a TFLite mode (word map in pipeline.ts). */
class Tflite {
  plan: StaticArray<u32> = new StaticArray<u32>(48);
  priors: StaticArray<f32>;
  loc: StaticArray<f32>;
  conf: StaticArray<f32>;
  thresholds: StaticArray<f32>;
  heaps: StaticArray<u64>;
  counts: StaticArray<i32>;
  keptKeys: StaticArray<u64>;
  boxes: StaticArray<f32>;
  keptBoxes: StaticArray<f32>;
  row: StaticArray<f32>;
  limits: StaticArray<f32>;
  order: StaticArray<i32>;
  mergeScores: StaticArray<f32>;
  mergeCodes: StaticArray<u32>;
  mergeTmp: StaticArray<u64>;
  out: StaticArray<f32>;
  outCounts: StaticArray<i32> = new StaticArray<i32>(1);
  numClasses: i32;

  /** `boxes`: corners (x1, y1, x2, y2) per prior; `scores`: numClasses per prior. */
  constructor(boxes: f32[], scores: f32[], public mode: i32, threshold: f32, iouThreshold: f32,
              public keepTopK: i32, categories: i32, perClass: i32) {
    const numPriors = boxes.length / 4;
    const numClasses = scores.length / numPriors;
    this.numClasses = numClasses;
    const topK = numPriors;
    const priors: f32[] = [];
    for (let i = 0; i < numPriors; i++) {
      const x1 = boxes[4 * i], y1 = boxes[4 * i + 1], x2 = boxes[4 * i + 2], y2 = boxes[4 * i + 3];
      priors.push((x1 + x2) / 2); priors.push((y1 + y2) / 2); priors.push(x2 - x1); priors.push(y2 - y1);
    }
    this.priors = f32s(priors);
    this.loc = new StaticArray<f32>(numPriors * 4);
    this.conf = f32s(scores);
    const limits: f32[] = [];
    for (let c = 0; c < numClasses; c++) limits.push(c == 0 ? Infinity : below(threshold));
    this.thresholds = f32s(limits);
    this.heaps = new StaticArray<u64>(numClasses * topK);
    this.counts = new StaticArray<i32>(numClasses);
    this.keptKeys = new StaticArray<u64>(numClasses * topK);
    this.boxes = new StaticArray<f32>(topK * 4);
    this.keptBoxes = new StaticArray<f32>(5 * ((topK + 7) & ~7));
    this.row = new StaticArray<f32>(SCAN_ROWS * numClasses);
    this.limits = new StaticArray<f32>(numClasses);
    const mergeCapacity = keepTopK + topK;
    this.order = new StaticArray<i32>(max<i32>(numClasses, mergeCapacity));
    this.mergeScores = new StaticArray<f32>(mergeCapacity);
    this.mergeCodes = new StaticArray<u32>(mergeCapacity);
    this.mergeTmp = new StaticArray<u64>(keepTopK);
    const perImage = mode == TFLITE_FAST ? keepTopK * categories : keepTopK;
    this.out = new StaticArray<f32>(perImage * RECORD_WORDS);

    const p = this.fields;
    p.numPriors = numPriors; p.numClasses = numClasses; p.backgroundClass = 0; p.activation = ACTIVATION_NONE;
    p.topK = topK; p.keepTopK = keepTopK; p.classAgnostic = 0; p.clip = 0; p.softNms = 0;
    p.nmsThreshold = <f32>iouThreshold; p.softNmsSigma = 0.5; p.gate = <f32>-Infinity;
    p.scaleX = 0.1; p.scaleY = 0.1; p.scaleW = 0.2; p.scaleH = 0.2;
    p.order = 1; // y, x, h, w offsets
    p.priorsPtr = ptr(this.priors); p.locPtr = ptr(this.loc); p.confPtr = ptr(this.conf);
    p.thresholdsPtr = ptr(this.thresholds); p.heapsPtr = ptr(this.heaps); p.countsPtr = ptr(this.counts);
    p.keptKeysPtr = ptr(this.keptKeys); p.boxesPtr = ptr(this.boxes); p.keptBoxesPtr = ptr(this.keptBoxes);
    p.rowPtr = ptr(this.row); p.outPtr = ptr(this.out); p.outCountsPtr = ptr(this.outCounts);
    p.minThreshold = <f32>threshold; p.limitsPtr = ptr(this.limits);
    p.tfliteMode = mode; p.tfliteCategories = categories; p.tfliteDetectionsPerClass = perClass;
    p.tfliteScaleX = 10; p.tfliteScaleY = 10; p.tfliteScaleW = 5; p.tfliteScaleH = 5;
    p.tfliteScoreThreshold = <f32>threshold;
    p.orderPtr = ptr(this.order); p.mergeScoresPtr = ptr(this.mergeScores); p.mergeCodesPtr = ptr(this.mergeCodes);
    p.mergeTmpPtr = ptr(this.mergeTmp); p.recordsPerImage = perImage;
  }

  /** The plan block, by field (assembly/plan.ts). */
  get fields(): Plan {
    return changetype<Plan>(ptr(this.plan));
  }

  /** Runs the image; returns "prior:class" per record, in output order. */
  run(): string[] {
    detectBatch(ptr(this.plan), 1);
    const found: string[] = [];
    for (let i = 0; i < this.outCounts[0]; i++) {
      found.push(this.prior(i).toString() + ":" + this.classId(i).toString());
    }
    return found;
  }

  classId(i: i32): i32 { return reinterpret<i32>(this.out[i * RECORD_WORDS]); }
  prior(i: i32): i32 { return reinterpret<i32>(this.out[i * RECORD_WORDS + 1]); }
  score(i: i32): f32 { return this.out[i * RECORD_WORDS + 2]; }
}

function expectFound(actual: string[], expected: string[], why: string): void {
  expect<string>(actual.join(" ")).toBe(expected.join(" "), why);
}

function fast(boxes: f32[], scores: f32[], threshold: f32, iou: f32, maxDetections: i32, categories: i32): Tflite {
  return new Tflite(boxes, scores, TFLITE_FAST, threshold, iou, maxDetections, categories, 100);
}

function regular(boxes: f32[], scores: f32[], threshold: f32, iou: f32, maxDetections: i32, perClass: i32): Tflite {
  return new Tflite(boxes, scores, TFLITE_REGULAR, threshold, iou, maxDetections, 1, perClass);
}

// Four disjoint boxes in a row.
const APART: f32[] = [0, 0, 0.125, 0.125, 0.25, 0, 0.375, 0.125, 0.5, 0, 0.625, 0.125, 0.75, 0, 0.875, 0.125];

/** The first k indices decreasingPartialArgSort writes, comma-separated. */
function sorted(values: f32[], k: i32): string {
  const order = new StaticArray<i32>(values.length);
  decreasingPartialArgSort(ptr(f32s(values)), values.length, k, ptr(order));
  const out: string[] = [];
  for (let i = 0; i < k; i++) out.push(order[i].toString());
  return out.join(",");
}

describe("decreasingPartialArgSort: TFLite's DecreasingPartialArgSort", () => {
  it("k = 1 is ArgMaxVector: the first index of the maximum", () => {
    expect<string>(sorted([0.5, 0.9, 0.9, 0.1], 1)).toBe("1", "strict > keeps the first of two equal maxima");
  });

  it("k > 1 is libstdc++ std::partial_sort: four equal values come out 1, 3, 0, 2", () => {
    // worked by hand through __make_heap / __sort_heap, and printed by g++ 12 (tests/fixtures/tflite)
    expect<string>(sorted([0.5, 0.5, 0.5, 0.5], 4)).toBe("1,3,0,2", "partial_sort is not stable");
    expect<string>(sorted([0.5, 0.5, 0.5], 3)).toBe("0,1,2", "three equal values happen to keep their order");
  });

  it("selects the k largest with heap-select ties: [.2,.7,.7,.1,.7,.3,.7], k = 3 → 4, 1, 2", () => {
    expect<string>(sorted([0.2, 0.7, 0.7, 0.1, 0.7, 0.3, 0.7], 3)).toBe("4,1,2", "g++ 12 prints 4,1,2");
  });

  it("orders distinct values largest first", () => {
    expect<string>(sorted([0.1, 0.4, 0.3, 0.2], 3)).toBe("1,2,3", "descending");
  });

  it("k = 0 writes nothing", () => {
    const order = new StaticArray<i32>(2);
    order[0] = 7;
    decreasingPartialArgSort(ptr(f32s([0.1, 0.2])), 2, 0, ptr(order));
    expect<i32>(order[0]).toBe(7, "nothing asked, nothing written");
  });
});

describe("fast NMS (use_regular_nms = false)", () => {
  it("a best score equal to the threshold passes (≥), one just below does not", () => {
    const t: f32 = 0.5;
    const a = fast(APART.slice(0, 8), [0, 0.5, 0.1, 0, below(0.5), 0.2], t, 0.5, 10, 1);
    expectFound(a.run(), ["0:1"], "0.5 ≥ 0.5 passes; the largest f32 below 0.5 does not");
  });

  it("IoU exactly at the IoU threshold keeps both boxes; above it suppresses", () => {
    // A = [0,0,1,0.5], B = [0,0,1,0.25]: IoU = 0.25 / 0.5 = 0.5 exactly (all dyadic)
    const keep = fast([0, 0, 1, 0.5, 0, 0, 1, 0.25], [0, 0.9, 0, 0.8], 0.1, 0.5, 10, 1);
    expectFound(keep.run(), ["0:1", "1:1"], "IoU 0.5 is not > 0.5");
    // B = [0,0,1,0.375]: IoU 0.75 > 0.5
    const drop = fast([0, 0, 1, 0.5, 0, 0, 1, 0.375], [0, 0.9, 0, 0.8], 0.1, 0.5, 10, 1);
    expectFound(drop.run(), ["0:1"], "IoU 0.75 > 0.5 suppresses");
  });

  it("is class-agnostic: an anchor's best class suppresses an overlapping anchor of another class", () => {
    const a = fast([0, 0, 0.5, 0.5, 0, 0, 0.5, 0.5], [0, 0.9, 0, 0, 0, 0.8], 0.1, 0.5, 10, 1);
    expectFound(a.run(), ["0:1"], "one NMS over the anchors' max scores");
  });

  it("equal scores: the lower anchor ranks first (stable sort) and suppresses its twin", () => {
    const a = fast([0, 0, 0.5, 0.5, 0, 0, 0.5, 0.5, 0.75, 0.75, 1, 1], [0, 0.7, 0, 0.7, 0, 0.7], 0.1, 0.5, 10, 1);
    expectFound(a.run(), ["0:1", "2:1"], "anchor 0 kept, its identical twin 1 suppressed, anchor 2 apart");
  });

  it("max_detections caps the kept anchors, best first", () => {
    const a = fast(APART, [0, 0.6, 0, 0.9, 0, 0.7, 0, 0.8], 0.1, 0.5, 2, 1);
    expectFound(a.run(), ["1:1", "3:1"], "0.9 then 0.8");
  });

  it("max_classes_per_detection = 2 reports each kept anchor's two best classes, unthresholded", () => {
    // anchor 0: (bg, 0.3, 0.9, 0.05); anchor 1: (bg, 0.6, 0.2, 0.7); threshold 0.5
    const a = fast(APART.slice(0, 8), [0, 0.3, 0.9, 0.05, 0, 0.6, 0.2, 0.7], 0.5, 0.5, 10, 2);
    expectFound(a.run(), ["0:2", "0:1", "1:3", "1:1"], "anchor 0 (0.9) first; its second class 0.3 is below the threshold and still reported");
    expectNear(a.score(1), 0.3, 1e-7, "the second class keeps its own score");
  });

  it("classes with equal scores come out in libstdc++ partial_sort order (1, 3, 0, 2 → columns 2, 4, 1, 3)", () => {
    const a = fast(APART.slice(0, 4), [0, 0.5, 0.5, 0.5, 0.5], 0.1, 0.5, 10, 4);
    expectFound(a.run(), ["0:2", "0:4", "0:1", "0:3"], "TFLite's partial sort is not stable");
  });

  it("a zero-area box suppresses nothing (TFLite's IoU is 0 when an area is ≤ 0)", () => {
    // anchor 0 is the point (0.25, 0.25) inside anchor 1; IoU threshold as low as TFLite allows
    const a = fast([0.25, 0.25, 0.25, 0.25, 0, 0, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25], [0, 0.9, 0, 0.8, 0, 0.7], 0.1, 1e-6, 10, 1);
    expectFound(a.run(), ["0:1", "1:1", "2:1"], "zero-area boxes neither suppress nor are suppressed");
  });
});

describe("regular NMS (use_regular_nms = true)", () => {
  it("detections_per_class caps each class before the merge", () => {
    // class 1: 0.9, 0.8, 0.7 on three disjoint anchors; class 2: 0.75 on anchor 3
    const scores: f32[] = [0, 0.9, 0, 0, 0.8, 0, 0, 0.7, 0, 0, 0, 0.75];
    expectFound(regular(APART, scores, 0.5, 0.5, 10, 2).run(), ["0:1", "1:1", "3:2"], "class 1 keeps two");
    expectFound(regular(APART, scores, 0.5, 0.5, 10, 100).run(), ["0:1", "1:1", "3:2", "2:1"], "uncapped, merged by score");
  });

  it("NMS is per class: overlapping boxes of different classes both survive", () => {
    const a = regular([0, 0, 0.5, 0.5, 0, 0, 0.5, 0.5], [0, 0.9, 0.1, 0, 0.2, 0.8], 0.5, 0.5, 10, 100);
    expectFound(a.run(), ["0:1", "1:2"], "class 1 and class 2 each keep their anchor");
  });

  it("the threshold is ≥ per class score", () => {
    const a = regular(APART.slice(0, 8), [0, 0.5, below(0.5), 0, 0.25, 0.5], 0.5, 0.5, 10, 100);
    expectFound(a.run(), ["0:1", "1:2"], "0.5 passes in both classes, the f32 below it does not");
  });

  it("the merge re-sorts with partial_sort after every class: four equal scores end as classes 2, 4, 1, 3", () => {
    // one detection of score 0.5 per class, classes 1..4 on anchors 0..3. After class 1: [c1]
    // (ArgMax); class 2: partial_sort of 2 → [c1, c2]; class 3: of 3 → [c1, c2, c3];
    // class 4: of 4 → positions 1, 3, 0, 2 → [c2, c4, c1, c3]
    const scores: f32[] = [0, 0.5, 0, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0, 0.5];
    expectFound(regular(APART, scores, 0.1, 0.5, 10, 100).run(), ["1:2", "3:4", "0:1", "2:3"], "libstdc++ tie order");
  });

  it("max_detections cuts the merged list", () => {
    const scores: f32[] = [0, 0.9, 0.6, 0, 0.8, 0.7, 0, 0.1, 0.85, 0, 0.2, 0.3];
    expectFound(regular(APART, scores, 0.25, 0.5, 3, 100).run(), ["0:1", "2:2", "1:1"], "0.9, 0.85, 0.8");
  });
});

describe("decodeBoxTflite: TFLite's DecodeCenterSizeBoxes", () => {
  it("divides by the scale factors and exponentiates in f64, y first", () => {
    // anchor (cx, cy, w, h) = (0.5, 0.25, 0.5, 0.25); offsets (ty, tx, th, tw) = (1, 2, 0.5, -0.5)
    const loc = f32s([1, 2, 0.5, -0.5]);
    const prior = f32s([0.5, 0.25, 0.5, 0.25]);
    const out = new StaticArray<f32>(4);
    decodeBoxTflite(ptr(loc), ptr(prior), 1, 10, 10, 5, 5, false, ptr(out));
    const ycenter = <f32>(1.0 / 10.0 * 0.25 + 0.25), xcenter = <f32>(2.0 / 10.0 * 0.5 + 0.5);
    const halfH = <f32>(0.5 * Math.exp(0.5 / 5.0) * 0.25), halfW = <f32>(0.5 * Math.exp(-0.5 / 5.0) * 0.5);
    expect<u32>(bits(out[0])).toBe(bits(xcenter - halfW), "xmin");
    expect<u32>(bits(out[1])).toBe(bits(ycenter - halfH), "ymin");
    expect<u32>(bits(out[2])).toBe(bits(xcenter + halfW), "xmax");
    expect<u32>(bits(out[3])).toBe(bits(ycenter + halfH), "ymax");
    expectNear(out[1], 0.275 - 0.5 * Math.exp(0.1) * 0.25, 1e-7, "ymin by hand");
  });

  it("does not clamp large size offsets before exp (ssd-edge's decode would)", () => {
    const loc = f32s([0, 0, 30, 0]);
    const prior = f32s([0.5, 0.5, 0.01, 0.01]);
    const out = new StaticArray<f32>(4);
    decodeBoxTflite(ptr(loc), ptr(prior), 1, 10, 10, 5, 5, false, ptr(out));
    // h = 0.01 · e^6 = 4.034; MAX_LOG_SCALE (ln 62.5) would have capped it at 0.625
    expectNear(out[3] - out[1], 0.01 * Math.exp(6), 1e-5, "height e^6 · anchor h");
  });
});

describe("fast NMS with sigmoid scores", () => {
  it("thresholds the activated maximum", () => {
    const a = fast(APART.slice(0, 8), [0, 0, 2, 0, -1, 0], 0.5, 0.5, 10, 1);
    a.fields.activation = ACTIVATION_SIGMOID;
    // sigmoid(2) ≈ 0.881 ≥ 0.5 and sigmoid(0) = 0.5 ≥ 0.5 both pass; anchor 0's best is class 2
    expectFound(a.run(), ["0:2", "1:2"], "sigmoid(0) = 0.5 exactly passes ≥ 0.5");
  });
});

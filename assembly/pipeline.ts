// Detection output for a batch of images: threshold → top-k → decode → NMS → keep-top-k.
//
// The host lays out one arena and describes it in a plan block at `planPtr` (written once per
// configuration by src/core/plan.ts; its fields are the Plan class of plan.ts). Kernels only read
// and write inside the regions the plan names; nothing here allocates. TensorFlow Lite's
// TFLite_Detection_PostProcess (tflite.ts) and MediaPipe's post-processing (mediapipe.ts) read
// their own fields of the same plan.
//
// An output record is 7 words: classId i32, priorIndex i32, score f32, xmin, ymin, xmax, ymax.

import { decodeBox } from "./coder";
import { Plan, planAt, QUANT_PLAN_OFFSET, quantAt } from "./plan";
import { keyCode, keyScore } from "./keys";
import { detectImageMediapipe } from "./mediapipe";
import { keepIfClear, softNms } from "./nms";
import { scanScores } from "./scores";
import { detectImageTfliteFast, detectImageTfliteRegular, TFLITE_FAST, TFLITE_REGULAR } from "./tflite";
import { heapify, heapifyLargestFirst, popLargest, selectTopKeys, sortHeapDescending } from "./topk";
import { buildTournament, replayTournament, setLeaf } from "./tournament";

export const RECORD_WORDS: i32 = 7;

/**
 * Runs the whole post-processing for `numImages` images laid out in the plan's arena. Returns
 * whether the score scan found every loc and conf value finite on its way (SSD modes, not
 * TFLite's or MediaPipe's). The scan is safe on NaN and ±∞, but when this is false the host
 * must check the input itself (findNonFinite) before it reads any result: false may also be a
 * false alarm on finite input (scores.ts finiteSum), and the results then stand.
 */
export function detectBatch(planPtr: usize, numImages: i32): bool {
  let finite = true;
  for (let image = 0; image < numImages; image++) finite = detectImage(planPtr, image) && finite;
  return finite;
}

/** One image of detectBatch; returns whether its input was found finite. */
function detectImage(planPtr: usize, image: i32): bool {
  const plan = planAt(planPtr);
  const tflite = plan.tfliteMode;
  if (tflite == TFLITE_FAST) { detectImageTfliteFast(planPtr, image); return false; }
  if (tflite == TFLITE_REGULAR) { detectImageTfliteRegular(planPtr, image); return false; }
  if (plan.mediapipeMode != 0) { detectImageMediapipe(planPtr, image); return false; }
  const numPriors = plan.numPriors, numClasses = plan.numClasses, background = plan.backgroundClass;
  const topK = plan.topK;
  const pooled = plan.classAgnostic != 0, clip = plan.clip != 0, soft = plan.softNms;
  const nmsThreshold = plan.nmsThreshold, sigma = plan.softNmsSigma;
  const sx = plan.scaleX, sy = plan.scaleY, sw = plan.scaleW, sh = plan.scaleH;
  const order = plan.order;
  const priors = plan.priorsPtr;
  const loc = plan.locPtr + <usize>image * (<usize>numPriors << 4);
  const conf = plan.confPtr + <usize>image * (<usize>numPriors * <usize>numClasses << 2);
  const thresholds = plan.thresholdsPtr, heaps = plan.heapsPtr, counts = plan.countsPtr;
  const keptKeys = plan.keptKeysPtr, limits = plan.limitsPtr;

  memory.copy(limits, thresholds, <usize>numClasses << 2);
  memory.fill(counts, 0, <usize>numClasses << 2);
  const finite = scanScores(conf, loc, numPriors, numClasses, background, plan.activation, limits, plan.gate,
    pooled, heaps, counts, topK, plan.rowPtr);

  const numLists = pooled ? 1 : numClasses;
  const outBase = plan.outPtr + <usize>image * (<usize>plan.recordsPerImage * RECORD_WORDS << 2);
  let numOut: i32;
  if (soft != 0) {
    numOut = softNmsLists(planPtr, numLists, loc, order, sx, sy, sw, sh, clip, soft, nmsThreshold, sigma);
    for (let i = 0; i < numOut; i++) {
      const key = load<u64>(keptKeys + (<usize>i << 3));
      const prior = <i32>(keyCode(key) / <u32>numClasses);
      const record = outBase + <usize>i * (RECORD_WORDS << 2);
      decodeBox(loc + (<usize>prior << 4), priors + (<usize>prior << 4), order, sx, sy, sw, sh, clip, record + 12);
      writeRecordHead(record, key, numClasses);
    }
  } else {
    numOut = greedyNmsLists(planPtr, numLists, loc, order, sx, sy, sw, sh, clip, nmsThreshold, outBase);
  }
  store<i32>(plan.outCountsPtr + (<usize>image << 2), numOut);
  return finite;
}

/** Class, prior and score of a record (its box follows at 12). */
// @ts-ignore: decorator
@inline
function writeRecordHead(record: usize, key: u64, numClasses: i32): void {
  const code = keyCode(key);
  store<i32>(record, <i32>(code % <u32>numClasses), 0);
  store<i32>(record, <i32>(code / <u32>numClasses), 4);
  store<f32>(record, keyScore(key), 8);
}

/**
 * Greedy NMS of every candidate list into the image's best keepTopK records, best first at
 * `outBase`; returns how many. Each list hands out its keys best first (a max-heap, popLargest)
 * and the lists are merged through a tournament of their best keys (tournament.ts, at the plan's
 * `keptKeys`): the next key is always the best left in any list. Whether a key is kept depends
 * only on the better keys of its own list, so the keys come out kept in descending order and the
 * first keepTopK kept are the output: nothing after them is popped or decoded. A candidate is
 * decoded straight into the next record (a suppressed one is overwritten). Each list keeps its
 * boxes in its own block of `keptBoxes` (5 × capacity f32) and its count in the plan's order
 * region.
 */
function greedyNmsLists(
  planPtr: usize, numLists: i32, loc: usize, boxOrder: i32, sx: f32, sy: f32, sw: f32, sh: f32,
  clip: bool, nmsThreshold: f32, outBase: usize
): i32 {
  const plan = planAt(planPtr);
  const numClasses = plan.numClasses, topK = plan.topK, keepTopK = plan.keepTopK;
  const priors = plan.priorsPtr, heaps = plan.heapsPtr, counts = plan.countsPtr;
  const keptBoxes = plan.keptBoxesPtr, numKept = plan.orderPtr, tree = plan.keptKeysPtr;
  const stride = <usize>((topK + 7) & ~7) << 2;
  const heapBytes = <usize>topK << 3;
  for (let list = 0; list < numLists; list++) {
    const keys = heaps + <usize>list * heapBytes, num = load<i32>(counts + (<usize>list << 2));
    heapifyLargestFirst(keys, num);
    setLeaf(tree, numLists, list, select<u64>(~load<u64>(keys), 0, num > 0));
    store<i32>(numKept + (<usize>list << 2), 0);
  }
  let key = buildTournament(tree, numLists);
  let numOut = 0;
  while (numOut < keepTopK && key != 0) {
    const code = keyCode(key), prior = code / <u32>numClasses, cls = code - prior * <u32>numClasses;
    // a per-class list is its class's; the pooled list is the only one
    const list = select<i32>(0, <i32>cls, numLists == 1);
    const keys = heaps + <usize>list * heapBytes, countAt = counts + (<usize>list << 2);
    const remaining = load<i32>(countAt) - 1;
    popLargest(keys, remaining + 1);
    store<i32>(countAt, remaining);
    const next = replayTournament(tree, numLists, list, select<u64>(~load<u64>(keys), 0, remaining > 0));
    const record = outBase + <usize>numOut * (RECORD_WORDS << 2), box = record + 12;
    decodeBox(loc + (<usize>prior << 4), priors + (<usize>prior << 4), boxOrder, sx, sy, sw, sh, clip, box);
    const keptAt = numKept + (<usize>list << 2), kept = load<i32>(keptAt);
    if (keepIfClear(box, keptBoxes + <usize>list * 5 * stride, stride, kept, nmsThreshold)) {
      store<i32>(keptAt, kept + 1);
      store<i32>(record, <i32>cls, 0);
      store<i32>(record, <i32>prior, 4);
      store<f32>(record, keyScore(key), 8);
      numOut++;
    }
    key = next;
  }
  return numOut;
}

/**
 * Soft-NMS of every candidate list (each sorted and decoded whole: decayed scores re-rank it),
 * then the best keepTopK of what each kept, sorted descending at `keptKeys`; returns how many.
 */
function softNmsLists(
  planPtr: usize, numLists: i32, loc: usize, order: i32, sx: f32, sy: f32, sw: f32, sh: f32,
  clip: bool, method: i32, nmsThreshold: f32, sigma: f32
): i32 {
  const plan = planAt(planPtr);
  const numClasses = plan.numClasses, topK = plan.topK, keepTopK = plan.keepTopK;
  const pooled = plan.classAgnostic != 0;
  const priors = plan.priorsPtr, thresholds = plan.thresholdsPtr, heaps = plan.heapsPtr;
  const counts = plan.countsPtr, keptKeys = plan.keptKeysPtr, boxes = plan.boxesPtr;
  let numKept = 0;
  for (let list = 0; list < numLists; list++) {
    const keys = heaps + <usize>list * (<usize>topK << 3);
    const num = load<i32>(counts + (<usize>list << 2));
    if (num == 0) continue;
    if (num < topK) heapify(keys, num); // full heaps are heaps already
    sortHeapDescending(keys, num);
    for (let i = 0; i < num; i++) {
      const prior = <i32>(keyCode(load<u64>(keys + (<usize>i << 3))) / <u32>numClasses);
      decodeBox(loc + (<usize>prior << 4), priors + (<usize>prior << 4), order, sx, sy, sw, sh, clip,
        boxes + (<usize>i << 4));
    }
    const threshold = pooled ? plan.minThreshold : load<f32>(thresholds + (<usize>list << 2));
    numKept += softNms(keys, boxes, num, method, nmsThreshold, sigma, threshold, keptKeys + (<usize>numKept << 3));
  }
  return selectTopKeys(keptKeys, numKept, keepTopK);
}

// ---- uint8 heads: threshold in uint8, dequantise only the candidates ------------------------
//
// `detectBatchQuantized` reads a QuantBlock (plan.ts) at `quantPtr` that the host writes
// (src/core/postprocessor.ts runQuantized): the uint8 heads, per-class gates (a score byte q of
// class c can pass iff q > gates[c]; 255 = never), the two dequantisation tables, and room for
// the packed rows' prior indices and priors; a copy of the plan describing the packed candidates
// follows at QUANT_PLAN_OFFSET.
// A row with no class above its gate has no effect on any mode but softmax (every one of its
// scores fails its threshold; the host refuses softmax and MediaPipe here), so only the other
// rows are dequantised, packed in prior order into the plan's loc and conf regions (slot 0) and
// run as an image of that many priors; records get their real prior index back at the end.

/** Post-processing of `numImages` images from uint8 heads (QuantBlock at `quantPtr`, see above). */
export function detectBatchQuantized(planPtr: usize, numImages: i32, quantPtr: usize): void {
  const plan = planAt(planPtr);
  const quant = quantAt(quantPtr);
  const numPriors = plan.numPriors, numClasses = plan.numClasses;
  const gates = quant.gatesPtr, allPass = quant.allPass != 0;
  const locLut = quant.locLutPtr, confLut = quant.confLutPtr;
  const rows = quant.rowsPtr, packedPriors = quant.priorsPtr, packed = quantPtr + QUANT_PLAN_OFFSET;
  const priors = plan.priorsPtr, loc = plan.locPtr, conf = plan.confPtr;
  const rowBytes = <usize>numClasses << 2;
  const perImage = <usize>plan.recordsPerImage * RECORD_WORDS << 2;
  for (let image = 0; image < numImages; image++) {
    const locQ = quant.locQPtr + <usize>image * (<usize>numPriors << 2);
    const confQ = quant.confQPtr + <usize>image * <usize>numPriors * <usize>numClasses;
    let n = 0;
    for (let p = 0; p < numPriors; p++) {
      const row = confQ + <usize>p * <usize>numClasses;
      if (!allPass && !anyAbove(row, gates, numClasses)) continue;
      const to = conf + <usize>n * rowBytes;
      for (let c = 0; c < numClasses; c++) {
        store<f32>(to + (<usize>c << 2), load<f32>(confLut + (<usize>load<u8>(row + <usize>c) << 2)));
      }
      const from = locQ + (<usize>p << 2), at = <usize>n << 4;
      for (let k: usize = 0; k < 4; k++) store<f32>(loc + at + (k << 2), load<f32>(locLut + (<usize>load<u8>(from + k) << 2)));
      memory.copy(packedPriors + at, priors + (<usize>p << 4), 16);
      store<i32>(rows + (<usize>n << 2), p);
      n++;
    }
    memory.copy(packed, planPtr, offsetof<Plan>());
    const packedPlan = planAt(packed);
    packedPlan.numPriors = n;
    packedPlan.priorsPtr = packedPriors;
    const outBase = plan.outPtr + <usize>image * perImage, countAt = plan.outCountsPtr + (<usize>image << 2);
    packedPlan.outPtr = outBase;
    packedPlan.outCountsPtr = countAt;
    detectImage(packed, 0);
    const count = load<i32>(countAt);
    for (let i = 0; i < count; i++) {
      const record = outBase + <usize>i * (RECORD_WORDS << 2);
      store<i32>(record, load<i32>(rows + (<usize>load<i32>(record, 4) << 2)), 4);
    }
  }
}

/** Whether some byte of the `num`-byte row beats its gate (gates past `num` are 255). */
// @ts-ignore: decorator
@inline
function anyAbove(row: usize, gates: usize, num: i32): bool {
  if (ASC_FEATURE_SIMD) {
    for (let c = 0; c < num; c += 16) {
      if (v128.any_true(i8x16.gt_u(v128.load(row + <usize>c), v128.load(gates + <usize>c)))) return true;
    }
    return false;
  }
  for (let c = 0; c < num; c++) {
    if (load<u8>(row + <usize>c) > load<u8>(gates + <usize>c)) return true;
  }
  return false;
}

// TensorFlow Lite's `TFLite_Detection_PostProcess`: the two NMS modes of the custom op at the
// end of TF Object Detection API / Coral / MediaPipe TFLite SSDs, reproduced comparison for
// comparison.
// see: tensorflow/lite/kernels/detection_postprocess.cc (NonMaxSuppressionSingleClassHelper,
//      NonMaxSuppressionMultiClassFastHelper, NonMaxSuppressionMultiClassRegularHelper,
//      DecreasingPartialArgSort, DecreasingArgSort, ComputeIntersectionOverUnion)
//
// What TFLite does, and how it maps here:
// - Score threshold: `score >= nms_score_threshold` (SelectDetectionsAboveScoreThreshold).
//   The host hands the core, as class limit, the largest f32 below the threshold, so the
//   strict `>` of scores.ts is TFLite's `>=`; the fast mode compares `>=` itself.
// - Candidates sorted by a stable sort on score, descending: equal scores keep anchor order,
//   which is exactly the order of our candidate keys (lower prior first).
// - Greedy NMS: a box is dropped when its IoU with a selected box is `> nms_iou_threshold`;
//   IoU is 0 when either area is ≤ 0 (a zero-area box suppresses nothing); selection stops at
//   max_detections (fast) or detections_per_class (regular). coder.ts's iou gives the same
//   values (0, or NaN for two empty boxes: neither exceeds a threshold in (0, 1]).
// - An anchor's classes (fast) and the running best list (regular) are ordered by
//   DecreasingPartialArgSort: the first maximum when one is asked for (ArgMaxVector), else
//   std::partial_sort with `values[i] > values[j]` — not stable. decreasingPartialArgSort
//   below is libstdc++'s partial_sort (heap select + sort heap) step for step, so exact ties
//   come out in the order a GCC-built TFLite gives (libc++ builds may order ties differently).
// - Regular mode merges class by class: after each class (even one with nothing selected) the
//   previous best list plus that class's selections is partial-sorted and cut to max_detections.
//
// Classes: TFLite's label offset is 1 when the scores have a background column 0 (here
// backgroundClass 0) and 0 without one (backgroundClass −1); records carry our column index,
// so TFLite's class c is column c + offset here.

import { decodeBoxTflite } from "./coder";
import { candidateKey, keyCode, keyScore } from "./keys";
import { greedyNms } from "./nms";
import { planAt } from "./plan";
import { ACTIVATION_NONE, ACTIVATION_SIGMOID, ACTIVATION_SOFTMAX, divideRow, expRow, maxOf, maxSpan, scanScores, sigmoidRow } from "./scores";
import { heapify, replaceRoot, sortHeapDescending } from "./topk";

export const TFLITE_FAST: i32 = 1;
export const TFLITE_REGULAR: i32 = 2;

const RECORD_BYTES: usize = 7 << 2;

// ---- DecreasingPartialArgSort -------------------------------------------------------------

/** TFLite's comparator `values[a] > values[b]`. */
// @ts-ignore: decorator
@inline
function before(valuesPtr: usize, a: i32, b: i32): bool {
  return load<f32>(valuesPtr + (<usize>a << 2)) > load<f32>(valuesPtr + (<usize>b << 2));
}
// @ts-ignore: decorator
@inline
function at(orderPtr: usize, i: i32): i32 {
  return load<i32>(orderPtr + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline
function put(orderPtr: usize, i: i32, value: i32): void {
  store<i32>(orderPtr + (<usize>i << 2), value);
}

/**
 * libstdc++ `std::__adjust_heap` (bits/stl_heap.h) on an index array: moves the hole at `hole`
 * down to a leaf along the preferred children, then pushes `value` up from there
 * (`std::__push_heap`). The comparator ranks a higher value "less", so the root holds the
 * lowest value of the heap.
 */
function adjustHeap(orderPtr: usize, valuesPtr: usize, hole: i32, len: i32, value: i32): void {
  const top = hole;
  let second = hole;
  while (second < (len - 1) / 2) {
    second = 2 * (second + 1);
    if (before(valuesPtr, at(orderPtr, second), at(orderPtr, second - 1))) second--;
    put(orderPtr, hole, at(orderPtr, second));
    hole = second;
  }
  if ((len & 1) == 0 && second == (len - 2) / 2) {
    second = 2 * (second + 1);
    put(orderPtr, hole, at(orderPtr, second - 1));
    hole = second - 1;
  }
  let parent = (hole - 1) / 2;
  while (hole > top && before(valuesPtr, at(orderPtr, parent), value)) {
    put(orderPtr, hole, at(orderPtr, parent));
    hole = parent;
    parent = (hole - 1) / 2;
  }
  put(orderPtr, hole, value);
}

/**
 * TFLite's DecreasingPartialArgSort: writes at `orderPtr` the indices of the `k` largest of the
 * `num` f32 at `valuesPtr`, largest first (k ≤ num). k = 1 is ArgMaxVector (the first index of
 * the maximum); otherwise iota then libstdc++ `std::partial_sort`:
 *   __heap_select: make_heap(first k); each later index i with values[i] > values[root]
 *                  replaces the root (`__pop_heap(first, middle, i)`);
 *   __sort_heap:   pop the root to the back k − 1 times.
 * The entries after the first k are left as the algorithm leaves them.
 */
export function decreasingPartialArgSort(valuesPtr: usize, num: i32, k: i32, orderPtr: usize): void {
  if (k <= 0) return;
  if (k == 1) {
    let best = 0;
    let bestValue = load<f32>(valuesPtr);
    for (let i = 1; i < num; i++) {
      const v = load<f32>(valuesPtr + (<usize>i << 2));
      if (v > bestValue) { bestValue = v; best = i; }
    }
    put(orderPtr, 0, best);
    return;
  }
  for (let i = 0; i < num; i++) put(orderPtr, i, i);
  // __make_heap
  for (let parent = (k - 2) / 2; parent >= 0; parent--) adjustHeap(orderPtr, valuesPtr, parent, k, at(orderPtr, parent));
  // the rest of __heap_select
  for (let i = k; i < num; i++) {
    if (before(valuesPtr, at(orderPtr, i), at(orderPtr, 0))) {
      const value = at(orderPtr, i);
      put(orderPtr, i, at(orderPtr, 0));
      adjustHeap(orderPtr, valuesPtr, 0, k, value);
    }
  }
  // __sort_heap
  for (let last = k - 1; last > 0; last--) {
    const value = at(orderPtr, last);
    put(orderPtr, last, at(orderPtr, 0));
    adjustHeap(orderPtr, valuesPtr, 0, last, value);
  }
}

// ---- scores of one anchor -----------------------------------------------------------------

/**
 * The activated scores of prior `p`'s row: `confPtr` itself for activation none, else the row
 * activated into `rowPtr` (numClasses f32). Returns the pointer to column 0.
 */
function activatedRow(row: usize, numClasses: i32, activation: i32, rowPtr: usize): usize {
  if (activation == ACTIVATION_SOFTMAX) {
    const sum = expRow(row, numClasses, maxOf(row, numClasses), rowPtr);
    divideRow(rowPtr, numClasses, sum);
    return rowPtr;
  }
  if (activation == ACTIVATION_SIGMOID) {
    sigmoidRow(row, numClasses, rowPtr);
    return rowPtr;
  }
  return row;
}

/** Writes one output record (7 words): class, prior, score, then the TFLite-decoded box. */
function writeRecord(planPtr: usize, record: usize, classId: i32, prior: i32, score: f32, loc: usize): void {
  store<i32>(record, classId, 0);
  store<i32>(record, prior, 4);
  store<f32>(record, score, 8);
  decodeTflite(planPtr, loc, prior, record + 12);
}

// @ts-ignore: decorator
@inline
function decodeTflite(planPtr: usize, loc: usize, prior: i32, outPtr: usize): void {
  const plan = planAt(planPtr);
  decodeBoxTflite(loc + (<usize>prior << 4), plan.priorsPtr + (<usize>prior << 4), plan.order,
    plan.tfliteScaleX, plan.tfliteScaleY, plan.tfliteScaleW, plan.tfliteScaleH, plan.clip != 0, outPtr);
}

/** Sorts a candidate heap of `num` keys descending and decodes their boxes at `boxesPtr`. */
function sortAndDecode(planPtr: usize, keys: usize, num: i32, loc: usize, numClasses: i32, boxesPtr: usize): void {
  const plan = planAt(planPtr);
  if (num < plan.topK) heapify(keys, num); // full heaps are heaps already
  sortHeapDescending(keys, num);
  for (let i = 0; i < num; i++) {
    const prior = <i32>(keyCode(load<u64>(keys + (<usize>i << 3))) / <u32>numClasses);
    decodeTflite(planPtr, loc, prior, boxesPtr + (<usize>i << 4));
  }
}

// ---- fast NMS -------------------------------------------------------------------------------

/**
 * NonMaxSuppressionMultiClassFastHelper for one image: every anchor's best foreground score
 * (≥ threshold) enters one class-agnostic greedy NMS, at most keepTopK anchors survive, and each
 * reports its `categories` best classes (DecreasingPartialArgSort of its row; those extra
 * classes are not thresholded, as in TFLite). Candidates are capped at topK by a heap.
 */
export function detectImageTfliteFast(planPtr: usize, image: i32): void {
  const plan = planAt(planPtr);
  const numPriors = plan.numPriors, numClasses = plan.numClasses;
  const offset = plan.backgroundClass == 0 ? 1 : 0, numFg = numClasses - offset;
  const activation = plan.activation, topK = plan.topK, keepTopK = plan.keepTopK;
  const gate = plan.gate, threshold = plan.tfliteScoreThreshold, categories = plan.tfliteCategories;
  const loc = plan.locPtr + <usize>image * (<usize>numPriors << 4);
  const rowBytes = <usize>numClasses << 2;
  const conf = plan.confPtr + <usize>image * (<usize>numPriors * rowBytes);
  const heap = plan.heapsPtr, rowPtr = plan.rowPtr, boxes = plan.boxesPtr;
  const keptKeys = plan.keptKeysPtr, orderPtr = plan.orderPtr;
  const fgBytes = <usize>offset << 2;

  let num = 0;
  for (let p = 0; p < numPriors; p++) {
    const row = conf + <usize>p * rowBytes;
    const bestLogit = maxSpan(row + fgBytes, numFg);
    // the gate (src/core/config.ts scoreGate) only skips rows that cannot reach the threshold
    if (activation == ACTIVATION_SOFTMAX) {
      const rowMax = offset != 0 ? max<f32>(bestLogit, load<f32>(row)) : bestLogit;
      if (bestLogit - rowMax < gate) continue;
    } else if (bestLogit < gate) continue;
    const best = activation == ACTIVATION_NONE ? bestLogit : maxOf(activatedRow(row, numClasses, activation, rowPtr) + fgBytes, numFg);
    if (!(best >= threshold)) continue;
    // + 0: a passing −0 (threshold 0) must rank as 0
    const key = candidateKey(best + 0, p, 0, numClasses);
    if (num < topK) {
      store<u64>(heap + (<usize>num << 3), key);
      if (++num == topK) heapify(heap, num);
    } else if (key > load<u64>(heap)) {
      replaceRoot(heap, key, num);
    }
  }

  let numOut = 0;
  const outBase = plan.outPtr + <usize>image * (<usize>plan.recordsPerImage * RECORD_BYTES);
  if (num > 0) {
    sortAndDecode(planPtr, heap, num, loc, numClasses, boxes);
    const capacity = (topK + 7) & ~7;
    const numKept = greedyNms(heap, boxes, num, plan.nmsThreshold, plan.keptBoxesPtr, capacity, keptKeys, keepTopK);
    for (let i = 0; i < numKept; i++) {
      const prior = <i32>(keyCode(load<u64>(keptKeys + (<usize>i << 3))) / <u32>numClasses);
      const scores = activatedRow(conf + <usize>prior * rowBytes, numClasses, activation, rowPtr) + fgBytes;
      decreasingPartialArgSort(scores, numFg, categories, orderPtr);
      for (let c = 0; c < categories; c++) {
        const fg = at(orderPtr, c);
        writeRecord(planPtr, outBase + <usize>numOut * RECORD_BYTES, fg + offset, prior,
          load<f32>(scores + (<usize>fg << 2)), loc);
        numOut++;
      }
    }
  }
  store<i32>(plan.outCountsPtr + (<usize>image << 2), numOut);
}

// ---- regular NMS ----------------------------------------------------------------------------

/**
 * NonMaxSuppressionMultiClassRegularHelper for one image: per foreground class, scores ≥
 * threshold (capped at topK per class), greedy NMS keeping at most detections_per_class, then
 * the merge into the best keepTopK: after each class, the previous best list followed by the
 * class's selections (in NMS order) is DecreasingPartialArgSort-ed and cut to keepTopK.
 */
export function detectImageTfliteRegular(planPtr: usize, image: i32): void {
  const plan = planAt(planPtr);
  const numPriors = plan.numPriors, numClasses = plan.numClasses, background = plan.backgroundClass;
  const offset = background == 0 ? 1 : 0;
  const topK = plan.topK, keepTopK = plan.keepTopK, perClass = plan.tfliteDetectionsPerClass;
  const loc = plan.locPtr + <usize>image * (<usize>numPriors << 4);
  const conf = plan.confPtr + <usize>image * (<usize>numPriors * <usize>numClasses << 2);
  const thresholds = plan.thresholdsPtr, heaps = plan.heapsPtr, counts = plan.countsPtr;
  const keptKeys = plan.keptKeysPtr, boxes = plan.boxesPtr, keptBoxes = plan.keptBoxesPtr;
  const limits = plan.limitsPtr, orderPtr = plan.orderPtr;
  const mergeScores = plan.mergeScoresPtr, mergeCodes = plan.mergeCodesPtr, mergeTmp = plan.mergeTmpPtr;
  const capacity = (topK + 7) & ~7;
  const heapBytes = <usize>topK << 3;

  // per class, every score ≥ threshold (limits hold the f32 just below it), best topK kept
  memory.copy(limits, thresholds, <usize>numClasses << 2);
  memory.fill(counts, 0, <usize>numClasses << 2);
  // no NaN check (loc 0): the host checks the input of TFLite's modes before the run
  scanScores(conf, 0, numPriors, numClasses, background, plan.activation, limits, plan.gate,
    false, heaps, counts, topK, plan.rowPtr);

  let size = 0;
  for (let cls = offset; cls < numClasses; cls++) {
    const keys = heaps + <usize>cls * heapBytes;
    const num = load<i32>(counts + (<usize>cls << 2));
    let numKept = 0;
    if (num > 0) {
      sortAndDecode(planPtr, keys, num, loc, numClasses, boxes);
      numKept = greedyNms(keys, boxes, num, plan.nmsThreshold, keptBoxes, capacity, keptKeys, perClass);
    }
    for (let i = 0; i < numKept; i++) {
      const key = load<u64>(keptKeys + (<usize>i << 3));
      store<f32>(mergeScores + (<usize>(size + i) << 2), keyScore(key));
      store<u32>(mergeCodes + (<usize>(size + i) << 2), keyCode(key));
    }
    // TFLite sorts again even when this class selected nothing (an unstable sort may reorder ties)
    const total = size + numKept;
    const k = min<i32>(total, keepTopK);
    decreasingPartialArgSort(mergeScores, total, k, orderPtr);
    for (let r = 0; r < k; r++) {
      const from = <usize>at(orderPtr, r) << 2;
      store<f32>(mergeTmp + (<usize>r << 3), load<f32>(mergeScores + from));
      store<u32>(mergeTmp + (<usize>r << 3), load<u32>(mergeCodes + from), 4);
    }
    for (let r = 0; r < k; r++) {
      store<f32>(mergeScores + (<usize>r << 2), load<f32>(mergeTmp + (<usize>r << 3)));
      store<u32>(mergeCodes + (<usize>r << 2), load<u32>(mergeTmp + (<usize>r << 3), 4));
    }
    size = k;
  }

  const outBase = plan.outPtr + <usize>image * (<usize>plan.recordsPerImage * RECORD_BYTES);
  for (let i = 0; i < size; i++) {
    const code = load<u32>(mergeCodes + (<usize>i << 2));
    writeRecord(planPtr, outBase + <usize>i * RECORD_BYTES, <i32>(code % <u32>numClasses),
      <i32>(code / <u32>numClasses), load<f32>(mergeScores + (<usize>i << 2)), loc);
  }
  store<i32>(plan.outCountsPtr + (<usize>image << 2), size);
}

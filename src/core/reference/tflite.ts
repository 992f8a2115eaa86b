/**
 * TensorFlow Lite's `TFLite_Detection_PostProcess` NMS in plain TypeScript, written as a
 * line-by-line reading of tensorflow/lite/kernels/detection_postprocess.cc: the oracle for
 * assembly/tflite.ts. The only addition is ssd-edge's `topK` cap on the candidates entering each
 * NMS (TFLite has none; topK ≥ numPriors removes it).
 */
import type { ResolvedConfig } from '../config.js';
import type { Detection } from '../types.js';
import { decodeBoxTflite, type Box } from './coder.js';
import { activate } from './detect.js';
import { f32 } from './f32.js';

/**
 * DecreasingPartialArgSort: the indices of the `k` largest values, largest first.
 * k = 1: optimized_ops::ArgMaxVector, the first index of the maximum. Otherwise std::iota and
 * std::partial_sort with the comparator `values[i] > values[j]`. partial_sort is not stable, so
 * the order of exact ties is the library's: this is libstdc++'s (bits/stl_algo.h __heap_select
 * + __sort_heap, bits/stl_heap.h __make_heap / __adjust_heap / __push_heap), step for step.
 */
export function decreasingPartialArgSort(values: ArrayLike<number>, k: number): number[] {
  const n = values.length;
  if (k <= 0) return [];
  if (k === 1) {
    let best = 0;
    for (let i = 1; i < n; i++) if (values[i] > values[best]) best = i;
    return [best];
  }
  const first = Array.from({ length: n }, (_, i) => i);
  const comp = (a: number, b: number) => values[a] > values[b];
  const half = (x: number) => Math.trunc(x / 2); // C++ integer division

  const pushHeap = (hole: number, top: number, value: number) => {
    let parent = half(hole - 1);
    while (hole > top && comp(first[parent], value)) {
      first[hole] = first[parent];
      hole = parent;
      parent = half(hole - 1);
    }
    first[hole] = value;
  };
  const adjustHeap = (hole: number, len: number, value: number) => {
    const top = hole;
    let second = hole;
    while (second < half(len - 1)) {
      second = 2 * (second + 1);
      if (comp(first[second], first[second - 1])) second--;
      first[hole] = first[second];
      hole = second;
    }
    if ((len & 1) === 0 && second === half(len - 2)) {
      second = 2 * (second + 1);
      first[hole] = first[second - 1];
      hole = second - 1;
    }
    pushHeap(hole, top, value);
  };

  // __heap_select(first, first + k, first + n)
  for (let parent = half(k - 2); parent >= 0; parent--) adjustHeap(parent, k, first[parent]); // __make_heap
  for (let i = k; i < n; i++) {
    if (comp(first[i], first[0])) {
      // __pop_heap(first, middle, i)
      const value = first[i];
      first[i] = first[0];
      adjustHeap(0, k, value);
    }
  }
  // __sort_heap(first, first + k)
  for (let last = k - 1; last > 0; last--) {
    const value = first[last];
    first[last] = first[0];
    adjustHeap(0, last, value);
  }
  return first.slice(0, k);
}

/** ComputeIntersectionOverUnion: 0 when either area is ≤ 0; y terms first, as TFLite writes it. */
export function tfliteIou(a: Box, b: Box): number {
  const areaA = f32(f32(a[3] - a[1]) * f32(a[2] - a[0]));
  const areaB = f32(f32(b[3] - b[1]) * f32(b[2] - b[0]));
  if (areaA <= 0 || areaB <= 0) return 0;
  const ymin = Math.max(a[1], b[1]),
    xmin = Math.max(a[0], b[0]);
  const ymax = Math.min(a[3], b[3]),
    xmax = Math.min(a[2], b[2]);
  const inter = f32(Math.max(f32(ymax - ymin), 0) * Math.max(f32(xmax - xmin), 0));
  return f32(inter / f32(f32(areaA + areaB) - inter));
}

/**
 * NonMaxSuppressionSingleClassHelper: anchors whose score is ≥ the threshold, stable-sorted by
 * score descending (equal scores keep anchor order), at most `cap` of them (ssd-edge's topK),
 * then greedy: the best active anchor is selected and every later active anchor with IoU > the
 * IoU threshold is deactivated, until `maxDetections` are selected. Returns anchor indices.
 */
function nmsSingleClass(scores: number[], boxes: Box[], config: ResolvedConfig, maxDetections: number): number[] {
  const threshold = config.tflite!.threshold;
  const keep: number[] = [];
  scores.forEach((score, i) => {
    if (score >= threshold) keep.push(i);
  });
  const sorted = keep.sort((i, j) => scores[j] - scores[i]).slice(0, config.topK); // Array.sort is stable
  const active = sorted.map(() => true);
  const selected: number[] = [];
  for (let i = 0; i < sorted.length && selected.length < maxDetections; i++) {
    if (!active[i]) continue;
    selected.push(sorted[i]);
    for (let j = i + 1; j < sorted.length; j++) {
      if (active[j] && tfliteIou(boxes[sorted[i]], boxes[sorted[j]]) > config.nmsThreshold) active[j] = false;
    }
  }
  return selected;
}

function detectImage(
  config: ResolvedConfig,
  loc: ArrayLike<number>,
  locAt: number,
  conf: ArrayLike<number>,
  confAt: number,
): Detection[] {
  const { numPriors, numClasses, keepTopK } = config;
  const tflite = config.tflite!;
  const labelOffset = config.backgroundClass === 0 ? 1 : 0; // num_classes_with_background − num_classes
  const boxes = Array.from({ length: numPriors }, (_, p) =>
    decodeBoxTflite(loc, locAt + 4 * p, config.priors, p, config.coding.order, tflite.factors, config.clip),
  );
  // box_scores: each anchor's activated foreground scores (TFLite class c = column c + offset)
  const rows = Array.from({ length: numPriors }, (_, p) =>
    activate(config, conf, confAt + p * numClasses)
      .map(f32)
      .slice(labelOffset),
  );
  const detections: Detection[] = [];
  const emit = (prior: number, fg: number, score: number) => {
    const detection: Detection = { classId: fg + labelOffset, score, box: boxes[prior], priorIndex: prior };
    if (config.labels) detection.label = config.labels[detection.classId];
    detections.push(detection);
  };

  if (!tflite.regular) {
    // NonMaxSuppressionMultiClassFastHelper
    const maxScores = rows.map((row) => row[decreasingPartialArgSort(row, 1)[0]]);
    for (const anchor of nmsSingleClass(maxScores, boxes, config, keepTopK)) {
      const row = rows[anchor];
      for (const fg of decreasingPartialArgSort(row, tflite.categories)) emit(anchor, fg, row[fg]);
    }
    return detections;
  }

  // NonMaxSuppressionMultiClassRegularHelper
  let best: { anchor: number; fg: number; score: number }[] = [];
  for (let fg = 0; fg < numClasses - labelOffset; fg++) {
    const classScores = rows.map((row) => row[fg]);
    const selected = nmsSingleClass(classScores, boxes, config, tflite.detectionsPerClass);
    const merged = [...best, ...selected.map((anchor) => ({ anchor, fg, score: classScores[anchor] }))];
    const order = decreasingPartialArgSort(
      merged.map((m) => m.score),
      Math.min(merged.length, keepTopK),
    );
    best = order.map((i) => merged[i]);
  }
  for (const { anchor, fg, score } of best) emit(anchor, fg, score);
  return detections;
}

/** Reference TFLite detections for a batch (TFLite itself runs batch 1; images are independent). */
export function referenceTflite(
  config: ResolvedConfig,
  loc: ArrayLike<number>,
  conf: ArrayLike<number>,
  batch = 1,
): Detection[][] {
  const perImageLoc = config.numPriors * 4,
    perImageConf = config.numPriors * config.numClasses;
  return Array.from({ length: batch }, (_, i) => detectImage(config, loc, i * perImageLoc, conf, i * perImageConf));
}

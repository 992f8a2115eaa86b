/**
 * The arena: one layout of the core's linear memory per configuration and batch capacity,
 * described to the core in a plan block (word map in assembly/pipeline.ts). Regions are
 * 16-byte aligned; the core never allocates.
 *
 *   heapBase → plan | priors | thresholds | counts | row | candidates | keptKeys | boxes |
 *              keptBoxes | order | mergeScores | mergeCodes | mergeTmp | outCounts | out | loc | conf
 *
 * order … mergeTmp serve TensorFlow Lite's NMS (assembly/tflite.ts) only; they are a few bytes
 * otherwise. MediaPipe's post-processing (assembly/mediapipe.ts) decodes its candidates into
 * `boxes` (topK rows of 4 + 2·keypoints f32) and blends into `keptBoxes` (the same per kept
 * detection); its output records carry the keypoints after the 7 usual words.
 */
import { lowestThreshold, type ResolvedConfig } from './config.js';
import type { Core } from './loader.js';

export const RECORD_WORDS = 7;
const PLAN_WORDS = 64;
const TFLITE_MODES = { fast: 1, regular: 2 } as const;
const ACTIVATIONS = { none: 0, softmax: 1, sigmoid: 2 } as const;

export interface Layout {
  batch: number;
  plan: number;
  priors: number;
  thresholds: number;
  loc: number;
  conf: number;
  out: number;
  outCounts: number;
  end: number;
}

const align = (n: number) => (n + 15) & ~15;

/** Words per output record: classId, priorIndex, score, 4 corners, then (x, y) per keypoint. */
export function recordWords(config: ResolvedConfig): number {
  return RECORD_WORDS + 2 * (config.mediapipe?.numKeypoints ?? 0);
}

/** Byte offsets of every region for `batch` images. */
export function layout(config: ResolvedConfig, base: number, batch: number): Layout & Record<string, number> {
  const { numPriors: P, numClasses: C, topK, keepTopK, tflite } = config;
  const capacity = (topK + 7) & ~7;
  // one pooled candidate list: class-agnostic NMS, or TFLite's fast NMS (one candidate per anchor)
  const pooled = config.classAgnostic || (tflite !== null && !tflite.regular) || config.mediapipe !== null;
  const rowBytes = config.locValues * 4;
  // TFLite's regular merge: the best keepTopK so far plus one class's selections
  const mergeCapacity = tflite ? keepTopK + Math.min(topK, tflite.detectionsPerClass) : 0;
  const sizes: [string, number][] = [
    ['plan', PLAN_WORDS * 4],
    ['priors', P * 16],
    ['thresholds', C * 4],
    ['counts', C * 4],
    ['row', C * 4],
    // MediaPipe collects every passing prior before its top-k
    ['heaps', (config.mediapipe ? P : pooled ? topK : C * topK) * 8],
    ['limits', C * 4],
    ['keptKeys', (pooled ? topK : C * topK) * 8],
    ['boxes', topK * rowBytes],
    ['keptBoxes', Math.max(5 * capacity * 4, config.mediapipe ? topK * rowBytes : 0)],
    ['order', Math.max(C, mergeCapacity) * 4],
    ['mergeScores', mergeCapacity * 4],
    ['mergeCodes', mergeCapacity * 4],
    ['mergeTmp', (tflite ? keepTopK : 0) * 8],
    ['outCounts', batch * 4],
    ['out', batch * config.outputCapacity * recordWords(config) * 4],
    ['loc', batch * P * rowBytes],
    ['conf', batch * P * C * 4],
  ];
  const regions: Record<string, number> = { batch };
  let at = align(base);
  for (const [name, bytes] of sizes) {
    regions[name] = at;
    at = align(at + bytes);
  }
  regions.end = at;
  return regions as Layout & Record<string, number>;
}

/** Grows the core's memory to hold the layout and writes the plan, priors and thresholds. */
export function writePlan(core: Core, config: ResolvedConfig, gate: number, regions: Layout & Record<string, number>): void {
  core.scratch(regions.end - core.heapBase,
    `the post-processing arena of a batch of ${regions.batch} (${config.numPriors} priors × ${config.numClasses} classes)`);
  const buffer = core.memory.buffer;
  const words = new Int32Array(buffer, regions.plan, PLAN_WORDS);
  const reals = new Float32Array(buffer, regions.plan, PLAN_WORDS);
  const soft = config.softNms === null ? 0 : config.softNms.method === 'linear' ? 1 : 2;
  words.set([config.numPriors, config.numClasses, config.backgroundClass, ACTIVATIONS[config.activation],
    config.topK, config.keepTopK, config.classAgnostic ? 1 : 0, config.clip ? 1 : 0, soft]);
  reals.set([config.nmsThreshold, config.softNms?.sigma ?? 0.5, gate, ...config.coding.scales], 9);
  words[16] = config.coding.order === 'yxhw' ? 1 : 0;
  words.set([regions.priors, regions.loc, regions.conf, regions.thresholds, regions.heaps, regions.counts,
    regions.keptKeys, regions.boxes, regions.keptBoxes, regions.row, regions.out, regions.outCounts], 17);
  reals[29] = lowestThreshold(config);
  words[30] = regions.limits;
  const tflite = config.tflite;
  words[31] = tflite === null ? 0 : TFLITE_MODES[tflite.regular ? 'regular' : 'fast'];
  if (tflite !== null) {
    words[32] = tflite.categories;
    words[33] = tflite.detectionsPerClass;
    reals.set(tflite.factors, 34);
    reals[38] = tflite.threshold;
  }
  words.set([regions.order, regions.mergeScores, regions.mergeCodes, regions.mergeTmp, config.outputCapacity], 39);
  const mediapipe = config.mediapipe;
  words[44] = mediapipe === null ? 0 : mediapipe.weighted ? 2 : 1;
  if (mediapipe !== null) {
    words.set([mediapipe.exponential ? 1 : 0, mediapipe.numKeypoints, config.locValues, recordWords(config)], 45);
    reals.set(mediapipe.divisors, 49);
  }
  new Float32Array(buffer, regions.priors, config.priors.length).set(config.priors);
  const thresholds = new Float32Array(buffer, regions.thresholds, config.numClasses);
  thresholds.set(config.thresholds);
  // the background is never a candidate: an infinite limit keeps it out of every bound
  if (config.backgroundClass >= 0) thresholds[config.backgroundClass] = Infinity;
}

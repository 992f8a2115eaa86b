/**
 * The detection output in plain TypeScript, written for clarity: the oracle for the wasm core
 * in tests and the hand-written baseline in the benchmark. Same semantics, same f32 rounding
 * (see f32.ts), none of the shortcuts.
 */
import { lowestThreshold, type ResolvedConfig } from '../config.js';
import type { Detection } from '../types.js';
import { boxArea, decodeBox, iou, type Box } from './coder.js';
import { expf, f32 } from './f32.js';
import { referenceMediapipeImage } from './mediapipe.js';
import { referenceTflite } from './tflite.js';

interface Candidate {
  score: number;
  prior: number;
  classId: number;
  box?: Box;
}

/** Rank: score descending, then lower prior index, then lower class. */
const byRank = (a: Candidate, b: Candidate) => b.score - a.score || a.prior - b.prior || a.classId - b.classId;

/** Activated scores of one prior's row. */
export function activate(config: ResolvedConfig, conf: ArrayLike<number>, at: number): number[] {
  const row = Array.from({ length: config.numClasses }, (_, c) => conf[at + c]);
  if (config.activation === 'sigmoid') return row.map((l) => f32(1 / f32(1 + expf(-l))));
  if (config.activation === 'none') return row;
  const max = Math.max(...row);
  const exps = row.map((l) => expf(f32(l - max)));
  const sum = softmaxSum(exps);
  return exps.map((e) => f32(e / sum));
}

/**
 * The softmax denominator in the core's order (assembly/scores.ts expRow): four interleaved
 * partial sums over the classes below 4·⌊C/4⌋, combined as (s0 + s1) + (s2 + s3), then the
 * remaining classes in order.
 */
export function softmaxSum(exps: number[]): number {
  const whole = exps.length & ~3;
  const partial = [0, 0, 0, 0];
  for (let c = 0; c < whole; c++) partial[c & 3] = f32(partial[c & 3] + exps[c]);
  let sum = f32(f32(partial[0] + partial[1]) + f32(partial[2] + partial[3]));
  for (let c = whole; c < exps.length; c++) sum = f32(sum + exps[c]);
  return sum;
}

function greedyNms(candidates: Candidate[], threshold: number): Candidate[] {
  const kept: Candidate[] = [];
  for (const candidate of candidates) {
    if (!kept.some((k) => iou(k.box!, candidate.box!) > threshold)) kept.push(candidate);
  }
  return kept;
}

/** Soft-NMS (Bodla et al. 2017) with scores decayed in f32 as the core does. */
function softNms(candidates: Candidate[], config: ResolvedConfig, scoreThreshold: number): Candidate[] {
  const { method, sigma } = config.softNms!;
  let remaining = candidates.map((c) => ({ ...c }));
  const kept: Candidate[] = [];
  while (remaining.length > 0) {
    remaining.sort(byRank);
    const best = remaining.shift()!;
    if (!(best.score > scoreThreshold)) break;
    kept.push(best);
    for (const other of remaining) {
      const overlap = iou(best.box!, other.box!);
      if (method === 'linear') {
        if (overlap > config.nmsThreshold) other.score = f32(other.score * f32(1 - overlap));
      } else if (overlap > 0) {
        other.score = f32(other.score * expf(f32(-f32(overlap * overlap) / sigma)));
      }
    }
    remaining = remaining.filter((c) => c.score > scoreThreshold);
  }
  return kept;
}

/** Detections of one image whose outputs start at loc[locAt], conf[confAt]. */
function detectImage(
  config: ResolvedConfig,
  loc: ArrayLike<number>,
  locAt: number,
  conf: ArrayLike<number>,
  confAt: number,
): Detection[] {
  const { numPriors, numClasses, backgroundClass } = config;
  // per class (or one pooled list): every score strictly above its class threshold
  const lists: Candidate[][] = Array.from({ length: config.classAgnostic ? 1 : numClasses }, () => []);
  for (let p = 0; p < numPriors; p++) {
    const scores = activate(config, conf, confAt + p * numClasses);
    for (let c = 0; c < numClasses; c++) {
      if (c !== backgroundClass && scores[c] > config.thresholds[c]) {
        lists[config.classAgnostic ? 0 : c].push({ score: scores[c], prior: p, classId: c });
      }
    }
  }
  const lowest = lowestThreshold(config);
  const kept: Candidate[] = [];
  lists.forEach((list, index) => {
    const top = list.sort(byRank).slice(0, config.topK);
    for (const c of top)
      c.box = decodeBox(loc, locAt + 4 * c.prior, config.priors, c.prior, config.coding, config.clip);
    if (config.softNms) {
      kept.push(...softNms(top, config, config.classAgnostic ? lowest : config.thresholds[index]));
    } else {
      kept.push(...greedyNms(top, config.nmsThreshold));
    }
  });
  return kept
    .sort(byRank)
    .slice(0, config.keepTopK)
    .map((c) => {
      const detection: Detection = { classId: c.classId, score: c.score, box: c.box!, priorIndex: c.prior };
      if (config.labels) detection.label = config.labels[c.classId];
      return detection;
    });
}

/** Reference detections for a batch: one Detection[] per image. */
export function referenceDetect(
  config: ResolvedConfig,
  loc: ArrayLike<number>,
  conf: ArrayLike<number>,
  batch = 1,
): Detection[][] {
  if (config.tflite) return referenceTflite(config, loc, conf, batch);
  const perImageLoc = config.numPriors * config.locValues,
    perImageConf = config.numPriors * config.numClasses;
  if (config.mediapipe) {
    return Array.from({ length: batch }, (_, i) =>
      referenceMediapipeImage(config, loc, i * perImageLoc, conf, i * perImageConf),
    );
  }
  return Array.from({ length: batch }, (_, i) => detectImage(config, loc, i * perImageLoc, conf, i * perImageConf));
}

export { boxArea };

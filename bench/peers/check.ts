/**
 * A deliberately naive, float64, plain-JS statement of the ssd.pytorch `Detect` semantics
 * (DESIGN.md): the yardstick the peers are checked against. Slow by design; never benchmarked
 * as "ours".
 */
import type { Detection } from '../../src/core/types.js';
import { iou } from '../scenarios.js';
import { keepBest, type PeerConfig } from './peer.js';

/** SSD300 VOC priors (ssd.pytorch `PriorBox`, clip on), (cx, cy, w, h) rows. Kept here so the
 * peer check does not depend on the core being built. */
export function ssd300VocPriors(): Float32Array {
  const image = 300;
  const maps = [38, 19, 10, 5, 3, 1];
  const steps = [8, 16, 32, 64, 100, 300];
  const minSizes = [30, 60, 111, 162, 213, 264];
  const maxSizes = [60, 111, 162, 213, 264, 315];
  const ratios = [[2], [2, 3], [2, 3], [2, 3], [2], [2]];
  const out: number[] = [];
  maps.forEach((f, k) => {
    const fk = image / steps[k];
    const s = minSizes[k] / image;
    const sPrime = Math.sqrt(s * (maxSizes[k] / image));
    for (let i = 0; i < f; i++) {
      for (let j = 0; j < f; j++) {
        const cx = (j + 0.5) / fk;
        const cy = (i + 0.5) / fk;
        out.push(cx, cy, s, s, cx, cy, sPrime, sPrime);
        for (const r of ratios[k]) {
          const q = Math.sqrt(r);
          out.push(cx, cy, s * q, s / q, cx, cy, s / q, s * q);
        }
      }
    }
  });
  return Float32Array.from(out, (v) => Math.min(Math.max(v, 0), 1));
}

/** Softmax over classes for every prior, float64, max-subtracted. */
export function softmaxRows(conf: Float32Array, numClasses: number): Float64Array {
  const out = new Float64Array(conf.length);
  for (let row = 0; row < conf.length; row += numClasses) {
    let max = -Infinity;
    for (let c = 0; c < numClasses; c++) max = Math.max(max, conf[row + c]);
    let sum = 0;
    for (let c = 0; c < numClasses; c++) {
      out[row + c] = Math.exp(conf[row + c] - max);
      sum += out[row + c];
    }
    for (let c = 0; c < numClasses; c++) out[row + c] /= sum;
  }
  return out;
}

/** Decodes one prior's offsets to an xyxy box. */
export function decodeBox(
  loc: Float32Array,
  priors: Float32Array,
  p: number,
  [v0, v1]: [number, number],
): [number, number, number, number] {
  const [pcx, pcy, pw, ph] = priors.subarray(p * 4, p * 4 + 4);
  const cx = pcx + loc[p * 4] * v0 * pw;
  const cy = pcy + loc[p * 4 + 1] * v0 * ph;
  const w = pw * Math.exp(loc[p * 4 + 2] * v1);
  const h = ph * Math.exp(loc[p * 4 + 3] * v1);
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

/**
 * One image, the semantics verbatim: threshold (>), top-k, greedy NMS (suppress IoU >),
 * keep-top-k. A zero-area box has zero intersection with anything, so it suppresses nothing.
 */
export function naiveDetect(loc: Float32Array, conf: Float32Array, cfg: PeerConfig): Detection[] {
  const numPriors = cfg.priors.length / 4;
  const C = cfg.numClasses;
  const scores = softmaxRows(conf, C);
  const boxes = Array.from({ length: numPriors }, (_, p) => decodeBox(loc, cfg.priors, p, cfg.variances));
  const all: Detection[] = [];
  for (let c = 1; c < C; c++) {
    const candidates: number[] = [];
    for (let p = 0; p < numPriors; p++) if (scores[p * C + c] > cfg.scoreThreshold) candidates.push(p);
    candidates.sort((a, b) => scores[b * C + c] - scores[a * C + c] || a - b);
    const kept: number[] = [];
    for (const p of candidates.slice(0, cfg.topK)) {
      if (kept.every((k) => iou(boxes[p], boxes[k]) <= cfg.nmsThreshold)) kept.push(p);
    }
    for (const p of kept) all.push({ classId: c, score: scores[p * C + c], box: boxes[p], priorIndex: p });
  }
  return keepBest(all, cfg.keepTopK);
}

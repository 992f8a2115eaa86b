/** Ground-truth matching in plain TypeScript (ssd.pytorch layers/box_utils.py `match`). */
import { encodeBox, iou, type Box, type Coding } from './coder.js';

export interface MatchResult {
  /** Class per prior, 0 = background. */
  conf: Int32Array;
  /** Encoded offsets per prior (4 each). */
  loc: Float32Array;
  numPositive: number;
}

function priorCorners(priors: Float32Array, p: number): Box {
  const [cx, cy, w, h] = priors.subarray(4 * p, 4 * p + 4);
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2].map(Math.fround) as Box;
}

export function referenceMatch(
  priors: Float32Array,
  truths: Box[],
  labels: number[],
  threshold: number,
  coding: Coding,
): MatchResult {
  const numPriors = priors.length / 4;
  const corners = Array.from({ length: numPriors }, (_, p) => priorCorners(priors, p));
  const overlap = (t: number, p: number) => {
    const v = iou(truths[t], corners[p]);
    return v >= 0 ? v : 0;
  };
  // each prior's best truth
  const bestTruth = new Int32Array(numPriors);
  const bestOverlap = new Float32Array(numPriors).fill(-1);
  truths.forEach((_, t) => {
    for (let p = 0; p < numPriors; p++) {
      const v = overlap(t, p);
      if (v > bestOverlap[p]) {
        bestOverlap[p] = v;
        bestTruth[p] = t;
      }
    }
  });
  // each truth forces its best prior; a later truth wins a shared prior
  truths.forEach((_, t) => {
    let best = 0;
    for (let p = 1; p < numPriors; p++) if (overlap(t, p) > overlap(t, best)) best = p;
    bestOverlap[best] = 2;
    bestTruth[best] = t;
  });
  const conf = new Int32Array(numPriors);
  const loc = new Float32Array(numPriors * 4);
  let numPositive = 0;
  if (truths.length === 0) return { conf, loc, numPositive };
  for (let p = 0; p < numPriors; p++) {
    if (bestOverlap[p] >= threshold) {
      conf[p] = labels[bestTruth[p]];
      numPositive++;
    }
    loc.set(encodeBox(truths[bestTruth[p]], priors, p, coding), 4 * p);
  }
  return { conf, loc, numPositive };
}

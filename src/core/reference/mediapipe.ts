/**
 * MediaPipe's post-processing (TensorsToDetectionsCalculator + NonMaxSuppressionCalculator) in
 * plain TypeScript: the oracle for assembly/mediapipe.ts, written for clarity with the same f32
 * rounding. See `weightedNms` in types.ts for the semantics.
 */
import type { ResolvedConfig, ResolvedMediapipe } from '../config.js';
import type { Detection } from '../types.js';
import { f32 } from './f32.js';

interface Candidate {
  score: number;
  prior: number;
  classId: number;
  row: number[];
}

/** MediaPipe's sigmoid: 1 / (1 + e^−x) in f32, e^−x rounded to f32. */
export function sigmoidMediapipe(x: number): number {
  return f32(1 / f32(1 + f32(Math.exp(-x))));
}

/**
 * DecodeBoxes for prior p: [x1, y1, x2, y2, kx0, ky0, …] with (x2, y2) = xmin + width, ymin +
 * height; null when the width or height is negative or NaN.
 */
export function decodeMediapipe(
  loc: ArrayLike<number>,
  at: number,
  priors: Float32Array,
  p: number,
  order: 'xywh' | 'yxhw',
  mp: ResolvedMediapipe,
): number[] | null {
  const [dx, dy, dw, dh] = mp.divisors;
  let [tx, ty, tw, th] = [loc[at], loc[at + 1], loc[at + 2], loc[at + 3]];
  if (order === 'yxhw') [tx, ty, tw, th] = [ty, tx, th, tw];
  const [pcx, pcy, pw, ph] = [priors[4 * p], priors[4 * p + 1], priors[4 * p + 2], priors[4 * p + 3]];
  const cx = f32(f32(f32(tx / dx) * pw) + pcx);
  const cy = f32(f32(f32(ty / dy) * ph) + pcy);
  const w = mp.exponential ? f32(f32(Math.exp(f32(tw / dw))) * pw) : f32(f32(tw / dw) * pw);
  const h = mp.exponential ? f32(f32(Math.exp(f32(th / dh))) * ph) : f32(f32(th / dh) * ph);
  const xmin = f32(cx - f32(w / 2)),
    ymin = f32(cy - f32(h / 2));
  const width = f32(f32(cx + f32(w / 2)) - xmin),
    height = f32(f32(cy + f32(h / 2)) - ymin);
  const row = [xmin, ymin, f32(xmin + width), f32(ymin + height)];
  for (let k = 0; k < mp.numKeypoints; k++) {
    let [rx, ry] = [loc[at + 4 + 2 * k], loc[at + 5 + 2 * k]];
    if (order === 'yxhw') [rx, ry] = [ry, rx];
    row.push(f32(f32(f32(rx / dx) * pw) + pcx), f32(f32(f32(ry / dy) * ph) + pcy));
  }
  return width >= 0 && height >= 0 ? row : null;
}

/** IoU(a, b) = inter / (area_a + area_b − inter) in f32; NaN for two zero-area boxes. */
function iou(a: number[], b: number[]): number {
  const area = (r: number[]) => f32(Math.max(f32(r[2] - r[0]), 0) * Math.max(f32(r[3] - r[1]), 0));
  const iw = Math.max(f32(Math.min(a[2], b[2]) - Math.max(a[0], b[0])), 0);
  const ih = Math.max(f32(Math.min(a[3], b[3]) - Math.max(a[1], b[1])), 0);
  const inter = f32(iw * ih);
  return f32(inter / f32(f32(area(a) + area(b)) - inter));
}

function weighted(candidates: Candidate[], threshold: number, maxKeep: number): Candidate[] {
  let remaining = candidates;
  const out: Candidate[] = [];
  while (remaining.length > 0 && out.length < maxKeep) {
    const top = remaining[0];
    const overlapping = remaining.filter((r) => iou(r.row, top.row) > threshold);
    if (overlapping.length === 0) {
      out.push(top);
      break;
    }
    const sums = new Array<number>(top.row.length).fill(0);
    let total = 0;
    for (const c of overlapping) {
      total = f32(total + c.score);
      c.row.forEach((v, i) => {
        sums[i] = f32(sums[i] + f32(v * c.score));
      });
    }
    const xmin = f32(sums[0] / total),
      ymin = f32(sums[1] / total);
    const width = f32(f32(sums[2] / total) - xmin),
      height = f32(f32(sums[3] / total) - ymin);
    const row = [xmin, ymin, f32(xmin + width), f32(ymin + height), ...sums.slice(4).map((v) => f32(v / total))];
    out.push({ ...top, row });
    remaining = remaining.filter((r) => !overlapping.includes(r));
  }
  return out;
}

function greedy(candidates: Candidate[], threshold: number, maxKeep: number): Candidate[] {
  const kept: Candidate[] = [];
  for (const c of candidates) {
    if (kept.length >= maxKeep) break;
    if (!kept.some((k) => iou(k.row, c.row) > threshold)) kept.push(c);
  }
  return kept;
}

/** Detections of one image. */
export function referenceMediapipeImage(
  config: ResolvedConfig,
  loc: ArrayLike<number>,
  locAt: number,
  conf: ArrayLike<number>,
  confAt: number,
): Detection[] {
  const mp = config.mediapipe!;
  const { numPriors, numClasses, backgroundClass, locValues } = config;
  const candidates: Candidate[] = [];
  for (let p = 0; p < numPriors; p++) {
    let best = -3.4028234663852886e38,
      classId = -1;
    for (let c = 0; c < numClasses; c++) {
      if (c === backgroundClass) continue;
      const raw = conf[confAt + p * numClasses + c];
      const score = config.activation === 'sigmoid' ? sigmoidMediapipe(raw) : raw;
      if (best < score) {
        best = score;
        classId = c;
      }
    }
    // thresholds hold the f32 just below min_score_thresh
    if (classId >= 0 && best > config.thresholds[classId]) candidates.push({ score: best, prior: p, classId, row: [] });
  }
  candidates.sort((a, b) => b.score - a.score || a.prior - b.prior);
  const decoded = candidates.slice(0, config.topK).filter((c) => {
    const row = decodeMediapipe(loc, locAt + p4(c.prior, locValues), config.priors, c.prior, config.coding.order, mp);
    if (row) c.row = row;
    return row !== null;
  });
  const kept = mp.weighted
    ? weighted(decoded, config.nmsThreshold, config.keepTopK)
    : greedy(decoded, config.nmsThreshold, config.keepTopK);
  return kept.map((c) => {
    const d: Detection = {
      classId: c.classId,
      score: c.score,
      box: [c.row[0], c.row[1], c.row[2], c.row[3]],
      priorIndex: c.prior,
    };
    if (config.labels) d.label = config.labels[c.classId];
    if (mp.numKeypoints > 0)
      d.keypoints = Array.from({ length: mp.numKeypoints }, (_, k) => [c.row[4 + 2 * k], c.row[5 + 2 * k]]);
    return d;
  });
}

const p4 = (prior: number, values: number) => prior * values;

/**
 * Deterministic stand-ins for an SSD's raw outputs (loc [N, P, 4] offsets x-first,
 * conf [N, P, C] logits with class 0 = background), so that benchmarks exercise the
 * post-processing with realistic candidate counts without running a network.
 *
 * - `realistic`: a trained net on a photo with 3–8 objects. Priors that overlap an object get
 *   offsets that decode near it and a foreground probability from about 0.02 to 0.99; every
 *   other prior is confidently background, with logit noise that lets a few hundred
 *   prior/class pairs (about 5% of priors) pass a 0.01 threshold.
 * - `crowded`: the same with 60 smaller objects.
 * - `dense`: what trained SSDs really let through (the converted COCO SSD MobileNet passes about
 *   650 of 1917 × 90 pairs on a street photo). 5–9 objects as in `realistic`, background logit
 *   noise N(−8.1, 1.5) in every foreground class (about 1% of pairs pass 0.01) and N(−6.4, 1.5)
 *   in one busy class (about 12% of priors pass: the "person" of a street scene), so SSD300
 *   VOC lets a few thousand pairs through with near a thousand in the busy class.
 * - `adversarial`: near-uniform logits, so every prior passes 0.01 in every class.
 */

import { mulberry32 } from '../src/util/random.js';

export { mulberry32 };

export type ScenarioName = 'realistic' | 'crowded' | 'dense' | 'adversarial';

export interface ModelOutputs {
  /** [batch, P, 4] offsets (tx, ty, tw, th). */
  loc: Float32Array;
  /** [batch, P, numClasses] logits. */
  conf: Float32Array;
}

/** Coding the generator assumes (ssd.pytorch). */
const VARIANCES = [0.1, 0.2] as const;
/** Prior/object IoU from which a prior fires for the object. */
const MATCH_IOU = 0.35;
/** Offset noise on matched priors, in offset units. */
const LOC_SIGMA = 0.5;
/** Prior/object IoU from which a matched prior is as confident as it gets (p ≈ 0.99). */
const FULL_IOU = 0.75;
/** Foreground logits of background priors, relative to the background logit: N(mean, sd).
 * P(logit > ln 0.01 ≈ −4.6) ≈ 0.17% per pair: a few hundred pairs per image pass 0.01. */
const NOISE_MEAN = -9.0;
const NOISE_SD = 1.5;
/** `dense`: the same noise shifted up, ln 0.01 − 2.3 sd: about 1% of pairs pass 0.01. */
const DENSE_NOISE_MEAN = -8.1;
/** `dense`: the busy class, ln 0.01 − 1.2 sd: about 12% of its priors pass 0.01. */
const BUSY_NOISE_MEAN = -6.4;

/** Foreground logit noise of background priors, relative to the background logit. */
interface Noise {
  mean: number;
  busyClass: number;
  busyMean: number;
}
const QUIET: Noise = { mean: NOISE_MEAN, busyClass: -1, busyMean: NOISE_MEAN };

interface Rng {
  uniform(lo: number, hi: number): number;
  int(lo: number, hiInclusive: number): number;
  normal(mean?: number, sd?: number): number;
}

function makeRng(seed: number): Rng {
  const next = mulberry32(seed);
  return {
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    // Box–Muller; 1 − u keeps the log argument in (0, 1].
    normal: (mean = 0, sd = 1) => mean + sd * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
  };
}

/** IoU of two xyxy boxes, no +1. */
export function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

interface GroundTruth {
  box: [number, number, number, number];
  classId: number;
}

function sampleObjects(rng: Rng, count: number, minSide: number, maxSide: number, numClasses: number): GroundTruth[] {
  return Array.from({ length: count }, () => {
    const w = rng.uniform(minSide, maxSide);
    const h = rng.uniform(minSide, maxSide);
    const x = rng.uniform(0, 1 - w);
    const y = rng.uniform(0, 1 - h);
    return { box: [x, y, x + w, y + h], classId: rng.int(1, numClasses - 1) };
  });
}

/** One image of a trained-looking net: objects fire their matched priors, the rest is background. */
function objectImage(
  rng: Rng,
  priors: Float32Array,
  numClasses: number,
  objects: GroundTruth[],
  loc: Float32Array,
  conf: Float32Array,
  noise: Noise = QUIET,
): void {
  const numPriors = priors.length / 4;
  for (let p = 0; p < numPriors; p++) {
    const [pcx, pcy, pw, ph] = priors.subarray(p * 4, p * 4 + 4);
    const priorBox = [pcx - pw / 2, pcy - ph / 2, pcx + pw / 2, pcy + ph / 2];
    let best = -1;
    let bestIou = MATCH_IOU;
    objects.forEach((o, k) => {
      const overlap = iou(priorBox, o.box);
      if (overlap >= bestIou) [best, bestIou] = [k, overlap];
    });
    const l = p * 4;
    const c0 = p * numClasses;
    const background = rng.normal(4, 0.5);
    conf[c0] = background;
    if (best < 0) {
      // Background priors regress to nothing in particular.
      for (let i = 0; i < 4; i++) loc[l + i] = rng.normal();
      for (let c = 1; c < numClasses; c++) {
        conf[c0 + c] = background + rng.normal(c === noise.busyClass ? noise.busyMean : noise.mean, NOISE_SD);
      }
      continue;
    }
    const [x0, y0, x1, y1] = objects[best].box;
    loc[l] = ((x0 + x1) / 2 - pcx) / (VARIANCES[0] * pw) + rng.normal(0, LOC_SIGMA);
    loc[l + 1] = ((y0 + y1) / 2 - pcy) / (VARIANCES[0] * ph) + rng.normal(0, LOC_SIGMA);
    loc[l + 2] = Math.log((x1 - x0) / pw) / VARIANCES[1] + rng.normal(0, LOC_SIGMA);
    loc[l + 3] = Math.log((y1 - y0) / ph) / VARIANCES[1] + rng.normal(0, LOC_SIGMA);
    // Better overlap, higher confidence: the foreground-vs-background logit margin runs from
    // sigmoid⁻¹(0.02) ≈ −3.9 at the match threshold to sigmoid⁻¹(0.99) ≈ 4.6 at a close fit.
    const quality = Math.min(1, (bestIou - MATCH_IOU) / (FULL_IOU - MATCH_IOU));
    const margin = -3.9 + 8.5 * quality + rng.normal(0, 0.7);
    for (let c = 1; c < numClasses; c++) conf[c0 + c] = background + rng.normal(-7, 1);
    conf[c0 + objects[best].classId] = background + margin;
  }
}

function adversarialImage(rng: Rng, loc: Float32Array, conf: Float32Array): void {
  for (let i = 0; i < loc.length; i++) loc[i] = rng.normal();
  for (let i = 0; i < conf.length; i++) conf[i] = rng.uniform(-0.1, 0.1);
}

/**
 * Model outputs for `batch` images of one scenario. Same arguments, same bytes; image i uses
 * its own stream derived from `seed`, so batch 1 equals the first image of batch N.
 */
export function makeScenario(
  name: ScenarioName,
  priors: Float32Array,
  numClasses: number,
  seed: number,
  batch = 1,
): ModelOutputs {
  const numPriors = priors.length / 4;
  const loc = new Float32Array(batch * numPriors * 4);
  const conf = new Float32Array(batch * numPriors * numClasses);
  for (let n = 0; n < batch; n++) {
    const rng = makeRng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + n * 0x632be5ab);
    const imageLoc = loc.subarray(n * numPriors * 4, (n + 1) * numPriors * 4);
    const imageConf = conf.subarray(n * numPriors * numClasses, (n + 1) * numPriors * numClasses);
    if (name === 'adversarial') {
      adversarialImage(rng, imageLoc, imageConf);
    } else if (name === 'dense') {
      const objects = sampleObjects(rng, rng.int(5, 9), 0.1, 0.6, numClasses);
      const noise = { mean: DENSE_NOISE_MEAN, busyClass: objects[0].classId, busyMean: BUSY_NOISE_MEAN };
      objectImage(rng, priors, numClasses, objects, imageLoc, imageConf, noise);
    } else {
      const objects =
        name === 'realistic'
          ? sampleObjects(rng, rng.int(3, 8), 0.1, 0.7, numClasses)
          : sampleObjects(rng, 60, 0.05, 0.25, numClasses);
      objectImage(rng, priors, numClasses, objects, imageLoc, imageConf);
    }
  }
  return { loc, conf };
}

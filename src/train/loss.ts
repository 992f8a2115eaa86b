/**
 * MultiBoxLoss, as the SSD paper (eq. 1–3) and ssd.pytorch compute it:
 *   L = (L_conf + α·L_loc) / N,   N = positive priors in the batch,   L = 0 when N = 0;
 *   L_loc  = smooth L1 (β = 1), summed over the positives' 4 encoded offsets;
 *   L_conf = softmax cross-entropy, summed over the positives and each image's hardest negatives.
 * see: ssd.pytorch layers/modules/multibox_loss.py (MultiBoxLoss.forward); arXiv:1512.02325 §2.2
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainingTargets } from './targets.js';

export interface MultiBoxLossOptions {
  /** Hard negatives kept per positive, per image; an integer ≥ 0. Default 3. see: ssd.pytorch train.py `MultiBoxLoss(..., 3, ...)` */
  negPosRatio?: number;
  /** Weight α of the localisation term. Default 1. */
  alpha?: number;
}

/** The SSD heads' outputs. */
export interface MultiBoxPrediction {
  /** `[N, P, 4]` offsets. */
  loc: tf.Tensor3D;
  /** `[N, P, C]` logits; class 0 is the background. */
  conf: tf.Tensor3D;
}

export interface MultiBoxLossParts {
  /** `conf + α·loc`: the scalar to differentiate. */
  total: tf.Scalar;
  /** L_loc / N. */
  loc: tf.Scalar;
  /** L_conf / N. */
  conf: tf.Scalar;
  /** N, the positive priors in the batch. */
  numPositive: number;
}

/**
 * Hard negative mining: per image, the `negPosRatio · positives` negatives (label 0) with the
 * largest background loss, or all its negatives when it has fewer. Positives take no part in the
 * ranking. Equal losses: the lower prior index first.
 * see: ssd.pytorch multibox_loss.py (`num_neg = torch.clamp(self.negpos_ratio*num_pos, max=pos.size(1)-1)`).
 * It ranks all P priors with the positives' losses set to 0 and caps the count at P − 1; as no
 * negative's loss is below 0, that selects these same negatives (up to ties at 0).
 *
 * `backgroundLoss` and `labels` are `[numImages, numPriors]`, row-major. Returns 1 for each
 * selected negative, 0 elsewhere (positives included).
 */
export function selectHardNegatives(
  backgroundLoss: ArrayLike<number>,
  labels: ArrayLike<number>,
  numImages: number,
  numPriors: number,
  negPosRatio = 3,
): Uint8Array {
  if (!Number.isInteger(negPosRatio) || negPosRatio < 0)
    throw new RangeError(`negPosRatio ${negPosRatio} must be an integer ≥ 0`);
  const size = numImages * numPriors;
  if (backgroundLoss.length !== size || labels.length !== size) {
    throw new RangeError(
      `backgroundLoss has ${backgroundLoss.length} and labels ${labels.length} values; ` +
        `${numImages} images × ${numPriors} priors need ${size} each`,
    );
  }
  const selected = new Uint8Array(size);
  for (let image = 0, base = 0; image < numImages; image++, base += numPriors) {
    const negatives: number[] = [];
    for (let p = 0; p < numPriors; p++) if (labels[base + p] === 0) negatives.push(p);
    const numPositive = numPriors - negatives.length;
    const count = Math.min(negPosRatio * numPositive, negatives.length);
    if (count === 0) continue;
    negatives.sort((a, b) => backgroundLoss[base + b] - backgroundLoss[base + a] || a - b);
    for (let k = 0; k < count; k++) selected[base + negatives[k]] = 1;
  }
  return selected;
}

/**
 * Elementwise smooth L1 (β = 1): 0.5·d² for |d| < 1, |d| − 0.5 beyond, d = predicted − target.
 * Written as 0.5·q² + (|d| − q) with q = min(|d|, 1), the same function (tf.losses.huberLoss's form).
 * see: ssd.pytorch F.smooth_l1_loss(size_average=False)
 */
export function smoothL1(predicted: tf.Tensor, target: tf.Tensor): tf.Tensor {
  const d = tf.abs(tf.sub(predicted, target));
  const q = tf.minimum(d, 1);
  return tf.add(tf.mul(tf.square(q), 0.5), tf.sub(d, q));
}

function checkShapes({ loc, conf }: MultiBoxPrediction, targets: TrainingTargets): void {
  const shape = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;
  if (conf.rank !== 3 || conf.shape[2] < 2)
    throw new RangeError(`conf has shape ${shape(conf)}; it needs [N, P, C] with C ≥ 2`);
  const [N, P] = conf.shape;
  if (loc.rank !== 3 || loc.shape[0] !== N || loc.shape[1] !== P || loc.shape[2] !== 4) {
    throw new RangeError(`loc has shape ${shape(loc)}; conf ${shape(conf)} needs [${N}, ${P}, 4]`);
  }
  if (!tf.util.arraysEqual(targets.loc.shape, loc.shape)) {
    throw new RangeError(`targets.loc has shape ${shape(targets.loc)}; the predictions need ${shape(loc)}`);
  }
  if (!tf.util.arraysEqual(targets.conf.shape, [N, P]) || targets.conf.dtype !== 'int32') {
    throw new RangeError(`targets.conf is ${targets.conf.dtype} ${shape(targets.conf)}; it must be int32 [${N}, ${P}]`);
  }
}

/**
 * The loss of one batch and its parts, each divided by N. Differentiable with respect to
 * `predicted`; the hard-negative selection is read out of the tape (a constant mask), so no
 * gradient flows through the ranking. Reads the labels and the background losses synchronously.
 * The caller disposes `total`, `loc` and `conf`.
 */
export function multiBoxLoss(
  predicted: MultiBoxPrediction,
  targets: TrainingTargets,
  { negPosRatio = 3, alpha = 1 }: MultiBoxLossOptions = {},
): MultiBoxLossParts {
  checkShapes(predicted, targets);
  if (!(Number.isFinite(alpha) && alpha >= 0)) throw new RangeError(`alpha ${alpha} must be a finite number ≥ 0`);
  const [N, P, C] = predicted.conf.shape;
  const labels = targets.conf.dataSync();
  let numPositive = 0;
  const positive = new Float32Array(N * P);
  labels.forEach((label, i) => {
    if (!(label >= 0 && label < C)) {
      throw new RangeError(
        `targets.conf has ${label} at image ${Math.floor(i / P)}, prior ${i % P}; classes are 0..${C - 1}`,
      );
    }
    if (label > 0) {
      positive[i] = 1;
      numPositive++;
    }
  });
  const parts = tf.tidy(() => {
    const logProbs = tf.logSoftmax(predicted.conf);
    // Ranked by −log softmax[background]; read as plain numbers, so the mask is a constant.
    const backgroundLoss = tf.neg(tf.slice(logProbs, [0, 0, 0], [N, P, 1])).dataSync();
    const negatives = selectHardNegatives(backgroundLoss, labels, N, P, negPosRatio);
    const counted = Float32Array.from(positive, (v, i) => v + negatives[i]);

    const locSum = tf.sum(tf.mul(smoothL1(predicted.loc, targets.loc), tf.tensor3d(positive, [N, P, 1])));

    // Cross-entropy −log softmax[label] per prior, summed over the positives and selected negatives.
    const crossEntropy = tf.neg(tf.sum(tf.mul(logProbs, tf.oneHot(targets.conf, C, 1, 0, 'float32')), -1));
    const confSum = tf.sum(tf.mul(crossEntropy, tf.tensor2d(counted, [N, P])));

    // N = 0 leaves both sums 0 (no positives, no negatives): divide by 1 instead, so L = 0.
    const n = Math.max(numPositive, 1);
    const loc = tf.div(locSum, n) as tf.Scalar;
    const conf = tf.div(confSum, n) as tf.Scalar;
    return { total: tf.add(conf, tf.mul(loc, alpha)) as tf.Scalar, loc, conf };
  });
  return { ...parts, numPositive };
}

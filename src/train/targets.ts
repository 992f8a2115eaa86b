/**
 * Training targets from annotations, matched and encoded by the wasm core's matcher: the same
 * priors and box coder as inference, so training and detection cannot disagree about box coding.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Matcher } from '../core/matcher.js';

/** One image's ground truth. */
export interface BoxAnnotation {
  /** (xmin, ymin, xmax, ymax) rows, normalised to [0, 1], flattened: 4 values per box. */
  boxes: ArrayLike<number>;
  /** One foreground class per box, in [1, numClasses). */
  labels: ArrayLike<number>;
}

/** A batch's targets, in prior order, the shapes of the SSD heads' outputs. */
export interface TrainingTargets {
  /** `[N, P, 4]` encoded offsets of each prior's matched truth (meaningful where `conf` > 0). */
  loc: tf.Tensor3D;
  /** `[N, P]` int32: the matched truth's class, 0 for background. */
  conf: tf.Tensor2D;
  /** Positive priors in the whole batch. */
  numPositive: number;
}

/**
 * Matches every image's truths to the priors (IoU ≥ `threshold`, each truth's best prior forced)
 * and stacks the results. An image without boxes gives all-background targets.
 * The caller disposes `loc` and `conf`.
 */
export function buildTargets(
  matcher: Matcher,
  annotations: readonly BoxAnnotation[],
  threshold = 0.5,
): TrainingTargets {
  const N = annotations.length;
  if (N === 0) throw new RangeError('annotations is empty; a batch needs at least one image');
  const P = matcher.priors.length / 4;
  const loc = new Float32Array(N * P * 4);
  const conf = new Int32Array(N * P);
  let numPositive = 0;
  annotations.forEach((annotation, i) => {
    let matched;
    try {
      matched = matcher.match(annotation.boxes, annotation.labels, threshold);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      // Keep the matcher's error class (TypeError, RangeError, Error), naming the image.
      const Kind = error instanceof TypeError ? TypeError : error instanceof RangeError ? RangeError : Error;
      throw new Kind(`annotations[${i}]: ${error.message}`, { cause: error });
    }
    loc.set(matched.loc, i * P * 4);
    conf.set(matched.conf, i * P);
    numPositive += matched.numPositive;
  });
  return { loc: tf.tensor3d(loc, [N, P, 4]), conf: tf.tensor2d(conf, [N, P], 'int32'), numPositive };
}

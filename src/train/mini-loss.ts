/**
 * Targets and loss of the mini SSD (src/model/mini.ts): one 4 × 3 grid, one class.
 *
 * Targets: an object belongs to the cell its box centre falls in (column floor(cx·4), row
 * floor(cy·3), clamped to the grid); that cell's objectness target is 1 and its offset target
 * (cx·4 − column, cy·3 − row), the centre's position inside the cell in cells. When several
 * centres share a cell, the largest box (by area) is the cell's target; equal areas: the first.
 *
 *   L = (Σ_cells BCE(logit, target) + α·Σ_positive cells smooth L1(offset − target)) / N
 *
 * N = cells with an object in the batch; with none, the sum is divided by 1 (so negatives still
 * learn, and L = BCE of an empty batch). BCE is taken on logits in the stable form
 * max(x, 0) − x·t + log(1 + e^−|x|); smooth L1 with β = 1, as MultiBoxLoss.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MINI_GRID } from '../model/mini.js';
import type { MiniSsdOutput } from '../model/mini.js';
import { smoothL1 } from './loss.js';
import type { BoxAnnotation } from './targets.js';

export interface MiniTargets {
  /** `[N, 3, 4, 1]` 1 where a cell holds an object's centre. */
  objectness: tf.Tensor4D;
  /** `[N, 3, 4, 2]` the centre's (dx, dy) inside its cell; 0 where there is none. */
  offsets: tf.Tensor4D;
  numPositive: number;
}

/** Grid targets of a batch (boxes normalised xyxy; every box counts, whatever its label). The caller disposes them. */
export function buildMiniTargets(annotations: readonly BoxAnnotation[]): MiniTargets {
  const { columns, rows } = MINI_GRID;
  const cells = columns * rows,
    N = annotations.length;
  if (N === 0) throw new RangeError('annotations is empty; a batch needs at least one image');
  const objectness = new Float32Array(N * cells),
    offsets = new Float32Array(N * cells * 2);
  const bestArea = new Float32Array(N * cells).fill(-1);
  let numPositive = 0;
  annotations.forEach(({ boxes }, n) => {
    if (boxes.length % 4 !== 0)
      throw new RangeError(`annotations[${n}].boxes has ${boxes.length} values; it needs 4 per box`);
    for (let b = 0; b < boxes.length; b += 4) {
      const [x0, y0, x1, y1] = [boxes[b], boxes[b + 1], boxes[b + 2], boxes[b + 3]];
      if (![x0, y0, x1, y1].every(Number.isFinite) || x1 < x0 || y1 < y0) {
        throw new RangeError(
          `annotations[${n}] box ${b / 4} is [${x0}, ${y0}, ${x1}, ${y1}]; it needs finite xmin ≤ xmax, ymin ≤ ymax`,
        );
      }
      const cx = ((x0 + x1) / 2) * columns,
        cy = ((y0 + y1) / 2) * rows;
      const j = Math.min(columns - 1, Math.max(0, Math.floor(cx))),
        i = Math.min(rows - 1, Math.max(0, Math.floor(cy)));
      const cell = n * cells + i * columns + j,
        area = (x1 - x0) * (y1 - y0);
      if (area <= bestArea[cell]) continue;
      if (bestArea[cell] < 0) numPositive++;
      bestArea[cell] = area;
      objectness[cell] = 1;
      offsets[2 * cell] = cx - j;
      offsets[2 * cell + 1] = cy - i;
    }
  });
  return {
    objectness: tf.tensor4d(objectness, [N, rows, columns, 1]),
    offsets: tf.tensor4d(offsets, [N, rows, columns, 2]),
    numPositive,
  };
}

export interface MiniLossParts {
  total: tf.Scalar;
  /** The smooth L1 term / N. */
  loc: tf.Scalar;
  /** The BCE term / N. */
  conf: tf.Scalar;
  numPositive: number;
}

/** The mini SSD's loss of one batch (see the module comment). Differentiable with respect to `predicted`. */
export function miniLoss(predicted: MiniSsdOutput, targets: MiniTargets, alpha = 1): MiniLossParts {
  const shape = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;
  if (
    !tf.util.arraysEqual(predicted.objectness.shape, targets.objectness.shape) ||
    !tf.util.arraysEqual(predicted.offsets.shape, targets.offsets.shape)
  ) {
    throw new RangeError(
      `predictions ${shape(predicted.objectness)}, ${shape(predicted.offsets)} do not match the targets ` +
        `${shape(targets.objectness)}, ${shape(targets.offsets)}`,
    );
  }
  if (!(Number.isFinite(alpha) && alpha >= 0)) throw new RangeError(`alpha ${alpha} must be a finite number ≥ 0`);
  const { numPositive } = targets;
  const parts = tf.tidy(() => {
    const x = predicted.objectness,
      t = targets.objectness;
    const bce = tf.add(tf.sub(tf.relu(x), tf.mul(x, t)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
    const n = Math.max(numPositive, 1);
    const conf = tf.div(tf.sum(bce), n) as tf.Scalar;
    const loc = tf.div(tf.sum(tf.mul(smoothL1(predicted.offsets, targets.offsets), t)), n) as tf.Scalar;
    return { total: tf.add(conf, tf.mul(loc, alpha)) as tf.Scalar, loc, conf };
  });
  return { ...parts, numPositive };
}

/**
 * The optimiser: torch.optim.SGD's semantics (what ssd.pytorch trains with) with momentum and
 * weight decay, the learning-rate schedule (linear warm-up, then ×0.1 at each milestone), global
 * gradient-norm clipping, batch normalisation's moving statistics, and the checks that stop a
 * step whose loss, gradients or new weights are not finite.
 */
import * as tf from '@tensorflow/tfjs-core';
import { updateBatchNorm, type BatchNormLayer } from '../model/layers.js';
import type { PartGradients } from './gradients.js';

/** The learning rate of 0-based step `step`: linear warm-up, then ×0.1 at each milestone passed. */
export function learningRate(
  step: number,
  { lr, warmupSteps = 0, steps = [] }: { lr: number; warmupSteps?: number; steps?: readonly number[] },
): number {
  const warm = warmupSteps > 0 && step < warmupSteps ? (step + 1) / warmupSteps : 1;
  const decays = steps.filter((s) => step >= s).length;
  return lr * warm * 0.1 ** decays;
}

/** The global L2 norm of `grads` and the factor min(1, maxNorm / norm) that clips it (torch.nn.utils.clip_grad_norm_). */
function clipScale(grads: readonly tf.Tensor[], maxNorm: number): { norm: number; scale: number } {
  const norm = Math.sqrt(tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]));
  return { norm, scale: norm > maxNorm ? maxNorm / norm : 1 };
}

/** Moves batch normalisation's moving statistics toward a batch's (stats in `layers`' order). */
export function applyBatchNorm(layers: readonly BatchNormLayer[], stats: PartGradients['stats']): void {
  if (stats.length !== layers.length)
    throw new Error(`train: ${stats.length} batch-norm statistics for ${layers.length} layers`);
  updateBatchNorm(
    layers.map((layer, k) => ({
      layer,
      mean: tf.tensor1d(stats[k].mean),
      variance: tf.tensor1d(stats[k].variance),
      count: stats[k].count,
    })),
  );
}

/** 'a NaN gradient of <variable>' (or of a batch-norm statistic) when one holds NaN or ±Infinity. */
export function nonFiniteGradients(names: readonly string[], result: PartGradients): string | undefined {
  const first = (values: Float32Array) => values.find((v) => !Number.isFinite(v));
  for (const [i, grad] of result.grads.entries()) {
    const v = first(grad);
    if (v !== undefined) return `a gradient of ${names[i]} is ${v}`;
  }
  for (const [k, { mean, variance }] of result.stats.entries()) {
    const v = first(mean) ?? first(variance);
    if (v !== undefined) return `a batch-norm statistic of layer ${k + 1} is ${v}`;
  }
  return undefined;
}

/** One SGD step's inputs: the variables, their momentum buffers and the batch's gradients (one per variable). */
export interface SgdStep {
  variables: readonly tf.Variable[];
  momentum: readonly tf.Variable[];
  grads: readonly Float32Array[];
  /** Indices of the variables that move (a frozen base's are left out: weights and momentum kept). */
  live: readonly number[];
  lr: number;
  momentumFactor: number;
  weightDecay: number;
  clipGradNorm?: number;
}

/**
 * torch.optim.SGD's step with weight decay on every variable: d = g + wd·w; v = μ·v + d;
 * w −= lr·v, after clipping the gradients' global norm to `clipGradNorm` when given. The new
 * weights are checked before any is assigned: `updated` false (nothing changed) when they hold
 * NaN or ±Infinity. `gradNorm` is the norm before clipping, when clipping.
 */
export function sgdStep(step: SgdStep): { updated: boolean; gradNorm?: number } {
  const { variables, momentum, live } = step;
  let gradNorm: number | undefined;
  const updated = tf.tidy(() => {
    const grads = live.map((i) => tf.tensor(step.grads[i], variables[i].shape));
    const lrScalar = tf.scalar(step.lr),
      mu = tf.scalar(step.momentumFactor),
      wd = tf.scalar(step.weightDecay);
    const clip = step.clipGradNorm === undefined ? undefined : clipScale(grads, step.clipGradNorm);
    if (clip) gradNorm = clip.norm;
    const next = live.map((i, k) => {
      const w = variables[i];
      const g = clip && clip.scale < 1 ? tf.mul(grads[k], clip.scale) : grads[k];
      const d = step.weightDecay > 0 ? tf.add(g, tf.mul(w, wd)) : g;
      const v = tf.add(tf.mul(momentum[i], mu), d);
      return { v, w: tf.sub(w, tf.mul(v, lrScalar)) };
    });
    if (!Number.isFinite(tf.addN(next.map((n) => tf.sum(n.w))).dataSync()[0])) return false;
    next.forEach((n, k) => {
      momentum[live[k]].assign(n.v);
      variables[live[k]].assign(n.w);
    });
    return true;
  });
  return { updated, gradNorm };
}

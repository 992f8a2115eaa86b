/**
 * One batch's loss and gradients as plain arrays, so that parts of a batch can be computed in
 * worker threads (gradient-workers.ts) and combined exactly:
 *
 *   a network's loss is L_i = S_i / max(N_i, 1) (S: the summed terms, N: the positives), so the
 *   whole batch's is L = (Σ max(N_i, 1)·L_i) / max(ΣN_i, 1), and the same weights combine the
 *   gradients; batch normalisation's statistics combine by their counts (pooled mean and variance).
 *
 * Only batch normalisation's forward pass differs from one process: each part normalises with its
 * own statistics (as PyTorch's DataParallel without SyncBatchNorm).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BatchStats } from '../model/layers.js';
import type { TrainingNetwork } from './networks.js';
import type { BoxAnnotation } from './targets.js';

export interface PartGradients {
  /** One per trainable variable, in the network's order (empty for a frozen one). */
  grads: Float32Array[];
  loss: { total: number; loc: number; conf: number };
  numPositive: number;
  /** Batch normalisation statistics, in the order the forward pass met the layers. */
  stats: { mean: Float32Array; variance: Float32Array; count: number }[];
}

/**
 * The loss and gradients of `images` (NHWC, `[n, height, width, 3]`) and their annotations.
 * Variables `frozen` marks (by index) get no gradient (an empty array): tfjs then never computes
 * their filter gradients, nor propagates below the lowest trainable layer.
 */
export function computePartGradients(
  network: TrainingNetwork,
  images: Float32Array,
  shape: [number, number, number, number],
  annotations: readonly BoxAnnotation[],
  frozen?: readonly boolean[],
): PartGradients {
  const all = [...network.model.trainableVariables.values()];
  const variables = frozen ? all.filter((_, i) => !frozen[i]) : all;
  const batchStats: BatchStats[] = [];
  let loc = 0,
    conf = 0,
    numPositive = 0;
  // The tidy returns tensors only and they are read after it: tf.tidy walks whatever it returns
  // looking for tensors, element by element through a typed array (seconds a step for SSDLite's
  // 3 M gradient values).
  const [value, ...gradTensors] = tf.tidy(() => {
    const input = tf.tensor4d(images, shape);
    const { value, grads: byName } = tf.variableGrads(() => {
      const parts = network.loss(input, annotations, { training: true, batchStats });
      numPositive = parts.numPositive;
      loc = parts.loc.dataSync()[0];
      conf = parts.conf.dataSync()[0];
      return parts.total;
    }, variables);
    return [value, ...variables.map((v) => byName[v.name])];
  });
  let total: number, grads: Float32Array[];
  try {
    total = value.dataSync()[0];
    const byVariable = new Map(variables.map((v, i) => [v, gradTensors[i]]));
    // Copies (slice), never views of a backend heap: the arrays may be transferred to another thread.
    grads = all.map((v) => (byVariable.get(v)?.dataSync() as Float32Array | undefined)?.slice() ?? new Float32Array(0));
  } finally {
    tf.dispose([value, ...gradTensors]);
  }
  const stats = batchStats.map((s) => ({
    mean: (s.mean.dataSync() as Float32Array).slice(),
    variance: (s.variance.dataSync() as Float32Array).slice(),
    count: s.count,
  }));
  tf.dispose(batchStats.flatMap((s) => [s.mean, s.variance]));
  return { grads, loss: { total, loc, conf }, numPositive, stats };
}

/** The whole batch's loss, gradients and statistics from its parts (see the module comment). */
export function combineParts(parts: readonly PartGradients[]): PartGradients {
  if (parts.length === 1) return parts[0];
  const weight = (n: number) => Math.max(n, 1);
  const numPositive = parts.reduce((n, p) => n + p.numPositive, 0);
  const w = parts.map((p) => weight(p.numPositive) / weight(numPositive));
  const grads = parts[0].grads.map((g, k) => {
    const out = new Float32Array(g.length);
    parts.forEach((p, i) => {
      const src = p.grads[k];
      for (let j = 0; j < out.length; j++) out[j] += w[i] * src[j];
    });
    return out;
  });
  const mix = (key: 'total' | 'loc' | 'conf') => parts.reduce((s, p, i) => s + w[i] * p.loss[key], 0);
  const stats = parts[0].stats.map((first, k) => {
    const count = parts.reduce((n, p) => n + p.stats[k].count, 0);
    const mean = new Float32Array(first.mean.length),
      meanSquare = new Float32Array(first.mean.length);
    for (const p of parts) {
      const s = p.stats[k],
        f = s.count / count;
      for (let c = 0; c < mean.length; c++) {
        mean[c] += f * s.mean[c];
        meanSquare[c] += f * (s.variance[c] + s.mean[c] ** 2);
      }
    }
    const variance = meanSquare.map((m, c) => Math.max(0, m - mean[c] ** 2));
    return { mean, variance, count };
  });
  return { grads, loss: { total: mix('total'), loc: mix('loc'), conf: mix('conf') }, numPositive, stats };
}

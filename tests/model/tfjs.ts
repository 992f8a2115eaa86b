/** tfjs set-up and comparison helpers shared by the model tests. */
import { createRequire } from 'node:module';
import path from 'node:path';
import { after } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Ssd300 } from '../../src/model/ssd300.js';

export type TfjsBackend = 'cpu' | 'wasm';

let wasmPathsSet = false;

/** Switches tfjs to `backend`; the wasm binaries are read from the package's dist/. */
export async function useTfjsBackend(backend: TfjsBackend): Promise<void> {
  if (backend === 'wasm' && !wasmPathsSet) {
    const require = createRequire(import.meta.url);
    setWasmPaths(
      path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep,
    );
    wasmPathsSet = true;
  }
  tf.enableProdMode();
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend '${backend}' failed to initialise`);
}

/**
 * Random weights everywhere, not only where the initialisation is random: biases uniform in
 * ±0.5, L2Norm scales in [10, 30] (batch normalisation: variances in [0.5, 2], gammas in [0.5, 1.5]), so a mistake in either shows in the outputs.
 */
export function randomizeWeights(model: Pick<Ssd300, 'variables'>, seed: number): void {
  let s = seed;
  for (const [name, v] of model.variables) {
    if (name.endsWith('.filter')) continue;
    // Batch normalisation: variances must stay positive, gammas away from 0.
    const [lo, hi] = name.endsWith('.scale')
      ? [10, 30]
      : name.endsWith('.movingVariance')
        ? [0.5, 2]
        : name.endsWith('.gamma')
          ? [0.5, 1.5]
          : [-0.5, 0.5];
    tf.tidy(() => v.assign(tf.randomUniform(v.shape, lo, hi, 'float32', s++)));
  }
}

/** Random pre-processed images: 0–255 pixels minus a mean of about 128, NHWC. */
export function randomImages(batch: number, seed: number): tf.Tensor4D {
  return tf.randomUniform([batch, 300, 300, 3], -128, 128, 'float32', seed);
}

/** The largest |actual − expected|, relative to the largest |expected|, and where it is. */
export function relativeError(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
): { error: number; index: number } {
  if (actual.length !== expected.length) throw new RangeError(`lengths differ: ${actual.length} vs ${expected.length}`);
  let scale = 0,
    worst = -1,
    index = -1;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) {
      worst = d;
      index = i;
    }
  }
  return { error: worst / scale, index };
}

/** Wraps a model factory so that every model it makes is disposed when the test file ends. */
export function disposedAtEnd<A extends unknown[], M extends { dispose(): void }>(
  create: (...args: A) => M,
): (...args: A) => M {
  const made: M[] = [];
  after(() => made.forEach((m) => m.dispose()));
  return (...args) => {
    const m = create(...args);
    made.push(m);
    return m;
  };
}

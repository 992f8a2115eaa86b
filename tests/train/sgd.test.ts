/** sgdStep against torch.optim.SGD's formulas worked by hand: d = g + wd·w; v = μ·v + d; w −= lr·v. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { sgdStep } from '../../src/train/sgd.js';

const close = (actual: ArrayLike<number>, expected: readonly number[], what: string) =>
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) < 1e-6, `${what}[${i}] is ${actual[i]}, expected ${e}`));

function state() {
  return {
    variables: [tf.variable(tf.tensor1d([1, 2])), tf.variable(tf.tensor1d([3]))],
    momentum: [tf.variable(tf.tensor1d([0.1, 0.2])), tf.variable(tf.tensor1d([0]))],
  };
}

describe('sgdStep', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('momentum and weight decay, frozen variables untouched', () => {
    const { variables, momentum } = state();
    const result = sgdStep({
      variables,
      momentum,
      grads: [Float32Array.of(0.5, -1), Float32Array.of(7)],
      live: [0],
      lr: 0.1,
      momentumFactor: 0.9,
      weightDecay: 0.01,
    });
    assert.deepEqual(result, { updated: true, gradNorm: undefined });
    // d = [0.5 + 0.01, −1 + 0.02] = [0.51, −0.98]; v = 0.9·[0.1, 0.2] + d = [0.6, −0.8]; w = [1, 2] − 0.1·v = [0.94, 2.08]
    close(momentum[0].dataSync(), [0.6, -0.8], 'v');
    close(variables[0].dataSync(), [0.94, 2.08], 'w');
    close(variables[1].dataSync(), [3], 'the frozen w');
    close(momentum[1].dataSync(), [0], 'the frozen v');
  });

  it('clips the global gradient norm and reports it', () => {
    const { variables, momentum } = state();
    // |g| = √(3² + 4² + 12²) = 13; clipped to 6.5: g = [1.5, 2], [6]
    const result = sgdStep({
      variables,
      momentum,
      grads: [Float32Array.of(3, 4), Float32Array.of(12)],
      live: [0, 1],
      lr: 1,
      momentumFactor: 0,
      weightDecay: 0,
      clipGradNorm: 6.5,
    });
    assert.ok(Math.abs(result.gradNorm! - 13) < 1e-5, `gradNorm ${result.gradNorm}`);
    close(variables[0].dataSync(), [-0.5, 0], 'w');
    close(variables[1].dataSync(), [-3], 'w');
  });

  it('a step that would make a weight non-finite changes nothing', () => {
    const { variables, momentum } = state();
    const result = sgdStep({
      variables,
      momentum,
      grads: [Float32Array.of(Infinity, 0), Float32Array.of(1)],
      live: [0, 1],
      lr: 0.1,
      momentumFactor: 0.9,
      weightDecay: 0,
    });
    assert.equal(result.updated, false);
    close(variables[0].dataSync(), [1, 2], 'w');
    close(variables[1].dataSync(), [3], 'w');
    close(momentum[0].dataSync(), [0.1, 0.2], 'v');
  });
});

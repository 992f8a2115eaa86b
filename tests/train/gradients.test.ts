/**
 * computePartGradients (the loss and gradients of one part of a batch, as plain arrays) equals
 * tf.variableGrads on the same network and loss, value for value, with and without frozen
 * variables (which get empty arrays), and leaves no tensor behind. The mini SSD with batch norm
 * on wasm: small enough to take well under a second.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { computePartGradients } from '../../src/train/gradients.js';
import { createTrainingNetwork, type TrainingNetwork } from '../../src/train/networks.js';
import { initTraining } from '../../src/train/tfjs.js';
import { mulberry32 } from '../../src/util/random.js';

const SHAPE: [number, number, number, number] = [2, 96, 128, 3];
const annotations = [
  { boxes: new Float32Array([0.2, 0.2, 0.5, 0.6]), labels: new Int32Array([1]) },
  { boxes: new Float32Array([0.1, 0.5, 0.4, 0.9, 0.6, 0.1, 0.9, 0.4]), labels: new Int32Array([1, 1]) },
];
let network: TrainingNetwork, images: Float32Array;

before(async () => {
  await initTraining({ backend: 'wasm', log: () => {} });
  network = await createTrainingNetwork({
    arch: 'mini',
    width: 1,
    seed: 5,
    batchNorm: true,
    inputStd: [58, 57, 57],
    datasetClasses: ['background', 'circle'],
  });
  const rand = mulberry32(3);
  images = Float32Array.from({ length: SHAPE.reduce((a, b) => a * b) }, () => rand() * 2 - 1);
});

/** The reference: tf.variableGrads of the network's training loss over `variables`. */
function reference(variables: tf.Variable[]): { total: number; grads: Map<string, Float32Array> } {
  const input = tf.tensor4d(images, SHAPE);
  const { value, grads } = tf.variableGrads(
    () => network.loss(input, annotations, { training: true, batchStats: [] }).total,
    variables,
  );
  const result = {
    total: value.dataSync()[0],
    grads: new Map(variables.map((v) => [v.name, (grads[v.name].dataSync() as Float32Array).slice()])),
  };
  tf.dispose([input, value, ...Object.values(grads)]);
  return result;
}

describe('computePartGradients', () => {
  it('equals tf.variableGrads value for value; frozen variables get empty arrays; no tensor left behind', () => {
    const all = [...network.model.trainableVariables.values()];
    assert.ok(all.length > 4);
    for (const frozen of [undefined, all.map((_, i) => i < all.length / 2)]) {
      const before = tf.memory().numTensors;
      const part = computePartGradients(network, images, SHAPE, annotations, frozen);
      assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
      const expected = reference(all.filter((_, i) => !frozen?.[i]));
      assert.equal(part.loss.total, expected.total);
      assert.equal(part.grads.length, all.length);
      all.forEach((v, i) => {
        if (frozen?.[i]) {
          assert.equal(part.grads[i].length, 0, `${v.name}: frozen, no gradient`);
        } else {
          assert.deepEqual(part.grads[i], expected.grads.get(v.name), `${v.name}: the gradient tf.variableGrads gives`);
        }
      });
      assert.ok(
        part.grads.some((g) => g.some((x) => x !== 0)),
        'some gradient is non-zero',
      );
      assert.equal(part.stats.length, network.batchNormLayers.length, 'one statistics record per batch-norm layer');
    }
  });
});

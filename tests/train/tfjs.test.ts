/**
 * initTraining: tfjs-core's gradients registered in plain Node, and the backend choice with its
 * reasons. The test runner runs this file in its own Node process, with no loader flags.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { GRADIENT_KERNELS, initTraining } from '../../src/train/tfjs.js';

const require = createRequire(import.meta.url);
const installed = (pkg: string) => {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
};

before(() => tf.enableProdMode());

describe('initTraining', () => {
  it('registers the gradients the Node entry lacks (variableGrads through Add, Conv2D)', async () => {
    assert.equal(tf.getGradient('Add'), undefined, "tfjs-core's Node entry registers no gradients by itself");
    const lines: string[] = [];
    const chosen = await initTraining({ backend: 'cpu', log: (line) => lines.push(line) });
    assert.deepEqual(chosen, { name: 'cpu', tfjsBackend: 'cpu', skipped: [] });
    assert.deepEqual(lines, ['tfjs training backend: cpu']);
    assert.equal(tf.getBackend(), 'cpu');
    for (const kernel of GRADIENT_KERNELS) assert.ok(tf.getGradient(kernel), `gradient of ${kernel}`);
    const [dx, dFilter] = tf.tidy(() => {
      const x = tf.variable(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]));
      const filter = tf.variable(tf.ones([1, 1, 1, 1]));
      const { grads } = tf.variableGrads(() => tf.sum(tf.add(tf.conv2d(x, filter as tf.Tensor4D, 1, 'valid'), x)));
      return [grads[x.name].dataSync(), grads[filter.name].dataSync()];
    });
    // d/dx Σ(x·w + x) = w + 1 = 2; d/dw Σ(x·w + x) = Σx = 10
    assert.deepEqual([...dx], [2, 2, 2, 2]);
    assert.deepEqual([...dFilter], [10]);
    await initTraining({ backend: 'cpu', log: () => {} }); // a second call changes nothing
  });

  it('auto: node-gpu, node, then wasm (trainable with our kernels), saying why each was passed over', async (t) => {
    if (installed('@tensorflow/tfjs-node-gpu') || installed('@tensorflow/tfjs-node')) {
      t.skip('a native tfjs backend is installed here: what auto picks depends on it');
      return;
    }
    const lines: string[] = [];
    const chosen = await initTraining({ log: (line) => lines.push(line) });
    const expected = [
      'node-gpu: @tensorflow/tfjs-node-gpu is not installed',
      'node: @tensorflow/tfjs-node is not installed',
    ];
    // wasm trains with ssd-edge's own gradient kernels (src/train/kernels), registered on the way
    assert.equal(chosen.name, 'wasm');
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'the filter-gradient kernel is registered for wasm');
    assert.deepEqual(chosen.skipped, expected);
    assert.deepEqual(lines, [`tfjs training backend: ${chosen.name} (skipped ${expected.join('; ')})`]);
    assert.equal(tf.getBackend(), chosen.tfjsBackend);
  });

  it('an asked-for backend that cannot train fails, naming the missing package', async () => {
    if (!installed('@tensorflow/tfjs-node')) {
      await assert.rejects(initTraining({ backend: 'node', log: () => {} }), {
        message: 'cannot train on node: @tensorflow/tfjs-node is not installed',
      });
    }
    await assert.rejects(
      initTraining({ backend: 'webgl' as 'cpu' }),
      /backend 'webgl' is not one of auto, node-gpu, node, wasm, cpu/,
    );
  });
});

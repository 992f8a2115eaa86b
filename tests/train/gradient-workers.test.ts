/**
 * Gradient workers when things go wrong: a worker whose set-up fails, a step it cannot compute,
 * and a worker that exits while a step is in flight each reject with a message that names the
 * gradient worker — never a hang. A good step after a failed one still computes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startGradientWorkers, type WorkerInit } from '../../src/train/gradient-workers.js';
import { createTrainingNetwork } from '../../src/train/networks.js';
import { initTraining } from '../../src/train/tfjs.js';

const init: WorkerInit = {
  backend: 'wasm',
  network: {
    arch: 'mini',
    width: 1,
    seed: 1,
    batchNorm: true,
    inputStd: [58, 57, 57],
    datasetClasses: ['background', 'circle'],
  },
};
/** n grey 128 × 96 images, each with one box of class 1. */
const part = (n = 1) => ({
  images: new Float32Array(n * 96 * 128 * 3).fill(0.5),
  shape: [n, 96, 128, 3] as [number, number, number, number],
  annotations: Array.from({ length: n }, () => ({
    boxes: new Float32Array([0.2, 0.2, 0.5, 0.6]),
    labels: new Int32Array([1]),
  })),
});

describe('gradient workers', () => {
  it('reports a worker whose set-up fails, naming the cause', async () => {
    await assert.rejects(
      startGradientWorkers(1, { ...init, backend: 'node' }),
      /train: a gradient worker failed: .*tfjs-node/,
    );
  });

  it('reports a step the worker cannot compute, then computes a good one', async () => {
    const workers = await startGradientWorkers(1, init);
    try {
      await assert.rejects(workers.run([new Float32Array(3)], [part()]), /train: a gradient worker failed: /);
      const weights = await trainableWeights();
      const [result] = await workers.run(weights, [part()]);
      assert.equal(result.grads.length, weights.length);
      assert.ok(Number.isFinite(result.loss.total) && result.loss.total > 0, `loss ${result.loss.total}`);
    } finally {
      await workers.close();
    }
  });

  it('rejects a step in flight when its worker exits', async () => {
    const workers = await startGradientWorkers(1, init);
    // 32 images: the step takes far longer than terminating the worker.
    const step = assert.rejects(
      workers.run(await trainableWeights(), [part(32)]),
      /train: a gradient worker exited \(code \d+\)/,
    );
    await workers.close();
    await step;
  });
});

/** The initial trainable weights of the same network, built on this thread. */
async function trainableWeights(): Promise<Float32Array[]> {
  await initTraining({ backend: 'wasm', log: () => {} });
  const network = await createTrainingNetwork(init.network);
  const weights = [...network.model.trainableVariables.values()].map((v) => (v.dataSync() as Float32Array).slice());
  network.dispose();
  return weights;
}

/**
 * One training step through a tiny SSD300 on the cpu backend: every variable gets a finite,
 * non-zero gradient, using only the gradients GRADIENT_KERNELS names and only the kernels
 * TRAINING_KERNELS names (what initTraining checks a backend against). About 6 s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createMatcher } from '../../src/core/matcher.js';
import { createSsd300 } from '../../src/model/ssd300.js';
import { multiBoxLoss } from '../../src/train/loss.js';
import { buildTargets } from '../../src/train/targets.js';
import { GRADIENT_KERNELS, initTraining, TRAINING_KERNELS } from '../../src/train/tfjs.js';

before(async () => {
  tf.enableProdMode();
  await initTraining({ backend: 'cpu', log: () => {} });
});

/** Unregisters every gradient GRADIENT_KERNELS does not name, for the length of `run`. */
async function withOnlyListedGradients<T>(run: () => Promise<T>): Promise<T> {
  const removed = tf
    .getKernelsForBackend('cpu')
    .map((k) => tf.getGradient(k.kernelName))
    .filter((g): g is tf.GradConfig => g !== undefined && !GRADIENT_KERNELS.includes(g.kernelName));
  removed.forEach((g) => tf.unregisterGradient(g.kernelName));
  try {
    return await run();
  } finally {
    removed.forEach((g) => tf.registerGradient(g));
  }
}

describe('an SSD300 training step (width 1/32, 4 classes, one 300 × 300 image, cpu)', () => {
  it('gives every variable a finite, non-zero gradient, with the listed gradients and kernels only', async () => {
    const model = createSsd300({ numClasses: 4, width: 1 / 32, seed: 3 });
    after(() => model.dispose());
    const matcher = await createMatcher('ssd300Voc');
    // One box per source, centred, as large as that source's priors (min sizes 30, 60, 111, 162,
    // 213, 264 of 300): every source gets positives, so every head, the L2Norm scale and the
    // extras feeding the last sources lie on the loss's path (with fewer sources, theirs get none).
    const sizes = [30, 60, 111, 162, 213, 264].map((s) => s / 300);
    const boxes = sizes.flatMap((s, k) =>
      k === 0 ? [0.1, 0.1, 0.1 + s, 0.1 + s] : [0.5 - s / 2, 0.5 - s / 2, 0.5 + s / 2, 0.5 + s / 2],
    );
    const targets = buildTargets(matcher, [{ boxes, labels: [1, 2, 3, 1, 2, 3] }]);
    matcher.dispose();
    assert.ok(targets.numPositive >= 6, `${targets.numPositive} positives`);
    const images = tf.randomUniform([1, 300, 300, 3], -128, 128, 'float32', 7) as tf.Tensor4D; // pixels minus a mean
    const variables = [...model.variables.values()];
    const profile = await withOnlyListedGradients(() =>
      tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => multiBoxLoss(model.apply(images), targets).total, variables);
        return [value, ...variables.map((v) => grads[v.name])];
      }),
    );
    const [value, ...grads] = profile.result as tf.Tensor[];
    assert.ok(Number.isFinite(value.dataSync()[0]) && value.dataSync()[0] > 0, `loss ${value.dataSync()[0]}`);
    [...model.variables.keys()].forEach((name, i) => {
      const g = grads[i].dataSync();
      assert.ok(g.every(Number.isFinite), `${name}: a non-finite gradient`);
      assert.ok(
        g.some((x) => x !== 0),
        `${name}: an all-zero gradient`,
      );
    });
    // Profiled names also include customGrad scopes (fusedConv2d__op, ...): keep the kernels.
    const kernels = [...new Set(profile.kernelNames)].filter((name) => tf.getKernel(name, 'cpu') !== undefined).sort();
    assert.deepEqual(kernels, [...TRAINING_KERNELS].sort(), 'the kernels a step runs are TRAINING_KERNELS');
    for (const kernel of GRADIENT_KERNELS)
      assert.ok(kernels.includes(kernel), `GRADIENT_KERNELS names ${kernel}, which the step never runs`);
    tf.dispose([images, targets.loc, targets.conf, ...(profile.result as tf.Tensor[])]);
  });
});

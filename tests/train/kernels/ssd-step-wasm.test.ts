/**
 * One SSD300 training step (width 1/32, 4 classes, one 300 × 300 image) on the wasm backend, with
 * ssd-edge's kernels: every variable's gradient equals the cpu backend's within 1e-3 (max |wasm −
 * cpu| / max |cpu| per variable). Step times per backend are `npm run bench:train`'s business.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createMatcher } from '../../../src/core/matcher.js';
import { createSsd300, type Ssd300 } from '../../../src/model/ssd300.js';
import { multiBoxLoss } from '../../../src/train/loss.js';
import { buildTargets, type TrainingTargets } from '../../../src/train/targets.js';
import { initTraining } from '../../../src/train/tfjs.js';

const TOLERANCE = 1e-3;

before(async () => {
  tf.enableProdMode();
  await initTraining({ backend: 'wasm', log: () => {} });
});

async function makeTargets(): Promise<TrainingTargets> {
  const matcher = await createMatcher('ssd300Voc');
  // As tests/train/ssd-step.test.ts: one box per source, so every variable is on the loss's path.
  const sizes = [30, 60, 111, 162, 213, 264].map((s) => s / 300);
  const boxes = sizes.flatMap((s, k) =>
    k === 0 ? [0.1, 0.1, 0.1 + s, 0.1 + s] : [0.5 - s / 2, 0.5 - s / 2, 0.5 + s / 2, 0.5 + s / 2],
  );
  const targets = buildTargets(matcher, [{ boxes, labels: [1, 2, 3, 1, 2, 3] }]);
  matcher.dispose();
  return targets;
}

/** The loss and every variable's gradient, on `backend`, read back; and the step's wall time. */
async function step(backend: string, model: Ssd300, images: tf.Tensor4D, targets: TrainingTargets) {
  await tf.setBackend(backend);
  const variables = [...model.variables.values()];
  const start = performance.now();
  let parts: number[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const { total, loc, conf } = multiBoxLoss(model.apply(images), targets);
    parts = [loc.dataSync()[0], conf.dataSync()[0]];
    return total;
  }, variables);
  const values = variables.map((v) => grads[v.name].dataSync() as Float32Array);
  const loss = value.dataSync()[0];
  const ms = performance.now() - start;
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, parts, values, ms };
}

function relativeError(got: Float32Array, expected: Float32Array): number {
  let diff = 0,
    scale = 0;
  for (let i = 0; i < got.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

describe('an SSD300 training step on the wasm backend', () => {
  let targets: TrainingTargets;
  let images: tf.Tensor4D;
  before(async () => {
    targets = await makeTargets();
    images = tf.randomUniform([1, 300, 300, 3], -128, 128, 'float32', 7) as tf.Tensor4D;
  });
  after(() => tf.dispose([targets.loc, targets.conf, images]));

  it("gives every variable the cpu backend's gradient (width 1/32, within 1e-3 relative)", async () => {
    const model = createSsd300({ numClasses: 4, width: 1 / 32, seed: 3 });
    after(() => model.dispose());
    const wasm = await step('wasm', model, images, targets);
    const cpu = await step('cpu', model, images, targets);
    await tf.setBackend('wasm');
    [wasm.loss, ...wasm.parts].forEach((value, i) => {
      const expected = [cpu.loss, ...cpu.parts][i];
      assert.ok(
        Math.abs(value - expected) <= 1e-4 * Math.abs(expected),
        `loss ${['total', 'loc', 'conf'][i]}: ${value} (wasm) vs ${expected} (cpu)`,
      );
    });
    let worst = 0,
      worstName = '';
    [...model.variables.keys()].forEach((name, i) => {
      assert.ok(wasm.values[i].every(Number.isFinite), `${name}: a non-finite gradient on wasm`);
      assert.ok(
        cpu.values[i].some((v) => v !== 0),
        `${name}: an all-zero gradient on cpu`,
      );
      const error = relativeError(wasm.values[i], cpu.values[i]);
      assert.ok(
        error <= TOLERANCE,
        `${name}: the wasm gradient differs from cpu's by ${error.toExponential(2)} (relative)`,
      );
      if (error > worst) {
        worst = error;
        worstName = name;
      }
    });
    console.log(
      `SSD300 step, width 1/32: loss ${wasm.loss.toFixed(5)} (wasm) vs ${cpu.loss.toFixed(5)} (cpu); ` +
        `worst relative gradient error ${worst.toExponential(2)} (${worstName}) over ${model.variables.size} variables`,
    );
  });
});

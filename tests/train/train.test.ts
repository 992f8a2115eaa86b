/**
 * The training loop on a tiny generated dataset (8 images of 300 × 300), SSD300 width 1/32 on
 * the wasm backend: the loss falls when overfitting 2 images, a resumed run computes the same
 * losses as an uninterrupted one (also with batch normalisation, the SSD augmentation and
 * clipping), no tensor leaks per step, the mini SSD trains and evaluates, bad options fail clearly.
 * About 20 s.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { generateVocDataset } from '../../src/train/data/index.js';
import { loadCheckpoint, loadCheckpointModel } from '../../src/train/checkpoint.js';
import { initTraining } from '../../src/train/tfjs.js';
import { epochPlan, learningRate, train, type TrainOptions, type TrainProgress } from '../../src/train/train.js';
import { evaluateModel } from '../../src/train/evaluate.js';
import type { MiniSsd } from '../../src/model/mini.js';
import { createSsd300 } from '../../src/model/ssd300.js';

let root: string;
let data: string;
const base = (name: string): TrainOptions => ({
  data,
  width: 1 / 32,
  backend: 'wasm',
  batch: 2,
  epochs: 100,
  seed: 3,
  checkpointDir: join(root, name),
  checkpointEvery: 0,
});

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ssd-edge-train-'));
  data = join(root, 'data');
  await generateVocDataset(data, { trainCount: 8, testCount: 0, seed: 5 });
  await initTraining({ backend: 'wasm', log: () => {} }); // so tf.memory() can be read before the first run
});
after(() => rm(root, { recursive: true, force: true }));

describe('train (SSD300 width 1/32, wasm)', () => {
  const progress: TrainProgress[] = [];
  const tensors: number[] = [];
  let tensorsBefore = 0,
    tensorsAfter = 0;

  it('overfitting 2 images for 15 steps drives the loss down', async () => {
    tensorsBefore = tf.memory().numTensors;
    const result = await train({
      ...base('overfit'),
      limit: 2,
      flip: 0,
      lr: 1e-4,
      maxSteps: 15,
      onProgress: (p) => {
        progress.push(p);
        tensors.push(tf.memory().numTensors);
      },
    });
    tensorsAfter = tf.memory().numTensors;
    assert.equal(result.backend, 'wasm');
    assert.equal(result.steps, 15);
    assert.equal(progress.length, 15);
    const losses = progress.map((p) => p.loss.total);
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    const [first, second, last] = [losses[0], losses[1], losses[14]];
    // The first step mostly collapses the untrained logits; the drop after it is the real learning.
    assert.ok(last < 0.7 * first && last < 0.5 * second, `loss ${first} → ${second} → ${last}`);
    assert.ok(progress[14].loss.loc < progress[1].loss.loc, 'the localisation loss falls too');
    for (const p of progress) {
      assert.ok(p.numPositive > 0 && p.imagesPerSecond > 0 && p.lr === 1e-4);
      assert.ok(Math.abs(p.loss.total - (p.loss.loc + p.loss.conf)) <= 1e-4 * p.loss.total);
    }
  });

  it('leaks no tensor across steps, and none once it returns', () => {
    assert.ok(tensors.length === 15);
    assert.deepEqual(
      tensors,
      tensors.map(() => tensors[0]),
      `tensors per step: ${tensors}`,
    );
    assert.equal(tensorsAfter, tensorsBefore, 'train disposes its model and momentum buffers');
  });

  it('a run resumed after 2 steps gives the same losses and weights as 4 steps in one go', async () => {
    const common = { limit: 4, lr: 1e-3, warmupSteps: 2, steps: [3] }; // 2 steps per epoch: crosses an epoch, with flips
    const whole = await train({ ...base('whole'), ...common, maxSteps: 4 });
    const part1 = await train({ ...base('parts'), ...common, maxSteps: 2 });
    const part2 = await train({ ...base('parts'), ...common, maxSteps: 4, resume: true });
    assert.equal(part2.startStep, 2);
    const resumed = [...part1.losses, ...part2.losses];
    assert.equal(resumed.length, 4);
    whole.losses.forEach((l, i) =>
      assert.ok(Math.abs(l - resumed[i]) <= 1e-5 * Math.max(1, Math.abs(l)), `step ${i + 1}: ${l} vs ${resumed[i]}`),
    );
    const [a, b] = await Promise.all([loadCheckpoint(join(root, 'whole')), loadCheckpoint(join(root, 'parts'))]);
    assert.equal(a.meta.step, 4);
    assert.equal(b.meta.step, 4);
    for (const [name, w] of Object.entries(a.weights)) {
      const v = b.weights[name];
      assert.ok(
        w.every((x, i) => Math.abs(x - v[i]) <= 1e-5 * Math.max(1, Math.abs(x))),
        `weights ${name} differ`,
      );
    }
    assert.deepEqual(Object.keys(a.momentum).sort(), Object.keys(a.weights).sort());
    const { model, meta } = await loadCheckpointModel(join(root, 'whole'));
    assert.equal(meta.numClasses, 7);
    assert.equal(model.width, 1 / 32);
    model.dispose();
  });

  it('with batch normalisation, the SSD augmentation and clipping, a resumed run still equals one run', async () => {
    const common = {
      limit: 4,
      lr: 1e-3,
      batchNorm: true,
      augment: 'ssd' as const,
      clipGradNorm: 5,
      backgroundPrior: 0.99,
      inputStd: [58, 57, 57],
    };
    const seen: TrainProgress[] = [];
    const whole = await train({ ...base('bn-whole'), ...common, maxSteps: 4, onProgress: (p) => seen.push(p) });
    await train({ ...base('bn-parts'), ...common, maxSteps: 2 });
    const part2 = await train({ ...base('bn-parts'), ...common, maxSteps: 4, resume: true });
    whole.losses
      .slice(2)
      .forEach((l, i) =>
        assert.ok(Math.abs(l - part2.losses[i]) <= 1e-5 * Math.max(1, l), `step ${i + 3}: ${l} vs ${part2.losses[i]}`),
      );
    assert.ok(
      seen.every((p) => p.gradNorm !== undefined && p.gradNorm > 0),
      'clipping reports the gradient norm',
    );
    const [a, b] = await Promise.all([loadCheckpoint(join(root, 'bn-whole')), loadCheckpoint(join(root, 'bn-parts'))]);
    const moving = Object.keys(a.weights).filter((n) => n.endsWith('.bn.movingMean'));
    assert.ok(
      moving.length > 0 && moving.every((n) => !(n in a.momentum)),
      'moving statistics are saved, without momentum',
    );
    for (const name of moving) {
      assert.ok(
        a.weights[name].some((v) => v !== 0),
        `${name} moved from its initial 0`,
      );
      assert.ok(
        a.weights[name].every((x, i) => Math.abs(x - b.weights[name][i]) <= 1e-5 * Math.max(1, Math.abs(x))),
        `${name} resumed exactly`,
      );
    }
    assert.deepEqual(a.meta.preprocess?.std, [58, 57, 57]);
    assert.equal(a.meta.batchNorm, true);
    await assert.rejects(
      train({ ...base('bn-parts'), ...common, batchNorm: false, maxSteps: 5, resume: true }),
      /cannot resume: .* batchNorm true, this run false/,
    );
  });

  it('data parallel (2 threads) makes the one-thread update (without batch norm); runs with it', async (t) => {
    const common = { limit: 4, lr: 1e-3, batch: 4, maxSteps: 1, flip: 0 };
    const one = await train({ ...base('dp-1'), ...common });
    const two = await train({ ...base('dp-2'), ...common, workers: 2 });
    assert.ok(
      Math.abs(one.losses[0] - two.losses[0]) <= 1e-4 * one.losses[0],
      `loss ${one.losses[0]} vs ${two.losses[0]}`,
    );
    const [a, b] = await Promise.all([loadCheckpoint(join(root, 'dp-1')), loadCheckpoint(join(root, 'dp-2'))]);
    // The update each made from the same initial weights (seed 3): equal up to float summation
    // order (and a hard negative that ties may swap), far below what a wrong combination gives.
    const initial = createSsd300({ numClasses: 7, width: 1 / 32, seed: 3 });
    const start = await initial.saveWeights();
    initial.dispose();
    let difference = 0,
      size = 0;
    for (const [name, w] of Object.entries(a.weights)) {
      w.forEach((x, i) => {
        const d1 = x - start[name][i],
          d2 = b.weights[name][i] - start[name][i];
        difference += (d1 - d2) ** 2;
        size += d1 ** 2;
      });
    }
    const relative = Math.sqrt(difference / size);
    t.diagnostic(`2-thread vs 1-thread update: relative difference ${relative.toExponential(2)}`);
    assert.ok(
      size > 0 && relative < 1e-4,
      `the 2-thread update differs from the 1-thread one by ${relative} (relative norm)`,
    );
    const bn = await train({ ...base('dp-bn'), ...common, maxSteps: 2, batchNorm: true, workers: 2 });
    assert.ok(bn.losses.every(Number.isFinite));
    await assert.rejects(train({ ...base('bad'), workers: 0 }), /workers is 0; it must be an integer ≥ 1/);
  });

  it('trains the mini SSD (one class), and its checkpoint exports and evaluates through the runtime', async () => {
    const result = await train({ ...base('mini'), arch: 'mini', className: 'circle', batch: 4, maxSteps: 3, lr: 1e-3 });
    assert.equal(result.steps, 3);
    assert.ok(result.losses.every(Number.isFinite));
    const resumed = await train({
      ...base('mini'),
      arch: 'mini',
      className: 'circle',
      batch: 4,
      maxSteps: 4,
      lr: 1e-3,
      resume: true,
    });
    assert.equal(resumed.startStep, 3, 'a mini checkpoint resumes with the options that wrote it');
    const loaded = await loadCheckpointModel(join(root, 'mini'));
    assert.equal(loaded.arch, 'mini');
    assert.deepEqual(loaded.meta.classes, ['background', 'circle']);
    assert.deepEqual(loaded.meta.preprocess?.size, [128, 96]);
    const { exportMiniSsd } = await import('../../src/model/onnx/export-mini.js');
    const bytes = exportMiniSsd(loaded.model as MiniSsd, { label: 'circle', preprocess: loaded.meta.preprocess });
    loaded.model.dispose();
    const evaluation = await evaluateModel({ model: bytes, data, split: 'trainval', limit: 4, backend: 'node' });
    assert.deepEqual(
      evaluation.perClass.map((c) => c.label),
      ['circle'],
      'scored on the circles of the dataset only',
    );
    assert.equal(evaluation.images, 4);
    await assert.rejects(
      train({ ...base('mini-bad'), arch: 'mini', className: 'hexagon' }),
      /--class 'hexagon' is not a class of the dataset/,
    );
  });

  it('rejects bad options with clear errors', async () => {
    await assert.rejects(train({ ...base('bad'), arch: 'yolo' as 'mini' }), /arch 'yolo' is not one of ssd300, mini/);
    await assert.rejects(train({ ...base('bad'), className: 'circle' }), /className picks the one class of a mini SSD/);
    await assert.rejects(
      train({ ...base('bad'), inputStd: [1, 0, 1] }),
      /inputStd is \[1,0,1\]; it must be three numbers > 0/,
    );
    await assert.rejects(train({ ...base('bad'), augment: 'mixup' as 'ssd' }), /augment is 'mixup'; use flip or ssd/);
    await assert.rejects(train({ ...base('bad'), clipGradNorm: 0 }), /clipGradNorm is 0; it must be a number > 0/);
    await assert.rejects(train({ ...base('bad'), backgroundPrior: 1 }), /backgroundPrior is 1; it must be in \(0, 1\)/);
    await assert.rejects(train({ ...base('bad'), data: join(root, 'nope') }), /data directory '.*nope' does not exist/);
    await assert.rejects(train({ ...base('bad'), width: 0 }), /width is 0; it must be in \(0, 1\]/);
    await assert.rejects(train({ ...base('bad'), width: 1.5 }), /width is 1.5; it must be in \(0, 1\]/);
    await assert.rejects(train({ ...base('bad'), batch: 0 }), /batch is 0; it must be an integer ≥ 1/);
    await assert.rejects(train({ ...base('bad'), batch: 9 }), /batch 9 is larger than the 8 images/);
    await assert.rejects(train({ ...base('bad'), lr: -1 }), /lr is -1/);
    await assert.rejects(train({ ...base('bad'), steps: [5, 3] }), /steps is \[5,3\]/);
    await assert.rejects(train({ ...base('empty'), resume: true }), /no checkpoint in/);
    await assert.rejects(
      train({ ...base('parts'), limit: 4, resume: true, seed: 4, maxSteps: 5 }),
      /cannot resume: .* seed 3, this run 4/,
    );
  });
});

describe('schedule and data order', () => {
  it('warms up linearly, then multiplies by 0.1 at each milestone', () => {
    const o = { lr: 1, warmupSteps: 4, steps: [6, 8] };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8].map((s) => +learningRate(s, o).toPrecision(6)),
      [0.25, 0.5, 0.75, 1, 1, 1, 0.1, 0.1, 0.01],
    );
  });
  it('shuffles each epoch differently, the same for the same seed', () => {
    const a = epochPlan(1, 0, 20, 0.5),
      b = epochPlan(1, 0, 20, 0.5),
      c = epochPlan(1, 1, 20, 0.5);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.order, c.order);
    assert.deepEqual(
      [...a.order].sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.ok(a.flipped.some((f) => f) && a.flipped.some((f) => !f));
  });
});

/**
 * The mini SSD's targets and loss against hand-computed values: which cell an object lands in,
 * its offset inside the cell, the largest box winning a shared cell, BCE on logits and smooth L1
 * over the positive cells divided by N, N = 0, finite gradients.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { buildMiniTargets, miniLoss } from '../../src/train/mini-loss.js';
import { initTraining } from '../../src/train/tfjs.js';

await initTraining({ backend: 'cpu', log: () => {} }); // registers the gradients

describe('buildMiniTargets', () => {
  it('puts each centre in its cell with its offset in cells; the largest box wins a shared cell', () => {
    const targets = buildMiniTargets([
      // centre (0.3, 0.5) → column floor(1.2) = 1, row floor(1.5) = 1, offset (0.2, 0.5)
      { boxes: [0.2, 0.4, 0.4, 0.6], labels: [1] },
      // two centres in cell (0, 0): the larger (0.2 × 0.2) wins: centre (0.1, 0.1) → offset (0.4, 0.3);
      // a centre on the far edge (1, 1) is clamped into the last cell: offset (1, 1)
      { boxes: [0.05, 0.05, 0.1, 0.1, 0, 0, 0.2, 0.2, 0.9, 0.9, 1, 1.1], labels: [1, 1, 1] },
    ]);
    const obj = targets.objectness.arraySync() as number[][][][],
      off = targets.offsets.arraySync() as number[][][][];
    assert.equal(targets.numPositive, 3);
    assert.equal(obj[0][1][1][0], 1);
    assert.deepEqual(
      obj[0].flat(2).reduce((a, b) => a + b, 0),
      1,
    );
    assert.ok(Math.abs(off[0][1][1][0] - 0.2) < 1e-6 && Math.abs(off[0][1][1][1] - 0.5) < 1e-6);
    assert.equal(obj[1][0][0][0], 1);
    assert.ok(
      Math.abs(off[1][0][0][0] - 0.4) < 1e-6 && Math.abs(off[1][0][0][1] - 0.3) < 1e-6,
      `offset ${off[1][0][0]}`,
    );
    assert.equal(obj[1][2][3][0], 1);
    assert.ok(Math.abs(off[1][2][3][0] - 0.8) < 1e-6, `x offset ${off[1][2][3][0]}: centre 0.95·4 − 3`);
    assert.ok(
      Math.abs(off[1][2][3][1] - 1) < 1e-6,
      `y offset ${off[1][2][3][1]}: centre 1.0·3 − 2, clamped into row 2`,
    );
    tf.dispose([targets.objectness, targets.offsets]);
    assert.throws(() => buildMiniTargets([]), /RangeError: annotations is empty/);
    assert.throws(
      () => buildMiniTargets([{ boxes: [0.5, 0.5, 0.4, 0.6], labels: [1] }]),
      /RangeError: annotations\[0\] box 0 is \[0.5, 0.5, 0.4, 0.6\]/,
    );
    assert.throws(
      () => buildMiniTargets([{ boxes: [0.5, 0.5, 0.6], labels: [1] }]),
      /RangeError: annotations\[0\].boxes has 3 values/,
    );
  });
});

describe('miniLoss', () => {
  it('is (Σ BCE + Σ_pos smooth L1) / N, by hand', () => {
    const targets = buildMiniTargets([{ boxes: [0.2, 0.4, 0.4, 0.6], labels: [1] }]); // cell (1, 1), offset (0.2, 0.5)
    const logits = new Float32Array(12).fill(-2);
    logits[5] = 1; // cell (1, 1)
    const offsets = new Float32Array(24).fill(0.5);
    offsets[10] = 2.2;
    offsets[11] = 0.1; // Δ = (2, −0.4): smooth L1 = (2 − 0.5) + 0.5·0.16 = 1.58
    const predicted = { objectness: tf.tensor4d(logits, [1, 3, 4, 1]), offsets: tf.tensor4d(offsets, [1, 3, 4, 2]) };
    const parts = miniLoss(predicted, targets);
    // BCE: target 1 at logit 1: log(1 + e^−1); 11 negatives at −2: log(1 + e^−2) each.
    const bce = Math.log1p(Math.exp(-1)) + 11 * Math.log1p(Math.exp(-2));
    assert.ok(Math.abs(parts.conf.dataSync()[0] - bce) < 1e-5, `conf ${parts.conf.dataSync()[0]} vs ${bce}`);
    assert.ok(Math.abs(parts.loc.dataSync()[0] - 1.58) < 1e-5, `loc ${parts.loc.dataSync()[0]}`);
    assert.ok(Math.abs(parts.total.dataSync()[0] - (bce + 1.58)) < 1e-5);
    assert.equal(parts.numPositive, 1);

    // N = 0: divided by 1, only the BCE of the negatives; offsets count nowhere.
    const empty = buildMiniTargets([{ boxes: [], labels: [] }]);
    const none = miniLoss(predicted, empty);
    const bceEmpty = Math.log1p(Math.exp(-1)) + 1 + 11 * Math.log1p(Math.exp(-2)); // target 0 at logit 1: 1 + log(1 + e^−1)
    assert.ok(
      Math.abs(none.total.dataSync()[0] - bceEmpty) < 1e-5,
      `N = 0: ${none.total.dataSync()[0]} vs ${bceEmpty}`,
    );
    assert.equal(none.loc.dataSync()[0], 0);

    // Finite gradients, even at extreme logits (the stable BCE form).
    const extreme = tf.tensor4d(new Float32Array(12).fill(80), [1, 3, 4, 1]);
    const grads = tf.grads(
      (x: tf.Tensor) => miniLoss({ objectness: x as tf.Tensor4D, offsets: predicted.offsets }, targets).total,
    )([extreme]);
    assert.ok(grads[0].dataSync().every(Number.isFinite));
    tf.dispose([
      predicted.objectness,
      predicted.offsets,
      targets.objectness,
      targets.offsets,
      empty.objectness,
      empty.offsets,
      extreme,
      ...grads,
    ]);
    assert.throws(
      () =>
        miniLoss(
          { objectness: tf.zeros([1, 3, 4, 1]), offsets: tf.zeros([1, 3, 4, 1]) },
          buildMiniTargets([{ boxes: [], labels: [] }]),
        ),
      /RangeError: predictions \[1, 3, 4, 1\], \[1, 3, 4, 1\] do not match the targets/,
    );
  });
});

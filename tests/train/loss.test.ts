/**
 * MultiBoxLoss on hand-computed cases, hard-negative selection, N = 0, and gradients (by hand and
 * against central differences). Logits are logs of small integers so every softmax is a fraction.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { multiBoxLoss, selectHardNegatives, type MultiBoxLossOptions } from '../../src/train/loss.js';
import { initTraining } from '../../src/train/tfjs.js';

before(async () => {
  tf.enableProdMode();
  await initTraining({ backend: 'cpu', log: () => {} });
});

const ln = Math.log;

/**
 * One image, P = 5 priors, C = 3 classes; prior 1 is the only positive (class 2).
 *   prior  logits             softmax              label  background loss −ln p0
 *   0      [0, 0, 0]          [1, 1, 1] / 3        0      ln 3
 *   1      [0, ln 9, ln 6]    [1, 9, 6] / 16       2      (ln 16: would rank first, but positives do not rank)
 *   2      [0, ln 3, 0]       [1, 3, 1] / 5        0      ln 5
 *   3      [ln 3, 0, 0]       [3, 1, 1] / 5        0      ln 5/3
 *   4      [0, ln 2, ln 5]    [1, 2, 5] / 8        0      ln 8
 * 3 negatives per positive: priors 4 (ln 8), 2 (ln 5), 0 (ln 3); prior 3 is left out.
 * L_conf = −ln(6/16) + ln 8 + ln 5 + ln 3 = ln(8/3 · 8 · 5 · 3) = ln 320 = 5.768321
 * Prior 1's offsets: predicted [0.5, −2, 0, 1.5], target [0, 0, 0, 0.5] → d = [0.5, −2, 0, 1]
 * L_loc = 0.5·0.5² + (2 − 0.5) + 0 + (1 − 0.5) = 0.125 + 1.5 + 0.5 = 2.125
 * Prior 0 predicts far-off offsets [10, 10, 10, 10]: a negative, so they add nothing.
 * N = 1: total = 5.768321 + 2.125 = 7.893321.
 */
const CASE = {
  conf: [
    [0, 0, 0],
    [0, ln(9), ln(6)],
    [0, ln(3), 0],
    [ln(3), 0, 0],
    [0, ln(2), ln(5)],
  ],
  labels: [0, 2, 0, 0, 0],
  loc: [
    [10, 10, 10, 10],
    [0.5, -2, 0, 1.5],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ],
  locTargets: [
    [0, 0, 0, 0],
    [0, 0, 0, 0.5],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ],
};

interface Image {
  conf: number[][];
  labels: number[];
  loc: number[][];
  locTargets: number[][];
}

function tensors(images: Image[]) {
  const N = images.length,
    P = images[0].labels.length,
    C = images[0].conf[0].length;
  return {
    predicted: {
      loc: tf.tensor3d(
        images.flatMap((i) => i.loc.flat()),
        [N, P, 4],
      ),
      conf: tf.tensor3d(
        images.flatMap((i) => i.conf.flat()),
        [N, P, C],
      ),
    },
    targets: {
      loc: tf.tensor3d(
        images.flatMap((i) => i.locTargets.flat()),
        [N, P, 4],
      ),
      conf: tf.tensor2d(
        images.flatMap((i) => i.labels),
        [N, P],
        'int32',
      ),
      numPositive: images.flatMap((i) => i.labels).filter((l) => l > 0).length,
    },
  };
}

/** The loss parts as numbers. */
function lossValues(images: Image[], options?: MultiBoxLossOptions) {
  return tf.tidy(() => {
    const { predicted, targets } = tensors(images);
    const parts = multiBoxLoss(predicted, targets, options);
    return {
      total: parts.total.arraySync(),
      loc: parts.loc.arraySync(),
      conf: parts.conf.arraySync(),
      numPositive: parts.numPositive,
    };
  });
}

function assertClose(actual: number, expected: number, message: string, tolerance = 1e-5): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)),
    `${message}: ${actual}, expected ${expected}`,
  );
}

describe('MultiBoxLoss values', () => {
  it('one image, one positive: ln 320 + 2.125 (hand-computed in CASE)', () => {
    const v = lossValues([CASE]);
    assert.equal(v.numPositive, 1);
    assertClose(v.conf, ln(320), 'L_conf / N');
    assertClose(v.loc, 2.125, 'L_loc / N');
    assertClose(v.total, ln(320) + 2.125, 'total');
    assertClose(v.total, 7.893321, 'total, written out');
  });

  it('α = 2 and 1 negative per positive: only prior 4 joins the positive', () => {
    // L_conf = ln(8/3) + ln 8 = ln(64/3) = 3.060271; total = 3.060271 + 2 · 2.125 = 7.310271
    const v = lossValues([CASE], { alpha: 2, negPosRatio: 1 });
    assertClose(v.conf, ln(64 / 3), 'L_conf / N');
    assertClose(v.loc, 2.125, 'L_loc / N');
    assertClose(v.total, 7.310271, 'total');
  });

  it("divides by the batch's positives; an image without positives adds no negatives", () => {
    // Two copies: both sums double, N = 2, so every part is unchanged.
    const twice = lossValues([CASE, CASE]);
    assert.equal(twice.numPositive, 2);
    assertClose(twice.total, 7.893321, 'total of two copies');
    // CASE plus an all-background image whose negatives all have loss ln 3: the cap is per
    // image (0 for it), not 3 × the batch's positives, so the total stays that of CASE alone.
    const empty: Image = { ...CASE, labels: [0, 0, 0, 0, 0], conf: CASE.conf.map(() => [0, 0, 0]) };
    const mixed = lossValues([CASE, empty]);
    assert.equal(mixed.numPositive, 1);
    assertClose(mixed.total, 7.893321, 'total with an empty image');
  });

  it('N = 0: every part is 0 and the gradients are 0 (finite)', () => {
    const empty: Image = { ...CASE, labels: [0, 0, 0, 0, 0] };
    const v = lossValues([empty, empty]);
    assert.deepEqual(v, { total: 0, loc: 0, conf: 0, numPositive: 0 });
    const grads = tf.tidy(() => {
      const { predicted, targets } = tensors([empty, empty]);
      const g = tf.grads(
        (loc: tf.Tensor, conf: tf.Tensor) =>
          multiBoxLoss({ loc: loc as tf.Tensor3D, conf: conf as tf.Tensor3D }, targets).total,
      );
      return g([predicted.loc, predicted.conf]).map((t) => t.dataSync());
    });
    for (const g of grads)
      assert.ok(
        g.every((x) => x === 0),
        `gradient ${[...g]} is not all 0`,
      );
  });

  it('rejects mismatched shapes, float labels and out-of-range classes', () => {
    tf.tidy(() => {
      const { predicted, targets } = tensors([CASE]);
      assert.throws(
        () => multiBoxLoss({ ...predicted, loc: tf.zeros([1, 4, 4]) as tf.Tensor3D }, targets),
        /loc has shape \[1, 4, 4\]; conf \[1, 5, 3\] needs \[1, 5, 4\]/,
      );
      assert.throws(
        () => multiBoxLoss(predicted, { ...targets, conf: tf.zeros([1, 5]) as tf.Tensor2D }),
        /targets\.conf is float32 \[1, 5\]; it must be int32 \[1, 5\]/,
      );
      assert.throws(
        () => multiBoxLoss(predicted, { ...targets, conf: tf.tensor2d([[0, 3, 0, 0, 0]], [1, 5], 'int32') }),
        /targets\.conf has 3 at image 0, prior 1; classes are 0\.\.2/,
      );
    });
  });
});

describe('hard negative mining', () => {
  it('picks per image the hardest negatives, 3 per positive, lower prior index first on ties', () => {
    // 3 images × 7 priors.
    // image 0: 1 positive (prior 1) → 3 negatives: prior 5 (8), then the ties at 7 — priors 0, 3, 6 —
    //          give their 2 places to priors 0 and 3. Prior 1's loss 9 is not ranked.
    // image 1: no positive → no negatives, however hard.
    // image 2: 3 positives → 9 allowed, only 4 negatives (priors 1, 3, 4, 6): all of them.
    const loss = [7, 9, 1, 7, 3, 8, 7, /**/ 9, 9, 9, 9, 9, 9, 9, /**/ 1, 2, 3, 4, 5, 6, 7];
    const labels = [0, 1, 0, 0, 0, 0, 0, /**/ 0, 0, 0, 0, 0, 0, 0, /**/ 2, 0, 3, 0, 0, 1, 0];
    assert.deepEqual(
      [...selectHardNegatives(loss, labels, 3, 7)],
      [1, 0, 0, 1, 0, 1, 0, /**/ 0, 0, 0, 0, 0, 0, 0, /**/ 0, 1, 0, 1, 1, 0, 1],
    );
    // 2 per positive: image 0 keeps prior 5 and prior 0 (the first of the ties); image 2 still all 4.
    assert.deepEqual(
      [...selectHardNegatives(loss, labels, 3, 7, 2)],
      [1, 0, 0, 0, 0, 1, 0, /**/ 0, 0, 0, 0, 0, 0, 0, /**/ 0, 1, 0, 1, 1, 0, 1],
    );
    assert.ok(
      selectHardNegatives(loss, labels, 3, 7, 0).every((v) => v === 0),
      'ratio 0 selects none',
    );
  });

  it('rejects a fractional ratio and mismatched lengths', () => {
    assert.throws(() => selectHardNegatives([1, 2], [0, 1], 1, 2, 2.5), /negPosRatio 2\.5 must be an integer ≥ 0/);
    assert.throws(
      () => selectHardNegatives([1, 2, 3], [0, 1], 1, 2),
      /backgroundLoss has 3 and labels 2 values; 1 images × 2 priors need 2 each/,
    );
  });
});

describe('MultiBoxLoss gradients', () => {
  it("CASE by hand: (softmax − one-hot) on the counted priors, 0 on prior 3, smooth L1's slope on prior 1", () => {
    const [dLoc, dConf] = tf.tidy(() => {
      const { predicted, targets } = tensors([CASE]);
      const g = tf.grads(
        (loc: tf.Tensor, conf: tf.Tensor) =>
          multiBoxLoss({ loc: loc as tf.Tensor3D, conf: conf as tf.Tensor3D }, targets).total,
      );
      return g([predicted.loc, predicted.conf]).map((t) => t.arraySync() as number[][][]);
    });
    // N = 1. d(−ln softmax_y)/dz = softmax − one-hot(y).
    const expectedConf = [
      [1 / 3 - 1, 1 / 3, 1 / 3], // prior 0, y = 0
      [1 / 16, 9 / 16, 6 / 16 - 1], // prior 1, y = 2
      [1 / 5 - 1, 3 / 5, 1 / 5], // prior 2, y = 0
      [0, 0, 0], // prior 3: not selected, and the ranking passes no gradient
      [1 / 8 - 1, 2 / 8, 5 / 8], // prior 4, y = 0
    ];
    // smooth L1' = d for |d| < 1, sign(d) beyond (1 at d = 1, where both sides agree): d = [0.5, −2, 0, 1].
    const expectedLoc = [
      [0, 0, 0, 0],
      [0.5, -1, 0, 1],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ];
    dConf[0].forEach((row, p) => row.forEach((v, c) => assertClose(v, expectedConf[p][c], `dL/dconf[${p}][${c}]`)));
    dLoc[0].forEach((row, p) => row.forEach((v, k) => assertClose(v, expectedLoc[p][k], `dL/dloc[${p}][${k}]`)));
  });

  it('match central differences on a 2-image, 6-prior, 3-class case with mining active', () => {
    // Offsets stay clear of smooth L1's kinks (|d| = 0, 1) and the negatives' background losses
    // stay well apart (checked below), so a step of h changes neither branch nor selection.
    const N = 2,
      P = 6,
      C = 3,
      h = 1e-2;
    const labels = [0, 1, 0, 0, 0, 0, /**/ 0, 0, 2, 0, 0, 0];
    const conf = Array.from({ length: N * P * C }, (_, i) => ((i * 37) % 23) / 4 - 2);
    const offsets = [0.3, -0.6, 1.7, -1.4, 0.45, -2.2, 0.8];
    const locTargets = Array.from({ length: N * P * 4 }, (_, i) => ((i * 13) % 7) / 10);
    const loc = locTargets.map((t, i) => t + offsets[i % offsets.length]);
    for (let image = 0; image < N; image++) {
      const background = labels
        .slice(image * P, image * P + P)
        .flatMap((label, p) => {
          if (label !== 0) return [];
          const z = conf.slice((image * P + p) * C, (image * P + p + 1) * C);
          return [Math.log(z.reduce((s, v) => s + Math.exp(v), 0)) - z[0]];
        })
        .sort((a, b) => b - a);
      assert.ok(
        background[2] - background[3] > 0.1,
        `image ${image}: the 3rd and 4th hardest negatives are too close for h`,
      );
    }
    const targets = {
      loc: tf.tensor3d(locTargets, [N, P, 4]),
      conf: tf.tensor2d(labels, [N, P], 'int32'),
      numPositive: 2,
    };
    const loss = (l: number[], c: number[]) =>
      tf.tidy(() =>
        multiBoxLoss({ loc: tf.tensor3d(l, [N, P, 4]), conf: tf.tensor3d(c, [N, P, C]) }, targets).total.arraySync(),
      );
    const [dLoc, dConf] = tf.tidy(() => {
      const g = tf.grads(
        (l: tf.Tensor, c: tf.Tensor) => multiBoxLoss({ loc: l as tf.Tensor3D, conf: c as tf.Tensor3D }, targets).total,
      );
      return g([tf.tensor3d(loc, [N, P, 4]), tf.tensor3d(conf, [N, P, C])]).map((t) => [...t.dataSync()]);
    });
    const numeric = (values: number[], i: number, f: (v: number[]) => number) => {
      const plus = values.slice(),
        minus = values.slice();
      plus[i] += h;
      minus[i] -= h;
      return (f(plus) - f(minus)) / (2 * h);
    };
    loc.forEach((_, i) =>
      assertClose(
        dLoc[i],
        numeric(loc, i, (v) => loss(v, conf)),
        `dL/dloc[${i}]`,
        2e-3,
      ),
    );
    conf.forEach((_, i) =>
      assertClose(
        dConf[i],
        numeric(conf, i, (v) => loss(loc, v)),
        `dL/dconf[${i}]`,
        2e-3,
      ),
    );
    tf.dispose([targets.loc, targets.conf]);
  });
});

/** TFLite's integer arithmetic as the converter bakes it in, against hand-computed values. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  activationRange,
  concatRequantParams,
  logisticTable,
  roundHalfAway,
  roundHalfEven,
  xnnpackAdd,
  xnnpackAddParams,
} from '../../src/convert/tflite/arithmetic.js';

describe('rounding', () => {
  it('halves go to even (lrintf) or away from zero (std::round)', () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, 0, -2, 2, 3]);
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfAway), [1, 2, 3, -1, -2, 2, 3]);
  });
});

describe('XNNPACK uint8 ADD', () => {
  // a: scale 0.5, zero 10; b: scale 0.25, zero 20; out: scale 1, zero 5.
  const a = { scale: 0.5, zeroPoint: 10 },
    b = { scale: 0.25, zeroPoint: 20 },
    out = { scale: 1, zeroPoint: 5 };

  it('derives the shift from the larger ratio and the multipliers at that shift', () => {
    // ratios 0.5 and 0.25; exponent of 0.5 is −1, so shift = 20 − (−1) = 21
    assert.deepEqual(xnnpackAddParams(a, b, out), {
      aMultiplier: 2 ** 20,
      bMultiplier: 2 ** 19,
      bias: -(2 ** 20 * 10 + 2 ** 19 * 20),
      shift: 21,
      rounding: 2 ** 20,
    });
  });

  it('adds exactly where the real sum is whole, and rounds halves up (towards +∞)', () => {
    assert.equal(xnnpackAdd(30, 100, a, b, out), 35); // 0.5·20 + 0.25·80 = 30
    assert.equal(xnnpackAdd(11, 20, a, b, out), 6); // +0.5 → 1
    assert.equal(xnnpackAdd(9, 20, a, b, out), 5); // −0.5 → 0 (std::round would give −1)
  });

  it('saturates at the uint8 range and at a fused activation', () => {
    assert.equal(xnnpackAdd(255, 255, a, b, out), 186); // 122.5 + 58.75 = 181.25
    assert.equal(xnnpackAdd(255, 255, a, b, { scale: 1, zeroPoint: 200 }), 255);
    assert.equal(xnnpackAdd(0, 0, a, b, out), 0);
    assert.equal(xnnpackAdd(30, 100, a, b, out, 0, 20), 20);
  });

  it('refuses ratios XNNPACK cannot represent', () => {
    assert.throws(() => xnnpackAddParams({ scale: 1000, zeroPoint: 0 }, b, out), /outside XNNPACK's range/);
  });
});

describe('CONCATENATION rescaling', () => {
  it('is scale_in / scale_out with the zero point folded into the bias, in f32', () => {
    const { scale, bias } = concatRequantParams({ scale: 0.5, zeroPoint: 10 }, { scale: 0.25, zeroPoint: 3 });
    assert.equal(scale, 2);
    assert.equal(bias, -20);
  });
});

describe('LOGISTIC table', () => {
  it('maps the zero point to 1/2 and saturates at the ends', () => {
    // input scale 1/16, zero 128; output TFLite's fixed 1/256, zero 0
    const table = logisticTable({ scale: 1 / 16, zeroPoint: 128 }, { scale: 1 / 256, zeroPoint: 0 });
    assert.equal(table[128], 128); // sigmoid(0) · 256
    assert.equal(table[0], 0); // sigmoid(−8) · 256 = 0.086
    assert.equal(table[255], 255); // sigmoid(7.94) · 256 = 255.9, clamped
    // sigmoid(1) · 256 = 187.07 → 187
    assert.equal(table[144], 187);
    for (let q = 1; q < 256; q++) assert.ok(table[q] >= table[q - 1], 'monotonic');
  });
});

describe('fused activation ranges', () => {
  it('quantises 0 and 6 with the output parameters', () => {
    const q = { scale: 6 / 255, zeroPoint: 0 };
    assert.deepEqual(activationRange('RELU6', q), [0, 255]);
    assert.deepEqual(activationRange('RELU6', { scale: 0.1, zeroPoint: 100 }), [100, 160]);
    assert.deepEqual(activationRange('RELU', { scale: 0.1, zeroPoint: 100 }), [100, 255]);
    assert.deepEqual(activationRange('NONE', q), [0, 255]);
    assert.throws(() => activationRange('TANH', q), /not supported/);
  });
});

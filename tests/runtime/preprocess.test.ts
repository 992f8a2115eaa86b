/**
 * Pre-processing: the bilinear resize against hand-computed cases and PyTorch's golden values,
 * TF's legacy rule against hand-computed cases and tfjs's own resizeBilinear, then the channel,
 * mean/std and layout rules, then rejected input.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { inputDims, preprocess, validatePreprocessSpec } from '../../src/runtime/preprocess.js';
import type { PreprocessSpec, RawImage } from '../../src/runtime/types.js';
import { fixtureUrl } from '../fixtures.js';
import { random } from '../helpers.js';

/** A spec that leaves values as they are: RGB, no mean, no scaling, NCHW. */
function plain(width: number, height: number, overrides: Partial<PreprocessSpec> = {}): PreprocessSpec {
  return { size: [width, height], channels: 'rgb', mean: [0, 0, 0], std: [1, 1, 1], layout: 'nchw', ...overrides };
}

function grey(width: number, height: number, values: number[]): RawImage {
  return { data: Uint8Array.from(values), width, height, channels: 1 };
}

/** The first channel plane of an NCHW result, as rows. */
function rows(tensor: Float32Array, width: number, height: number): number[][] {
  return Array.from({ length: height }, (_, y) => Array.from(tensor.subarray(y * width, (y + 1) * width)));
}

describe('bilinear resize with half-pixel centres', () => {
  it('2×2 → 4×4: samples at −0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1)', () => {
    // weights toward the second pixel along each axis: 0, 0.25, 0.75, 1
    const out = preprocess(grey(2, 2, [0, 100, 200, 40]), plain(4, 4));
    assert.deepEqual(rows(out, 4, 4), [
      [0, 25, 75, 100],
      [50, 58.75, 76.25, 85],
      [150, 126.25, 78.75, 55],
      [200, 160, 80, 40],
    ]);
  });

  it('4×4 → 2×2: each output samples the centre of a 2×2 block, so it is the block mean', () => {
    const values = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 250];
    const out = preprocess(grey(4, 4, values), plain(2, 2));
    assert.deepEqual(rows(out, 2, 2), [
      [25, 45],
      [105, 150],
    ]);
  });

  it('same size: an exact copy', () => {
    const values = Array.from({ length: 12 }, (_, i) => (i * 53) % 256);
    const out = preprocess(grey(4, 3, values), plain(4, 3));
    assert.deepEqual(Array.from(out.subarray(0, 12)), values);
  });

  it('equals PyTorch interpolate(bilinear, align_corners=False) on a 7×5 RGB image, up and down', () => {
    const golden = JSON.parse(readFileSync(fixtureUrl('images/bilinear.json'), 'utf8')) as {
      source: { width: number; height: number };
      cases: { size: [number, number]; nchw: number[] }[];
    };
    const { width, height } = golden.source;
    const image: RawImage = {
      data: Uint8Array.from({ length: width * height * 3 }, (_, i) => (37 * i + 11) % 256),
      width,
      height,
    };
    for (const { size, nchw } of golden.cases) {
      const out = preprocess(image, plain(size[0], size[1]));
      nchw.forEach((expected, i) => {
        assert.ok(
          Math.abs(out[i] - expected) < 1e-3,
          `${size.join('×')}: value ${i} is ${out[i]}, PyTorch gives ${expected}`,
        );
      });
    }
  });
});

describe("bilinear resize with TF's legacy rule (resize: 'tf-legacy')", () => {
  const legacy = (width: number, height: number) => plain(width, height, { resize: 'tf-legacy' });

  it('2×2 → 4×4: samples at 0, 0.5, 1, 1.5 (clamped to 1), from the top-left corner', () => {
    const out = preprocess(grey(2, 2, [0, 100, 200, 40]), legacy(4, 4));
    assert.deepEqual(rows(out, 4, 4), [
      [0, 50, 100, 100],
      [100, 85, 70, 70],
      [200, 120, 40, 40],
      [200, 120, 40, 40],
    ]);
  });

  it('4×4 → 2×2: samples whole pixels 0 and 2 on each axis, not the block means', () => {
    const values = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 250];
    assert.deepEqual(rows(preprocess(grey(4, 4, values), legacy(2, 2)), 2, 2), [
      [0, 20],
      [80, 100],
    ]);
  });

  it('5 → 3: samples at 0, 5/3 and 10/3', () => {
    const out = preprocess(grey(5, 1, [0, 30, 60, 90, 120]), legacy(3, 1));
    [0, 50, 100].forEach((expected, i) =>
      assert.ok(Math.abs(out[i] - expected) < 1e-9, `value ${i} is ${out[i]}, expected ${expected}`),
    );
  });

  it("equals tfjs's tf.image.resizeBilinear(x, size, false, false) bit for bit on 40 random RGB images, up and down", async () => {
    assert.ok(await tf.setBackend('cpu'));
    for (let i = 0; i < 40; i++) {
      const rand = random(2300 + i);
      const width = 1 + Math.floor(rand() * 70),
        height = 1 + Math.floor(rand() * 70);
      const size: [number, number] = [1 + Math.floor(rand() * 70), 1 + Math.floor(rand() * 70)];
      const data = Uint8Array.from({ length: width * height * 3 }, () => Math.floor(rand() * 256));
      const ours = preprocess(
        { data, width, height, channels: 3 },
        plain(size[0], size[1], { layout: 'nhwc', resize: 'tf-legacy' }),
      );
      const theirs = tf.tidy(() =>
        tf.image
          .resizeBilinear(tf.tensor3d(data, [height, width, 3], 'int32'), [size[1], size[0]], false, false)
          .dataSync(),
      );
      const at = ours.findIndex((v, j) => v !== theirs[j]);
      assert.equal(
        at,
        -1,
        `case ${i} (${width}×${height} → ${size.join('×')}): value ${at} is ${ours[at]}, tfjs gives ${theirs[at]}`,
      );
    }
  });

  it("the default rule is half-pixel centres, and 'half-pixel' names it", () => {
    const image = grey(2, 2, [0, 100, 200, 40]);
    assert.deepEqual(preprocess(image, plain(4, 4, { resize: 'half-pixel' })), preprocess(image, plain(4, 4)));
    assert.notDeepEqual(preprocess(image, plain(4, 4, { resize: 'tf-legacy' })), preprocess(image, plain(4, 4)));
  });
});

describe('channels, mean/std and layout', () => {
  const pixel: RawImage = { data: Uint8Array.from([10, 20, 30, 40, 50, 60]), width: 2, height: 1 }; // two RGB pixels

  it("'rgb' keeps the order, 'bgr' reverses it; mean and std apply in the tensor's order", () => {
    assert.deepEqual(Array.from(preprocess(pixel, plain(2, 1))), [10, 40, 20, 50, 30, 60]);
    assert.deepEqual(Array.from(preprocess(pixel, plain(2, 1, { channels: 'bgr' }))), [30, 60, 20, 50, 10, 40]);
    const normalised = preprocess(pixel, plain(2, 1, { channels: 'bgr', mean: [30, 20, 10], std: [2, 4, 5] }));
    assert.deepEqual(Array.from(normalised), [0, 15, 0, 7.5, 0, 6]);
  });

  it("'nhwc' interleaves channels per pixel", () => {
    assert.deepEqual(Array.from(preprocess(pixel, plain(2, 1, { layout: 'nhwc' }))), [10, 20, 30, 40, 50, 60]);
    assert.deepEqual(inputDims(plain(4, 3, { layout: 'nhwc' }), 2), [2, 3, 4, 3]);
    assert.deepEqual(inputDims(plain(4, 3), 2), [2, 3, 3, 4]);
  });

  it('grey is replicated to three channels; alpha is ignored', () => {
    const spec = plain(2, 1, { mean: [1, 2, 3] });
    assert.deepEqual(Array.from(preprocess(grey(2, 1, [100, 200]), spec)), [99, 199, 98, 198, 97, 197]);
    const rgba: RawImage = { data: Uint8Array.from([10, 20, 30, 0, 40, 50, 60, 255]), width: 2, height: 1 };
    assert.deepEqual(preprocess(rgba, plain(2, 1)), preprocess(pixel, plain(2, 1)));
  });

  it('channels default to what the length implies; ImageData-like Uint8ClampedArray works', () => {
    const imageData = { data: new Uint8ClampedArray([10, 20, 30, 255, 40, 50, 60, 255]), width: 2, height: 1 };
    assert.deepEqual(preprocess(imageData, plain(2, 1)), preprocess(pixel, plain(2, 1)));
  });

  it('writes image i of a batch at its slot and leaves the rest alone', () => {
    const batch = new Float32Array(3 * 2 * 2).fill(-1);
    preprocess(pixel, plain(2, 1), batch, 1);
    assert.deepEqual(Array.from(batch), [-1, -1, -1, -1, -1, -1, 10, 40, 20, 50, 30, 60]);
  });
});

describe('rejected input names the value and what is expected', () => {
  const spec = plain(2, 2);
  it('pixel data of the wrong length or type, a zero size, two channels', () => {
    assert.throws(
      () => preprocess({ data: new Uint8Array(10), width: 2, height: 2 }, spec),
      /RangeError: image has 10 values for 2 × 2 pixels, 2.5 channels per pixel; expected 1 \(grey\), 3 \(RGB\) or 4 \(RGBA\)/,
    );
    assert.throws(
      () => preprocess({ data: new Uint8Array(12), width: 2, height: 2, channels: 4 }, spec),
      /RangeError: image.data has 12 values; 2 × 2 pixels × 4 channels needs 16/,
    );
    assert.throws(
      () => preprocess({ data: new Uint8Array(0), width: 0, height: 2 }, spec),
      /RangeError: image is 0 × 2 pixels; width and height must be integers ≥ 1/,
    );
    assert.throws(
      () => preprocess({ data: new Float32Array(12) as unknown as Uint8Array, width: 2, height: 2 }, spec),
      /TypeError: image.data must be a Uint8Array or Uint8ClampedArray/,
    );
    assert.throws(() => preprocess({ data: new Uint8Array(8), width: 2, height: 2 }, spec), /2 channels per pixel/);
  });

  it('an output buffer too small for the slot', () => {
    assert.throws(
      () => preprocess(grey(2, 2, [0, 0, 0, 0]), spec, new Float32Array(12), 1),
      /RangeError: out has 12 values; image 1 needs 24/,
    );
  });

  it('spec fields out of range', () => {
    const bad = (overrides: object) => () => validatePreprocessSpec({ ...spec, ...overrides } as PreprocessSpec);
    assert.throws(
      bad({ size: [300] }),
      /RangeError: preprocess.size is \[300\]; it must be \[width, height\], two integers ≥ 1/,
    );
    assert.throws(bad({ channels: 'rgba' }), /preprocess.channels is "rgba"; it must be 'rgb' or 'bgr'/);
    assert.throws(bad({ mean: [1, 2] }), /preprocess.mean is \[1,2\]; it must be three finite numbers/);
    assert.throws(bad({ std: [1, 0, 1] }), /preprocess.std is \[1,0,1\]; it must be three finite numbers > 0/);
    assert.throws(bad({ layout: 'chw' }), /preprocess.layout is "chw"; it must be 'nchw' or 'nhwc'/);
    assert.throws(
      bad({ resize: 'legacy' }),
      /RangeError: preprocess.resize is "legacy"; it must be 'half-pixel' or 'tf-legacy'/,
    );
    assert.throws(
      () => validatePreprocessSpec(null as unknown as PreprocessSpec),
      /TypeError: preprocess must be a PreprocessSpec/,
    );
  });

  it('unknown keys, in the spec and in inputQuantization, are named with the nearest known key', () => {
    const bad = (overrides: object) => () => validatePreprocessSpec({ ...spec, ...overrides } as PreprocessSpec);
    assert.throws(
      bad({ layuot: 'nhwc' }),
      /TypeError: preprocess has an unknown key 'layuot'; did you mean 'layout'\?/,
    );
    assert.throws(
      bad({ inputtype: 'uint8' }),
      /TypeError: preprocess has an unknown key 'inputtype'; did you mean 'inputType'\?/,
    );
    assert.throws(
      bad({ resise: 'tf-legacy' }),
      /TypeError: preprocess has an unknown key 'resise'; did you mean 'resize'\?/,
    );
    const uint8 = { inputType: 'uint8', mean: [0, 0, 0], std: [1, 1, 1] } as const;
    assert.throws(
      bad({ ...uint8, inputQuantization: { scale: 0.0078125, zeroPiont: 128 } }),
      /TypeError: preprocess.inputQuantization has an unknown key 'zeroPiont'; did you mean 'zeroPoint'\?/,
    );
    assert.throws(
      bad({ ...uint8, inputQuantization: { scale: 0, zeroPoint: 128 } }),
      /RangeError: preprocess.inputQuantization.scale is 0; it must be a finite number > 0/,
    );
    assert.throws(
      bad({ ...uint8, inputQuantization: { scale: 0.5, zeroPoint: 1.5 } }),
      /RangeError: preprocess.inputQuantization.zeroPoint is 1.5; it must be an integer/,
    );
    assert.throws(
      bad({ ...uint8, inputQuantization: 128 }),
      /TypeError: preprocess.inputQuantization must be \{ scale, zeroPoint \}, got 128/,
    );
    const ok = { ...spec, ...uint8, inputQuantization: { scale: 0.0078125, zeroPoint: 128 } } as PreprocessSpec;
    assert.equal(validatePreprocessSpec(ok), ok);
  });
});

/**
 * The wasm core's pre-processing (used by the detector) against the TypeScript twin
 * (preprocess.ts, checked against PyTorch's bilinear resize): both builds, every layout,
 * channel order and channel count, up- and down-sampling, odd sizes. The uint8 input of a
 * quantised model (runUint8) against rounding the float tensor on the host (toUint8Tensor):
 * bit for bit, on random images and on the sample photos.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readdirSync } from 'node:fs';
import { decodeImage } from '../../src/runtime/image-node.js';
import { preprocess, toUint8Tensor } from '../../src/runtime/preprocess.js';
import { createWasmPreprocessor } from '../../src/runtime/preprocess-wasm.js';
import type { PreprocessSpec } from '../../src/runtime/types.js';
import { random } from '../helpers.js';

describe('wasm pre-processing', () => {
  for (const build of ['simd', 'baseline'] as const) {
    it(`${build}: equals the TypeScript twin within f32 rounding on 60 random cases, both resize rules`, async () => {
      const wasm = await createWasmPreprocessor({ build });
      assert.equal(wasm.build, build);
      for (let i = 0; i < 60; i++) {
        const rand = random(900 + i);
        const pick = <T>(values: readonly T[]): T => values[Math.floor(rand() * values.length)];
        const width = 1 + Math.floor(rand() * 90),
          height = 1 + Math.floor(rand() * 90);
        const channels = pick([1, 3, 4] as const);
        const data = Uint8Array.from({ length: width * height * channels }, () => Math.floor(rand() * 256));
        const spec: PreprocessSpec = {
          size: [1 + Math.floor(rand() * 60), 1 + Math.floor(rand() * 60)],
          channels: pick(['rgb', 'bgr'] as const),
          mean: [rand() * 255, rand() * 255, rand() * 255],
          std: [0.5 + rand() * 100, 1, 0.5 + rand() * 100],
          layout: pick(['nchw', 'nhwc'] as const),
          resize: pick(['half-pixel', 'tf-legacy'] as const),
        };
        const image = { data, width, height, channels };
        const expected = preprocess(image, spec);
        // written into slot 1 of a two-image tensor, as a batch does
        const actual = wasm.run(image, spec, new Float32Array(2 * expected.length), 1).subarray(expected.length);
        for (let j = 0; j < expected.length; j++) {
          const tolerance = 1e-4 * Math.max(1, Math.abs(expected[j]));
          assert.ok(
            Math.abs(actual[j] - expected[j]) <= tolerance,
            `case ${i} (${width}×${height}×${channels} → ${spec.size.join('×')} ${spec.channels} ${spec.layout} ${spec.resize}): ` +
              `value ${j} is ${actual[j]}, the twin gives ${expected[j]}`,
          );
        }
      }
    });
  }

  const u8Spec = (size: [number, number], channels: 'rgb' | 'bgr', layout: 'nchw' | 'nhwc'): PreprocessSpec => ({
    size,
    channels,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    layout,
    inputType: 'uint8',
  });

  /** Index of the first differing byte, or -1. */
  const firstDifference = (a: Uint8Array, b: Uint8Array) => a.findIndex((v, i) => v !== b[i]);

  for (const build of ['simd', 'baseline'] as const) {
    it(`${build}: runUint8 is bit for bit toUint8Tensor(run()) on 80 random cases (halves included)`, async () => {
      const wasm = await createWasmPreprocessor({ build });
      let halves = 0;
      for (let i = 0; i < 80; i++) {
        const rand = random(1700 + i);
        const pick = <T>(values: readonly T[]): T => values[Math.floor(rand() * values.length)];
        const width = 1 + Math.floor(rand() * 90),
          height = 1 + Math.floor(rand() * 90);
        const channels = pick([1, 3, 4] as const);
        // a few images of small even values: bilinear blends at ¼, ½, ¾ then land on exact halves
        const range = i % 4 === 0 ? 4 : 256;
        const data = Uint8Array.from({ length: width * height * channels }, () => Math.floor(rand() * range));
        const size: [number, number] =
          i % 4 === 0 ? [2 * width, 2 * height] : [1 + Math.floor(rand() * 60), 1 + Math.floor(rand() * 60)];
        const spec = {
          ...u8Spec(size, pick(['rgb', 'bgr'] as const), pick(['nchw', 'nhwc'] as const)),
          resize: pick(['half-pixel', 'tf-legacy'] as const),
        };
        const image = { data, width, height, channels };
        const float = wasm.run(image, spec);
        halves += float.filter((v) => v % 1 === 0.5).length;
        const expected = toUint8Tensor(float);
        // written into slot 1 of a two-image tensor, as a batch does; slot 0 stays untouched
        const out = new Uint8Array(2 * expected.length).fill(7);
        const actual = wasm.runUint8(image, spec, out, 1);
        assert.equal(actual, out);
        assert.ok(
          out.subarray(0, expected.length).every((v) => v === 7),
          'slot 0 must not be written',
        );
        const at = firstDifference(out.subarray(expected.length), expected);
        assert.equal(
          at,
          -1,
          `case ${i} (${width}×${height}×${channels} → ${size.join('×')} ${spec.channels} ${spec.layout}): ` +
            `byte ${at} is ${out[expected.length + at]}, rounding the float tensor gives ${expected[at]} (from ${float[at]})`,
        );
      }
      assert.ok(halves > 100, `only ${halves} exact halves were exercised`);
    });

    it(`${build}: runUint8 is bit for bit toUint8Tensor(run()) on every sample photo, 300 × 300 and 320 × 240`, async () => {
      const wasm = await createWasmPreprocessor({ build });
      const photos = readdirSync('samples').filter((name) => /\.(jpe?g|png)$/.test(name));
      assert.ok(photos.length >= 5, `samples/ has ${photos.length} photos`);
      for (const name of photos) {
        const image = await decodeImage(`samples/${name}`);
        for (const spec of [u8Spec([300, 300], 'rgb', 'nhwc'), u8Spec([320, 240], 'bgr', 'nchw')]) {
          const expected = toUint8Tensor(wasm.run(image, spec));
          const actual = wasm.runUint8(image, spec);
          const at = firstDifference(actual, expected);
          assert.equal(
            at,
            -1,
            `${name} → ${spec.size.join('×')} ${spec.layout}: byte ${at} is ${actual[at]}, expected ${expected[at]}`,
          );
        }
      }
    });
  }

  it('tensor() gives the batch in the type the spec feeds', async () => {
    const wasm = await createWasmPreprocessor();
    const rand = random(5);
    const images = [0, 1].map(() => ({
      data: Uint8Array.from({ length: 5 * 4 * 3 }, () => Math.floor(rand() * 256)),
      width: 5,
      height: 4,
    }));
    const spec = u8Spec([3, 2], 'rgb', 'nhwc');
    const u8 = wasm.tensor(images, spec);
    assert.ok(u8 instanceof Uint8Array);
    assert.deepEqual(u8, Uint8Array.from([...wasm.runUint8(images[0], spec), ...wasm.runUint8(images[1], spec)]));
    const f32 = wasm.tensor(images, { ...spec, inputType: 'float32' });
    assert.ok(f32 instanceof Float32Array);
    assert.deepEqual(toUint8Tensor(f32), u8);
  });

  it('runUint8 refuses a mean or std that a raw uint8 input cannot carry', async () => {
    const wasm = await createWasmPreprocessor();
    const image = { data: new Uint8Array(12), width: 2, height: 2 };
    assert.throws(
      () => wasm.runUint8(image, { ...u8Spec([2, 2], 'rgb', 'nhwc'), mean: [127.5, 0, 0] }),
      /mean must be \[0, 0, 0\]/,
    );
    assert.throws(
      () => wasm.runUint8(image, u8Spec([2, 2], 'rgb', 'nhwc'), new Uint8Array(12), 1),
      /out has 12 values; image 1 needs 24/,
    );
  });

  it('rejects what the twin rejects, and a slot outside the tensor', async () => {
    const wasm = await createWasmPreprocessor();
    const spec: PreprocessSpec = { size: [4, 4], channels: 'rgb', mean: [0, 0, 0], std: [1, 1, 1], layout: 'nchw' };
    assert.throws(
      () => wasm.run({ data: new Uint8Array(10), width: 2, height: 2 }, spec),
      /10 values for 2 × 2 pixels/,
    );
    assert.throws(
      () => wasm.run({ data: new Uint8Array(12), width: 2, height: 2 }, spec, new Float32Array(48), 1),
      /out has 48 values; image 1 needs 96/,
    );
  });
});

/**
 * The wasm core's pre-processing (used by the detector) against the TypeScript twin
 * (preprocess.ts, checked against PyTorch's bilinear resize): both builds, every layout,
 * channel order and channel count, up- and down-sampling, odd sizes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { preprocess } from '../../src/runtime/preprocess.js';
import { createWasmPreprocessor } from '../../src/runtime/preprocess-wasm.js';
import type { PreprocessSpec } from '../../src/runtime/types.js';
import { random } from '../helpers.js';

describe('wasm pre-processing', () => {
  for (const build of ['simd', 'baseline'] as const) {
    it(`${build}: equals the TypeScript twin within f32 rounding on 60 random cases`, async () => {
      const wasm = await createWasmPreprocessor({ build });
      assert.equal(wasm.build, build);
      for (let i = 0; i < 60; i++) {
        const rand = random(900 + i);
        const pick = <T>(values: readonly T[]): T => values[Math.floor(rand() * values.length)];
        const width = 1 + Math.floor(rand() * 90), height = 1 + Math.floor(rand() * 90);
        const channels = pick([1, 3, 4] as const);
        const data = Uint8Array.from({ length: width * height * channels }, () => Math.floor(rand() * 256));
        const spec: PreprocessSpec = {
          size: [1 + Math.floor(rand() * 60), 1 + Math.floor(rand() * 60)],
          channels: pick(['rgb', 'bgr'] as const),
          mean: [rand() * 255, rand() * 255, rand() * 255],
          std: [0.5 + rand() * 100, 1, 0.5 + rand() * 100],
          layout: pick(['nchw', 'nhwc'] as const),
        };
        const image = { data, width, height, channels };
        const expected = preprocess(image, spec);
        // written into slot 1 of a two-image tensor, as a batch does
        const actual = wasm.run(image, spec, new Float32Array(2 * expected.length), 1).subarray(expected.length);
        for (let j = 0; j < expected.length; j++) {
          const tolerance = 1e-4 * Math.max(1, Math.abs(expected[j]));
          assert.ok(Math.abs(actual[j] - expected[j]) <= tolerance,
            `case ${i} (${width}×${height}×${channels} → ${spec.size.join('×')} ${spec.channels} ${spec.layout}): ` +
            `value ${j} is ${actual[j]}, the twin gives ${expected[j]}`);
        }
      }
    });
  }

  it('rejects what the twin rejects, and a slot outside the tensor', async () => {
    const wasm = await createWasmPreprocessor();
    const spec: PreprocessSpec = { size: [4, 4], channels: 'rgb', mean: [0, 0, 0], std: [1, 1, 1], layout: 'nchw' };
    assert.throws(() => wasm.run({ data: new Uint8Array(10), width: 2, height: 2 }, spec), /10 values for 2 × 2 pixels/);
    assert.throws(() => wasm.run({ data: new Uint8Array(12), width: 2, height: 2 }, spec, new Float32Array(48), 1),
      /out has 48 values; image 1 needs 96/);
  });
});

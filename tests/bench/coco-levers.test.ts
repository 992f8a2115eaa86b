/**
 * The int8-weights lever (bench/coco-levers.ts) keeps the exact COCO model exact: with every
 * QLinearConv's weights and weight zero point shifted from uint8 to int8 by −128, onnxruntime's
 * u8s8 kernels give TensorFlow Lite's uint8 heads bit for bit on every sample photo, on
 * onnxruntime-node and on onnxruntime-web's wasm backend (in Node, one thread).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { int8WeightsModel } from '../../bench/coco-levers.js';
import { decodeOnnxModel } from '../../src/model/onnx/read.js';
import { readTfliteCocoFixtures, type TfliteCocoFixture } from '../tflite-reference/fixtures.js';

const exactBytes = new Uint8Array(readFileSync(new URL('../../../models/ssd-mobilenet-v2-coco.onnx', import.meta.url)));

/** Head bytes that differ from TFLite's, per fixture (float heads requantised: exact for these scales). */
async function differing(
  ort: typeof import('onnxruntime-web'),
  model: Uint8Array,
  fixtures: TfliteCocoFixture[],
  options: object,
) {
  const session = await ort.InferenceSession.create(model, options);
  try {
    const found: Record<string, number> = {};
    for (const f of fixtures) {
      const out = await session.run({ image: new ort.Tensor('uint8', f.input, [1, 300, 300, 3]) });
      let n = 0;
      for (const [data, expected, info] of [
        [out.loc.data, f.boxEncodings, f.json.heads.boxEncodings],
        [out.conf.data, f.classPredictions, f.json.heads.classPredictions],
      ] as const) {
        const [scale, zero] = [info.quantization!.scale[0], info.quantization!.zeroPoint[0]];
        (data as Float32Array).forEach((v, i) => {
          if (Math.round(v / scale) + zero !== expected[i]) n++;
        });
      }
      found[f.name] = n;
    }
    return found;
  } finally {
    await session.release();
  }
}

describe('int8 weights on the exact COCO model', () => {
  let fixtures: TfliteCocoFixture[];
  let shifted: Uint8Array;
  before(async () => {
    fixtures = await readTfliteCocoFixtures();
    shifted = int8WeightsModel(exactBytes);
  });

  it('turns every QLinearConv weight and weight zero point into int8, and nothing else', () => {
    const [a, b] = [decodeOnnxModel(exactBytes).graph!, decodeOnnxModel(shifted).graph!];
    const types = (g: typeof a) => new Map((g.initializer ?? []).map((t) => [t.name!, t.dataType!]));
    const [before, after] = [types(a), types(b)];
    const changed = [...after].filter(([name, type]) => before.get(name) !== type);
    assert.equal(changed.length, 2 * 72, 'weights and zero points of the 72 convolutions');
    assert.ok(
      changed.every(([name, type]) => type === 3 && /\.w(\.zero)?$/.test(name)),
      JSON.stringify(changed.slice(0, 3)),
    );
    assert.equal(shifted.length, exactBytes.length);
  });

  it("gives TFLite's heads bit for bit on onnxruntime-node", async () => {
    const ort = (await import('onnxruntime-node')) as unknown as typeof import('onnxruntime-web');
    const found = await differing(ort, shifted, fixtures, { intraOpNumThreads: 1 });
    assert.deepEqual(found, Object.fromEntries(fixtures.map((f) => [f.name, 0])));
  });

  it("gives TFLite's heads bit for bit on onnxruntime-web (wasm)", async () => {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    const found = await differing(ort, shifted, fixtures, { executionProviders: ['wasm'] });
    assert.deepEqual(found, Object.fromEntries(fixtures.map((f) => [f.name, 0])));
  });
});

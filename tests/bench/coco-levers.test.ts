/**
 * The int8-weights lever (bench/coco-levers.ts) keeps the exact COCO model exact: with every
 * QLinearConv's weights and weight zero point shifted from uint8 to int8 by −128, onnxruntime's
 * u8s8 kernels give TensorFlow Lite's uint8 heads bit for bit on every sample photo, on
 * onnxruntime-web's wasm backend (in Node, one thread), and on onnxruntime-node where its CPU
 * kernels do not saturate. On an x86-64 CPU without VNNI, onnxruntime-node's u8s8 GEMM multiplies
 * with VPMADDUBSW, whose pairwise sums saturate at 16 bits (onnxruntime's quantization docs): there
 * the lever is not exact, and the test checks that it is the lever, not the model, that differs.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
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

/**
 * Whether onnxruntime-node's u8s8 kernels saturate here: x86-64 without AVX-VNNI or AVX512-VNNI
 * (VPDPBUSD sums in 32 bits; VPMADDUBSW, the fallback, in saturating 16). Undefined when the CPU's
 * flags cannot be read.
 */
function u8s8Saturates(): boolean | undefined {
  if (process.arch !== 'x64') return false;
  if (!existsSync('/proc/cpuinfo')) return undefined;
  const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  return flags === undefined ? undefined : !/\b(avx512_vnni|avx_vnni)\b/.test(flags);
}

const noDifferences = (fixtures: TfliteCocoFixture[]) => Object.fromEntries(fixtures.map((f) => [f.name, 0]));

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

  it("gives TFLite's heads bit for bit on onnxruntime-node where its u8s8 kernels do not saturate", async (t) => {
    const saturates = u8s8Saturates();
    if (saturates === undefined) return t.skip("cannot read this x86-64 CPU's flags (/proc/cpuinfo) to tell VNNI");
    const ort = (await import('onnxruntime-node')) as unknown as typeof import('onnxruntime-web');
    const found = await differing(ort, shifted, fixtures, { intraOpNumThreads: 1 });
    if (!saturates) {
      assert.deepEqual(found, noDifferences(fixtures));
      return;
    }
    t.diagnostic(`x86-64 without VNNI: u8s8 head values unlike TFLite's, per photo: ${JSON.stringify(found)}`);
    assert.ok(
      Object.values(found).some((n) => n > 0),
      'exact on a CPU without VNNI: the saturation this test expects is gone, so the docs should say exact everywhere',
    );
    const exact = await differing(ort, exactBytes, fixtures, { intraOpNumThreads: 1 });
    assert.deepEqual(exact, noDifferences(fixtures), 'the uint8 (u8u8) model itself must stay exact here');
  });

  it("gives TFLite's heads bit for bit on onnxruntime-web (wasm)", async () => {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    const found = await differing(ort, shifted, fixtures, { executionProviders: ['wasm'] });
    assert.deepEqual(found, noDifferences(fixtures));
  });
});

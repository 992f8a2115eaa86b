/**
 * MediaPipe's BlazeFace (models/face_detection_short_range.tflite: float16 weights stored as
 * DEQUANTIZE of float16 constants, PAD for BlazeFace's channel padding, MAX_POOL_2D, no
 * TFLite_Detection_PostProcess) converted through the TFLite path with the 'mediapipe-blazeface'
 * preset: its two outputs equal TensorFlow Lite's own (tests/fixtures/tflite-blazeface, computed
 * by tfjs-tflite) within 1e-4 relative (|Δ| ≤ 1e-4 · max(|TFLite|, 1)), and the metadata carries
 * the anchors and MediaPipe's decoding.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import type * as Ort from 'onnxruntime-node';
import { priorRows as referencePriors } from '../../src/core/prior-rows.js';
import { BLAZEFACE_ANCHORS, convertModel, foldFloat16Weights, readTflite } from '../../src/convert/index.js';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { fixtureUrl } from '../fixtures.js';
import { readBlazefaceFixtures, type BlazefaceFixture } from '../mediapipe/fixtures.js';

const MODEL = new URL('../../../models/face_detection_short_range.tflite', import.meta.url);

/** Largest |a − b| / max(|b|, 1). */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1));
  return worst;
}

describe('BlazeFace through the TFLite converter', () => {
  const tflite = new Uint8Array(readFileSync(MODEL));
  let ort: typeof Ort;
  let session: Ort.InferenceSession;
  let onnx: Uint8Array;
  let fixtures: BlazefaceFixture[];
  before(async () => {
    ort = await import('onnxruntime-node');
    onnx = convertModel(tflite, { preset: 'mediapipe-blazeface' }).onnx;
    session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
    fixtures = readBlazefaceFixtures();
  });

  it('folds the float16 weights: no DEQUANTIZE is left, every weight is a float32 constant', () => {
    const model = readTflite(tflite);
    const folded = foldFloat16Weights(model);
    assert.equal(model.operators.filter(op => op.name === 'DEQUANTIZE').length, 74);
    assert.equal(folded.operators.filter(op => op.name === 'DEQUANTIZE').length, 0);
    assert.equal(folded.operators.length, model.operators.length - 74);
    const conv = folded.operators.find(op => op.name === 'CONV_2D')!;
    const filter = folded.tensors[conv.inputs[1]];
    assert.equal(filter.type, 'float32');
    assert.equal(filter.data?.length, 4 * filter.shape.reduce((n, d) => n * d, 1));
  });

  it("gives TensorFlow Lite's regressors and classificators within 1e-4", async () => {
    assert.equal(fixtures.length, 3);
    for (const f of fixtures) {
      const out = await session.run({ image: new ort.Tensor('float32', f.input, [1, 128, 128, 3]) });
      assert.deepEqual(out.loc.dims, [1, 896, 16]);
      assert.deepEqual(out.conf.dims, [1, 896, 1]);
      const loc = relativeError(out.loc.data as Float32Array, f.regressors);
      const conf = relativeError(out.conf.data as Float32Array, f.classificators);
      assert.ok(loc <= 1e-4, `${f.name}: regressors differ from TFLite's by ${loc.toExponential(2)} (relative)`);
      assert.ok(conf <= 1e-4, `${f.name}: classificators differ from TFLite's by ${conf.toExponential(2)} (relative)`);
    }
  });

  it("records the 896 MediaPipe anchors, MediaPipe's decoding and the [−1, 1] input in the metadata", () => {
    const meta = readSsdEdgeMetadata(onnx)!;
    const priors = meta.postprocess.priors as Float32Array;
    assert.ok(priors instanceof Float32Array);
    assert.equal(priors.length, 896 * 4);
    const golden = readFileSync(fixtureUrl('priors/mediapipeBlazeFace.f32'));
    assert.deepEqual(priors, new Float32Array(golden.buffer.slice(golden.byteOffset, golden.byteOffset + golden.byteLength)));
    assert.deepEqual(priors, referencePriors(BLAZEFACE_ANCHORS));
    assert.deepEqual(meta.postprocess.boxCoding, { linearScales: [128, 128, 128, 128], order: 'xywh' });
    assert.deepEqual(meta.postprocess.keypoints, { count: 6 });
    assert.equal(meta.postprocess.weightedNms, true);
    assert.equal(meta.postprocess.numClasses, 1);
    assert.equal(meta.postprocess.backgroundClass, -1);
    assert.deepEqual(meta.preprocess.size, [128, 128]);
    assert.deepEqual(meta.preprocess.mean, [127.5, 127.5, 127.5]);
    assert.equal(meta.preprocess.layout, 'nhwc');
  });

  it('refuses an unknown preset by listing the valid ones', () => {
    assert.throws(() => convertModel(tflite, { preset: 'blazeface' as 'mediapipe-blazeface' }), /unknown conversion preset 'blazeface'; valid presets: mediapipe-blazeface/);
  });
});

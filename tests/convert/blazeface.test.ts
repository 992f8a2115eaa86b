/**
 * MediaPipe's BlazeFace (models/face_detection_short_range.tflite: float16 weights stored as
 * DEQUANTIZE of float16 constants, PAD for BlazeFace's channel padding, MAX_POOL_2D, no
 * TFLite_Detection_PostProcess) converted through the TFLite path with the 'mediapipe-blazeface'
 * preset: its two outputs equal TensorFlow Lite's own (tests/fixtures/tflite-blazeface, computed
 * by tfjs-tflite) within 1e-4 relative (|Δ| ≤ 1e-4 · max(|TFLite|, 1)), and the metadata carries
 * the anchors and MediaPipe's decoding. End to end: the converted model's detections (onnxruntime,
 * then ssd-edge's core) equal what MediaPipe's calculators (tests/mediapipe/calculators.ts) make of
 * TensorFlow Lite's own outputs.
 *
 * The outputs are not bit-identical to TFLite's (up to 1.1e-4 absolute here, 4.1e-4 on a logit of
 * 372 on face-api's demo photos) because float32 sums depend on their order: onnxruntime itself,
 * with and without its graph optimisations (fused Conv + Add + Relu), differs from itself by as
 * much (1.4e-4 here, 2.6e-4 on those photos). The post-processing adds nothing: given the same raw
 * tensors, the core equals the calculators bit for bit (tests/core/mediapipe.test.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { priorRows as referencePriors } from '../../src/core/prior-rows.js';
import { BLAZEFACE_ANCHORS, convertModel, foldFloat16Weights, readTflite } from '../../src/convert/index.js';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { maxRelativeError } from '../helpers.js';
import { openBlazefaceSession, type BlazefaceSession } from '../mediapipe/blazeface-session.js';
import { readBlazefaceAnchors, readBlazefaceFixtures, type BlazefaceFixture } from '../mediapipe/fixtures.js';
import { blazefaceDetections } from '../mediapipe/calculators.js';
import { createPostprocessor } from '../../src/core/postprocessor.js';

const MODEL = new URL('../../../models/face_detection_short_range.tflite', import.meta.url);

describe('BlazeFace through the TFLite converter', () => {
  const tflite = new Uint8Array(readFileSync(MODEL));
  let session: BlazefaceSession;
  let onnx: Uint8Array;
  let fixtures: BlazefaceFixture[];
  before(async () => {
    onnx = convertModel(tflite, { preset: 'mediapipe-blazeface' }).onnx;
    session = await openBlazefaceSession(onnx);
    fixtures = readBlazefaceFixtures();
  });
  after(() => session.release());

  it('folds the float16 weights: no DEQUANTIZE is left, every weight is a float32 constant', () => {
    const model = readTflite(tflite);
    const folded = foldFloat16Weights(model);
    assert.equal(model.operators.filter((op) => op.name === 'DEQUANTIZE').length, 74);
    assert.equal(folded.operators.filter((op) => op.name === 'DEQUANTIZE').length, 0);
    assert.equal(folded.operators.length, model.operators.length - 74);
    const conv = folded.operators.find((op) => op.name === 'CONV_2D')!;
    const filter = folded.tensors[conv.inputs[1]];
    assert.equal(filter.type, 'float32');
    assert.equal(filter.data?.length, 4 * filter.shape.reduce((n, d) => n * d, 1));
  });

  it("gives TensorFlow Lite's regressors and classificators within 1e-4", async () => {
    assert.equal(fixtures.length, 3);
    for (const f of fixtures) {
      const out = await session.run(f.input);
      const loc = maxRelativeError(out.regressors, f.regressors);
      const conf = maxRelativeError(out.classificators, f.classificators);
      assert.ok(loc <= 1e-4, `${f.name}: regressors differ from TFLite's by ${loc.toExponential(2)} (relative)`);
      assert.ok(conf <= 1e-4, `${f.name}: classificators differ from TFLite's by ${conf.toExponential(2)} (relative)`);
    }
  });

  it("records the 896 MediaPipe anchors, MediaPipe's decoding and the [−1, 1] input in the metadata", () => {
    const meta = readSsdEdgeMetadata(onnx)!;
    const priors = meta.postprocess.priors as Float32Array;
    assert.ok(priors instanceof Float32Array);
    assert.equal(priors.length, 896 * 4);
    assert.deepEqual(priors, readBlazefaceAnchors());
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

  it("detects what MediaPipe's calculators detect from TensorFlow Lite's own outputs: the same faces, boxes and keypoints within 1e-6", async (t) => {
    const post = await createPostprocessor(readSsdEdgeMetadata(onnx)!.postprocess);
    try {
      for (const f of fixtures) {
        const out = await session.run(f.input);
        const found = post.run(out.regressors, out.classificators)[0];
        const expected = blazefaceDetections(f.regressors, f.classificators, post.priors);
        assert.deepEqual(
          found.map((d) => d.priorIndex),
          expected.map((d) => d.anchor),
          `${f.name}: the faces' anchors`,
        );
        let box = 0,
          keypoint = 0,
          score = 0;
        found.forEach((d, i) => {
          const e = expected[i];
          [e.xmin, e.ymin, e.xmin + e.width, e.ymin + e.height].forEach((v, k) => {
            box = Math.max(box, Math.abs(d.box[k] - v));
          });
          e.keypoints.forEach((p, k) => {
            keypoint = Math.max(keypoint, Math.abs(d.keypoints![k][0] - p.x), Math.abs(d.keypoints![k][1] - p.y));
          });
          score = Math.max(score, Math.abs(d.score - e.score[0]));
        });
        t.diagnostic(
          `${f.name}: ${found.length} faces; max box difference ${box.toExponential(2)}, keypoint ${keypoint.toExponential(2)}, score ${score.toExponential(2)}`,
        );
        assert.ok(box <= 1e-6 && keypoint <= 1e-6, `${f.name}: boxes differ by ${box}, keypoints by ${keypoint}`);
        assert.ok(score <= 1e-5, `${f.name}: scores differ by ${score}`);
      }
    } finally {
      post.dispose();
    }
  });

  it('refuses an unknown preset by listing the valid ones', () => {
    assert.throws(
      () => convertModel(tflite, { preset: 'blazeface' as 'mediapipe-blazeface' }),
      /unknown conversion preset 'blazeface'; valid presets: mediapipe-blazeface/,
    );
  });
});

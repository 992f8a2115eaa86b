/**
 * The shipped COCO model against TensorFlow Lite's own outputs (tests/fixtures/tflite-coco,
 * computed by tfjs-tflite in Chromium): on every sample photo the converted model's two heads
 * equal TFLite's uint8 tensors byte for byte, and ssd-edge's post-processing reproduces
 * TFLite_Detection_PostProcess's detections. Also: the committed ONNX file is what converting
 * the committed .tflite gives today.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import type * as Ort from 'onnxruntime-node';
import { COCO91_LABELS } from '../../src/core/labels.js';
import { createPostprocessor } from '../../src/core/postprocessor.js';
import { convertModel } from '../../src/convert/index.js';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { readTfliteCocoFixtures, type TfliteCocoFixture } from '../tflite-reference/fixtures.js';

const MODELS = new URL('../../../models/', import.meta.url);
const onnxBytes = new Uint8Array(readFileSync(new URL('ssd-mobilenet-v2-coco.onnx', MODELS)));

/** Dequantised float heads back to their uint8 values (exact: v = (q − zero)·scale in f32). */
function requantize(values: Float32Array, scale: number, zeroPoint: number): Uint8Array {
  return Uint8Array.from(values, (v) => Math.round(v / scale) + zeroPoint);
}

describe('models/ssd-mobilenet-v2-coco.onnx', () => {
  let fixtures: TfliteCocoFixture[];
  let session: Ort.InferenceSession;
  let ort: typeof Ort;
  before(async () => {
    fixtures = await readTfliteCocoFixtures();
    ort = await import('onnxruntime-node');
    session = await ort.InferenceSession.create(onnxBytes, { intraOpNumThreads: 1 });
  });

  it('is the conversion of the committed .tflite, with COCO labels', () => {
    const tflite = readFileSync(new URL('mobilenet_ssd_v2_coco_quant_postprocess.tflite', MODELS));
    const { onnx } = convertModel(tflite, {
      labels: COCO91_LABELS,
      metadata: { 'ssd-edge.convertedFrom': 'mobilenet_ssd_v2_coco_quant_postprocess.tflite' },
    });
    assert.ok(
      Buffer.from(onnx).equals(Buffer.from(onnxBytes)),
      'models/ssd-mobilenet-v2-coco.onnx is stale: re-run `ssd-edge convert models/mobilenet_ssd_v2_coco_quant_postprocess.tflite --out models/ssd-mobilenet-v2-coco.onnx --force`',
    );
  });

  it("gives TensorFlow Lite's uint8 head tensors bit for bit, and its detections", async () => {
    assert.ok(fixtures.length >= 5, `${fixtures.length} fixtures`);
    const config = readSsdEdgeMetadata(onnxBytes)!.postprocess;
    const post = await createPostprocessor(config);
    try {
      for (const f of fixtures) {
        const out = await session.run({ image: new ort.Tensor('uint8', f.input, [1, 300, 300, 3]) });
        const loc = out.loc.data as Float32Array,
          conf = out.conf.data as Float32Array;
        const { boxEncodings, classPredictions } = f.json.heads;
        const q = (info: typeof boxEncodings) =>
          [info.quantization!.scale[0], info.quantization!.zeroPoint[0]] as const;
        assert.deepEqual(
          requantize(loc, ...q(boxEncodings)),
          f.boxEncodings,
          `${f.name}: box encodings differ from TFLite's`,
        );
        assert.deepEqual(
          requantize(conf, ...q(classPredictions)),
          f.classPredictions,
          `${f.name}: class predictions differ from TFLite's`,
        );

        const found = post.run(loc, conf, 1)[0];
        const expected = f.postprocess;
        assert.equal(found.length, expected.count, `${f.name}: detection count`);
        found.forEach((d, i) => {
          // TFLite: class without background, box [ymin, xmin, ymax, xmax]; ssd-edge: column index, [xmin, ymin, xmax, ymax]
          assert.equal(d.classId, expected.classes[i] + 1, `${f.name} #${i}: class`);
          assert.equal(d.label, COCO91_LABELS[expected.classes[i] + 1]);
          assert.ok(
            Math.abs(d.score - expected.scores[i]) < 1e-6,
            `${f.name} #${i}: score ${d.score} vs ${expected.scores[i]}`,
          );
          const [ymin, xmin, ymax, xmax] = expected.boxes.subarray(4 * i, 4 * i + 4);
          [xmin, ymin, xmax, ymax].forEach((v, k) =>
            assert.ok(Math.abs(d.box[k] - v) < 1e-6, `${f.name} #${i}: box[${k}] ${d.box[k]} vs ${v}`),
          );
        });
      }
    } finally {
      post.dispose();
    }
  });
});

/**
 * The TFLite reader and converter on the real COCO model (models/mobilenet_ssd_v2_coco_quant_postprocess.tflite)
 * and on broken copies of it: each problem is an error naming it, never a crash or a wrong model.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  convertModel,
  convertTfliteModel,
  readTflite,
  TfliteFormatError,
  type TfliteModel,
} from '../../src/convert/index.js';
import { readFlexbuffer } from '../../src/convert/flexbuffer.js';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';

const COCO_TFLITE = new URL('../../../models/mobilenet_ssd_v2_coco_quant_postprocess.tflite', import.meta.url);
const bytes = new Uint8Array(readFileSync(COCO_TFLITE));

describe('readTflite on Coral SSD MobileNet V2 COCO', () => {
  const model = readTflite(bytes);

  it('reads the graph: one uint8 image input, 99 operators ending in the detection op', () => {
    assert.equal(model.operators.length, 99);
    const input = model.tensors[model.inputs[0]];
    assert.deepEqual(input.shape, [1, 300, 300, 3]);
    assert.equal(input.type, 'uint8');
    assert.deepEqual([input.quantization!.scale[0], input.quantization!.zeroPoint[0]], [0.0078125, 128]);
    const counts: Record<string, number> = {};
    for (const op of model.operators) counts[op.name] = (counts[op.name] ?? 0) + 1;
    // the card's census: 55 CONV_2D, 17 DEPTHWISE_CONV_2D, then ADD, RESHAPE, CONCATENATION, LOGISTIC, the custom op
    assert.equal(counts.CONV_2D, 55);
    assert.equal(counts.DEPTHWISE_CONV_2D, 17);
    assert.equal(counts.TFLite_Detection_PostProcess, 1);
    assert.equal(model.operators.at(-1)!.custom, true);
  });

  it('reads the detection op options from their FlexBuffer', () => {
    const options = readFlexbuffer(model.operators.at(-1)!.customOptions) as Record<string, unknown>;
    assert.equal(options.num_classes, 90);
    assert.equal(options.max_detections, 20);
    assert.equal(options.use_regular_nms, false);
    assert.deepEqual([options.y_scale, options.x_scale, options.h_scale, options.w_scale], [10, 10, 5, 5]);
    assert.equal(options.nms_iou_threshold, Math.fround(0.6));
  });
});

describe('convertModel', () => {
  it('records the anchors, the TFLite NMS and the uint8 input in the metadata', () => {
    const { onnx, report } = convertModel(bytes, { format: 'tflite' });
    assert.equal(report.anchors, 1917);
    assert.deepEqual(report.approximated, []);
    const meta = readSsdEdgeMetadata(onnx)!;
    assert.equal(meta.preprocess.inputType, 'uint8');
    assert.deepEqual(meta.preprocess.inputQuantization, { scale: 0.0078125, zeroPoint: 128 });
    const post = meta.postprocess;
    assert.equal(post.numClasses, 91);
    assert.equal((post.priors as Float32Array).length, 1917 * 4);
    assert.deepEqual(post.boxCoding, { scaleFactors: [10, 10, 5, 5], order: 'yxhw' });
    assert.deepEqual(post.tfliteNms, { useRegularNms: false, maxClassesPerDetection: 1 }); // the file's detections_per_class 0 is left out
    assert.equal(post.keepTopK, 20);
  });

  it("stores anchors as (cx, cy, w, h) from TFLite's (ycenter, xcenter, h, w)", () => {
    const model = readTflite(bytes);
    const anchors = model.tensors[model.operators.at(-1)!.inputs[2]];
    const q = anchors.quantization!;
    const row = (i: number) =>
      Array.from(anchors.data!.subarray(4 * i, 4 * i + 4), (v) => Math.fround((v - q.zeroPoint[0]) * q.scale[0]));
    const priors = readSsdEdgeMetadata(convertModel(bytes).onnx)!.postprocess.priors as Float32Array;
    for (const i of [0, 1000, 1916]) {
      const [y, x, h, w] = row(i);
      assert.deepEqual(Array.from(priors.subarray(4 * i, 4 * i + 4)), [x, y, w, h]);
    }
  });

  it('refuses bytes that are not a TFLite model, and truncated files', () => {
    assert.throws(
      () => convertModel(new TextEncoder().encode('hello world, not a model')),
      /not a model file ssd-edge can convert.*TensorFlow Lite/,
    );
    assert.throws(() => convertModel(new Uint8Array(0)), /\(empty\)/);
    assert.throws(() => convertModel(bytes.subarray(0, 100_000)), /outside the file.*truncated or corrupt/);
    assert.throws(() => convertModel(bytes.subarray(0, 4)), /not a model file/);
  });

  const edited = (edit: (model: TfliteModel) => void): TfliteModel => {
    const model = readTflite(bytes);
    edit(model);
    return model;
  };

  it('refuses an unsupported operator by name and index', () => {
    const model = edited((m) => {
      m.operators[5] = { ...m.operators[5], name: 'GATHER' };
    });
    assert.throws(
      () => convertTfliteModel(model),
      (e: Error) => e instanceof TfliteFormatError && /unsupported operator GATHER at index 5/.test(e.message),
    );
  });

  it('refuses anchors whose count disagrees with the outputs', () => {
    const model = edited((m) => {
      const anchors = m.tensors[m.operators.at(-1)!.inputs[2]];
      m.tensors[anchors.index] = { ...anchors, shape: [1000, 4], data: anchors.data!.subarray(0, 4000) };
    });
    assert.throws(() => convertTfliteModel(model), /1000 anchors but 1917 box rows and 1917 score rows/);
  });

  it('refuses a model that is not a detector', () => {
    // a classifier-like graph: no detection op, one output
    const model = edited((m) => {
      m.operators.pop();
      m.outputs = [m.operators[4].outputs[0]];
    });
    assert.throws(() => convertTfliteModel(model), /no TFLite_Detection_PostProcess operator.*is it a detector\?/);
  });

  it('refuses anchors or post-processing for a model that carries its own', () => {
    assert.throws(() => convertModel(bytes, { anchors: new Float32Array(4 * 1917) }), /carries its own anchors/);
  });

  it('needs the anchors of a model exported without the detection op', () => {
    const model = edited((m) => {
      const detection = m.operators.pop()!;
      m.outputs = detection.inputs.slice(0, 2);
    });
    assert.throws(() => convertTfliteModel(model), /pass anchors/);
    const priors = readSsdEdgeMetadata(convertModel(bytes).onnx)!.postprocess.priors as Float32Array;
    const { report } = convertTfliteModel(model, { anchors: priors });
    assert.equal(report.anchors, 1917);
  });
});

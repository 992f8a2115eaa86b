/**
 * SSD MobileNet V2 in tfjs against the shipped COCO model: the same layers (names, shapes,
 * depthwise or not) as the TFLite file, the same 1917 anchors, and — with the file's weights
 * loaded — the head outputs of the converter's `--float` conversion within 1e-4.
 *
 * The `--float` conversion keeps each quantised tensor's range as a Clip (ReLU6 is uint8
 * saturation there, and the heads' and residual sums' ranges are clipped too); the tfjs forward
 * reproduces those clamps with the ranges readTfliteWeights returns (MobilenetForwardMode.ranges).
 * Without them the outputs differ by far more (printed, for the record).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type * as Ort from 'onnxruntime-node';
import { convertTfliteModel } from '../../src/convert/tflite/ssd.js';
import { readTflite, type TfliteModel } from '../../src/convert/tflite/read.js';
import { priorRows as referencePriors } from '../../src/core/prior-rows.js';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import {
  createMobilenetSsd,
  makeDivisible,
  MOBILENET_SSD_PRIORS,
  type MobilenetSsd,
} from '../../src/model/mobilenet-ssd.js';
import { loadTfliteWeights, readTfliteWeights, type TfliteWeights } from '../../src/model/tflite-weights.js';
import { initTraining } from '../../src/train/tfjs.js';
import { readTfliteCocoFixtures, type TfliteCocoFixture } from '../tflite-reference/fixtures.js';

const MODELS = new URL('../../../models/', import.meta.url);
const TFLITE = new Uint8Array(readFileSync(new URL('mobilenet_ssd_v2_coco_quant_postprocess.tflite', MODELS)));
const HEAD_TOLERANCE = 1e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('SSD MobileNet V2 (tfjs) and the COCO TFLite model', () => {
  let model: TfliteModel;
  let weights: TfliteWeights;
  before(async () => {
    tf.enableProdMode();
    await initTraining({ backend: 'wasm', log: () => {} });
    model = readTflite(TFLITE);
    weights = readTfliteWeights(model);
  });

  it("makeDivisible is TensorFlow's _make_divisible", () => {
    assert.deepEqual(
      [32, 16, 96, 144, 1280].map((c) => makeDivisible(c)),
      [32, 16, 96, 144, 1280],
    );
    assert.deepEqual(
      [32 * 0.5, 16 * 0.5, 24 * 0.35, 1280 * 0.75, 3].map((c) => makeDivisible(c)),
      [16, 8, 8, 960, 8],
    );
    assert.equal(makeDivisible(20), 24); // 16 < 0.9 · 20: one step up
  });

  it("has the TFLite model's layers: names, shapes, depthwise or not; 1917 rows on maps 19, 10, 5, 3, 2, 1", () => {
    const net = createMobilenetSsd({ numClasses: 91 });
    try {
      assert.equal(net.numPriors, 1917);
      assert.deepEqual(
        net.layers.sources.map((s) => s.featureMap),
        [19, 10, 5, 3, 2, 1],
      );
      assert.deepEqual(
        net.layers.sources.map((s) => s.from.split('/').slice(-2).join('/')),
        [
          'expanded_conv_13/expand',
          'MobilenetV2/Conv_1',
          'MobilenetV2/layer_19_2_Conv2d_2_3x3_s2_512',
          'MobilenetV2/layer_19_2_Conv2d_3_3x3_s2_256',
          'MobilenetV2/layer_19_2_Conv2d_4_3x3_s2_256',
          'MobilenetV2/layer_19_2_Conv2d_5_3x3_s2_128',
        ],
      );
      const ours = new Map(net.convolutions.map((l) => [l.name, l]));
      assert.deepEqual([...ours.keys()].sort(), [...weights.layers.keys()].sort(), 'the same layer names');
      assert.equal(ours.size, 55 + 17);
      for (const [name, w] of weights.layers) {
        const layer = ours.get(name)!;
        assert.deepEqual(layer.filter.shape, w.filter.shape, `${name}: filter shape`);
        assert.equal(Boolean(layer.depthwise), w.depthwise, `${name}: depthwise`);
      }
      assert.deepEqual(
        net.layers.blocks.filter((b) => b.residual).map((b) => b.name.split('_').pop()),
        ['2', '4', '5', '7', '8', '9', '11', '12', '14', '15'],
        "residual blocks: the TFLite graph's ADDs",
      );
      assert.equal(net.layers.blocks[0].expand, undefined, 'block 0 has no expansion');
    } finally {
      net.dispose();
    }
  });

  it("MOBILENET_SSD_PRIORS are the COCO model's 1917 anchors: quantised as the file stores them, equal to its uint8 anchors; within half a step of the converted model's metadata", () => {
    const priors = referencePriors(MOBILENET_SSD_PRIORS); // (cx, cy, w, h)
    assert.equal(priors.length, 1917 * 4);
    const anchors = model.tensors.find((t) => t.name === 'anchors')!; // (ycenter, xcenter, h, w), uint8
    const {
      scale: [scale],
      zeroPoint: [zero],
    } = anchors.quantization!;
    let mismatches = 0;
    for (let i = 0; i < 1917; i++) {
      const [cx, cy, w, h] = priors.subarray(4 * i, 4 * i + 4);
      [cy, cx, h, w].forEach((v, k) => {
        if (Math.round(v / scale) + zero !== anchors.data![4 * i + k]) mismatches++;
      });
    }
    assert.equal(mismatches, 0, `${mismatches} anchor values quantise differently from the file's`);
    const recorded = readSsdEdgeMetadata(readFileSync(new URL('ssd-mobilenet-v2-coco.onnx', MODELS)))!.postprocess
      .priors as Float32Array;
    const diff = maxAbsDiff(priors, recorded);
    assert.ok(diff <= scale / 2 + 1e-7, `max |generated − recorded| ${diff} > half a quantisation step ${scale / 2}`);
    console.log(
      `anchors: all 7668 values quantise to the file's; max |generated − models/ssd-mobilenet-v2-coco.onnx metadata| ${diff.toExponential(2)} (step ${scale.toExponential(2)})`,
    );
  });

  it('builds at width 0.5 and 0.35 with batch normalisation and a 3×3 head; forward shapes [N, 1917, 4] and [N, 1917, C]', () => {
    for (const width of [0.5, 0.35]) {
      const net = createMobilenetSsd({ numClasses: 3, width, batchNorm: true, headKernel: 3, backgroundPrior: 0.99 });
      try {
        const { loc, conf } = net.apply(tf.zeros([1, 300, 300, 3]));
        assert.deepEqual(loc.shape, [1, 1917, 4]);
        assert.deepEqual(conf.shape, [1, 1917, 3]);
        const background = tf.tidy(() => tf.softmax(conf).dataSync()[0]);
        assert.ok(Math.abs(background - 0.99) < 1e-2, `background prior: ${background}`);
        tf.dispose([loc, conf]);
        // 32·0.5 = 16; 32·0.35 = 11.2 rounds to 8, below 90% of 11.2, so 16 too
        assert.equal(net.layers.stem.filter.shape[3], 16);
        assert.equal(net.layers.last?.filter.shape[3], makeDivisible(1280 * width));
      } finally {
        net.dispose();
      }
    }
    assert.throws(() => createMobilenetSsd({ numClasses: 1 }), /numClasses 1 must be an integer ≥ 2/);
    assert.throws(() => createMobilenetSsd({ numClasses: 3, width: 2 }), /width 2 must be in \(0, 1.4\]/);
  });

  it('refuses the COCO weights for another numClasses or width, naming the layer; loads all but the class heads on request', () => {
    const other = createMobilenetSsd({ numClasses: 4 });
    const narrow = createMobilenetSsd({ numClasses: 91, width: 0.5 });
    try {
      assert.throws(
        () => loadTfliteWeights(other.convolutions, weights),
        /'BoxPredictor_0\/ClassPredictor': the TFLite filter is \[1, 1, 576, 273\]/,
      );
      assert.throws(
        () => loadTfliteWeights(narrow.convolutions, weights),
        /'FeatureExtractor\/MobilenetV2\/Conv': the TFLite filter is \[3, 3, 3, 32\]/,
      );
      const before = other.layers.sources[0].conf.filter.dataSync().slice();
      const loaded = loadTfliteWeights(other.convolutions, weights, {
        include: (l) => !l.name.endsWith('/ClassPredictor'),
      });
      assert.equal(loaded.length, 72 - 6);
      assert.deepEqual(other.layers.sources[0].conf.filter.dataSync(), before, 'class heads untouched');
      assert.deepEqual(
        other.layers.sources[0].loc.filter.dataSync(),
        weights.layers.get('BoxPredictor_0/BoxEncodingPredictor')!.filter.values,
      );
    } finally {
      other.dispose();
      narrow.dispose();
    }
  });

  describe('with the COCO weights', () => {
    let net: MobilenetSsd;
    let fixtures: TfliteCocoFixture[];
    let session: Ort.InferenceSession;
    let ort: typeof Ort;
    before(async () => {
      net = createMobilenetSsd({ numClasses: 91 });
      loadTfliteWeights(net.convolutions, weights);
      fixtures = await readTfliteCocoFixtures();
      ort = await import('onnxruntime-node');
      const { onnx } = convertTfliteModel(model, { mode: 'float' });
      session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
    });

    it("gives the --float conversion's head outputs within 1e-4 (with its range clamps), on real photos", async () => {
      const scores = model.tensors.find((t) => t.name === 'convert_scores')!.quantization!;
      const scoreHigh = (255 - scores.zeroPoint[0]) * scores.scale[0];
      let worstLoc = 0,
        worstConf = 0,
        unclamped = 0;
      for (const f of fixtures) {
        const expected = await session.run({ image: new ort.Tensor('uint8', f.input, [1, 300, 300, 3]) });
        // the model's input quantisation: (q − 128) · 0.0078125
        const images = tf.tensor4d(
          Float32Array.from(f.input, (q) => (q - 128) * 0.0078125),
          [1, 300, 300, 3],
        );
        for (const ranges of [weights.ranges, undefined]) {
          const out = net.apply(images, { ranges });
          const loc = out.loc.dataSync() as Float32Array;
          const conf = tf.tidy(() => tf.clipByValue(tf.sigmoid(out.conf), 0, scoreHigh).dataSync() as Float32Array);
          tf.dispose([out.loc, out.conf]);
          const dLoc = maxAbsDiff(loc, expected.loc.data as Float32Array),
            dConf = maxAbsDiff(conf, expected.conf.data as Float32Array);
          if (ranges) {
            assert.ok(dLoc <= HEAD_TOLERANCE, `${f.name}: box encodings differ by ${dLoc}`);
            assert.ok(dConf <= HEAD_TOLERANCE, `${f.name}: class scores differ by ${dConf}`);
            worstLoc = Math.max(worstLoc, dLoc);
            worstConf = Math.max(worstConf, dConf);
          } else {
            unclamped = Math.max(unclamped, dLoc, dConf);
          }
        }
        images.dispose();
      }
      console.log(
        `COCO weights in tfjs vs --float conversion (${fixtures.map((f) => f.name).join(', ')}): max |Δ| box encodings ${worstLoc.toExponential(2)}, ` +
          `scores ${worstConf.toExponential(2)}; without the range clamps ${unclamped.toExponential(2)}`,
      );
    });
  });
});

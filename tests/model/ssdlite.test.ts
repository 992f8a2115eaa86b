/**
 * SSDLite MobileNet V2 in tfjs (TF OD API `ssdlite_mobilenet_v2` layout): the separable extra
 * layers and box predictors by TF's names and shapes, the parameter count of the published model,
 * forward shapes at 300 and 320, and one gradient step on wasm (every variable, depthwise head
 * layers included, gets a finite non-zero gradient, and the loss falls along it).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createMatcher } from '../../src/core/matcher.js';
import { createMobilenetSsd, mobilenetSsdPostprocess, mobilenetSsdPriors } from '../../src/model/mobilenet-ssd.js';
import { priorRows as referencePriors } from '../../src/core/prior-rows.js';
import { multiBoxLoss } from '../../src/train/loss.js';
import { buildTargets } from '../../src/train/targets.js';
import { initTraining } from '../../src/train/tfjs.js';

describe('SSDLite MobileNet V2', () => {
  before(async () => {
    tf.enableProdMode();
    await initTraining({ backend: 'wasm', log: () => {} });
  });

  it("has TF OD API SSDLite's layers: separable extras (<layer>_depthwise, stride 2, then the 1×1 <layer>) and heads (<kind>_depthwise then the 1×1 <kind>)", () => {
    const net = createMobilenetSsd({ numClasses: 91, lite: true });
    try {
      assert.equal(net.lite, true);
      const byName = new Map(net.convolutions.map((l) => [l.name, l]));
      const extra = byName.get('FeatureExtractor/MobilenetV2/layer_19_2_Conv2d_2_3x3_s2_512_depthwise')!;
      assert.deepEqual([extra.depthwise, extra.stride, extra.filter.shape], [true, 2, [3, 3, 256, 1]]);
      assert.deepEqual(
        byName.get('FeatureExtractor/MobilenetV2/layer_19_2_Conv2d_2_3x3_s2_512')!.filter.shape,
        [1, 1, 256, 512],
      );
      assert.deepEqual(
        byName.get('FeatureExtractor/MobilenetV2/layer_19_1_Conv2d_2_1x1_256')!.filter.shape,
        [1, 1, 1280, 256],
      );
      const box = byName.get('BoxPredictor_0/BoxEncodingPredictor_depthwise')!;
      assert.deepEqual([box.depthwise, box.stride, box.relu6, box.filter.shape], [true, 1, true, [3, 3, 576, 1]]);
      assert.deepEqual(byName.get('BoxPredictor_0/BoxEncodingPredictor')!.filter.shape, [1, 1, 576, 12]);
      assert.deepEqual(byName.get('BoxPredictor_0/ClassPredictor_depthwise')!.filter.shape, [3, 3, 576, 1]);
      assert.deepEqual(byName.get('BoxPredictor_0/ClassPredictor')!.filter.shape, [1, 1, 576, 3 * 91]);
      assert.deepEqual(byName.get('BoxPredictor_5/ClassPredictor')!.filter.shape, [1, 1, 128, 6 * 91]);
      // 52 base layers, 4 × 3 extra layers, 6 × 4 head layers
      assert.equal(net.convolutions.length, 52 + 12 + 24);
      assert.equal(net.convolutions.filter((l) => l.depthwise).length, 17 + 4 + 12);
      assert.equal(net.backbone.length, 52);
      assert.equal(net.numPriors, 1917);
      // SSDLite MobileNet V2: 4.3 M parameters (MobileNetV2 paper, table 6; 81 classes there: 91 add ~0.16 M in the class heads)
      console.log(`SSDLite MobileNet V2, 91 classes: ${net.numParameters.toLocaleString('en')} parameters`);
      assert.ok(net.numParameters > 4.0e6 && net.numParameters < 4.6e6, `${net.numParameters}`);
      const ssd = createMobilenetSsd({ numClasses: 91 });
      assert.ok(ssd.numParameters > net.numParameters);
      ssd.dispose();
    } finally {
      net.dispose();
    }
    assert.throws(() => createMobilenetSsd({ numClasses: 3, lite: true, headKernel: 1 }), /headKernel must be 3/);
    assert.throws(
      () => createMobilenetSsd({ numClasses: 3, inputSize: 500 }),
      /inputSize is 500; a MobileNet SSD takes 300, or a multiple of 32 from 128 to 640/,
    );
  });

  it('forward shapes at 300 and 320 (anchors on maps 19… and 20, 10, 5, 3, 2, 1)', () => {
    for (const [inputSize, rows] of [
      [300, 1917],
      [320, 2034],
    ] as const) {
      const net = createMobilenetSsd({ numClasses: 4, width: 0.35, lite: true, inputSize, batchNorm: true });
      try {
        const { loc, conf } = net.apply(tf.zeros([2, inputSize, inputSize, 3]));
        assert.deepEqual(
          [loc.shape, conf.shape],
          [
            [2, rows, 4],
            [2, rows, 4],
          ],
        );
        assert.equal(referencePriors(mobilenetSsdPriors(inputSize)).length / 4, rows);
        assert.deepEqual(
          net.layers.sources.map((s) => s.featureMap),
          inputSize === 300 ? [19, 10, 5, 3, 2, 1] : [20, 10, 5, 3, 2, 1],
        );
        tf.dispose([loc, conf]);
        assert.throws(
          () => net.apply(tf.zeros([1, 300 + 320 - inputSize, 300 + 320 - inputSize, 3])),
          /needs \[N, \d+, \d+, 3\]/,
        );
      } finally {
        net.dispose();
      }
    }
  });

  it('one gradient step (wasm): every variable gets a finite gradient, the depthwise head layers a non-zero one, and the loss falls', async () => {
    const inputSize = 320;
    const net = createMobilenetSsd({
      numClasses: 3,
      width: 0.35,
      lite: true,
      inputSize,
      batchNorm: true,
      backgroundPrior: 0.99,
      seed: 4,
    });
    const matcher = await createMatcher(mobilenetSsdPostprocess(3, undefined, { inputSize }));
    try {
      const images = tf.randomUniform([2, inputSize, inputSize, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
      const annotations = [
        { boxes: [0.1, 0.2, 0.5, 0.6], labels: [1] },
        { boxes: [0.3, 0.3, 0.9, 0.8, 0.05, 0.05, 0.3, 0.25], labels: [2, 1] },
      ];
      const variables = [...net.trainableVariables.values()];
      const lossAt = () =>
        tf.tidy(() => {
          const targets = buildTargets(matcher, annotations);
          return multiBoxLoss(net.apply(images, { training: true, batchStats: [] }), targets).total.dataSync()[0];
        });
      const { value, grads } = tf.variableGrads(() => {
        const targets = buildTargets(matcher, annotations);
        return multiBoxLoss(net.apply(images, { training: true, batchStats: [] }), targets).total;
      }, variables);
      const before = value.dataSync()[0];
      assert.ok(Number.isFinite(before));
      for (const v of variables) {
        const g = grads[v.name].dataSync();
        assert.ok(g.every(Number.isFinite), `${v.name}: finite gradient`);
      }
      const extraDepthwise = net.layers.extras.find((l) => l.depthwise)!.name; // width 0.35: '…_3x3_s2_179_depthwise'
      for (const name of [
        'BoxPredictor_0/BoxEncodingPredictor_depthwise.filter',
        'BoxPredictor_3/ClassPredictor_depthwise.filter',
        `${extraDepthwise}.filter`,
        'FeatureExtractor/MobilenetV2/Conv.filter',
      ]) {
        const v = net.trainableVariables.get(name);
        assert.ok(v, name);
        assert.ok(tf.tidy(() => tf.max(tf.abs(grads[v.name])).dataSync()[0]) > 0, `${name}: non-zero gradient`);
      }
      // a small step against the gradient lowers the loss
      tf.tidy(() => variables.forEach((v) => v.assign(tf.sub(v, tf.mul(grads[v.name], 1e-3)))));
      const after = lossAt();
      console.log(`SSDLite 320 step: loss ${before.toFixed(4)} → ${after.toFixed(4)}`);
      assert.ok(after < before, `loss ${before} → ${after}`);
      tf.dispose([value, images, ...Object.values(grads)]);
    } finally {
      net.dispose();
      matcher.dispose();
    }
  });
});

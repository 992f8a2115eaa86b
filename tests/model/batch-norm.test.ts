/**
 * Batch normalisation (Ssd300Options.batchNorm) and RetinaNet's head initialisation
 * (backgroundPrior): the training and inference forms against torch.nn.BatchNorm2d's formulas
 * computed here by hand, the moving-statistics update, the fold the exporter writes (onnxruntime
 * equals tfjs inference), and the initial background probability.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as ortNode from 'onnxruntime-node';
import { applyConv, foldedConv, updateBatchNorm, type BatchStats, type ConvLayer } from '../../src/model/layers.js';
import { exportSsd300 } from '../../src/model/onnx/export.js';
import { decodeOnnxModel } from '../../src/model/onnx/read.js';
import { createSsd300, type Ssd300 } from '../../src/model/ssd300.js';
import { disposedAtEnd, randomImages, randomizeWeights, relativeError, useTfjsBackend } from './tfjs.js';

/** A model disposed when the file's tests end. */
const model = disposedAtEnd(createSsd300);
await useTfjsBackend('wasm');

/** conv7: a 1×1 convolution, so with an identity filter and zero bias its output is BN(x). */
function conv7Of(m: Ssd300): ConvLayer {
  const layer = m.layers.trunk.find((l) => l.kind === 'conv' && l.name === 'conv7') as ConvLayer;
  assert.ok(layer.batchNorm, 'conv7 has batch normalisation');
  return layer;
}

describe('batch normalisation', () => {
  it('training uses the batch statistics, inference the moving ones (hand-computed, torch formulas)', () => {
    const m = model({ numClasses: 3, width: 1 / 512, batchNorm: true, seed: 1 });
    const layer = conv7Of(m);
    const c = layer.filter.shape[3];
    assert.equal(c, 2, 'width 1/512 gives conv7 two channels');
    const inC = layer.filter.shape[2];
    // filter: channel o reads input channel o (identity on the first two inputs), bias 0.
    const filter = new Float32Array(inC * c);
    filter[0 * c + 0] = 1;
    filter[1 * c + 1] = 1;
    layer.filter.assign(tf.tensor4d(filter, [1, 1, inC, c]));
    layer.bias.assign(tf.zeros([c]));
    const bn = layer.batchNorm!;
    bn.gamma.assign(tf.tensor1d([2, 0.5]));
    bn.beta.assign(tf.tensor1d([1, -1]));
    bn.movingMean.assign(tf.tensor1d([0.5, -2]));
    bn.movingVariance.assign(tf.tensor1d([4, 0.25]));
    // x: [2, 1, 2, inC]; channel 0 takes 1, 2, 3, 6 (mean 3, var 3.5), channel 1 takes 0, 0, 4, 4 (mean 2, var 4).
    const values = [
      [1, 0],
      [2, 0],
      [3, 4],
      [6, 4],
    ];
    const data = new Float32Array(4 * inC);
    values.forEach(([a, b], i) => {
      data[i * inC] = a;
      data[i * inC + 1] = b;
    });
    const x = tf.tensor4d(data, [2, 1, 2, inC]);
    const { relu } = layer;
    layer.relu = false; // compare the normalisation itself
    try {
      const stats: BatchStats[] = [];
      const trained = tf.tidy(() => applyConv(x, layer, { training: true, batchStats: stats }).dataSync());
      const eps = 1e-5;
      const expectTrain = values.flatMap(([a, b]) => [
        ((a - 3) / Math.sqrt(3.5 + eps)) * 2 + 1,
        ((b - 2) / Math.sqrt(4 + eps)) * 0.5 - 1,
      ]);
      trained.forEach((v, i) =>
        assert.ok(Math.abs(v - expectTrain[i]) < 1e-5, `training output ${i}: ${v} vs ${expectTrain[i]}`),
      );
      assert.equal(stats.length, 1);
      assert.equal(stats[0].count, 4);
      const inferred = tf.tidy(() => applyConv(x, layer).dataSync());
      const expectInfer = values.flatMap(([a, b]) => [
        ((a - 0.5) / Math.sqrt(4 + eps)) * 2 + 1,
        ((b + 2) / Math.sqrt(0.25 + eps)) * 0.5 - 1,
      ]);
      inferred.forEach((v, i) =>
        assert.ok(Math.abs(v - expectInfer[i]) < 1e-5, `inference output ${i}: ${v} vs ${expectInfer[i]}`),
      );

      // torch: moving = 0.9·moving + 0.1·batch, the variance unbiased (×4/3).
      updateBatchNorm(stats);
      assert.ok(stats[0].mean.isDisposed && stats[0].variance.isDisposed, 'the batch statistics are disposed');
      const mean = bn.movingMean.dataSync(),
        variance = bn.movingVariance.dataSync();
      const expected = [
        [0.9 * 0.5 + 0.1 * 3, 0.9 * -2 + 0.1 * 2],
        [0.9 * 4 + (0.1 * 3.5 * 4) / 3, 0.9 * 0.25 + (0.1 * 4 * 4) / 3],
      ];
      [...mean, ...variance].forEach((v, i) =>
        assert.ok(Math.abs(v - expected[i >> 1][i & 1]) < 1e-6, `moving ${i}: ${v}`),
      );
    } finally {
      layer.relu = relu;
      x.dispose();
    }
  });

  it('the fold equals inference: conv then BN = conv with folded filter and bias', () => {
    const m = model({ numClasses: 3, width: 1 / 16, batchNorm: true, seed: 2 });
    randomizeWeights(m, 7);
    const layer = m.layers.trunk.find((l) => l.name === 'conv1_2') as ConvLayer;
    const x = tf.randomNormal<tf.Rank.R4>([1, 20, 20, layer.filter.shape[2]], 0, 1, 'float32', 3);
    const folded = foldedConv(layer);
    const reference = tf.tidy(() => applyConv(x, layer).dataSync());
    const viaFold = tf.tidy(() =>
      tf
        .relu(
          tf.add(
            tf.conv2d(x, folded.filter, 1, [
              [0, 0],
              [1, 1],
              [1, 1],
              [0, 0],
            ]),
            folded.bias,
          ),
        )
        .dataSync(),
    );
    const { error } = relativeError(viaFold, reference);
    assert.ok(error < 1e-5, `folded vs unfolded relative error ${error}`);
    tf.dispose([x, folded.filter, folded.bias]);
  });

  it('onnxruntime runs the folded export as tfjs runs the network in inference', async () => {
    const m = model({ numClasses: 4, width: 1 / 8, batchNorm: true, seed: 4 });
    randomizeWeights(m, 31);
    const bytes = exportSsd300(m);
    const graph = decodeOnnxModel(bytes).graph!;
    assert.ok(!graph.node!.some((n) => n.opType === 'BatchNormalization'), 'no BatchNormalization node: folded');
    assert.ok(!graph.initializer!.some((t) => t.name!.includes('.bn.')), 'no batch-norm tensor in the graph');
    const images = randomImages(1, 9);
    const { loc, conf } = m.apply(images);
    const nchw = tf.tidy(() => tf.transpose(images, [0, 3, 1, 2]));
    const session = await ortNode.InferenceSession.create(bytes);
    try {
      const out = await session.run({
        image: new ortNode.Tensor('float32', nchw.dataSync() as Float32Array, nchw.shape),
      });
      for (const [name, expected] of [
        ['loc', loc],
        ['conf', conf],
      ] as const) {
        const { error } = relativeError(out[name].data as Float32Array, expected.dataSync());
        assert.ok(error < 1e-4, `${name}: relative error ${error}`);
      }
    } finally {
      await session.release();
      tf.dispose([images, nchw, loc, conf]);
    }
  });

  it('moving statistics are variables but not trainable; parameters count only trainable values', () => {
    const plain = model({ numClasses: 3, width: 1 / 16 });
    const normed = model({ numClasses: 3, width: 1 / 16, batchNorm: true });
    const moving = [...normed.variables.keys()].filter((n) => n.includes('.bn.moving'));
    assert.equal(moving.length, 2 * 23, 'two moving statistics per trunk conv (23)');
    assert.ok(moving.every((n) => !normed.trainableVariables.has(n)));
    const bnChannels = normed.layers.trunk.reduce((n, l) => n + (l.kind === 'conv' ? 2 * l.filter.shape[3] : 0), 0);
    assert.equal(normed.numParameters, plain.numParameters + bnChannels, 'gamma and beta per channel');
    assert.throws(
      () => createSsd300({ numClasses: 3, batchNorm: 'yes' as unknown as boolean }),
      /TypeError: batchNorm yes must be a boolean/,
    );
  });
});

describe('backgroundPrior (RetinaNet head initialisation)', () => {
  it('starts every prior as background with probability p; heads σ = 0.01', () => {
    const p = 0.99,
      numClasses = 7;
    const m = model({ numClasses, width: 1 / 16, backgroundPrior: p, seed: 5 });
    const images = randomImages(1, 2);
    const { loc, conf } = m.apply(tf.div(images, 64) as tf.Tensor4D);
    const background = Array.from(tf.tidy(() => tf.slice(tf.softmax(conf), [0, 0, 0], [1, -1, 1]).dataSync()));
    const mean = background.reduce((a, b) => a + b, 0) / background.length;
    // Random features move the logits a little (σ = 0.01 heads), so about p, not exactly; without the prior it is ≈ 1/7.
    assert.ok(Math.abs(mean - p) < 5e-3, `mean background probability ${mean}, expected about ${p}`);
    // The bias alone gives exactly p: e^b / (e^b + C − 1).
    const bias = m.variables.get('conf0.bias')!.dataSync();
    const b = Math.log((p * (numClasses - 1)) / (1 - p));
    assert.ok(
      Math.abs(bias[0] - b) < 1e-5 && bias[1] === 0 && Math.abs(bias[numClasses] - b) < 1e-5,
      'background bias of each box',
    );
    assert.ok(Math.abs(Math.exp(b) / (Math.exp(b) + numClasses - 1) - p) < 1e-12);
    const filter = Array.from(m.variables.get('loc3.filter')!.dataSync());
    const std = Math.sqrt(filter.reduce((a, v) => a + v * v, 0) / filter.length);
    assert.ok(Math.abs(std - 0.01) < 0.002, `head filter σ ${std}`);
    // The loc outputs start far closer to 0 (the priors themselves) than with Xavier heads.
    const xavier = model({ numClasses, width: 1 / 16, seed: 5 });
    const plainLoc = xavier.apply(tf.div(images, 64) as tf.Tensor4D).loc;
    const rms = (t: tf.Tensor) => Math.sqrt(tf.tidy(() => tf.mean(tf.square(t)).dataSync()[0]));
    assert.ok(rms(loc) < rms(plainLoc) / 5, `loc rms ${rms(loc)} vs ${rms(plainLoc)} with Xavier heads`);
    tf.dispose([images, loc, conf, plainLoc]);
    for (const bad of [0, 1, -0.5, Number.NaN]) {
      assert.throws(
        () => createSsd300({ numClasses, backgroundPrior: bad }),
        /RangeError: backgroundPrior .* must be a probability in \(0, 1\)/,
      );
    }
  });
});

/**
 * SSD300 in tfjs: shapes, parameter counts, prior alignment, the two layers tfjs has no direct
 * op for (ceil-mode pool, dilated conv), errors, checkpoints. Small widths only: full width is
 * 105 MB of weights and seconds per image on tfjs-cpu.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { generatePriors, presets, type SsdPriorConfig } from '../../src/index.js';
import { applyConv, applyMaxPool, type ConvLayer, type MaxPoolLayer } from '../../src/model/layers.js';
import { createSsd300, type Ssd300 } from '../../src/model/ssd300.js';
import { assertAligned, setAlignmentWeights } from './alignment.js';
import { disposedAtEnd, randomImages, relativeError, useTfjsBackend, type TfjsBackend } from './tfjs.js';

const BACKENDS: TfjsBackend[] = ['cpu', 'wasm'];
/** A model disposed when the file's tests end. */
const model = disposedAtEnd(createSsd300);

function layer<K extends 'conv' | 'maxPool'>(
  m: Ssd300,
  name: string,
  kind: K,
): K extends 'conv' ? ConvLayer : MaxPoolLayer {
  const found = m.layers.trunk.find((l) => l.name === name);
  assert.ok(found && found.kind === kind, `no ${kind} layer '${name}'`);
  return found as K extends 'conv' ? ConvLayer : MaxPoolLayer;
}

describe('SSD300 architecture', () => {
  it('has the loc and conf shapes of 8732 priors (width 1/8, 21 and 4 classes, batch 2)', async () => {
    await useTfjsBackend('wasm');
    for (const numClasses of [21, 4]) {
      const m = model({ numClasses, width: 1 / 8 });
      const images = randomImages(2, 1);
      const { loc, conf } = m.apply(images);
      assert.deepEqual(loc.shape, [2, 8732, 4]);
      assert.deepEqual(conf.shape, [2, 8732, numClasses]);
      assert.equal(m.numPriors, 8732);
      assert.deepEqual(
        m.layers.sources.map((s) => [s.from, s.featureMap, s.boxesPerLocation]),
        [
          ['conv4_3', 38, 4],
          ['conv7', 19, 6],
          ['conv8_2', 10, 6],
          ['conv9_2', 5, 6],
          ['conv10_2', 3, 4],
          ['conv11_2', 1, 4],
        ],
      );
      tf.dispose([images, loc, conf]);
    }
  });

  it("width 1 has ssd.pytorch's 26,285,486 parameters (VOC); the multiplier scales every trunk channel", () => {
    // see: ssd.pytorch build_ssd('train', 300, 21): 14,714,688 VGG16 convs + conv6 4,719,616 + conv7 1,049,600
    // + extras 2,459,520 + L2Norm 512 + loc heads 534,648 + conf heads 2,806,902.
    const counts = [1, 1 / 2, 1 / 4, 1 / 8].map((width) => {
      const m = createSsd300({ numClasses: 21, width });
      const count = m.numParameters;
      const channels = m.layers.trunk.flatMap((l) => (l.kind === 'conv' ? [l.filter.shape[3]] : []));
      if (width === 1 / 8)
        assert.deepEqual(
          channels,
          [8, 8, 16, 16, 32, 32, 32, 64, 64, 64, 64, 64, 64, 128, 128, 32, 64, 16, 32, 16, 32, 16, 32],
        );
      m.dispose();
      return count;
    });
    assert.deepEqual(counts, [26_285_486, 7_409_742, 2_271_902, 777_990]);
  });

  it('names its variables in forward order: trunk, L2Norm, loc heads, conf heads', () => {
    const names = [...model({ numClasses: 4, width: 1 / 8 }).variables.keys()];
    assert.deepEqual(names.slice(0, 4), ['conv1_1.filter', 'conv1_1.bias', 'conv1_2.filter', 'conv1_2.bias']);
    assert.equal(names.length, 23 * 2 + 1 + 12 * 2);
    assert.deepEqual(names.slice(46, 49), ['conv4_3_norm.scale', 'loc0.filter', 'loc0.bias']);
    assert.deepEqual(names.slice(-2), ['conf5.filter', 'conf5.bias']);
  });

  it('row i of loc and conf belongs to prior i of generatePriors(ssd300Voc)', async () => {
    await useTfjsBackend('wasm');
    const numClasses = 4;
    const m = model({ numClasses, width: 1 / 8 });
    setAlignmentWeights(m);
    const images = tf.zeros<tf.Rank.R4>([1, 300, 300, 3]);
    const { loc, conf } = m.apply(images);
    const config = presets.ssd300Voc.priors as SsdPriorConfig;
    assertAligned(
      loc.dataSync() as Float32Array,
      conf.dataSync() as Float32Array,
      numClasses,
      await generatePriors(config),
      config,
      'tfjs',
    );
    tf.dispose([images, loc, conf]);
  });

  it('is deterministic per seed', async () => {
    await useTfjsBackend('wasm');
    const [a, b, c] = [1, 1, 2].map((seed) => model({ numClasses: 4, width: 1 / 8, seed }));
    const [wa, wb, wc] = await Promise.all([a, b, c].map((m) => m.saveWeights()));
    assert.deepEqual(wa, wb);
    assert.notDeepEqual(wa['conv1_1.filter'], wc['conv1_1.filter']);
    assert.ok(
      wa['conv1_1.bias'].every((v) => v === 0),
      'biases start at 0',
    );
    assert.ok(
      wa['conv4_3_norm.scale'].every((v) => v === 20),
      'the L2Norm scale starts at 20',
    );
  });
});

describe('the layers tfjs has no single op for', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: pool3 is PyTorch's ceil-mode pool (75 → 38) and pool5 pads with −∞`, async () => {
      await useTfjsBackend(backend);
      const m = model({ numClasses: 4, width: 1 / 8 });
      const pool3 = layer(m, 'pool3', 'maxPool'),
        pool5 = layer(m, 'pool5', 'maxPool');
      assert.deepEqual(pool3.pads, [0, 0, 1, 1], 'the extra row and column a ceil-mode pool reads');
      // Negative values: padding with 0 instead of −∞ would show.
      const x = tf.tensor4d([-5, -4, -3, -2, -1, -6, -7, -8, -9], [1, 3, 3, 1]);
      const [y3, y5] = [applyMaxPool(x, pool3), applyMaxPool(x, pool5)];
      // PyTorch MaxPool2d(2, 2, ceil_mode=True) keeps the partial windows: max over the cells inside.
      assert.deepEqual(Array.from(y3.dataSync()), [-1, -3, -7, -9]);
      assert.deepEqual(Array.from(y5.dataSync()), new Array(9).fill(-1));
      const big = tf.zeros<tf.Rank.R4>([1, 75, 75, 2]);
      const pooled = applyMaxPool(big, pool3);
      assert.deepEqual(pooled.shape, [1, 38, 38, 2]);
      tf.dispose([x, y3, y5, big, pooled]);
    });

    it(`${backend}: conv6 (space-to-batch) equals a dilation-6 convolution`, async () => {
      await useTfjsBackend(backend);
      const conv6 = layer(model({ numClasses: 4, width: 1 / 8, seed: 5 }), 'conv6', 'conv');
      tf.tidy(() => conv6.bias.assign(tf.randomUniform(conv6.bias.shape, -1, 1, 'float32', 6)));
      const x = tf.randomNormal<tf.Rank.R4>([2, 19, 19, conv6.filter.shape[2]], 0, 1, 'float32', 7);
      const actual = applyConv(x, conv6);
      const expected = tf.tidy(() => tf.relu(tf.add(tf.conv2d(x, conv6.filter, 1, 6, 'NHWC', 6), conv6.bias)));
      assert.deepEqual(actual.shape, [2, 19, 19, conv6.filter.shape[3]]);
      const { error } = relativeError(actual.dataSync(), expected.dataSync());
      assert.ok(error <= 1e-6, `relative error ${error}`);
      tf.dispose([x, actual, expected]);
    });
  }

  it('the cpu and wasm backends agree on the whole network', async () => {
    await useTfjsBackend('wasm');
    const m = model({ numClasses: 4, width: 1 / 8, seed: 3 });
    const outputs = [];
    for (const backend of BACKENDS) {
      await useTfjsBackend(backend);
      const images = randomImages(1, 4);
      const { loc, conf } = m.apply(images);
      outputs.push([loc.dataSync(), conf.dataSync()]);
      tf.dispose([images, loc, conf]);
    }
    for (const i of [0, 1]) {
      const { error } = relativeError(outputs[0][i], outputs[1][i]);
      assert.ok(error <= 1e-5, `${['loc', 'conf'][i]}: relative error ${error}`);
    }
  });
});

describe('SSD300 errors and lifecycle', () => {
  it('rejects a bad width, numClasses or seed with a RangeError naming the value', () => {
    for (const width of [0, -1, 1.5, NaN, Infinity]) {
      assert.throws(
        () => createSsd300({ numClasses: 21, width }),
        (e: Error) => e instanceof RangeError && e.message.startsWith(`width ${width} must be in (0, 1]`),
      );
    }
    for (const numClasses of [1, 0, 2.5, NaN]) {
      assert.throws(
        () => createSsd300({ numClasses }),
        (e: Error) =>
          e instanceof RangeError && e.message.startsWith(`numClasses ${numClasses} must be an integer ≥ 2`),
      );
    }
    assert.throws(() => createSsd300({ numClasses: 4, seed: 0.5 }), /RangeError: seed 0.5 must be an integer/);
  });

  it('rejects images that are not [N, 300, 300, 3]', async () => {
    await useTfjsBackend('wasm');
    const m = model({ numClasses: 4, width: 1 / 8 });
    const nchw = tf.zeros<tf.Rank.R4>([1, 3, 300, 300]);
    assert.throws(
      () => m.apply(nchw),
      /RangeError: images has shape \[1, 3, 300, 300\]; SSD300 needs \[N, 300, 300, 3\]/,
    );
    nchw.dispose();
  });

  it('does not leak tensors, and refuses to run once disposed', async () => {
    await useTfjsBackend('wasm');
    const m = createSsd300({ numClasses: 4, width: 1 / 8 });
    const images = randomImages(1, 2);
    const before = tf.memory().numTensors;
    const { loc, conf } = m.apply(images);
    tf.dispose([loc, conf]);
    assert.equal(tf.memory().numTensors, before, 'apply keeps no intermediate tensors');
    m.dispose();
    assert.equal(tf.memory().numTensors, before - m.variables.size, 'dispose releases every variable');
    assert.throws(() => m.apply(images), /this SSD300 was disposed/);
    images.dispose();
  });

  it('saves and loads checkpoints, and names the variable a wrong checkpoint breaks', async () => {
    await useTfjsBackend('wasm');
    const [a, b] = [1, 2].map((seed) => model({ numClasses: 4, width: 1 / 8, seed }));
    const checkpoint = await a.saveWeights();
    b.loadWeights(checkpoint);
    assert.deepEqual(await b.saveWeights(), checkpoint);
    checkpoint['conv1_1.bias'][0] = 42;
    assert.equal((await a.saveWeights())['conv1_1.bias'][0], 0, 'a checkpoint is a copy');

    const other = await model({ numClasses: 4, width: 1 / 4 }).saveWeights();
    assert.throws(
      () => b.loadWeights(other),
      /RangeError: checkpoint 'conv1_1.filter' has 432 values; this SSD300 needs 216 \(\[3, 3, 3, 8\]\)/,
    );
    const { ['loc0.bias']: _, ...missing } = checkpoint;
    assert.throws(() => b.loadWeights(missing), /RangeError: checkpoint lacks 'loc0.bias'/);
    assert.throws(
      () => b.loadWeights({ ...checkpoint, extra: new Float32Array(1) }),
      /RangeError: checkpoint has 'extra'/,
    );
  });
});

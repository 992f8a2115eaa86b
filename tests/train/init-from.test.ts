/**
 * `train --init-from`: VGG16 weights from a PyTorch checkpoint into the tfjs SSD300. The fixture
 * network (tests/fixtures/pytorch, width 1/32) is loaded into a tfjs SSD300 of the same width:
 * the VGG part by initFromPytorch (from the bare `vgg16_reducedfc`-style file and from the SSD
 * checkpoint's vgg.N keys), the rest by this test; the tfjs forward pass then gives PyTorch's heads.
 * The command `ssd-edge train --init-from vgg16_reducedfc.pth` starts from those weights.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointMismatchError, findStateDict, readPth } from '../../src/convert/index.js';
import type { ConvLayer } from '../../src/model/layers.js';
import { createSsd300 } from '../../src/model/ssd300.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { generateVocDataset } from '../../src/train/data/index.js';
import { initFromPytorch } from '../../src/train/init-from.js';
import { resolveTrainOptions } from '../../src/train/train.js';
import { useTfjsBackend } from '../model/tfjs.js';
import { trainCli } from './train-cli.js';

const FIXTURES = new URL('../../../tests/fixtures/pytorch/', import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, FIXTURES)));

function hwio(values: Float32Array, [o, i, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          out[((y * w + x) * i + b) * o + a] = values[((a * i + b) * h + y) * w + x];
        }
  return out;
}

describe('initFromPytorch', () => {
  before(() => useTfjsBackend('cpu'));

  it("loads vgg16_reducedfc-style weights: with the rest set alike, the tfjs SSD300 gives PyTorch's heads", () => {
    const model = createSsd300({ numClasses: 4, width: 1 / 32 });
    try {
      const report = initFromPytorch(model, fixture('vgg16-reducedfc.w32.pth'));
      assert.equal(report.prefix, '');
      assert.equal(report.layers.length, 15);
      assert.equal(report.ignored, 0);
      // The rest (L2Norm, extras, heads) from the SSD checkpoint, so the whole forward pass can be checked.
      const { stateDict } = findStateDict(readPth(fixture('ssd300-voc.zip.pth')).root);
      const set = (layer: ConvLayer, key: string) => {
        const w = stateDict.get(`${key}.weight`)!;
        layer.filter.assign(tf.tensor4d(hwio(w.float32(), w.shape), layer.filter.shape));
        layer.bias.assign(tf.tensor1d(stateDict.get(`${key}.bias`)!.float32()));
      };
      model.layers.trunk
        .filter((l): l is ConvLayer => l.kind === 'conv' && /^conv(8|9|10|11)_/.test(l.name))
        .forEach((layer, i) => set(layer, `extras.${i}`));
      model.layers.sources.forEach((source, k) => {
        set(source.loc, `loc.${k}`);
        set(source.conf, `conf.${k}`);
      });
      model.layers.sources[0].norm!.scale.assign(tf.tensor1d(stateDict.get('L2Norm.weight')!.float32()));

      const x = new Float32Array(300 * 300 * 3);
      for (let h = 0; h < 300; h++)
        for (let w = 0; w < 300; w++)
          for (let c = 0; c < 3; c++) {
            x[(h * 300 + w) * 3 + c] = ((c * 59 + h * h * 3 + w * 17 + h * w) % 255) - 127;
          }
      const golden = JSON.parse(readFileSync(new URL('ssd300-voc.json', FIXTURES), 'utf8')) as {
        sampleStride: number;
        locSamples: number;
        locMaxAbs: number;
        confMaxAbs: number;
      };
      const heads = fixture('ssd300-voc.heads.f32');
      const samples = new Float32Array(heads.buffer, heads.byteOffset, heads.byteLength / 4);
      const input = tf.tensor4d(x, [1, 300, 300, 3]);
      const { loc, conf } = model.apply(input);
      input.dispose();
      const check = (actual: Float32Array, expected: Float32Array, maxAbs: number, what: string) => {
        let worst = 0;
        expected.forEach((e, i) => {
          worst = Math.max(worst, Math.abs(actual[i * golden.sampleStride] - e) / maxAbs);
        });
        assert.ok(worst <= 1e-4, `${what}: ${worst} of max|${what}| from PyTorch's`);
      };
      check(loc.dataSync() as Float32Array, samples.subarray(0, golden.locSamples), golden.locMaxAbs, 'loc');
      check(conf.dataSync() as Float32Array, samples.subarray(golden.locSamples), golden.confMaxAbs, 'conf');
      tf.dispose([loc, conf]);
    } finally {
      model.dispose();
    }
  });

  it('takes the vgg.N keys of an ssd.pytorch SSD checkpoint and leaves the rest', () => {
    const model = createSsd300({ numClasses: 4, width: 1 / 32 });
    try {
      const report = initFromPytorch(model, fixture('ssd300-voc.legacy.pth'));
      assert.equal(report.prefix, 'vgg.');
      assert.equal(report.ignored, 71 - 30);
      const conv6 = model.layers.trunk.find((l) => l.name === 'conv6') as ConvLayer;
      const { stateDict } = findStateDict(readPth(fixture('ssd300-voc.zip.pth')).root);
      const w = stateDict.get('vgg.31.weight')!;
      assert.deepEqual([...conv6.filter.dataSync()], [...hwio(w.float32(), w.shape)]);
    } finally {
      model.dispose();
    }
  });

  it('a width or a file that does not fit: one error listing the keys', () => {
    const model = createSsd300({ numClasses: 4, width: 1 / 16 });
    try {
      assert.throws(
        () => initFromPytorch(model, fixture('vgg16-reducedfc.w32.pth')),
        (e: Error) =>
          e instanceof CheckpointMismatchError &&
          e.wrongShapes.length === 30 &&
          /0\.weight is \[2, 3, 3, 3\], expected \[4, 3, 3, 3\] \(conv1_1\)/.test(e.message) &&
          /the model has width 0.0625: pretrained VGG16 weights need width 1/.test(e.message),
      );
      assert.throws(
        () => initFromPytorch(model, fixture('torchvision-ssd300.zip.pth')),
        /30 missing: 0\.weight, 0\.bias, .*71 unexpected: backbone\./,
      );
    } finally {
      model.dispose();
    }
    assert.throws(
      () => resolveTrainOptions({ data: 'd', checkpointDir: 'c', arch: 'mini', initFrom: 'vgg.pth' }),
      /initFrom loads VGG16 weights into ssd300/,
    );
  });
});

describe('ssd-edge train --init-from vgg16_reducedfc.pth', () => {
  it("starts SSD300 from the file's VGG16 weights: logged, and in the checkpoint after one step at a negligible learning rate", async () => {
    const root = await mkdtemp(join(tmpdir(), 'ssd-edge-init-from-'));
    try {
      const data = join(root, 'data'),
        checkpoints = join(root, 'run');
      await generateVocDataset(data, { trainCount: 1, testCount: 0, seed: 5 });
      const file = fileURLToPath(new URL('vgg16-reducedfc.w32.pth', FIXTURES));
      // lr 1e-30, no weight decay: one step leaves every loaded weight as it was (to f32 rounding)
      const lines = await trainCli([
        '--data',
        data,
        '--arch',
        'ssd300',
        '--width',
        '0.03125',
        '--init-from',
        file,
        '--backend',
        'wasm',
        '--batch',
        '1',
        '--max-steps',
        '1',
        '--lr',
        '1e-30',
        '--weight-decay',
        '0',
        '--checkpoints',
        checkpoints,
        '--save-every',
        '0',
      ]);
      assert.ok(
        lines.some((l) =>
          /initialised conv1_1 … conv7 \(15 layers, [\d.]+ M parameters\) from .*vgg16-reducedfc\.w32\.pth/.test(l),
        ),
        lines.join('\n'),
      );
      const { meta, weights } = await loadCheckpoint(checkpoints);
      assert.equal(meta.step, 1);
      const { stateDict } = findStateDict(readPth(fixture('vgg16-reducedfc.w32.pth')).root);
      for (const [key, layer] of [
        ['0', 'conv1_1'],
        ['31', 'conv6'],
        ['33', 'conv7'],
      ]) {
        const w = stateDict.get(`${key}.weight`)!;
        const expected = hwio(w.float32(), w.shape),
          actual = weights[`${layer}.filter`];
        assert.equal(actual.length, expected.length, `${layer}.filter`);
        expected.forEach((v, i) =>
          assert.ok(Math.abs(actual[i] - v) <= 1e-20, `${layer}.filter[${i}] is ${actual[i]}, the file has ${v}`),
        );
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

/**
 * SSD MobileNet V1 (`createMobilenetSsd({ version: 1 })`, `--arch ssd-mobilenet-v1`), TF OD API
 * `ssd_mobilenet_v1` layout:
 * - layer shapes, in order, equal a real TF OD API SSD MobileNet V1's: face-api's
 *   ssd_mobilenetv1 (a TF OD API model converted to tfjs, uint8 weights; its converter renamed the
 *   layers, so names are checked by hand against TF's naming: mobilenet_v1.py `Conv2d_k_depthwise`
 *   / `_pointwise`, feature_map_generators.py `<from_layer>_1_Conv2d_2_1x1_256`);
 * - ReLU6 after every base and extra layer, none after the heads; 1917 anchors at 300, 2034 at 320;
 * - the ONNX export computes the tfjs head outputs within 1e-4 · max(1, max |output|);
 * - training: one step on wasm, a checkpoint, export from it, and a detector that runs the file;
 *   `initFrom` refused (no pretrained V1 here).
 * About 40 s on 2 busy cores.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as ortNode from 'onnxruntime-node';
import { createMobilenetSsd, type MobilenetSsd, type MobilenetSsdOptions } from '../../src/model/mobilenet-ssd.js';
import { exportMobilenetSsd } from '../../src/model/onnx/export-mobilenet.js';
import { decodeOnnxModel, readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { createDetector } from '../../src/runtime/detector.js';
import { loadCheckpointModel } from '../../src/train/checkpoint.js';
import { generateVocDataset } from '../../src/train/data/index.js';
import { train } from '../../src/train/train.js';
import { disposedAtEnd, randomizeWeights, useTfjsBackend } from './tfjs.js';

const PARITY = 1e-4;
const FACE_API = new URL(
  '../../../node_modules/@vladmandic/face-api/model/ssd_mobilenetv1_model-weights_manifest.json',
  import.meta.url,
);
const model = disposedAtEnd((o: MobilenetSsdOptions) => createMobilenetSsd(o));

let root: string;
before(async () => {
  await useTfjsBackend('wasm');
  root = await mkdtemp(join(tmpdir(), 'ssd-edge-v1-'));
});
after(() => rm(root, { recursive: true, force: true }));

/** face-api's filter shapes in graph order: the base, the extras, then each BoxPredictor_k's box and class heads. */
function faceApiShapes(): { trunk: number[][]; heads: Map<string, number[]> } {
  const manifest = JSON.parse(readFileSync(FACE_API, 'utf8')) as { weights: { name: string; shape: number[] }[] }[];
  const weights = manifest.flatMap((g) => g.weights);
  const trunk = weights
    .filter((w) => /^(MobilenetV1|Prediction)\/Conv2d_\d+_(depthwise|pointwise)\/(depthwise_)?weights$/.test(w.name))
    .map((w) => w.shape);
  const heads = new Map(
    weights
      .filter((w) => /^Prediction\/BoxPredictor_\d\/\w+\/weights$/.test(w.name))
      .map((w) => [w.name.replace(/^Prediction\//, '').replace(/\/weights$/, ''), w.shape]),
  );
  return { trunk, heads };
}

describe('SSD MobileNet V1 (TF OD API layout)', () => {
  it("has a TF OD API SSD MobileNet V1's layer shapes (face-api's model) and TF's layer names; ReLU6; 1917 rows on maps 19, 10, 5, 3, 2, 1", () => {
    // face-api's model has 3 score columns (9 = 3 boxes × 3 on BoxPredictor_0)
    const net = model({ version: 1, numClasses: 3 });
    const reference = faceApiShapes();
    const trunk = [...net.backbone, ...net.layers.extras];
    assert.equal(reference.trunk.length, 27 + 8);
    assert.deepEqual(
      trunk.map((l) => l.filter.shape),
      reference.trunk,
      'base and extras: filter shapes in order',
    );
    assert.equal(reference.heads.size, 12);
    for (const source of net.layers.sources)
      for (const head of [source.loc, source.conf]) {
        assert.deepEqual(head.filter.shape, reference.heads.get(head.name), head.name);
      }
    const names = trunk.map((l) => l.name.replace('FeatureExtractor/MobilenetV1/', ''));
    assert.deepEqual(names.slice(0, 5), [
      'Conv2d_0',
      'Conv2d_1_depthwise',
      'Conv2d_1_pointwise',
      'Conv2d_2_depthwise',
      'Conv2d_2_pointwise',
    ]);
    assert.deepEqual(names.slice(25), [
      'Conv2d_13_depthwise',
      'Conv2d_13_pointwise',
      'Conv2d_13_pointwise_1_Conv2d_2_1x1_256',
      'Conv2d_13_pointwise_2_Conv2d_2_3x3_s2_512',
      'Conv2d_13_pointwise_1_Conv2d_3_1x1_128',
      'Conv2d_13_pointwise_2_Conv2d_3_3x3_s2_256',
      'Conv2d_13_pointwise_1_Conv2d_4_1x1_128',
      'Conv2d_13_pointwise_2_Conv2d_4_3x3_s2_256',
      'Conv2d_13_pointwise_1_Conv2d_5_1x1_64',
      'Conv2d_13_pointwise_2_Conv2d_5_3x3_s2_128',
    ]);
    assert.ok(
      trunk.every((l) => l.relu && l.relu6),
      'every base and extra layer ends in ReLU6',
    );
    assert.ok(
      net.layers.sources.every((s) => !s.loc.relu && !s.conf.relu),
      'heads are linear',
    );
    assert.deepEqual(trunk.filter((l) => l.depthwise).length, 13);
    assert.deepEqual(
      trunk.filter((l) => l.stride === 2).map((l) => l.name.split('/').pop()),
      [
        'Conv2d_0',
        'Conv2d_2_depthwise',
        'Conv2d_4_depthwise',
        'Conv2d_6_depthwise',
        'Conv2d_12_depthwise',
        'Conv2d_13_pointwise_2_Conv2d_2_3x3_s2_512',
        'Conv2d_13_pointwise_2_Conv2d_3_3x3_s2_256',
        'Conv2d_13_pointwise_2_Conv2d_4_3x3_s2_256',
        'Conv2d_13_pointwise_2_Conv2d_5_3x3_s2_128',
      ],
    );
    assert.deepEqual(
      net.layers.sources.map((s) => s.from.split('/').pop()),
      ['Conv2d_11_pointwise', 'Conv2d_13_pointwise', ...names.slice(27).filter((_, i) => i % 2 === 1)],
    );
    assert.deepEqual(
      net.layers.sources.map((s) => s.featureMap),
      [19, 10, 5, 3, 2, 1],
    );
    assert.equal(net.numPriors, 1917);
    assert.equal(net.layers.last, undefined);
    assert.equal(net.version, 1);
  });

  it('width 0.25: depths max(⌊d · 0.25⌋, 16); 320 gives maps 20, 10, 5, 3, 2, 1 (2034 rows); forward shapes; lite refused', () => {
    const net = model({ version: 1, numClasses: 4, width: 0.25, inputSize: 320, batchNorm: true });
    assert.deepEqual(
      net.backbone.filter((l) => !l.depthwise).map((l) => l.filter.shape[3]),
      [16, 16, 32, 32, 64, 64, 128, 128, 128, 128, 128, 128, 256, 256],
      'Conv2d_0 (32), then 64, 128, 128, 256, 256, 512 × 6, 1024, 1024',
    );
    assert.deepEqual(
      net.layers.sources.map((s) => s.featureMap),
      [20, 10, 5, 3, 2, 1],
    );
    const images = tf.zeros([2, 320, 320, 3]) as tf.Tensor4D;
    const { loc, conf } = net.apply(images);
    assert.deepEqual(loc.shape, [2, 2034, 4]);
    assert.deepEqual(conf.shape, [2, 2034, 4]);
    tf.dispose([images, loc, conf]);
    assert.throws(
      () => createMobilenetSsd({ version: 1, numClasses: 2, lite: true }),
      /version 1 has no SSDLite layout/,
    );
    assert.throws(() => createMobilenetSsd({ version: 3 as 1, numClasses: 2 }), /version 3 must be 1 .* or 2/);
  });

  async function compare(
    m: MobilenetSsd,
    bytes: Uint8Array,
    batch: number,
    seed: number,
  ): Promise<{ loc: number; conf: number; scale: number }> {
    const size = m.inputSize;
    const images = tf.randomUniform([batch, size, size, 3], -1, 1, 'float32', seed) as tf.Tensor4D;
    const { loc, conf } = m.apply(images);
    const expected = { loc: loc.dataSync() as Float32Array, conf: conf.dataSync() as Float32Array };
    const nchw = tf.transpose(images, [0, 3, 1, 2]);
    const session = await ortNode.InferenceSession.create(bytes);
    try {
      const out = await session.run({
        image: new ortNode.Tensor('float32', nchw.dataSync() as Float32Array, nchw.shape),
      });
      const diff = (a: Float32Array, b: Float32Array) => {
        assert.equal(a.length, b.length);
        let d = 0;
        for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
      };
      let scale = 0;
      for (const v of [...expected.loc, ...expected.conf]) scale = Math.max(scale, Math.abs(v));
      return {
        loc: diff(out.loc.data as Float32Array, expected.loc),
        conf: diff(out.conf.data as Float32Array, expected.conf),
        scale,
      };
    } finally {
      await session.release();
      tf.dispose([images, loc, conf, nchw]);
    }
  }

  for (const [what, options] of [
    ['300, batch norm (folded on export)', { version: 1, numClasses: 4, width: 0.25, batchNorm: true, seed: 3 }],
    ['320, folded form', { version: 1, numClasses: 3, width: 0.5, inputSize: 320, seed: 4 }],
  ] as [string, MobilenetSsdOptions][]) {
    it(`ONNX export, ${what}: onnxruntime-node gives the tfjs head outputs within ${PARITY}·max(1, |x|)`, async (t) => {
      const m = model(options);
      randomizeWeights(m, 17);
      const bytes = exportMobilenetSsd(m, {
        labels: ['background', ...Array.from({ length: m.numClasses - 1 }, (_, i) => `c${i}`)],
      });
      for (const batch of [1, 2]) {
        const d = await compare(m, bytes, batch, 40 + batch);
        t.diagnostic(
          `batch ${batch}: max |Δ| loc ${d.loc.toExponential(2)}, conf ${d.conf.toExponential(2)} (outputs up to ${d.scale.toFixed(2)})`,
        );
        assert.ok(d.scale > 1, 'random weights give outputs beyond ±1');
        assert.ok(d.loc <= PARITY * Math.max(1, d.scale) && d.conf <= PARITY * Math.max(1, d.scale), JSON.stringify(d));
      }
      const graph = decodeOnnxModel(bytes).graph!;
      assert.equal(graph.name, 'ssd-mobilenet-v1');
      assert.deepEqual(
        [...new Set((graph.node ?? []).map((n) => n.opType))].sort(),
        ['Clip', 'Concat', 'Conv', 'Reshape', 'Transpose'],
        'no residual Add in V1',
      );
      assert.equal(
        (graph.node ?? []).filter((n) => n.opType === 'Conv' && n.attribute?.some((a) => a.name === 'group')).length,
        13,
      );
      assert.equal((readSsdEdgeMetadata(bytes)!.postprocess.priors as { family: string }).family, 'tfGrid');
    });
  }

  it('trains a step on wasm (--arch ssd-mobilenet-v1), checkpoints, exports from the checkpoint, and a detector runs the file; initFrom refused', async () => {
    const data = join(root, 'data');
    await generateVocDataset(data, { trainCount: 2, testCount: 0, seed: 4 });
    const options = {
      data,
      arch: 'ssd-mobilenet-v1' as const,
      width: 0.25,
      backend: 'wasm' as const,
      batch: 2,
      seed: 1,
      lr: 1e-3,
      checkpointDir: join(root, 'ck'),
      checkpointEvery: 0,
      maxSteps: 1,
      log: () => {},
    };
    const result = await train(options);
    assert.equal(result.steps, 1);
    assert.equal(result.losses.length, 1);
    assert.ok(Number.isFinite(result.losses[0]) && result.losses[0] > 0, `loss ${result.losses[0]}`);
    const loaded = await loadCheckpointModel(options.checkpointDir);
    let bytes: Uint8Array;
    try {
      assert.equal(loaded.arch, 'ssd-mobilenet-v1');
      assert.equal((loaded.model as MobilenetSsd).version, 1);
      bytes = exportMobilenetSsd(loaded.model as MobilenetSsd, { labels: loaded.meta.classes });
    } finally {
      loaded.model.dispose();
    }
    const detector = await createDetector({ model: bytes, backend: 'node' });
    try {
      const image = { width: 64, height: 48, data: new Uint8ClampedArray(64 * 48 * 4).fill(100) };
      assert.ok(Array.isArray(await detector.detect(image as unknown as ImageData)));
      assert.equal(detector.config.numClasses, loaded.meta.numClasses);
    } finally {
      await detector.dispose();
    }
    await assert.rejects(
      train({ ...options, checkpointDir: join(root, 'ck2'), initFrom: 'models/ssd-mobilenet-v2-coco.onnx' }),
      /ssd-mobilenet-v1 trains from scratch/,
    );
  });
});

/**
 * SSD / SSDLite MobileNet V2 → ONNX: onnxruntime-node computes the tfjs network's head outputs
 * (random weights everywhere, explicit batch normalisation folded on export, random images in
 * [−1, 1]) within 1e-4 · max(1, max |output|) (outputs reach ±15 with random weights; the float32
 * sums differ by up to 1.8e-4 there), at 300 and 320; the metadata carries the network's anchors (tfGrid), TF box
 * coding and its [−1, 1] input, so createDetector runs the file with no preset.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as ortNode from 'onnxruntime-node';
import { priorRows as referencePriors } from '../../src/core/prior-rows.js';
import {
  createMobilenetSsd,
  mobilenetSsdPriors,
  type MobilenetSsd,
  type MobilenetSsdOptions,
} from '../../src/model/mobilenet-ssd.js';
import { exportMobilenetSsd } from '../../src/model/onnx/export-mobilenet.js';
import { decodeOnnxModel, readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { createDetector } from '../../src/runtime/detector.js';
import { disposedAtEnd, randomizeWeights, useTfjsBackend } from './tfjs.js';

const PARITY = 1e-4;
const model = disposedAtEnd((o: MobilenetSsdOptions) => createMobilenetSsd(o));

await useTfjsBackend('wasm');

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
    const scale = Math.max(...[...expected.loc, ...expected.conf].map(Math.abs));
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

describe('MobileNet SSD export to ONNX', () => {
  for (const [what, options] of [
    ['SSD, 300, batch norm', { numClasses: 4, width: 0.35, batchNorm: true, seed: 3 }],
    ['SSD, 300, folded form (as fine-tuned from COCO)', { numClasses: 3, width: 0.5, seed: 4 }],
    ['SSDLite, 300, batch norm', { numClasses: 4, width: 0.35, batchNorm: true, lite: true, seed: 5 }],
    ['SSDLite, 320', { numClasses: 2, width: 0.35, lite: true, inputSize: 320, seed: 6 }],
  ] as [string, MobilenetSsdOptions][]) {
    it(`${what}: onnxruntime-node gives the tfjs head outputs within ${PARITY}`, async (t) => {
      const m = model(options);
      randomizeWeights(m, 17);
      const bytes = exportMobilenetSsd(m, {
        labels: ['background', ...Array.from({ length: m.numClasses - 1 }, (_, i) => `c${i}`)],
      });
      for (const batch of [1, 2]) {
        const d = await compare(m, bytes, batch, 30 + batch);
        t.diagnostic(
          `batch ${batch}: max |Δ| loc ${d.loc.toExponential(2)}, conf ${d.conf.toExponential(2)} (outputs up to ${d.scale.toFixed(2)})`,
        );
        assert.ok(d.loc <= PARITY * Math.max(1, d.scale) && d.conf <= PARITY * Math.max(1, d.scale), JSON.stringify(d));
      }
      const graph = decodeOnnxModel(bytes).graph!;
      const ops = new Set((graph.node ?? []).map((n) => n.opType));
      assert.deepEqual([...ops].sort(), ['Add', 'Clip', 'Concat', 'Conv', 'Reshape', 'Transpose']);
      const depthwise = (graph.node ?? []).filter(
        (n) => n.opType === 'Conv' && n.attribute?.some((a) => a.name === 'group'),
      );
      assert.equal(depthwise.length, 17 + (options.lite ? 4 + 12 : 0));
    });
  }

  it('records the anchors, TF box coding, softmax scores and the [−1, 1] input; createDetector runs it without a preset', async () => {
    const m = model({ numClasses: 3, width: 0.35, lite: true, inputSize: 320, seed: 8 });
    const bytes = exportMobilenetSsd(m, { labels: ['background', 'a', 'b'] });
    const meta = readSsdEdgeMetadata(bytes)!;
    assert.deepEqual(meta.preprocess, {
      size: [320, 320],
      channels: 'rgb',
      mean: [127.5, 127.5, 127.5],
      std: [127.5, 127.5, 127.5],
      layout: 'nchw',
    });
    const post = meta.postprocess;
    assert.deepEqual(post.priors, mobilenetSsdPriors(320));
    assert.deepEqual((post.priors as unknown as { featureMaps: number[] }).featureMaps, [20, 10, 5, 3, 2, 1]);
    assert.equal(referencePriors(mobilenetSsdPriors(320)).length / 4, m.numPriors);
    assert.equal(m.numPriors, 2034);
    assert.deepEqual(post.boxCoding, { scaleFactors: [10, 10, 5, 5], order: 'yxhw' });
    assert.equal(post.scoreActivation, 'softmax');
    assert.deepEqual(post.labels, ['background', 'a', 'b']);
    assert.equal(
      readSsdEdgeMetadata(exportMobilenetSsd(m, { scoreActivation: 'sigmoid' }))!.postprocess.scoreActivation,
      'sigmoid',
    );
    assert.throws(() => exportMobilenetSsd(m, { labels: ['x'] }), /labels has 1 names; the model has 3 classes/);

    const detector = await createDetector({ model: bytes, backend: 'node' });
    try {
      const image = { width: 64, height: 48, data: new Uint8ClampedArray(64 * 48 * 4).fill(128) };
      const found = await detector.detect(image as unknown as ImageData);
      assert.ok(Array.isArray(found));
      assert.equal(detector.config.numClasses, 3);
    } finally {
      await detector.dispose();
    }
  });
});

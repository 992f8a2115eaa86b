/**
 * ONNX export: parity of onnxruntime (node, and web's wasm provider in Node) with tfjs on random
 * weights and images, prior alignment of the exported graph, the graph's structure, metadata
 * round trips, and bytes that are not a model.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import {
  createPostprocessor,
  generatePriors,
  presets,
  type PostprocessConfig,
  type SsdPriorConfig,
} from '../../src/index.js';
import { exportSsd300, EXPORT_OPSET } from '../../src/model/onnx/export.js';
import { GraphBuilder } from '../../src/model/onnx/graph.js';
import type { OnnxSchema } from '../../src/model/onnx/proto.js';
import { DEFAULT_PREPROCESS, METADATA_KEYS, parseSsdEdgeMetadata } from '../../src/model/onnx/metadata.js';
import { decodeOnnxModel, int64, readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { createSsd300, type Ssd300 } from '../../src/model/ssd300.js';
import type { PreprocessSpec } from '../../src/runtime/types.js';
import { random } from '../helpers.js';
import { assertAligned, setAlignmentWeights } from './alignment.js';
import { disposedAtEnd, randomImages, randomizeWeights, relativeError, useTfjsBackend } from './tfjs.js';

type Runtime = 'onnxruntime-node' | 'onnxruntime-web (wasm)';
const RUNTIMES: Runtime[] = ['onnxruntime-node', 'onnxruntime-web (wasm)'];
/** Parity bar: |onnx − tfjs| ≤ 1e-4 · max |tfjs| over each output. */
const PARITY = 1e-4;

interface Outputs {
  loc: Float32Array;
  conf: Float32Array;
}

/** Runs an exported model on NHWC images (transposed to the graph's NCHW here). */
async function runOnnx(runtime: Runtime, bytes: Uint8Array, images: tf.Tensor4D): Promise<Outputs> {
  const nchw = tf.tidy(() => tf.transpose(images, [0, 3, 1, 2]));
  const data = nchw.dataSync() as Float32Array,
    dims = nchw.shape;
  nchw.dispose();
  if (runtime === 'onnxruntime-node') {
    const session = await ortNode.InferenceSession.create(bytes);
    try {
      const out = await session.run({ image: new ortNode.Tensor('float32', data, dims) });
      return { loc: out.loc.data as Float32Array, conf: out.conf.data as Float32Array };
    } finally {
      await session.release();
    }
  }
  const session = await ortWeb.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const out = await session.run({ image: new ortWeb.Tensor('float32', data, dims) });
    return { loc: out.loc.data as Float32Array, conf: out.conf.data as Float32Array };
  } finally {
    await session.release();
  }
}

function runTfjs(model: Ssd300, images: tf.Tensor4D): Outputs {
  const { loc, conf } = model.apply(images);
  const out = { loc: loc.dataSync() as Float32Array, conf: conf.dataSync() as Float32Array };
  tf.dispose([loc, conf]);
  return out;
}

/** A model disposed when the file's tests end. */
const model = disposedAtEnd(createSsd300);

await useTfjsBackend('wasm');
ortWeb.env.wasm.numThreads = 1;

describe('onnxruntime runs the export as tfjs runs the network', () => {
  for (const [width, numClasses] of [
    [1 / 8, 21],
    [1 / 4, 4],
  ]) {
    it(`width 1/${1 / width}, ${numClasses} classes, batch 1 and 2, random weights and images`, async (t) => {
      const m = model({ numClasses, width, seed: 11 });
      randomizeWeights(m, 100);
      const bytes = exportSsd300(m);
      for (const batch of [1, 2]) {
        const images = randomImages(batch, 20 + batch);
        const expected = runTfjs(m, images);
        for (const runtime of RUNTIMES) {
          const actual = await runOnnx(runtime, bytes, images);
          for (const output of ['loc', 'conf'] as const) {
            assert.equal(actual[output].length, expected[output].length, `${runtime} ${output} length`);
            const { error, index } = relativeError(actual[output], expected[output]);
            t.diagnostic(`batch ${batch}, ${runtime}, ${output}: max |Δ| / max |tfjs| = ${error.toExponential(2)}`);
            assert.ok(
              error <= PARITY,
              `batch ${batch}, ${runtime}, ${output}[${index}]: ${actual[output][index]} vs tfjs ` +
                `${expected[output][index]} (relative error ${error})`,
            );
          }
        }
        images.dispose();
      }
    });
  }

  it('the exported rows keep the prior order', async () => {
    const numClasses = 4;
    const m = model({ numClasses, width: 1 / 8 });
    setAlignmentWeights(m);
    const images = tf.zeros<tf.Rank.R4>([1, 300, 300, 3]);
    const { loc, conf } = await runOnnx('onnxruntime-node', exportSsd300(m), images);
    const config = presets.ssd300Voc.priors as SsdPriorConfig;
    assertAligned(loc, conf, numClasses, await generatePriors(config), config, 'onnx');
    images.dispose();
  });
});

describe('the exported graph', () => {
  it('has the input, outputs, opset, ops and weight layout the runtime expects', async () => {
    const m = model({ numClasses: 4, width: 1 / 8 });
    const graphModel = decodeOnnxModel(exportSsd300(m));
    assert.equal(int64(graphModel.irVersion), 7);
    assert.equal(graphModel.producerName, 'ssd-edge');
    assert.deepEqual(
      graphModel.opsetImport.map((o) => [o.domain, int64(o.version)]),
      [['', EXPORT_OPSET]],
    );
    const graph = graphModel.graph!;
    const [input, output, node, initializer] = [graph.input!, graph.output!, graph.node!, graph.initializer!];
    const dims = (v: OnnxSchema.IValueInfoProto) =>
      v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || int64(d.dimValue));
    assert.deepEqual(
      input.map((v) => [v.name, dims(v)]),
      [['image', ['N', 3, 300, 300]]],
    );
    assert.deepEqual(
      output.map((v) => [v.name, dims(v)]),
      [
        ['loc', ['N', 8732, 4]],
        ['conf', ['N', 8732, 4]],
      ],
    );
    const ops = new Set(node.map((n) => n.opType));
    assert.deepEqual([...ops].sort(), [
      'Add',
      'Concat',
      'Conv',
      'Div',
      'MaxPool',
      'Mul',
      'ReduceSumSquare',
      'Relu',
      'Reshape',
      'Sqrt',
      'Transpose',
    ]);
    const pool3 = node.find((n) => n.name === 'pool3')!;
    assert.deepEqual(
      pool3.attribute!.map((a) => [a.name, a.ints!.map(int64)]),
      [
        ['kernel_shape', [2, 2]],
        ['strides', [2, 2]],
        ['pads', [0, 0, 1, 1]],
      ],
      'ceil mode as end padding',
    );
    // HWIO [kh, kw, in, out] → OIHW [out, in, kh, kw].
    const weight = initializer.find((t) => t.name === 'conv1_2.weight')!;
    assert.deepEqual(weight.dims!.map(int64), [8, 8, 3, 3]);
    const oihw = new Float32Array(weight.rawData!.slice().buffer);
    const hwio = await m.variables.get('conv1_2.filter')!.data();
    const [o, i, kh, kw] = [3, 5, 1, 2];
    assert.equal(oihw[((o * 8 + i) * 3 + kh) * 3 + kw], hwio[((kh * 3 + kw) * 8 + i) * 8 + o]);
  });
});

describe('ssd-edge metadata', () => {
  it('records the defaults: opset, ssd.pytorch-style input, the ssd300Voc post-processing', async () => {
    const meta = readSsdEdgeMetadata(exportSsd300(model({ numClasses: 21, width: 1 / 8 })))!;
    assert.deepEqual(meta, {
      opset: 13,
      preprocess: DEFAULT_PREPROCESS,
      postprocess: presets.ssd300Voc,
      width: 0.125,
      numClasses: 21,
      extra: {},
    });
    const post = await createPostprocessor(meta.postprocess);
    assert.equal(post.priors.length, 8732 * 4, 'the recorded post-processing runs');
    post.dispose();
  });

  it('round-trips labels, a custom pre-processing, typed arrays and extra properties', () => {
    const m = model({ numClasses: 4, width: 1 / 8 });
    const labels = ['background', 'cat', 'dog', 'bird'];
    const preprocess: PreprocessSpec = {
      size: [300, 300],
      channels: 'rgb',
      mean: [123.675, 116.28, 103.53],
      std: [58.395, 57.12, 57.375],
      layout: 'nchw',
    };
    const meta = readSsdEdgeMetadata(exportSsd300(m, { labels, preprocess, metadata: { dataset: 'synthetic' } }))!;
    const { labels: _, ...vocWithoutLabels } = presets.ssd300Voc;
    assert.deepEqual(meta.postprocess, { ...vocWithoutLabels, numClasses: 4, labels });
    assert.deepEqual(meta.preprocess, preprocess);
    assert.deepEqual(meta.extra, { dataset: 'synthetic' });
    assert.equal(readSsdEdgeMetadata(exportSsd300(m))!.postprocess.labels, undefined, 'VOC labels only for 21 classes');

    const priors = new Float32Array([0.5, 0.5, 0.1, 0.2]);
    const postprocess: PostprocessConfig = {
      ...presets.ssd300Voc,
      priors,
      numClasses: 4,
      scoreThreshold: new Float32Array([0, 0.5, 0.25, 0.75]),
      labels,
    };
    const back = readSsdEdgeMetadata(exportSsd300(m, { postprocess }))!.postprocess;
    assert.deepEqual(back.priors, priors);
    assert.deepEqual(back.scoreThreshold, [0, 0.5, 0.25, 0.75]);
  });

  it('rejects options that contradict the model, and a disposed model', () => {
    const m = model({ numClasses: 4, width: 1 / 8 });
    assert.throws(
      () => exportSsd300(m, { labels: ['background', 'cat'] }),
      /RangeError: labels has 2 names; the model has 4 classes/,
    );
    assert.throws(
      () => exportSsd300(m, { postprocess: presets.ssd300Voc }),
      /RangeError: postprocess.numClasses is 21; the model has 4 classes/,
    );
    assert.throws(
      () => exportSsd300(m, { metadata: { [METADATA_KEYS.width]: '1' } }),
      /RangeError: metadata key 'ssd-edge.width' is reserved/,
    );
    const disposed = createSsd300({ numClasses: 4, width: 1 / 8 });
    disposed.dispose();
    assert.throws(() => exportSsd300(disposed), /this Ssd300 was disposed; export it before dispose\(\)/);
  });

  it('is undefined for a model from another tool, and an error naming the key when malformed', () => {
    const g = new GraphBuilder('relu');
    g.input('x', [1]);
    g.node('Relu', ['x'], 'y');
    g.output('y', [1]);
    assert.equal(readSsdEdgeMetadata(g.encode({ opset: 13, irVersion: 7, producerName: 'other' })), undefined);

    const good = Object.fromEntries(
      decodeOnnxModel(exportSsd300(model({ numClasses: 4, width: 1 / 8 }))).metadataProps.map((p) => [
        p.key!,
        p.value!,
      ]),
    );
    const { [METADATA_KEYS.preprocess]: _, ...missing } = good;
    assert.throws(() => parseSsdEdgeMetadata(missing), /ssd-edge metadata 'ssd-edge.preprocess' is missing/);
    assert.throws(
      () => parseSsdEdgeMetadata({ ...good, [METADATA_KEYS.postprocess]: '{"priors":' }),
      /ssd-edge metadata 'ssd-edge.postprocess' is not valid JSON/,
    );
    assert.throws(
      () => parseSsdEdgeMetadata({ ...good, [METADATA_KEYS.numClasses]: '5' }),
      /'ssd-edge.postprocess' has numClasses 4, but the model records 5/,
    );
    assert.throws(
      () => parseSsdEdgeMetadata({ ...good, [METADATA_KEYS.preprocess]: '{"size":[300,300],"channels":"bgra"}' }),
      /'ssd-edge.preprocess' channels must be 'rgb' or 'bgr'/,
    );
  });
});

describe('bytes that are not an ONNX model', () => {
  const bytes = exportSsd300(model({ numClasses: 4, width: 1 / 8 }));
  const rand = random(7);
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['JSON text', new TextEncoder().encode('{"model": "ssd300"}')],
    ['a PNG header', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])],
    ['random bytes', Uint8Array.from({ length: 4096 }, () => Math.floor(rand() * 256))],
    ...[1, 16, bytes.length >> 1, bytes.length - 1].map(
      (n) => [`truncated to ${n} of ${bytes.length} bytes`, bytes.subarray(0, n)] as [string, Uint8Array],
    ),
  ];
  for (const [what, data] of cases) {
    it(`${what}: "not an ONNX model"`, () => {
      assert.throws(
        () => readSsdEdgeMetadata(data),
        (e: Error) => e.constructor === Error && e.message.startsWith('not an ONNX model: '),
      );
    });
  }

  it('a path instead of bytes is a TypeError', () => {
    assert.throws(
      () => readSsdEdgeMetadata('model.onnx' as unknown as Uint8Array),
      /TypeError: ONNX model bytes must be a Uint8Array or an ArrayBuffer, got string/,
    );
  });
});

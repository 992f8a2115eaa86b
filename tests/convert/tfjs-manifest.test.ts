/**
 * The tfjs weights-manifest reader on small manifests made here (every stored dtype and
 * quantization, shards concatenated, groups), and the errors: a missing shard, a truncated or
 * overlong shard, unknown dtypes, a manifest of another network (its names listed), and the CLI.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { runConvert } from '../../src/cli/convert.js';
import {
  convertModel,
  detectFormat,
  padImageToSquare,
  readWeightsManifest,
  TfjsManifestError,
  TfjsWeightsMismatchError,
} from '../../src/convert/index.js';
import { readModelMetadata } from '../../src/runtime/model-metadata.js';
import { FACEAPI_MANIFEST, FACEAPI_MODEL_DIR } from './faceapi-node.js';

const bytesOf = (array: ArrayBufferView) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const faceApiManifest = () =>
  JSON.parse(readFileSync(FACEAPI_MANIFEST, 'utf8')) as {
    paths: string[];
    weights: { name: string; shape: number[] }[];
  }[];
const faceApiShard = (p: string) => new Uint8Array(readFileSync(path.join(FACEAPI_MODEL_DIR, p)));

describe('tfjs weights manifest reader', () => {
  it('decodes float32, int32, bool, uint8 and uint16 (q · scale + min) and float16, across shards and groups', () => {
    const manifest = [
      {
        paths: ['a.bin', 'b.bin'],
        weights: [
          { name: 'f', shape: [2, 2], dtype: 'float32' },
          { name: 'q8', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', min: -1, scale: 0.5 } },
          { name: 'q16', shape: [2], dtype: 'float32', quantization: { dtype: 'uint16', min: 10, scale: 0.25 } },
        ],
      },
      {
        paths: ['c.bin'],
        weights: [
          { name: 'i', shape: [2], dtype: 'int32' },
          { name: 'iq', shape: [2], dtype: 'int32', quantization: { dtype: 'uint8', min: 3, scale: 1 } },
          { name: 'h', shape: [3], dtype: 'float32', quantization: { dtype: 'float16' } },
          { name: 'b', shape: [2], dtype: 'bool' },
        ],
      },
    ];
    const group0 = concat(
      bytesOf(new Float32Array([1.5, -2, 3.25, 0])),
      new Uint8Array([0, 2, 255]),
      bytesOf(new Uint16Array([0, 1000])),
    );
    const group1 = concat(
      bytesOf(new Int32Array([7, -8])),
      new Uint8Array([0, 4]),
      bytesOf(new Uint16Array([0x3c00, 0xc000, 0x3555])),
      new Uint8Array([1, 0]),
    );
    const shards: Record<string, Uint8Array> = {
      'a.bin': group0.subarray(0, 10),
      'b.bin': group0.subarray(10),
      'c.bin': group1,
    };
    const w = readWeightsManifest(manifest, (p) => shards[p]);
    assert.deepEqual([...w.keys()], ['f', 'q8', 'q16', 'i', 'iq', 'h', 'b']);
    assert.deepEqual([...w.get('f')!.values], [1.5, -2, 3.25, 0]);
    assert.deepEqual(w.get('f')!.shape, [2, 2]);
    assert.deepEqual([...w.get('q8')!.values], [-1, 0, 126.5]);
    assert.deepEqual([...w.get('q8')!.quantized!.data], [0, 2, 255]);
    assert.deepEqual([...w.get('q16')!.values], [10, 260]);
    assert.deepEqual([...w.get('i')!.values], [7, -8]);
    assert.deepEqual([...w.get('iq')!.values], [3, 7]);
    assert.equal(w.get('iq')!.dtype, 'int32');
    const h = w.get('h')!.values;
    assert.deepEqual([h[0], h[1]], [1, -2]);
    assert.ok(Math.abs(h[2] - 1 / 3) < 1e-3);
    assert.deepEqual([...w.get('b')!.values], [1, 0]);
  });

  it("face-api's real manifest: 151 weights, dequantised as tfjs does (v · scale + min, float32)", () => {
    const manifest = faceApiManifest();
    const w = readWeightsManifest(manifest, faceApiShard);
    assert.equal(w.size, 151);
    const gamma = w.get('MobilenetV1/Conv2d_1_depthwise/BatchNorm/gamma')!;
    const { scale, min } = gamma.quantized!;
    gamma.quantized!.data.forEach((q, i) => assert.equal(gamma.values[i], Math.fround(q * scale + min)));
    assert.deepEqual(w.get('Output/extra_dim')!.shape, [1, 5118, 4]);
  });

  it('a missing shard, a truncated shard and an overlong shard are errors naming the shard and the byte counts', () => {
    const manifest = faceApiManifest();
    const shard = faceApiShard('ssd_mobilenetv1_model.bin');
    assert.throws(
      () => readWeightsManifest(manifest, () => undefined),
      (e: Error) => e instanceof TfjsManifestError && /shard 'ssd_mobilenetv1_model\.bin' is missing/.test(e.message),
    );
    assert.throws(
      () => readWeightsManifest(manifest, () => shard.subarray(0, shard.length - 100)),
      (e: Error) =>
        e instanceof TfjsManifestError &&
        new RegExp(`hold ${shard.length - 100} bytes; its 151 weights need ${shard.length} \\(a truncated`).test(
          e.message,
        ),
    );
    assert.throws(
      () => readWeightsManifest(manifest, () => concat(shard, new Uint8Array(4))),
      (e: Error) =>
        e instanceof TfjsManifestError &&
        new RegExp(`hold ${shard.length + 4} bytes; its 151 weights need ${shard.length}$`).test(e.message),
    );
    // Through convertModel as well.
    assert.throws(
      () => convertModel(readFileSync(FACEAPI_MANIFEST), { shards: {} }),
      /shard 'ssd_mobilenetv1_model\.bin' is missing/,
    );
    assert.throws(
      () => convertModel(readFileSync(FACEAPI_MANIFEST)),
      /needs its shards \(ssd_mobilenetv1_model\.bin\): pass options\.shards/,
    );
  });

  it('unknown dtypes and quantizations are refused by name', () => {
    const one = (entry: object) => [{ paths: ['x.bin'], weights: [{ name: 'w', shape: [1], ...entry }] }];
    const shard = () => new Uint8Array(4);
    assert.throws(
      () => readWeightsManifest(one({ dtype: 'string' }), shard),
      /weight 'w': dtype 'string' is not supported/,
    );
    assert.throws(() => readWeightsManifest(one({ dtype: 'complex64' }), shard), /dtype 'complex64' is not supported/);
    assert.throws(
      () => readWeightsManifest(one({ dtype: 'float32', quantization: { dtype: 'int4', min: 0, scale: 1 } }), shard),
      /quantization dtype 'int4' is unknown \(uint8, uint16, float16\)/,
    );
    assert.throws(
      () => readWeightsManifest(one({ dtype: 'float32', quantization: { dtype: 'uint8', scale: 1 } }), shard),
      /uint8 quantization needs finite 'min' and 'scale'/,
    );
    assert.throws(() => readWeightsManifest({ weights: [] }, shard), /not a tfjs weights manifest/);
  });

  it('detectFormat knows a manifest (and a model.json with one) from other JSON', () => {
    assert.equal(detectFormat(readFileSync(FACEAPI_MANIFEST)), 'tfjs');
    const modelJson = new TextEncoder().encode(
      JSON.stringify({ modelTopology: {}, weightsManifest: faceApiManifest() }),
    );
    assert.equal(detectFormat(modelJson), 'tfjs');
    assert.equal(detectFormat(new TextEncoder().encode('{"a": 1}')), undefined);
    assert.equal(detectFormat(new TextEncoder().encode('[1, 2]')), undefined);
  });
});

describe("padImageToSquare (face-api's padToSquare)", () => {
  it('pads with zeros at the right of a tall image and the bottom of a wide one; alpha opaque; a square image as is', () => {
    const wide = padImageToSquare({ data: new Uint8Array([1, 2, 3, 4, 5, 6]), width: 2, height: 1, channels: 3 });
    assert.deepEqual([wide.width, wide.height, [...wide.data]], [2, 2, [1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0]]);
    const tall = padImageToSquare({ data: new Uint8Array([7, 8]), width: 1, height: 2, channels: 1 });
    assert.deepEqual([tall.width, tall.height, [...tall.data]], [2, 2, [7, 0, 8, 0]]);
    const rgba = padImageToSquare({ data: new Uint8Array([9, 9, 9, 128]), width: 1, height: 1, channels: 4 });
    assert.deepEqual([...rgba.data], [9, 9, 9, 128]);
    const rgbaWide = padImageToSquare({
      data: new Uint8Array([9, 9, 9, 128, 1, 1, 1, 128]),
      width: 2,
      height: 1,
      channels: 4,
    });
    assert.deepEqual([...rgbaWide.data], [9, 9, 9, 128, 1, 1, 1, 128, 0, 0, 0, 255, 0, 0, 0, 255]);
  });
});

describe('face-api SSD MobileNet V1 converter: manifests of other networks', () => {
  it("another network's manifest (face-api's tiny face detector): an error listing its weight names", () => {
    const file = path.join(FACEAPI_MODEL_DIR, 'tiny_face_detector_model-weights_manifest.json');
    const shards = (p: string) => new Uint8Array(readFileSync(path.join(FACEAPI_MODEL_DIR, p)));
    assert.throws(
      () => convertModel(readFileSync(file), { shards }),
      (e: Error) => {
        assert.ok(e instanceof TfjsWeightsMismatchError, e.message);
        assert.match(
          e.message,
          /not face-api's SSD MobileNet V1: 2 missing: Output\/extra_dim, MobilenetV1\/Conv2d_0_pointwise\/weights; \d+ unknown: conv0\/filters/,
        );
        return true;
      },
    );
  });

  it('two renamed weights and a reshaped one: each listed (missing, unknown, wrong shape) in one error', () => {
    const manifest = faceApiManifest();
    const weights = manifest[0].weights;
    weights.find((w) => w.name === 'MobilenetV1/Conv2d_5_depthwise/BatchNorm/gamma')!.name =
      'MobilenetV1/Conv2d_5_depthwise/BatchNorm/scale';
    weights.find((w) => w.name === 'Prediction/BoxPredictor_2/ClassPredictor/biases')!.name = 'Extra/bias';
    weights.find((w) => w.name === 'Prediction/Conv2d_0_pointwise/convolution_bn_offset')!.shape = [16, 16];
    const bytes = new TextEncoder().encode(JSON.stringify(manifest));
    assert.throws(
      () => convertModel(bytes, { shards: faceApiShard }),
      (e: Error) => {
        assert.ok(e instanceof TfjsWeightsMismatchError, e.message);
        assert.deepEqual(e.missing, [
          'MobilenetV1/Conv2d_5_depthwise/BatchNorm/gamma',
          'Prediction/BoxPredictor_2/ClassPredictor/biases',
        ]);
        assert.deepEqual(e.unexpected, ['Extra/bias', 'MobilenetV1/Conv2d_5_depthwise/BatchNorm/scale']); // manifest order
        assert.deepEqual(e.wrongShapes, [
          'Prediction/Conv2d_0_pointwise/convolution_bn_offset (float32 [16, 16], expected float32 [256])',
        ]);
        return true;
      },
    );
  });
});

describe('ssd-edge convert weights_manifest.json', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ssd-edge-tfjs-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const manifest = path.join(dir, 'ssd_mobilenetv1_model-weights_manifest.json');
  copyFileSync(FACEAPI_MANIFEST, manifest);

  it('a missing shard beside the manifest: an error, nothing written', async () => {
    const out = path.join(dir, 'faces.onnx');
    await assert.rejects(runConvert([manifest, '--out', out]), /shard 'ssd_mobilenetv1_model\.bin' is missing/);
    assert.equal(existsSync(out), false);
  });

  it('a truncated shard: an error, nothing written', async () => {
    const out = path.join(dir, 'faces.onnx');
    const shard = faceApiShard('ssd_mobilenetv1_model.bin');
    writeFileSync(path.join(dir, 'ssd_mobilenetv1_model.bin'), shard.subarray(0, 1000));
    await assert.rejects(runConvert([manifest, '--out', out]), /hold 1000 bytes; its 151 weights need/);
    assert.equal(existsSync(out), false);
  });

  it('options of other formats are refused; the shard beside the manifest converts, uint8 or --float', async () => {
    copyFileSync(
      path.join(FACEAPI_MODEL_DIR, 'ssd_mobilenetv1_model.bin'),
      path.join(dir, 'ssd_mobilenetv1_model.bin'),
    );
    const out = path.join(dir, 'faces.onnx');
    await assert.rejects(
      runConvert([manifest, '--out', out, '--arch', 'ssd300-voc']),
      /--arch is not for a tfjs weights manifest/,
    );
    const logged: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => {
      logged.push(args.join(' '));
    };
    try {
      await runConvert([manifest, '--out', out]);
      await runConvert([manifest, '--out', path.join(dir, 'faces-float.onnx'), '--float']);
    } finally {
      console.log = log;
    }
    assert.match(
      logged[0],
      /MiB ONNX \(\d+ nodes\) from a tfjs weights manifest \(151 tensors, 5\.56 M parameters, uint8 weights\)/,
    );
    assert.match(
      logged[1],
      /5118 anchors, classes background \+ face; 17 graph constants face-api ignores were skipped/,
    );
    const small = readFileSync(out),
      float = readFileSync(path.join(dir, 'faces-float.onnx'));
    assert.ok(small.length < 6.5e6 && float.length > 22e6, `${small.length} and ${float.length} bytes`);
    const meta = readModelMetadata(small);
    assert.equal(meta['ssd-edge.convertedFrom'], 'ssd_mobilenetv1_model-weights_manifest.json');
    assert.equal(meta['ssd-edge.arch'], 'faceapi-ssd-mobilenet-v1');
  });
});

/**
 * face-api's SSD MobileNet V1 face detector (@vladmandic/face-api, a devDependency: the weights
 * manifest, its shard and the demo photos come from node_modules), converted from its tfjs
 * weights manifest and checked against face-api itself, run in this process (faceapi-node.ts):
 *
 * - the network and post-processing: the converted ONNX on face-api's own input tensor, decoded
 *   by ssd-edge's post-processor from the model's metadata, gives face-api's faces: same count,
 *   boxes within 1 px, scores within 1e-3;
 * - createDetector({ model }) with no preset, given face-api's resized 512 × 512 input as pixels
 *   (rounded to bytes, which alone moves a score by up to 0.007): face-api's faces, boxes within
 *   1.5 px, scores within 0.01;
 * - end to end: createDetector on the photo itself, which the model's metadata pads to a square
 *   (fit 'pad') and resizes with TF's legacy rule (resize 'tf-legacy') as face-api does: the same
 *   faces, IoU ≥ 0.95 in image pixels, boxes within 1.5 px, scores within 0.02 (issue 12's bar;
 *   measured: IoU ≥ 0.995, 0.63 px, 1.1e-5). The boxes differ only because face-api maps them back
 *   through its rounded resize size (up to 0.1 % off, 1.9 px on a 1920-pixel photo); the runtime
 *   maps them exactly. The photos are decoded once, with sharp, for both.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { convertModel, detectFormat, padImageToSquare } from '../../src/convert/index.js';
import { createPostprocessor } from '../../src/core/postprocessor.js';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { createDetector } from '../../src/runtime/index.js';
import type { RawImage } from '../../src/runtime/types.js';
import {
  faceApiSample,
  FACEAPI_MANIFEST,
  FACEAPI_MODEL_DIR,
  loadFaceApi,
  type FaceApiReference,
} from './faceapi-node.js';

const PHOTOS = [1, 2];
type Box = [number, number, number, number];

function iou(a: Box, b: Box): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])),
    h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

async function decode(file: string): Promise<RawImage> {
  const sharp = (await import('sharp')).default;
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    channels: 3,
  };
}

describe('face-api SSD MobileNet V1 from its tfjs weights manifest', () => {
  let onnx: Uint8Array;
  let reference: FaceApiReference;
  const images = new Map<number, RawImage>();
  const located = new Map<number, Awaited<ReturnType<FaceApiReference['locate']>>>();
  const dir = mkdtempSync(path.join(tmpdir(), 'ssd-edge-faceapi-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  before(async () => {
    const bytes = new Uint8Array(readFileSync(FACEAPI_MANIFEST));
    assert.equal(detectFormat(bytes), 'tfjs');
    ({ onnx } = convertModel(bytes, { shards: (p) => new Uint8Array(readFileSync(path.join(FACEAPI_MODEL_DIR, p))) }));
    reference = await loadFaceApi();
    for (const n of PHOTOS) {
      const image = await decode(faceApiSample(n));
      images.set(n, image);
      located.set(n, await reference.locate(image.data as Uint8Array, image.width, image.height));
    }
  });

  it("records the anchors, face-api's post-processing and pre-processing; uint8 weights keep the file small", () => {
    assert.ok(onnx.length < 7e6, `${onnx.length} bytes`);
    const meta = readSsdEdgeMetadata(onnx)!;
    const post = meta.postprocess;
    assert.equal((post.priors as Float32Array).length, 5118 * 4);
    assert.deepEqual(
      [post.numClasses, post.scoreActivation, post.scoreThreshold, post.nmsThreshold, post.keepTopK],
      [2, 'sigmoid', 0.5, 0.5, 100],
    );
    assert.deepEqual(post.boxCoding, { scaleFactors: [10, 10, 5, 5], order: 'yxhw' });
    assert.deepEqual(meta.preprocess, {
      size: [512, 512],
      channels: 'rgb',
      mean: [127.5, 127.5, 127.5],
      std: [127.5, 127.5, 127.5],
      layout: 'nhwc',
      fit: 'pad',
      resize: 'tf-legacy',
    });
    assert.match(new TextDecoder().decode(onnx.subarray(-4096)), /"padToSquare":"bottom-right, zeros"/);
  });

  it('models/face-ssd-mobilenet-v1.onnx is this conversion, byte for byte (as `ssd-edge convert` writes it)', () => {
    const committed = readFileSync(new URL('../../../models/face-ssd-mobilenet-v1.onnx', import.meta.url));
    const { onnx: again } = convertModel(readFileSync(FACEAPI_MANIFEST), {
      shards: (p) => new Uint8Array(readFileSync(path.join(FACEAPI_MODEL_DIR, p))),
      metadata: { 'ssd-edge.convertedFrom': 'ssd_mobilenetv1_model-weights_manifest.json' },
    });
    assert.ok(
      Buffer.compare(committed, again) === 0,
      `models/face-ssd-mobilenet-v1.onnx (${committed.length} bytes) differs from a fresh conversion (${again.length})`,
    );
    // the model card names this file's size and checksum
    const card = readFileSync(new URL('../../../models/README.md', import.meta.url), 'utf8');
    const stated = /`face-ssd-mobilenet-v1\.onnx`, ([\d,]+) bytes, SHA-256\s+`([0-9a-f]{64})`/.exec(card);
    assert.ok(stated, 'models/README.md states the size and SHA-256 of face-ssd-mobilenet-v1.onnx');
    assert.deepEqual(
      [Number(stated[1].replaceAll(',', '')), stated[2]],
      [committed.length, createHash('sha256').update(committed).digest('hex')],
      'models/README.md: size and SHA-256 of face-ssd-mobilenet-v1.onnx',
    );
  });

  for (const n of PHOTOS) {
    it(`sample${n}.jpg: the converted network on face-api's input gives face-api's faces (boxes within 1 px, scores within 1e-3)`, async (t) => {
      const image = images.get(n)!;
      const { faces, input, pad } = located.get(n)!;
      assert.ok(faces.length > 0, 'face-api finds faces');
      const ort = await import('onnxruntime-node');
      const session = await ort.InferenceSession.create(onnx);
      const x = Float32Array.from(input, (v) => (v - 127.5) / 127.5);
      const out = await session.run({ image: new ort.Tensor('float32', x, [1, 512, 512, 3]) });
      const post = await createPostprocessor(readSsdEdgeMetadata(onnx)!.postprocess);
      const found = post.run(out.loc.data as Float32Array, out.conf.data as Float32Array)[0];
      post.dispose();
      await session.release();
      // face-api's geometry: clip to [0, 1] after NMS, then × pad, then × the image size.
      const clip = (v: number) => Math.min(Math.max(v, 0), 1);
      const ours = found.map((d) => ({
        score: d.score,
        box: [
          clip(d.box[0]) * pad.x * image.width,
          clip(d.box[1]) * pad.y * image.height,
          clip(d.box[2]) * pad.x * image.width,
          clip(d.box[3]) * pad.y * image.height,
        ] as Box,
      }));
      assert.equal(ours.length, faces.length, `${ours.length} faces, face-api ${faces.length}`);
      let boxError = 0,
        scoreError = 0;
      faces.forEach((f, i) => {
        f.box.forEach((v, k) => {
          boxError = Math.max(boxError, Math.abs(ours[i].box[k] - v));
        });
        scoreError = Math.max(scoreError, Math.abs(ours[i].score - f.score));
      });
      t.diagnostic(
        `sample${n}: ${faces.length} faces; max box difference ${boxError.toFixed(3)} px, max score difference ${scoreError.toExponential(2)}`,
      );
      assert.ok(boxError <= 1, `box difference ${boxError} px`);
      assert.ok(scoreError <= 1e-3, `score difference ${scoreError}`);
    });
  }

  it("createDetector({ model }) with no preset, on face-api's input pixels: face-api's faces within 1.5 px, scores within 0.01; on the photos: IoU ≥ 0.95, 1.5 px, scores within 0.02", async (t) => {
    const file = path.join(dir, 'faces.onnx');
    writeFileSync(file, onnx);
    const detector = await createDetector({ model: file, backend: 'node' });
    try {
      for (const n of PHOTOS) {
        const image = images.get(n)!;
        const { faces, input, pad } = located.get(n)!;
        // face-api's network input as a 512 × 512 image: the runtime's resize is then the identity.
        const pixels = await detector.detect({
          data: Uint8Array.from(input, (v) => Math.round(v)),
          width: 512,
          height: 512,
          channels: 3,
        });
        const scaled = pixels.map((d) => ({
          ...d,
          pixelBox: [
            d.box[0] * pad.x * image.width,
            d.box[1] * pad.y * image.height,
            d.box[2] * pad.x * image.width,
            d.box[3] * pad.y * image.height,
          ] as Box,
        }));
        const photo = await detector.detect(image);
        for (const [what, found, boxTolerance, iouFloor, scoreTolerance] of [
          ["face-api's input pixels", scaled, 1.5, 0, 0.01],
          ['the photo', photo, 1.5, 0.95, 0.02],
        ] as const) {
          assert.equal(
            found.length,
            faces.length,
            `sample${n}, ${what}: ${found.length} faces, face-api ${faces.length}`,
          );
          let worstIou = 1,
            boxError = 0,
            scoreError = 0;
          for (const f of faces) {
            const match = found.reduce((best, d) => (iou(d.pixelBox, f.box) > iou(best.pixelBox, f.box) ? d : best));
            worstIou = Math.min(worstIou, iou(match.pixelBox, f.box));
            f.box.forEach((v, k) => {
              boxError = Math.max(boxError, Math.abs(match.pixelBox[k] - v));
            });
            scoreError = Math.max(scoreError, Math.abs(match.score - f.score));
          }
          t.diagnostic(
            `sample${n}, ${what}: ${faces.length} faces; worst IoU ${worstIou.toFixed(4)}, ` +
              `max box difference ${boxError.toFixed(2)} px, max score difference ${scoreError.toExponential(2)}`,
          );
          assert.ok(worstIou >= iouFloor, `sample${n}, ${what}: IoU ${worstIou}`);
          assert.ok(boxError <= boxTolerance, `sample${n}, ${what}: box difference ${boxError} px`);
          assert.ok(scoreError <= scoreTolerance, `sample${n}, ${what}: score difference ${scoreError}`);
          assert.ok(found.every((d) => d.label === 'face'));
        }
      }
    } finally {
      await detector.dispose();
    }
  });

  it("is the built-in model 'face-ssd-mobilenet-v1': the same faces by name as from the converted file", async () => {
    const file = path.join(dir, 'faces-by-file.onnx');
    writeFileSync(file, onnx);
    const [byName, byFile] = await Promise.all([
      createDetector({ model: 'face-ssd-mobilenet-v1', backend: 'node' }),
      createDetector({ model: file, backend: 'node' }),
    ]);
    try {
      const image = padImageToSquare(images.get(PHOTOS[0])!);
      const faces = await byName.detect(image);
      assert.ok(faces.length > 0 && faces.every((d) => d.label === 'face'));
      assert.deepEqual(faces, await byFile.detect(image));
    } finally {
      await Promise.all([byName.dispose(), byFile.dispose()]);
    }
  });
});

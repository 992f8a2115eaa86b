/**
 * The MediaPipe BlazeFace path on a small file made here: a tiny model with BlazeFace's interface
 * (tests/mediapipe/tiny-blazeface.ts), written as a .tflite by tests/convert/tflite-writer.ts,
 * converted with the 'mediapipe-blazeface' preset as `ssd-edge convert --preset
 * mediapipe-blazeface` does. The converted model's heads equal a plain-TypeScript evaluation of
 * the tiny graph; its detections through createDetector equal what MediaPipe's calculators
 * (tests/mediapipe/calculators.ts) make of those heads; broken copies get the converter's errors.
 * The real model's test (blazeface.test.ts) checks the same path against TensorFlow Lite itself.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  convertModel,
  convertPreset,
  convertTfliteModel,
  readTflite,
  type TfliteModel,
} from '../../src/convert/index.js';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { createDetector } from '../../src/runtime/detector.js';
import { maxRelativeError, random } from '../helpers.js';
import { openBlazefaceSession, type BlazefaceSession } from '../mediapipe/blazeface-session.js';
import { blazefaceDetections } from '../mediapipe/calculators.js';
import { readBlazefaceAnchors } from '../mediapipe/fixtures.js';
import {
  evaluateTinyBlazeface,
  RED_FACE,
  TINY_FACE_ANCHORS,
  tinyBlazefaceModel,
  tinyFaceImage,
  tinyFaceInput,
  WHITE_FACE,
} from '../mediapipe/tiny-blazeface.js';
import { writeTflite } from './tflite-writer.js';

describe('a small BlazeFace-shaped .tflite through the MediaPipe path', () => {
  const tflite = writeTflite(tinyBlazefaceModel());
  const converted = convertModel(tflite, { format: 'tflite', preset: 'mediapipe-blazeface' });
  const image = tinyFaceImage();
  const input = tinyFaceInput(image);
  let session: BlazefaceSession;
  before(async () => {
    session = await openBlazefaceSession(converted.onnx);
  });
  after(() => session.release());

  it('is a few KB that reads back as written: 12 operators, the input and the two outputs', () => {
    assert.ok(tflite.length < 32_768, `${tflite.length} bytes`);
    const model = readTflite(tflite);
    assert.deepEqual(
      model.operators.map((op) => op.name),
      [
        'AVERAGE_POOL_2D',
        'DEPTHWISE_CONV_2D',
        ...Array<string>(4).fill('CONV_2D'),
        ...Array<string>(4).fill('RESHAPE'),
        'CONCATENATION',
        'CONCATENATION',
      ],
    );
    assert.deepEqual(model.tensors[model.inputs[0]].shape, [1, 128, 128, 3]);
    assert.deepEqual(
      model.outputs.map((i) => [model.tensors[i].name, model.tensors[i].shape]),
      [
        ['regressors', [1, 896, 16]],
        ['classificators', [1, 896, 1]],
      ],
    );
    const filter = model.tensors[model.operators[1].inputs[1]];
    assert.deepEqual(filter.shape, [1, 2, 2, 3]);
    assert.deepEqual(
      new Float32Array(filter.data!.slice().buffer),
      Float32Array.from([0.125, 0.5, 0.25, 0.375, 0.25, 0.25, 0.25, 0.125, 0.25, 0.25, 0.125, 0.25]),
    );
    assert.equal(converted.report.boxTensor, 'regressors');
    assert.equal(converted.report.scoreTensor, 'classificators');
    assert.equal(converted.report.anchors, 896);
    assert.equal(converted.report.tfliteOperators, 12);
  });

  it('gives the plain-TypeScript evaluation of the graph within 1e-5, on the face image and on noise', async () => {
    const noise = random(12);
    const inputs = { faces: input, noise: Float32Array.from(input, () => 2 * noise() - 1) };
    for (const [name, x] of Object.entries(inputs)) {
      const onnx = await session.run(x);
      const expected = evaluateTinyBlazeface(x);
      const loc = maxRelativeError(onnx.regressors, expected.regressors);
      const conf = maxRelativeError(onnx.classificators, expected.classificators);
      assert.ok(loc <= 1e-5, `${name}: regressors differ by ${loc.toExponential(2)} (relative)`);
      assert.ok(conf <= 1e-5, `${name}: classificators differ by ${conf.toExponential(2)} (relative)`);
    }
  });

  it('scores the hand-computed anchors above 0.5 and no other: 8 on the white square, 6 on the red one', async () => {
    const { classificators } = await session.run(input);
    const firing = [...classificators.keys()].filter((i) => classificators[i] > 0);
    assert.deepEqual(firing, TINY_FACE_ANCHORS);
    // clear margins: the weakest face logit 0.75 (score 0.68), the strongest other one −1.5 (0.18)
    const others = [...classificators].filter((_, i) => !TINY_FACE_ANCHORS.includes(i));
    assert.ok(Math.min(...firing.map((i) => classificators[i])) >= 0.75);
    assert.ok(Math.max(...others) <= -1.5, `${Math.max(...others)}`);
  });

  it("detects through createDetector what MediaPipe's calculators detect from the evaluated heads: the same anchors, boxes and keypoints within 1e-5, the same scores", async (t) => {
    const heads = evaluateTinyBlazeface(input);
    const expected = blazefaceDetections(heads.regressors, heads.classificators, readBlazefaceAnchors());
    const detector = await createDetector({ model: converted.onnx, threads: 1 });
    try {
      const found = await detector.detect(image);
      t.diagnostic(
        found
          .map((d) => `anchor ${d.priorIndex} score ${d.score.toFixed(4)} box ${d.pixelBox.map((v) => v.toFixed(1))}`)
          .join('; '),
      );
      assert.deepEqual(
        found.map((d) => d.priorIndex),
        expected.map((e) => e.anchor),
      );
      found.forEach((d, i) => {
        const e = expected[i];
        assert.equal(d.score, e.score[0], `detection ${i}: score`);
        [e.xmin, e.ymin, e.xmin + e.width, e.ymin + e.height].forEach((v, k) =>
          assert.ok(Math.abs(d.box[k] - v) <= 1e-5, `detection ${i}: box[${k}] ${d.box[k]}, expected ${v}`),
        );
        assert.equal(d.keypoints!.length, 6);
        e.keypoints.forEach((p, k) => {
          const [x, y] = d.keypoints![k];
          assert.ok(
            Math.abs(x - p.x) <= 1e-5 && Math.abs(y - p.y) <= 1e-5,
            `detection ${i}: keypoint ${k} (${x}, ${y}), expected (${p.x}, ${p.y})`,
          );
        });
      });
      // and where the squares are: one face centred in each (weighted NMS blends each square's anchors)
      const centred = ([x0, y0, x1, y1]: readonly number[]) =>
        found.filter((d) => {
          const [cx, cy] = [(d.pixelBox[0] + d.pixelBox[2]) / 2, (d.pixelBox[1] + d.pixelBox[3]) / 2];
          return cx >= x0 && cx < x1 && cy >= y0 && cy < y1;
        });
      assert.ok(centred(WHITE_FACE).length >= 1, 'a face on the white square');
      assert.equal(centred(RED_FACE).length, 1, 'one face on the red square');
    } finally {
      await detector.dispose();
    }
  });

  it('converts through `ssd-edge convert --preset mediapipe-blazeface`, and without the preset says what it needs', async () => {
    const cli = new URL('../../src/cli/main.js', import.meta.url).pathname;
    const dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-blazeface-small-'));
    try {
      const input = path.join(dir, 'tiny.tflite');
      await writeFile(input, tflite);
      const out = path.join(dir, 'tiny.onnx');
      const { stdout } = await promisify(execFile)(process.execPath, [
        cli,
        'convert',
        input,
        '--preset',
        'mediapipe-blazeface',
        '--out',
        out,
      ]);
      assert.match(stdout, /loc ← 'regressors', conf ← 'classificators'; 896 anchors, 1 score columns/);
      const written = readSsdEdgeMetadata(await readFile(out))!;
      const expected = readSsdEdgeMetadata(converted.onnx)!;
      assert.deepEqual(written.postprocess, expected.postprocess);
      assert.deepEqual(written.preprocess, expected.preprocess);
      await assert.rejects(
        promisify(execFile)(process.execPath, [cli, 'convert', input, '--out', path.join(dir, 'never.onnx')]),
        (error: { stderr: string }) => /anchors are not in the file: pass anchors/.test(error.stderr),
      );
      assert.deepEqual((await readdir(dir)).sort(), ['tiny.onnx', 'tiny.tflite']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a truncated copy and outputs that are not BlazeFace’s [1, 896, 16] and [1, 896, 1], naming the problem', () => {
    assert.throws(
      () => convertModel(tflite.subarray(0, Math.floor(tflite.length / 2)), { preset: 'mediapipe-blazeface' }),
      /outside the file.*truncated or corrupt/,
    );
    // one anchor a cell on the 16 × 16 map: 256 + 384 rows
    const wrongShape = writeTflite(tinyBlazefaceModel({ anchorsPerCell16: 1 }));
    assert.throws(
      () => convertModel(wrongShape, { preset: 'mediapipe-blazeface' }),
      /the anchors given are 896, but the model's outputs have 640 box rows and 640 score rows/,
    );
    const withRegressors = (shape: number[]): TfliteModel => {
      const model = readTflite(tflite);
      const regressors = model.tensors.find((t) => t.name === 'regressors')!;
      model.tensors[regressors.index] = { ...regressors, shape };
      return model;
    };
    const preset = convertPreset('mediapipe-blazeface');
    assert.throws(
      () => convertTfliteModel(withRegressors([1, 800, 16]), preset),
      /the anchors given are 896, but the model's outputs have 800 box rows and 896 score rows/,
    );
    // boxes without keypoints: the metadata would promise 6 keypoints that the rows do not hold
    assert.throws(
      () => convertTfliteModel(withRegressors([1, 896, 4]), preset),
      /box encodings 'regressors' have 4 values per anchor; the post-processing given reads 16 \(4 box values and 6 keypoints\)/,
    );
  });
});

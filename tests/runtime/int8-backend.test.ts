/**
 * Backend 'int8': createDetector runs a uint8 TFLite SSD (the built-in COCO model's .tflite twin,
 * or a .tflite file) on the core's own uint8 kernels. Checked against TensorFlow Lite's own
 * detections (tests/fixtures/tflite-coco, from tfjs-tflite in Chromium) and against the exact ONNX
 * conversion on onnxruntime-node; and the paths that must fail, fail with the reason.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { COCO91_LABELS } from '../../src/core/labels.js';
import { BLAZEFACE_ANCHORS, BLAZEFACE_POSTPROCESS, BLAZEFACE_PREPROCESS } from '../../src/convert/tflite/mediapipe.js';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { createDetector } from '../../src/runtime/detector.js';
import { liveWorkers } from '../../src/int8/threads.js';
import type { PostprocessConfig } from '../../src/core/types.js';
import { readTfliteCocoFixtures, type TfliteCocoFixture } from '../tflite-reference/fixtures.js';

const MODELS = new URL('../../../models/', import.meta.url);
const COCO_TFLITE = fileURLToPath(new URL('mobilenet_ssd_v2_coco_quant_postprocess.tflite', MODELS));
const BLAZEFACE_TFLITE = fileURLToPath(new URL('face_detection_short_range.tflite', MODELS));
const DOG = fileURLToPath(new URL('../../../samples/dog.jpg', import.meta.url));

describe("backend 'int8'", () => {
  let fixtures: TfliteCocoFixture[];
  before(async () => {
    fixtures = await readTfliteCocoFixtures();
  });

  it("gives TensorFlow Lite's detections on every sample photo (the built-in model's .tflite twin)", async () => {
    const detector = await createDetector({ model: 'ssd-mobilenet-v2-coco', backend: 'int8' });
    try {
      assert.equal(detector.backend, 'int8');
      assert.equal(detector.threads, 1);
      assert.match(
        detector.backendReason,
        /^backend 'int8' asked for; wasm SIMD kernels \((this engine has no wasm relaxed SIMD|this engine's relaxed integer dot product failed a known-answer check|the engine has relaxed SIMD, measured no faster here)\)$/,
      );
      assert.ok(fixtures.length >= 5);
      for (const f of fixtures) {
        // the 300 × 300 input TFLite was fed: resizing it to 300 × 300 leaves every byte as it is
        const found = await detector.detect({ data: f.input, width: 300, height: 300, channels: 3 });
        const expected = f.postprocess;
        assert.equal(found.length, expected.count, `${f.name}: detection count`);
        found.forEach((d, i) => {
          assert.equal(d.classId, expected.classes[i] + 1, `${f.name} #${i}: class`);
          assert.equal(d.label, COCO91_LABELS[expected.classes[i] + 1]);
          assert.ok(
            Math.abs(d.score - expected.scores[i]) < 1e-6,
            `${f.name} #${i}: score ${d.score} vs ${expected.scores[i]}`,
          );
          const [ymin, xmin, ymax, xmax] = expected.boxes.subarray(4 * i, 4 * i + 4);
          [xmin, ymin, xmax, ymax].forEach((v, k) =>
            assert.ok(Math.abs(d.box[k] - v) < 1e-6, `${f.name} #${i}: box[${k}] ${d.box[k]} vs ${v}`),
          );
        });
      }
    } finally {
      await detector.dispose();
    }
  });

  it('labels the built-in twin as the ONNX model does, and equals it on onnxruntime-node bit for bit', async () => {
    const onnxLabels = readSsdEdgeMetadata(new Uint8Array(readFileSync(new URL('ssd-mobilenet-v2-coco.onnx', MODELS))))!
      .postprocess.labels;
    const int8 = await createDetector({ model: 'ssd-mobilenet-v2-coco', backend: 'int8' });
    const node = await createDetector({ model: 'ssd-mobilenet-v2-coco', backend: 'node', threads: 1 });
    try {
      assert.deepEqual(int8.config.labels, onnxLabels);
      const [a, b] = [await int8.detect(DOG), await node.detect(DOG)];
      assert.ok(
        a.some((d) => d.label === 'dog' && d.score > 0.9),
        JSON.stringify(a.slice(0, 3)),
      );
      assert.deepEqual(a, b);
      // setThresholds re-runs the post-processing on the int8 heads kept from that call
      const strict = await int8.setThresholds({ scoreThreshold: 0.5 });
      assert.deepEqual(
        strict?.[0],
        a.filter((d) => d.score >= 0.5),
      );
    } finally {
      await Promise.all([int8.dispose(), node.dispose()]);
    }
  });

  it('threads: 2 runs the kernels on two threads with the same detections, and dispose() ends the worker', async () => {
    const one = await createDetector({ model: 'ssd-mobilenet-v2-coco', backend: 'int8' });
    const two = await createDetector({ model: 'ssd-mobilenet-v2-coco', backend: 'int8', threads: 2 });
    try {
      assert.equal(two.threads, 2, two.backendReason);
      assert.match(
        two.backendReason,
        /^backend 'int8' asked for; wasm SIMD kernels \(the two-thread build is SIMD\); 2 thread\(s\): /,
      );
      assert.equal(liveWorkers(), 1);
      assert.deepEqual(await two.detect(DOG), await one.detect(DOG));
    } finally {
      await Promise.all([one.dispose(), two.dispose()]);
    }
    assert.equal(liveWorkers(), 0);
  });

  it('runs a .tflite file given by path, with no preset (the file records its post-processing)', async () => {
    const detector = await createDetector({ model: COCO_TFLITE, backend: 'int8', labels: COCO91_LABELS });
    try {
      const found = await detector.detect(DOG);
      assert.deepEqual(
        found.slice(0, 3).map((d) => d.label),
        ['dog', 'bicycle', 'car'],
      );
      assert.equal(detector.config.tfliteNms?.useRegularNms, false);
      assert.equal(detector.inputSpec.inputType, 'uint8');
    } finally {
      await detector.dispose();
    }
  });

  it("'auto' in Node with onnxruntime-node installed runs the ONNX model on it (faster than one int8 thread)", async () => {
    const detector = await createDetector({ model: 'ssd-mobilenet-v2-coco' });
    try {
      assert.equal(detector.backend, 'node');
      assert.match(detector.backendReason, /onnxruntime-node is installed/);
    } finally {
      await detector.dispose();
    }
  });

  it("'node' runs a .tflite file as its exact ONNX conversion, with the same detections", async () => {
    const node = await createDetector({ model: COCO_TFLITE, backend: 'node', threads: 1 });
    const int8 = await createDetector({ model: COCO_TFLITE, backend: 'int8' });
    try {
      assert.equal(node.backend, 'node');
      assert.deepEqual(await node.detect(DOG), await int8.detect(DOG));
    } finally {
      await Promise.all([node.dispose(), int8.dispose()]);
    }
  });

  describe('a float .tflite without the detection op (MediaPipe BlazeFace)', () => {
    const preset: PostprocessConfig = { ...BLAZEFACE_POSTPROCESS, priors: BLAZEFACE_ANCHORS, numClasses: 1 };

    // (where 'auto' would pick the int8 kernels — a browser — it passes them over, saying why: tests/browser/bundle.test.ts)
    it("'auto' runs it on onnxruntime, converted in memory", async () => {
      const detector = await createDetector({ model: BLAZEFACE_TFLITE, preset, preprocess: BLAZEFACE_PREPROCESS });
      try {
        assert.equal(detector.backend, 'node');
        assert.equal(detector.backendReason, 'auto: onnxruntime-node is installed');
        const faces = await detector.detect(fileURLToPath(new URL('../../../samples/astronaut.jpg', import.meta.url)));
        assert.equal(faces.filter((f) => f.score > 0.5).length, 1, JSON.stringify(faces));
        // the six keypoints (eyes, nose, mouth, ears) in the photo's pixels, inside the face's box
        const [face] = faces,
          [xmin, ymin, xmax, ymax] = face.pixelBox;
        assert.equal(face.pixelKeypoints?.length, 6);
        face.pixelKeypoints!.forEach(([x, y], k) => {
          assert.deepEqual([x, y], [face.keypoints![k][0] * 512, face.keypoints![k][1] * 512]);
          assert.ok(
            x > xmin - 10 && x < xmax + 10 && y > ymin - 10 && y < ymax + 10,
            `keypoint ${k} (${x}, ${y}) outside the face ${face.pixelBox}`,
          );
        });
      } finally {
        await detector.dispose();
      }
    });

    it("backend 'int8' refuses it, naming the operator and the way out", async () => {
      await assert.rejects(
        createDetector({ model: BLAZEFACE_TFLITE, preset, preprocess: BLAZEFACE_PREPROCESS, backend: 'int8' }),
        /^Error: backend 'int8' cannot run model '.*face_detection_short_range\.tflite': the model input: tensor 0 'input' is float32; the int8 path runs per-tensor uint8 tensors only; backend 'auto' runs its ONNX conversion on onnxruntime$/,
      );
    });

    it('without a preset, asks for one', async () => {
      await assert.rejects(
        createDetector({ model: BLAZEFACE_TFLITE }),
        /cannot load model .*: the model has no TFLite_Detection_PostProcess operator.*\(createDetector: pass preset, a PostprocessConfig with its priors\)$/,
      );
    });
  });

  it('refuses what it cannot do, before loading anything heavy', async () => {
    await assert.rejects(
      createDetector({ model: 'shapes', backend: 'int8' }),
      /backend 'int8' runs uint8 TensorFlow Lite SSDs .*; model 'shapes' \(built-in\) is ONNX: use backend 'auto', 'node', 'wasm' or 'webgpu'/,
    );
    await assert.rejects(
      createDetector({ model: 'ssd-mobilenet-v2-coco', backend: 'int8', threads: 3 }),
      (error: Error) =>
        error instanceof RangeError &&
        /threads is 3, but backend 'int8' runs one or two threads; pass 1 or 2/.test(error.message),
    );
    const truncated = new Uint8Array(readFileSync(COCO_TFLITE)).subarray(0, 100_000);
    await assert.rejects(
      createDetector({ model: truncated, backend: 'int8' }),
      /^Error: cannot load model \(100000 bytes\): /,
    );
  });
});

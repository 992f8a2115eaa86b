/**
 * createDetector end to end on tiny constant-output SSD models (tests/runtime/onnx-models.ts):
 * detections equal the core's on the same outputs, boxes in pixels, every image input, both
 * Node backends, batches, metadata-driven configuration, model/preset mismatches, bad options,
 * and a detector that keeps working after every rejected call.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { createPostprocessor, type Postprocessor } from '../../src/core/postprocessor.js';
import { presets } from '../../src/core/presets.js';
import type { Detection } from '../../src/core/types.js';
import { createDetector, type Detector } from '../../src/runtime/detector.js';
import { inputPresets } from '../../src/runtime/input-presets.js';
import { preprocess } from '../../src/runtime/preprocess.js';
import type { DetectorOptions, ImageDetection, RawImage } from '../../src/runtime/types.js';
import { assertSameDetections, random } from '../helpers.js';
import { writeTestImages, type TestImages } from './images.js';
import { ssdModel, ssdOutputs } from './onnx-models.js';

const P = 8732,
  C = 21;
const HITS = [
  { prior: 100, classId: 12, logit: 10 },
  { prior: 5000, classId: 7, logit: 8 },
];
const PROBE = { prior: 200, classId: 5 }; // its logit is the input tensor's mean
const { loc, conf } = ssdOutputs(P, C, HITS);
const MODEL = ssdModel({ numPriors: P, numClasses: C, loc, conf, probe: PROBE });

function uniform(width: number, height: number, value: number, channels: 1 | 3 | 4 = 3): RawImage {
  return { data: new Uint8Array(width * height * channels).fill(value), width, height, channels };
}

const WHITE = uniform(300, 300, 255);
const BLACK = uniform(300, 300, 0);
const NOISE: RawImage = {
  data: new Uint8Array(320 * 240 * 3).map(random(11)).map((v) => Math.floor(v * 256)),
  width: 320,
  height: 240,
};

let post: Postprocessor;
let images: TestImages;
let detector: Detector;
before(async () => {
  [post, images, detector] = await Promise.all([
    createPostprocessor('ssd300Voc'),
    writeTestImages(),
    createDetector({ model: MODEL, preset: 'ssd300Voc', backend: 'node' }),
  ]);
});
after(async () => {
  await detector.dispose();
  await images.remove();
});

/** What the core gives on the model's constant outputs for this image (the probe adds the tensor mean). */
function expected(image: RawImage): Detection[] {
  const tensor = preprocess(image, inputPresets.ssd300Voc);
  const mean = tensor.reduce((sum, v) => sum + v, 0) / tensor.length;
  const probed = conf.slice();
  probed[PROBE.prior * C + PROBE.classId] += mean;
  return post.run(loc, probed)[0];
}

/** Scores differ from `expected` in the last bits only: onnxruntime sums the mean in float32. */
function assertDetections(actual: ImageDetection[], image: RawImage, context: string): void {
  assertSameDetections(actual, expected(image), context, 0, 1e-5);
  for (const d of actual) {
    const [x0, y0, x1, y1] = d.box;
    assert.deepEqual(
      d.pixelBox,
      [x0 * image.width, y0 * image.height, x1 * image.width, y1 * image.height],
      `${context}: pixelBox`,
    );
  }
}

describe('detections', () => {
  it('equal the core on the model outputs, with labels; the probe shows the image reached the model', async () => {
    const white = await detector.detect(WHITE);
    assertDetections(white, WHITE, 'white');
    const found = (classId: number, prior: number) =>
      white.find((d) => d.classId === classId && d.priorIndex === prior);
    assert.equal(found(12, 100)?.label, 'dog');
    assert.equal(found(7, 5000)?.label, 'car');
    assert.equal(found(5, 200)?.label, 'bottle', 'a white image lifts the probe logit to ~140');
    const black = await detector.detect(BLACK);
    assertDetections(black, BLACK, 'black');
    assert.equal(
      black.find((d) => d.priorIndex === 200),
      undefined,
      'a black image sinks it to ~−115',
    );
  });

  it('pixelBox scales the normalised box by a non-square image', async () => {
    assertDetections(await detector.detect(NOISE), NOISE, '320 × 240 noise');
    const wide = uniform(640, 120, 255);
    const detections = await detector.detect(wide);
    assertDetections(detections, wide, '640 × 120');
    assert.ok(detections.length >= 3);
  });

  it('reports the backend, threads, specs and stage timings', () => {
    assert.deepEqual([detector.backend, detector.threads > 0, detector.adapter], ['node', true, undefined]);
    assert.deepEqual(detector.inputSpec, inputPresets.ssd300Voc);
    assert.equal(detector.config.numClasses, 21);
    const timings = detector.lastTimings!;
    assert.deepEqual(Object.keys(timings), ['decode', 'preprocess', 'inference', 'postprocess']);
    assert.ok(
      Object.values(timings).every((ms) => ms >= 0 && ms < 10_000),
      JSON.stringify(timings),
    );
  });
});

describe('images from files (sharp)', () => {
  it('PNG, JPEG, grey PNG and RGBA PNG, by path or bytes, give the detections of the same pixels', async () => {
    const white = (width: number, height: number) => uniform(width, height, 255);
    for (const [path, pixels] of [
      [images.whitePng, white(64, 48)],
      [images.whiteJpeg, white(64, 48)],
      [images.greyPng, white(40, 30)],
      [images.rgbaPng, white(40, 30)],
      [images.blackPng, uniform(64, 48, 0)],
    ] as const) {
      assertDetections(await detector.detect(path), pixels, path);
      assertDetections(await detector.detect(await readFile(path)), pixels, `${path} as bytes`);
    }
  });

  it('grey and RGBA raw pixels are converted the same way', async () => {
    assertDetections(await detector.detect(uniform(30, 20, 255, 1)), uniform(30, 20, 255), 'grey');
    assertDetections(await detector.detect(uniform(30, 20, 255, 4)), uniform(30, 20, 255), 'RGBA');
    const imageData = { data: new Uint8ClampedArray(30 * 20 * 4).fill(255), width: 30, height: 20 };
    assertDetections(await detector.detect(imageData), uniform(30, 20, 255), 'ImageData-like');
  });
});

describe('rejected calls, each followed by a working one', () => {
  async function rejects(call: () => Promise<unknown>, message: RegExp): Promise<void> {
    await assert.rejects(call, message);
    assertDetections(await detector.detect(WHITE), WHITE, `after ${message}`);
  }

  it('bad image files', async () => {
    await rejects(
      () => detector.detect(images.emptyFile),
      /^Error: cannot read image '.*empty\.png': it is empty \(0 bytes\)$/,
    );
    await rejects(
      () => detector.detect(images.textJpg),
      /^Error: cannot read image '.*text\.jpg': not an image format/,
    );
    await rejects(() => detector.detect(images.truncatedJpeg), /^Error: cannot read image '.*truncated\.jpg'/);
    await rejects(
      () => detector.detect(`${images.dir}/missing.jpg`),
      /^Error: cannot read image '.*missing\.jpg': ENOENT/,
    );
    await rejects(
      () => detector.detect(images.hugePng),
      /^RangeError: image '.*huge\.png' is 30000 × 30000 pixels \(900 megapixels\)/,
    );
  });

  it('bad pixels and wrong types', async () => {
    await rejects(
      () => detector.detect({ data: new Uint8Array(10), width: 2, height: 2 }),
      /^RangeError: image has 10 values for 2 × 2 pixels/,
    );
    await rejects(
      () => detector.detect(42 as unknown as string),
      /^TypeError: detect\(\) takes an image file path, its bytes \(Uint8Array\), or pixels \{ data, width, height, channels\? \} \(ImageData is one\); got number$/,
    );
    await rejects(() => detector.detect(null as unknown as string), /got null$/);
    await rejects(
      () => detector.detectBatch(WHITE as unknown as RawImage[]),
      /^TypeError: detectBatch\(\) takes an array of images, got Object$/,
    );
    await rejects(() => detector.detectBatch([WHITE, images.emptyFile]), /it is empty/);
  });

  it('a per-detector pixel limit', async () => {
    const small = await createDetector({ model: MODEL, preset: 'ssd300Voc', backend: 'node', maxImagePixels: 1000 });
    await assert.rejects(
      small.detect(images.whitePng),
      /is 64 × 48 pixels \(0.00307 megapixels\), over the limit of 0.001 megapixels/,
    );
    assertDetections(await small.detect(uniform(40, 25, 255)), uniform(40, 25, 255), 'raw pixels are not limited');
    await small.dispose();
  });
});

describe('backends and batches', () => {
  it("'wasm' gives the detections of 'node'", async () => {
    const wasm = await createDetector({ model: MODEL, preset: 'ssd300Voc', backend: 'wasm' });
    assert.equal(wasm.backend, 'wasm');
    for (const image of [WHITE, BLACK, NOISE]) {
      assertSameDetections(await wasm.detect(image), await detector.detect(image), 'wasm vs node', 0, 1e-6);
    }
    await wasm.dispose();
  });

  it("'auto' is 'node' in Node; 'webgpu' says it needs a browser", async () => {
    const auto = await createDetector({ model: MODEL, preset: 'ssd300Voc', threads: 1 });
    assert.deepEqual([auto.backend, auto.threads], ['node', 1]);
    await auto.dispose();
    await assert.rejects(
      createDetector({ model: MODEL, preset: 'ssd300Voc', backend: 'webgpu' }),
      /backend 'webgpu' runs in browsers only/,
    );
  });

  it('detectBatch: one run for a dynamic batch, one per image for a fixed batch of 1; same detections', async () => {
    const batch = [WHITE, images.blackPng, NOISE];
    const pixels = [WHITE, uniform(64, 48, 0), NOISE];
    const fixed = await createDetector({
      model: ssdModel({ numPriors: P, numClasses: C, loc, conf, probe: PROBE, input: [1, 3, 300, 300] }),
      preset: 'ssd300Voc',
      backend: 'node',
    });
    for (const d of [detector, fixed]) {
      const results = await d.detectBatch(batch);
      assert.equal(results.length, 3);
      results.forEach((detections, i) => assertDetections(detections, pixels[i], `batch image ${i}`));
    }
    assert.deepEqual(await detector.detectBatch([]), []);
    await fixed.dispose();
  });

  it('concurrent calls all complete with their own results', async () => {
    const inputs = [WHITE, BLACK, NOISE, WHITE, images.whitePng];
    const results = await Promise.all(inputs.map((image) => detector.detect(image)));
    results.forEach((detections, i) => {
      const image = typeof inputs[i] === 'string' ? uniform(64, 48, 255) : (inputs[i] as RawImage);
      assertDetections(detections, image, `concurrent ${i}`);
    });
  });
});

describe('configuration', () => {
  it('overrides: labels, scoreThreshold, keepTopK', async () => {
    const labels = Array.from({ length: C }, (_, i) => `class ${i}`);
    const d = await createDetector({
      model: MODEL,
      preset: 'ssd300Voc',
      backend: 'node',
      labels,
      keepTopK: 2,
      scoreThreshold: 0.5,
    });
    const found = await d.detect(WHITE);
    assert.deepEqual(
      found.map((x) => [x.label, x.priorIndex]),
      [
        ['class 5', 200],
        ['class 12', 100],
      ],
    );
    assert.equal(d.config.keepTopK, 2);
    await d.dispose();
  });

  it('a preset object passed as is keeps its input preset', async () => {
    const d = await createDetector({ model: MODEL, preset: presets.ssd300Voc, backend: 'node' });
    assert.deepEqual(d.inputSpec, inputPresets.ssd300Voc);
    await d.dispose();
  });

  it('from the model metadata: a preset name and a PreprocessSpec', async () => {
    const spec = { ...inputPresets.ssd300Voc, channels: 'bgr', mean: [104, 117, 123] };
    const model = ssdModel({
      numPriors: P,
      numClasses: C,
      loc,
      conf,
      probe: PROBE,
      metadata: { 'ssd-edge.postprocess': '"ssd300Voc"', 'ssd-edge.preprocess': JSON.stringify(spec) },
    });
    const d = await createDetector({ model, backend: 'node' });
    assert.deepEqual(d.inputSpec, spec);
    assertDetections(await d.detect(WHITE), WHITE, 'metadata'); // the channel mean is the same either way
    await d.dispose();
  });

  it('from the model metadata: a full config with prior rows, a custom NHWC input of 64 × 48', async () => {
    const priors = Array.from({ length: 10 }, (_, i) => [0.1 * i + 0.05, 0.5, 0.1, 0.2]).flat();
    const config = {
      priors,
      numClasses: 3,
      scoreThreshold: 0.5,
      nmsThreshold: 0.5,
      topK: 10,
      keepTopK: 10,
      labels: ['bg', 'a', 'b'],
    };
    const spec = { size: [64, 48], channels: 'rgb', mean: [0, 0, 0], std: [255, 255, 255], layout: 'nhwc' };
    const outputs = ssdOutputs(10, 3, [{ prior: 4, classId: 2, logit: 10 }]);
    outputs.loc.fill(0);
    const model = ssdModel({
      numPriors: 10,
      numClasses: 3,
      ...outputs,
      input: ['batch', 48, 64, 3],
      metadata: { 'ssd-edge.postprocess': JSON.stringify(config), 'ssd-edge.preprocess': JSON.stringify(spec) },
    });
    const d = await createDetector({ model, backend: 'wasm' });
    const [only, ...rest] = await d.detect(uniform(100, 50, 255));
    assert.deepEqual(rest, []);
    assert.deepEqual([only.label, only.priorIndex], ['b', 4]);
    const [x0, y0, x1, y1] = [0.4, 0.4, 0.5, 0.6];
    only.box.forEach((v, i) => assert.ok(Math.abs(v - [x0, y0, x1, y1][i]) < 1e-6, `box ${only.box}`));
    only.pixelBox.forEach((v, i) => assert.ok(Math.abs(v - [40, 20, 50, 30][i]) < 1e-4, `pixelBox ${only.pixelBox}`));
    await d.dispose();
  });

  it('outputs named otherwise are taken in order (loc, then conf)', async () => {
    const model = ssdModel({
      numPriors: P,
      numClasses: C,
      loc,
      conf,
      probe: PROBE,
      outputNames: ['bbox_regression', 'cls_logits'],
    });
    const d = await createDetector({ model, preset: 'ssd300Voc', backend: 'node' });
    assertDetections(await d.detect(WHITE), WHITE, 'renamed outputs');
    await d.dispose();
  });

  it('TF-style: the tfSsdMobilenetV1Coco preset on an NHWC model with 1917 priors and 91 sigmoid classes', async () => {
    const outputs = ssdOutputs(1917, 91, [{ prior: 30, classId: 18, logit: 5 }]);
    outputs.conf.fill(-10); // sigmoid: every class is scored on its own
    outputs.conf[30 * 91 + 18] = 5;
    const model = ssdModel({ numPriors: 1917, numClasses: 91, ...outputs, input: [1, 300, 300, 3] });
    const d = await createDetector({ model, preset: 'tfSsdMobilenetV1Coco', backend: 'node', scoreThreshold: 0.5 });
    const found = await d.detect(WHITE);
    assert.deepEqual(
      found.map((x) => [x.label, x.priorIndex]),
      [['dog', 30]],
    );
    await d.dispose();
  });
});

describe('models that do not fit, and bad options', () => {
  const create = (options: Partial<DetectorOptions>) =>
    createDetector({ model: MODEL, preset: 'ssd300Voc', backend: 'node', ...options });

  it('prior count, class count, input size, outputs: the message says what disagrees', async () => {
    const tf = ssdOutputs(1917, 21, []);
    await assert.rejects(
      create({ model: ssdModel({ numPriors: 1917, numClasses: 21, ...tf }) }),
      /^Error: model outputs 1917 boxes but preset 'ssd300Voc' has 8732 priors$/,
    );
    const coco = ssdOutputs(P, 81, []);
    await assert.rejects(
      create({ model: ssdModel({ numPriors: P, numClasses: 81, ...coco }) }),
      /^Error: model outputs 81 class scores per box but preset 'ssd300Voc' has 21 classes \(numClasses\)$/,
    );
    await assert.rejects(
      create({ model: ssdModel({ numPriors: P, numClasses: C, loc, conf, input: [1, 3, 512, 512] }) }),
      /^Error: model input 'image' is float32 \[1, 3, 512, 512\], but the pre-processing makes \[1, 3, 300, 300\] \(300 × 300, nchw\): pass the preset or preprocess this model was trained with$/,
    );
    await assert.rejects(
      create({ model: ssdModel({ numPriors: P, numClasses: C, loc, conf, input: [4, 3, 300, 300] }) }),
      /a batch fixed at 4 is not supported/,
    );
    await assert.rejects(
      create({ model: MODEL, preset: presets.ssd512Voc }),
      /^Error: model input 'image' is float32 \[N, 3, 300, 300\], but the pre-processing makes \[1, 3, 512, 512\]/,
    );
    await assert.rejects(
      create({ model: MODEL, preset: { ...presets.ssd512Voc }, preprocess: inputPresets.ssd300Voc }),
      /^Error: model outputs 8732 boxes but this config has 24564 priors$/,
    );
  });

  it('corrupt, truncated, empty and missing model files', async () => {
    await assert.rejects(
      create({ model: MODEL.subarray(0, MODEL.length >> 1) }),
      /^Error: cannot load model \(\d+ bytes\): it is not a valid ONNX model \(truncated, or not an \.onnx file\)/,
    );
    await assert.rejects(
      create({ model: images.textJpg }),
      /^Error: cannot load model '.*text\.jpg': it is not a valid ONNX model/,
    );
    await assert.rejects(
      create({ model: images.emptyFile }),
      /^Error: cannot load model '.*empty\.png': it is empty \(0 bytes\)$/,
    );
    await assert.rejects(
      create({ model: `${images.dir}/none.onnx` }),
      /^Error: cannot load model '.*none\.onnx': ENOENT/,
    );
  });

  it('no post-processing known, no pre-processing known', async () => {
    await assert.rejects(
      create({ preset: undefined }),
      /^Error: model \(\d+ bytes\) records no post-processing \(metadata 'ssd-edge.postprocess'\): pass preset, one of ssd300Voc, ssd512Voc, torchvisionSsd300Coco, tfSsdMobilenetV1Coco, or a PostprocessConfig$/,
    );
    await assert.rejects(
      create({ preset: { ...presets.ssd300Voc } }),
      /^Error: no pre-processing is known for this config: pass preprocess \(a PreprocessSpec such as inputPresets.ssd300Voc\), or a preset by name$/,
    );
    const broken = ssdModel({ numPriors: P, numClasses: C, loc, conf, metadata: { 'ssd-edge.preprocess': '{size:' } });
    await assert.rejects(
      create({ model: broken }),
      /^Error: the model's metadata 'ssd-edge.preprocess' is unusable: .*JSON/,
    );
  });

  it('bad options fail before the model loads, with a TypeError or RangeError naming the value', async () => {
    const missing = '/nonexistent/model.onnx'; // would fail later if it were read
    await assert.rejects(
      create({ model: missing, preset: 'ssd300VOC' }),
      /^RangeError: unknown preset 'ssd300VOC'; valid presets: ssd300Voc, /,
    );
    await assert.rejects(create({ model: missing, backend: 'cuda' as 'node' }), /^RangeError: backend is "cuda"/);
    await assert.rejects(create({ model: missing, threads: -1 }), /^RangeError: threads is -1/);
    await assert.rejects(
      create({ model: missing, maxImagePixels: 0 }),
      /^RangeError: maxImagePixels is 0; it must be an integer ≥ 1/,
    );
    await assert.rejects(
      create({ model: missing, preprocess: { ...inputPresets.ssd300Voc, layout: 'chw' as 'nchw' } }),
      /^RangeError: preprocess.layout is "chw"/,
    );
    await assert.rejects(
      create({ model: 42 as unknown as string }),
      /^TypeError: model must be a file path, a URL, or the model's bytes/,
    );
    await assert.rejects(
      createDetector(undefined as unknown as DetectorOptions),
      /^TypeError: createDetector takes \{ model, preset\?, backend\?, \.\.\. \}, got undefined$/,
    );
    await assert.rejects(create({ scoreThreshold: 2 }), /^RangeError: scoreThreshold is 2; it must be in \[0, 1\]$/);
  });
});

describe('dispose', () => {
  it('later calls throw; disposing twice is fine', async () => {
    const d = await createDetector({ model: MODEL, preset: 'ssd300Voc', backend: 'node' });
    const inFlight = d.detect(WHITE);
    await d.dispose();
    assertDetections(await inFlight, WHITE, 'a call in flight completes');
    await assert.rejects(d.detect(WHITE), /^Error: this detector was disposed; create a new one$/);
    await d.dispose();
  });
});

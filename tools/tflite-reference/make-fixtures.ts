/**
 * Writes tests/fixtures/tflite-coco/: for each real photo in samples/ (COCO_SAMPLES), the COCO
 * detector's 300 × 300 input, TensorFlow Lite's two raw uint8 head tensors (the inputs of
 * TFLite_Detection_PostProcess) and its post-processed detections, all computed by TFLite itself
 * (tfjs-tflite in Chromium, see runner.ts). The converter's exactness tests read these without
 * Chromium.
 *
 * Run: npx tsc -p tsconfig.json && node dist/tools/tflite-reference/make-fixtures.js [model.tflite]
 * (default model: $SSD_EDGE_COCO_TFLITE or models/mobilenet_ssd_v2_coco_quant_postprocess.tflite;
 * coco_labels.txt beside it). About 15 s on 2 cores.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from '../../tests/browser/chromium.js';
import { COCO_MODEL_HINT, findCocoModel, parseCocoLabels } from './coco-model.js';
import { readTfliteModel } from './flatbuffer.js';
import { tfliteInput, INPUT_SIZE } from './input.js';
import { openTfliteReference, type TfliteOutput } from './runner.js';
import { COCO_SAMPLES } from './samples.js';

/** Threads for the fixtures: 1 (results were bit-identical with 2 when checked; see the README). */
const THREADS = 1;
const FIXTURE_DIR = path.join(repoRoot, 'tests/fixtures/tflite-coco');
const POSTPROCESS_OP = 'TFLite_Detection_PostProcess';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const bytesOf = (data: TfliteOutput['data']) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

const modelPath = process.argv[2] ?? findCocoModel()?.model;
if (!modelPath) {
  console.error(COCO_MODEL_HINT);
  process.exit(2);
}
const labelsPath = path.join(path.dirname(modelPath), 'coco_labels.txt');
const model = new Uint8Array(await readFile(modelPath));
const labels = parseCocoLabels(await readFile(labelsPath, 'utf8'));
const summary = readTfliteModel(model);
const postprocess = summary.operators.find((op) => op.opType === POSTPROCESS_OP);
if (!postprocess)
  throw new Error(`${modelPath} has no ${POSTPROCESS_OP} op: not the SSD detector these fixtures are for`);
const [boxTensor, classTensor] = postprocess.inputs; // [1,1917,4] and [1,1917,91] uint8; inputs[2] = anchors (constant)
const requested = [boxTensor, classTensor, ...postprocess.outputs];

const inputs = await Promise.all(COCO_SAMPLES.map((s) => tfliteInput(path.join(repoRoot, 'samples', s.file))));
const tfliteVersion = (createRequire(import.meta.url)('@tensorflow/tfjs-tflite/package.json') as { version: string })
  .version;

const reference = await openTfliteReference();
let runs, plainRuns, loaded;
try {
  loaded = await reference.load(model, { outputs: requested, threads: THREADS });
  runs = await loaded.run(inputs);
  // the unpatched model must give the same detections: the patch only adds outputs
  plainRuns = await (await reference.load(model, { threads: THREADS })).run(inputs);
} finally {
  await reference.close();
}

await rm(FIXTURE_DIR, { recursive: true, force: true });
await mkdir(FIXTURE_DIR, { recursive: true });
const describeTensor = (o: TfliteOutput) => ({
  index: o.index,
  name: o.name,
  shape: o.shape,
  dtype: o.dtype,
  quantization: o.quantization,
});

for (const [i, sample] of COCO_SAMPLES.entries()) {
  const name = path.basename(sample.file, path.extname(sample.file));
  const [boxes, classes, scores, count, ...rest] = runs[i].outputs.slice(2);
  const [box, cls] = runs[i].outputs;
  if (rest.length || !count) throw new Error(`expected 4 post-processing outputs, got ${runs[i].outputs.length - 2}`);
  plainRuns[i].outputs.forEach((plain, k) => {
    const patched = runs[i].outputs[2 + k];
    if (sha256(bytesOf(plain.data)) !== sha256(bytesOf(patched.data))) {
      throw new Error(`${sample.file}: output ${plain.name} differs between the model and its patched copy`);
    }
  });
  const n = count.data[0];
  const files = {
    input: `${name}.input.u8`,
    boxEncodings: `${name}.box-encodings.u8`,
    classPredictions: `${name}.class-predictions.u8`,
  };
  await writeFile(path.join(FIXTURE_DIR, files.input), inputs[i]);
  await writeFile(path.join(FIXTURE_DIR, files.boxEncodings), bytesOf(box.data));
  await writeFile(path.join(FIXTURE_DIR, files.classPredictions), bytesOf(cls.data));
  const detections = Array.from({ length: n }, (_, d) => ({
    classId: classes.data[d],
    label: labels.get(classes.data[d]) ?? `class ${classes.data[d]}`,
    score: scores.data[d],
    box: Array.from(boxes.data.subarray(4 * d, 4 * d + 4)),
  }));
  const fixture = {
    image: `samples/${sample.file}`,
    imageSha256: sha256(new Uint8Array(await readFile(path.join(repoRoot, 'samples', sample.file)))),
    model: { file: path.basename(modelPath), sha256: sha256(model), bytes: model.length },
    tflite: {
      package: `@tensorflow/tfjs-tflite@${tfliteVersion}`,
      wasm: path.basename(loaded.wasmScript ?? 'unknown'),
      threads: THREADS,
      kernels:
        'XNNPACK delegate (QU8) for CONV_2D, DEPTHWISE_CONV_2D, ADD, LOGISTIC; TFLite built-in kernels for RESHAPE, CONCATENATION, TFLite_Detection_PostProcess',
      browser: reference.environment.userAgent,
    },
    input: {
      file: files.input,
      shape: [1, INPUT_SIZE, INPUT_SIZE, 3],
      dtype: 'uint8',
      layout: 'NHWC RGB',
      sha256: sha256(inputs[i]),
      resize: "sharp resize(300, 300, { fit: 'fill', kernel: 'linear' }) of the sample JPEG as sharp decodes it",
    },
    heads: {
      boxEncodings: { ...describeTensor(box), file: files.boxEncodings, sha256: sha256(bytesOf(box.data)) },
      classPredictions: { ...describeTensor(cls), file: files.classPredictions, sha256: sha256(bytesOf(cls.data)) },
    },
    postprocess: {
      tensors: [boxes, classes, scores, count].map(describeTensor),
      /** float32 values written as exact decimal doubles: Math.fround(x) === x for each */
      boxes: Array.from(boxes.data),
      classes: Array.from(classes.data),
      scores: Array.from(scores.data),
      count: n,
    },
    /** The first `count` detections, readable: box is [ymin, xmin, ymax, xmax], normalised. */
    detections,
  };
  await writeFile(path.join(FIXTURE_DIR, `${name}.json`), `${JSON.stringify(fixture, null, 1)}\n`);
  console.log(
    `${name}: ${n} detections; top 5: ${detections
      .slice(0, 5)
      .map((d) => `${d.label} ${d.score.toFixed(3)}`)
      .join(', ')}`,
  );
}
console.log(
  `load ${loaded.loadMs.toFixed(0)} ms; inference ${runs.map((r) => r.inferMs.toFixed(0)).join(', ')} ms; Chromium start ${reference.environment.launchMs.toFixed(0)} ms`,
);

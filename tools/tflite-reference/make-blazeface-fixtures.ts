/**
 * Writes tests/fixtures/tflite-blazeface/: for each input (BLAZEFACE_SAMPLES), the 128 × 128 float
 * input, and TensorFlow Lite's own two raw outputs of MediaPipe's BlazeFace
 * (models/face_detection_short_range.tflite): `regressors` [1, 896, 16] and `classificators`
 * [1, 896, 1], computed by tfjs-tflite in Chromium (runner.ts). The converter test compares the
 * converted ONNX model with them without Chromium.
 *
 * Run: npx tsc -p tsconfig.json && node dist/tools/tflite-reference/make-blazeface-fixtures.js [--measure photo.jpg …]
 * With --measure, nothing is written: the photos go through TFLite and through the converted
 * model (onnxruntime-node), and the largest differences are printed (photos whose licence does
 * not allow committing them, such as @vladmandic/face-api's demo/sample*.jpg).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from '../../tests/browser/chromium.js';
import { convertModel } from '../../src/convert/index.js';
import { BLAZEFACE_ANCHORS } from '../../src/convert/tflite/mediapipe.js';
import { blazefacePixels, toBlazefaceTensor } from './blazeface-input.js';
import { openTfliteReference } from './runner.js';

const FIXTURE_DIR = path.join(repoRoot, 'tests/fixtures/tflite-blazeface');
const MODEL = path.join(repoRoot, 'models/face_detection_short_range.tflite');
const THREADS = 1;

/** The committed inputs: public-domain photos from samples/ (see samples/README.md). */
export const BLAZEFACE_SAMPLES = [
  { name: 'astronaut', file: 'astronaut.jpg', mosaic: undefined },
  { name: 'astronaut-mosaic', file: 'astronaut.jpg', mosaic: { left: 110, top: 10, size: 220 } },
  { name: 'person', file: 'person.jpg', mosaic: undefined },
] as const;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const bytesOf = (data: ArrayBufferView) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

const model = new Uint8Array(await readFile(MODEL));
const measure = process.argv.indexOf('--measure');
const photos =
  measure >= 0
    ? process.argv.slice(measure + 1).map((file) => ({ name: path.basename(file), file, mosaic: undefined }))
    : BLAZEFACE_SAMPLES.map((s) => ({ ...s, file: path.join(repoRoot, 'samples', s.file) }));
const inputs = await Promise.all(photos.map(async (p) => toBlazefaceTensor(await blazefacePixels(p.file, p.mosaic))));
const tfliteVersion = (createRequire(import.meta.url)('@tensorflow/tfjs-tflite/package.json') as { version: string })
  .version;

const reference = await openTfliteReference();
let runs;
try {
  const loaded = await reference.load(model, { threads: THREADS });
  runs = await loaded.run(inputs.map(bytesOf));
} finally {
  await reference.close();
}

if (measure >= 0) {
  const ort = await import('onnxruntime-node');
  const { onnx } = convertModel(model, { mode: 'float', anchors: BLAZEFACE_ANCHORS });
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
  for (const [i, photo] of photos.entries()) {
    const out = await session.run({ image: new ort.Tensor('float32', inputs[i], [1, 128, 128, 3]) });
    const [regressors, classificators] = runs[i].outputs;
    const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let max = 0,
        relative = 0,
        largest = 0;
      for (let k = 0; k < a.length; k++) {
        const d = Math.abs(a[k] - b[k]);
        max = Math.max(max, d);
        relative = Math.max(relative, d / Math.max(Math.abs(b[k]), 1));
        largest = Math.max(largest, Math.abs(b[k]));
      }
      return `max |Δ| ${max.toExponential(2)}, max |Δ| / max(|TFLite|, 1) ${relative.toExponential(2)} (values up to ${largest.toFixed(1)})`;
    };
    console.log(
      `${photo.name}: regressors ${diff(out.loc.data as Float32Array, regressors.data)}; ` +
        `classificators ${diff(out.conf.data as Float32Array, classificators.data)}`,
    );
  }
  process.exit(0);
}

await rm(FIXTURE_DIR, { recursive: true, force: true });
await mkdir(FIXTURE_DIR, { recursive: true });
const manifest = {
  model: { file: 'models/face_detection_short_range.tflite', sha256: sha256(model), bytes: model.length },
  tflite: {
    package: `@tensorflow/tfjs-tflite@${tfliteVersion}`,
    threads: THREADS,
    browser: reference.environment.userAgent,
  },
  input:
    "samples/<file> → sharp resize(128, 128, { fit: 'fill', kernel: 'linear' }) (mosaic: the square crop given, resized to 64 × 64, tiled 2 × 2) → v / 127.5 − 1, float32 [1, 128, 128, 3] NHWC RGB",
  samples: [] as unknown[],
};
for (const [i, photo] of photos.entries()) {
  const [regressors, classificators] = runs[i].outputs;
  if (regressors.name !== 'regressors' || classificators.name !== 'classificators') {
    throw new Error(`unexpected outputs ${runs[i].outputs.map((o) => o.name).join(', ')}`);
  }
  const files = {
    input: `${photo.name}.input.f32`,
    regressors: `${photo.name}.regressors.f32`,
    classificators: `${photo.name}.classificators.f32`,
  };
  await writeFile(path.join(FIXTURE_DIR, files.input), bytesOf(inputs[i]));
  await writeFile(path.join(FIXTURE_DIR, files.regressors), bytesOf(regressors.data));
  await writeFile(path.join(FIXTURE_DIR, files.classificators), bytesOf(classificators.data));
  manifest.samples.push({
    name: photo.name,
    image: `samples/${path.basename(photo.file)}`,
    mosaic: photo.mosaic,
    sha256: {
      input: sha256(bytesOf(inputs[i])),
      regressors: sha256(bytesOf(regressors.data)),
      classificators: sha256(bytesOf(classificators.data)),
    },
    files,
  });
  const scores = classificators.data as Float32Array;
  console.log(
    `${photo.name}: best logit ${Math.max(...scores).toFixed(3)}, ${scores.filter((s) => s > 0).length} anchors over 0.5`,
  );
}
await writeFile(path.join(FIXTURE_DIR, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);

/**
 * Reads tests/fixtures/tflite-coco/ (written by tools/tflite-reference/make-fixtures.ts):
 * TensorFlow Lite's own results for the COCO detector on the real photos in samples/, for tests
 * that check the converter without Chromium. Every file is checked against its SHA-256 here.
 *
 * ```ts
 * for (const f of await readTfliteCocoFixtures()) {
 *   // f.input: [1,300,300,3] uint8 NHWC → our model → compare with f.boxEncodings / f.classPredictions (uint8, exact)
 *   // and with f.postprocess (boxes [ymin,xmin,ymax,xmax], classes, scores, count)
 * }
 * ```
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from '../browser/chromium.js';
import type { TfliteQuantization } from '../../tools/tflite-reference/flatbuffer.js';

export const TFLITE_COCO_FIXTURE_DIR = path.join(repoRoot, 'tests/fixtures/tflite-coco');

export interface FixtureTensorInfo {
  index: number;
  name: string;
  shape: number[];
  dtype: string;
  quantization?: TfliteQuantization;
  file: string;
  sha256: string;
}

/** The JSON file as written. */
export interface TfliteCocoFixtureJson {
  image: string;
  imageSha256: string;
  model: { file: string; sha256: string; bytes: number };
  tflite: { package: string; wasm: string; threads: number; kernels: string; browser: string };
  input: { file: string; shape: number[]; dtype: 'uint8'; layout: string; sha256: string; resize: string };
  heads: { boxEncodings: FixtureTensorInfo; classPredictions: FixtureTensorInfo };
  postprocess: {
    tensors: { index: number; name: string; shape: number[]; dtype: string }[];
    boxes: number[];
    classes: number[];
    scores: number[];
    count: number;
  };
  detections: { classId: number; label: string; score: number; box: number[] }[];
}

export interface TfliteCocoFixture {
  /** 'dog', 'person', … */
  name: string;
  json: TfliteCocoFixtureJson;
  /** [1, 300, 300, 3] uint8 RGB NHWC: what TFLite was fed. */
  input: Uint8Array;
  /** TFLite_Detection_PostProcess input 0, [1, 1917, 4] uint8 (quantisation in json.heads). */
  boxEncodings: Uint8Array;
  /** TFLite_Detection_PostProcess input 1, [1, 1917, 91] uint8, after LOGISTIC. */
  classPredictions: Uint8Array;
  /** TFLite_Detection_PostProcess's outputs, float32 as TFLite returned them. */
  postprocess: { boxes: Float32Array; classes: Float32Array; scores: Float32Array; count: number };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function readChecked(file: string, expectedSha: string, expectedBytes: number): Promise<Uint8Array> {
  const buffer = await readFile(path.join(TFLITE_COCO_FIXTURE_DIR, file));
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length);
  if (bytes.length !== expectedBytes)
    throw new RangeError(`${file} has ${bytes.length} bytes; its shape needs ${expectedBytes}`);
  if (sha256(bytes) !== expectedSha)
    throw new Error(`${file}: SHA-256 differs from its fixture JSON (re-run tools/tflite-reference/make-fixtures.ts)`);
  return bytes;
}

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Every fixture in the folder, sorted by name, files verified. */
export async function readTfliteCocoFixtures(): Promise<TfliteCocoFixture[]> {
  const names = (await readdir(TFLITE_COCO_FIXTURE_DIR))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
  return Promise.all(
    names.map(async (name): Promise<TfliteCocoFixture> => {
      const json = JSON.parse(
        await readFile(path.join(TFLITE_COCO_FIXTURE_DIR, `${name}.json`), 'utf8'),
      ) as TfliteCocoFixtureJson;
      const { boxEncodings, classPredictions } = json.heads;
      const p = json.postprocess;
      return {
        name,
        json,
        input: await readChecked(json.input.file, json.input.sha256, product(json.input.shape)),
        boxEncodings: await readChecked(boxEncodings.file, boxEncodings.sha256, product(boxEncodings.shape)),
        classPredictions: await readChecked(
          classPredictions.file,
          classPredictions.sha256,
          product(classPredictions.shape),
        ),
        postprocess: {
          boxes: Float32Array.from(p.boxes),
          classes: Float32Array.from(p.classes),
          scores: Float32Array.from(p.scores),
          count: p.count,
        },
      };
    }),
  );
}

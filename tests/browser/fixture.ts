/**
 * The model and image the browser tests run, and the Node CLI's detections on them (the
 * independent expectation every page is compared with).
 *
 * Until the default trained model lands, a small random-weight SSD300 is exported at test time
 * (`ssd-edge export --width 0.0625`) and a PNG is generated (lossless, so the browser's pixels
 * equal sharp's). Switching to the default model is this one constant.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ImageDetection } from '../../src/runtime/types.js';
import { repoRoot } from './chromium.js';

/**
 * The default model and a sample image (paths from the repository root) and the score threshold
 * to compare at; undefined: export a random-weight model instead. E.g.
 * `{ model: 'models/ssd300-default.onnx', image: 'samples/shapes.jpg', scoreThreshold: 0.3 }`
 * (Chromium 156 decodes samples/shapes.jpg to exactly sharp's pixels, checked 2026-12-01).
 */
export const DEFAULT_MODEL: { model: string; image: string; scoreThreshold: number } | undefined = {
  model: 'models/ssd300-default.onnx',
  image: 'samples/shapes.jpg',
  scoreThreshold: 0.3,
};

/**
 * For the random-weight model: its softmax scores bunch near 1, and its 200 best (keepTopK)
 * reach down to about 0.95; comparing above 0.98 keeps the set far from that cut.
 */
const RANDOM_MODEL_SCORE_THRESHOLD = 0.98;

const run = promisify(execFile);
const CLI = path.join(repoRoot, 'dist/src/cli/main.js');

export interface Fixture {
  modelPath: string;
  imagePath: string;
  /** Compared at this score threshold (the CLI's --min-score, the page's score slider). */
  scoreThreshold: number;
  /** `ssd-edge detect --json --min-score scoreThreshold` on the image. */
  expected: ImageDetection[];
  /** Whether the model is the random-weight export. */
  random: boolean;
  cleanUp(): Promise<void>;
}

/** The CLI's detections (onnxruntime-node, sharp) on `image` at `minScore`. */
export async function cliDetections(model: string, image: string, minScore: number): Promise<ImageDetection[]> {
  const { stdout } = await run(
    process.execPath,
    [CLI, 'detect', image, '--model', model, '--json', '--min-score', String(minScore)],
    { maxBuffer: 64 << 20 },
  );
  return JSON.parse(stdout) as ImageDetection[];
}

/** A 400 × 300 PNG: gradients, a disc and a rectangle, at low contrast around the VOC mean. */
async function writeTestImage(file: string): Promise<void> {
  const { default: sharp } = await import('sharp');
  const width = 400,
    height = 300,
    pixels = new Uint8Array(width * height * 3);
  const mean = [123, 117, 104];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let rgb = [((x * 255) / width) | 0, ((y * 255) / height) | 0, (x ^ y) & 0xff];
      if ((x - 120) ** 2 + (y - 150) ** 2 < 60 ** 2) rgb = [240, 30, 30];
      if (x > 230 && x < 360 && y > 60 && y < 200) rgb = [20, 40, 220];
      // low contrast keeps the random network's logits from saturating the softmax at exactly 1
      for (let c = 0; c < 3; c++) pixels[(y * width + x) * 3 + c] = Math.round(mean[c] + (rgb[c] - 128) * 0.2);
    }
  }
  await sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(file);
}

export async function prepareFixture(): Promise<Fixture> {
  if (DEFAULT_MODEL) {
    const modelPath = path.join(repoRoot, DEFAULT_MODEL.model),
      imagePath = path.join(repoRoot, DEFAULT_MODEL.image);
    const expected = await cliDetections(modelPath, imagePath, DEFAULT_MODEL.scoreThreshold);
    return {
      modelPath,
      imagePath,
      scoreThreshold: DEFAULT_MODEL.scoreThreshold,
      expected,
      random: false,
      cleanUp: async () => {},
    };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ssd-edge-browser-'));
  const modelPath = path.join(dir, 'model.onnx'),
    imagePath = path.join(dir, 'sample.png');
  await Promise.all([
    run(process.execPath, [CLI, 'export', '--out', modelPath, '--width', '0.0625', '--seed', '0']),
    writeTestImage(imagePath),
  ]);
  const expected = await cliDetections(modelPath, imagePath, RANDOM_MODEL_SCORE_THRESHOLD);
  return {
    modelPath,
    imagePath,
    scoreThreshold: RANDOM_MODEL_SCORE_THRESHOLD,
    expected,
    random: true,
    cleanUp: () => rm(dir, { recursive: true, force: true }),
  };
}

export const readBytes = (file: string) => readFile(file).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.length));

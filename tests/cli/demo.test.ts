/**
 * `ssd-edge demo` (what `npm start` runs): the default model on the sample image finds the
 * objects its annotation lists and writes the annotated PNG and the JSON; `--postprocess-only`
 * prints the bundled sample output's detections, equal to the reference's.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createPostprocessor, presets, type Detection } from '../../src/index.js';
import { referenceDetect } from '../../src/core/reference/detect.js';
import { assertSameDetections } from '../helpers.js';
import { SHAPES_SAMPLE_IMAGE } from '../../src/cli/demo.js';
import { readTfliteCocoFixtures } from '../tflite-reference/fixtures.js';
import { createDetector } from '../../src/runtime/detector.js';
import type { ImageDetection } from '../../src/runtime/types.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** IoU of two [xmin, ymin, xmax, ymax] boxes. */
function iouOf(a: readonly number[], b: readonly number[]): number {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])),
    h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  return (w * h) / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h);
}

describe('ssd-edge demo', () => {
  it('--postprocess-only --json prints the detections of the bundled sample output, equal to the reference', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'demo', '--postprocess-only', '--json']);
    const { build, detections } = JSON.parse(stdout) as { build: string; detections: Detection[] };
    assert.equal(build, 'simd');
    const bytes = readFileSync(new URL('../../../samples/ssd300-voc-output.f32', import.meta.url));
    const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const post = await createPostprocessor(presets.ssd300Voc);
    const split = post.priors.length;
    assertSameDetections(
      detections,
      referenceDetect(post.config, values.subarray(0, split), values.subarray(split))[0],
      'demo',
    );
  });

  it('npm start works from a checkout whose path has a space (file URLs turned into paths with fileURLToPath)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-demo-'));
    try {
      // the checkout seen through a symlink whose name has a space; the flags keep Node on the link's path
      const checkout = path.join(dir, 'a folder');
      await symlink(fileURLToPath(new URL('../../../', import.meta.url)), checkout);
      const { stdout } = await run(process.execPath, [
        '--preserve-symlinks',
        '--preserve-symlinks-main',
        path.join(checkout, 'dist/src/cli/main.js'),
        'demo',
        '--out',
        path.join(dir, 'out'),
        '--json',
      ]);
      const { detections, image } = JSON.parse(stdout) as { detections: ImageDetection[]; image: string };
      assert.equal(image, path.join(checkout, 'samples/dog.jpg'));
      assert.deepEqual(
        detections.map((d) => d.label),
        ['dog', 'bicycle', 'car'],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prints a table for people', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'demo', '--postprocess-only']);
    assert.match(stdout, /post-processed a bundled SSD300-VOC output .* with the simd core/);
    assert.match(stdout, /200 detections above 0.01/);
  });

  it('npm start: the COCO detector finds the dog, the bicycle and the car in samples/dog.jpg where TensorFlow Lite does', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-demo-'));
    try {
      const { stdout } = await run(process.execPath, [CLI, 'demo', '--out', dir, '--json']);
      const { detections, image } = JSON.parse(stdout) as { detections: ImageDetection[]; image: string };
      assert.match(image, /dog\.jpg$/);
      // TFLite's own detections (tests/fixtures/tflite-coco/dog.json), on its own 300 × 300 resize of the photo
      const tflite = (await readTfliteCocoFixtures())
        .find((f) => f.name === 'dog')!
        .json.detections.filter((d) => d.score >= 0.5);
      assert.deepEqual(
        tflite.map((d) => d.label),
        ['dog', 'bicycle', 'car'],
      );
      assert.deepEqual(
        detections.map((d) => d.label),
        ['dog', 'bicycle', 'car'],
      );
      detections.forEach((d, i) => {
        const [ymin, xmin, ymax, xmax] = tflite[i].box;
        const overlap = iouOf(d.box, [xmin, ymin, xmax, ymax]);
        assert.ok(overlap >= 0.9, `${d.label}: IoU ${overlap.toFixed(3)} with TFLite's box`);
        assert.ok(
          Math.abs(d.score - tflite[i].score) <= 0.08,
          `${d.label}: score ${d.score} vs TFLite's ${tflite[i].score} (one uint8 step is 1/256; a different resize may move a few)`,
        );
      });
      const png = await readFile(path.join(dir, 'dog.annotated.png'));
      assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')], 'a PNG file');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the shapes model finds every object annotated in samples/shapes.xml (class right, IoU ≥ 0.5)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-demo-'));
    try {
      const { stdout } = await run(process.execPath, [
        CLI,
        'demo',
        '--model',
        'shapes',
        '--image',
        fileURLToPath(SHAPES_SAMPLE_IMAGE),
        '--min-score',
        '0.3',
        '--out',
        dir,
        '--json',
      ]);
      const { detections } = JSON.parse(stdout) as { detections: ImageDetection[] };
      const xml = await readFile(new URL('../../../samples/shapes.xml', import.meta.url), 'utf8');
      const truths = [
        ...xml.matchAll(
          /<name>(\w+)<\/name>[\s\S]*?<xmin>(\d+)<\/xmin>\s*<ymin>(\d+)<\/ymin>\s*<xmax>(\d+)<\/xmax>\s*<ymax>(\d+)<\/ymax>/g,
        ),
      ].map((m) => ({ name: m[1], box: [Number(m[2]) - 1, Number(m[3]) - 1, Number(m[4]), Number(m[5])] })); // VOC: 1-based inclusive
      assert.equal(truths.length, 5);
      const iou = (a: number[], b: number[]) => {
        const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])),
          h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
        return (w * h) / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h);
      };
      for (const truth of truths) {
        const best = Math.max(
          0,
          ...detections.filter((d) => d.label === truth.name).map((d) => iou(d.pixelBox, truth.box)),
        );
        assert.ok(
          best >= 0.5,
          `${truth.name} at [${truth.box}]: best IoU ${best.toFixed(3)} among ${JSON.stringify(detections.map((d) => [d.label, d.score.toFixed(3)]))}`,
        );
      }
      assert.ok(
        detections.length <= truths.length + 2,
        `${detections.length} detections at score ≥ 0.3 for ${truths.length} objects`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("runs a model on an image: the printed JSON is the detector's result, and the PNG and JSON files are written", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-demo-'));
    try {
      const model = path.join(dir, 'm.onnx');
      await run(process.execPath, [
        CLI,
        'export',
        '--out',
        model,
        '--width',
        '0.03125',
        '--classes',
        '4',
        '--seed',
        '2',
      ]);
      const { stdout } = await run(process.execPath, [
        CLI,
        'demo',
        '--model',
        model,
        '--image',
        fileURLToPath(SHAPES_SAMPLE_IMAGE),
        '--out',
        dir,
        '--min-score',
        '0',
        '--json',
      ]);
      const printed = JSON.parse(stdout) as { backend: string; detections: ImageDetection[] };
      const detector = await createDetector({ model, backend: printed.backend as 'node' });
      const expected = await detector.detect(fileURLToPath(SHAPES_SAMPLE_IMAGE));
      await detector.dispose();
      assert.ok(expected.length > 0);
      assertSameDetections(printed.detections, expected, 'demo JSON', 1e-6, 1e-6);
      const saved = JSON.parse(await readFile(path.join(dir, 'shapes.detections.json'), 'utf8')) as {
        detections: ImageDetection[];
      };
      assert.equal(saved.detections.length, expected.length);
      const png = await readFile(path.join(dir, 'shapes.annotated.png'));
      assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')], 'a PNG file');
      await assert.rejects(
        run(process.execPath, [CLI, 'demo', '--model', path.join(dir, 'missing.onnx')]),
        (error: { stderr: string }) => /the model .*missing.onnx does not exist; pass --model/.test(error.stderr),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an unknown command fails with the usage text', async () => {
    await assert.rejects(run(process.execPath, [CLI, 'detekt']), (error: { stderr: string; code: number }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /unknown command 'detekt'[\s\S]*usage: ssd-edge/);
      return true;
    });
  });
});

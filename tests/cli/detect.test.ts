/** `ssd-edge export` and `ssd-edge detect` through the real CLI, on a small exported model. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { renderSample } from '../../src/train/data/render.js';

/** A rendered shapes image with three objects (two rings and a triangle). */
const SHAPES_SEED = 1;

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { maxBuffer: 64 * 2 ** 20 });

interface Failure {
  code: number;
  stderr: string;
  stdout: string;
}
async function cliFails(args: string[], message: RegExp): Promise<Failure> {
  let failure: Failure | undefined;
  await assert.rejects(cli(...args), (error: Failure) => {
    failure = error;
    assert.equal(error.code, 1, `exit code 1 for ${args.join(' ')}`);
    assert.match(error.stderr, message);
    return true;
  });
  return failure!;
}

describe('ssd-edge export and detect', () => {
  let dir: string;
  let model: string;
  let shapeNames: string[];
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-cli-'));
    model = path.join(dir, 'small.onnx');
    await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 200, g: 80, b: 40 } } })
      .jpeg()
      .toFile(path.join(dir, 'a.jpg'));
    await sharp({ create: { width: 200, height: 300, channels: 4, background: { r: 10, g: 200, b: 40, alpha: 0.5 } } })
      .png()
      .toFile(path.join(dir, 'b.png'));
    // an image of the shapes model's kind, whose objects the generator knows
    const sample = renderSample(300, 300, SHAPES_SEED);
    await sharp(Buffer.from(sample.rgb), { raw: { width: 300, height: 300, channels: 3 } })
      .jpeg()
      .toFile(path.join(dir, 'shapes.jpg'));
    shapeNames = sample.objects.map((o) => o.name).sort();
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('export writes an ONNX model with its metadata and says the weights are random', async () => {
    const { stdout } = await cli('export', '--out', model, '--width', '0.125', '--seed', '3');
    assert.match(stdout, /wrote .*small.onnx: SSD300, width 0.125, 21 classes, 777,990 parameters/);
    assert.match(stdout, /random \(untrained\)/);
  });

  it('detect --json on one image gives detections with pixel boxes in that image', async () => {
    const { stdout } = await cli('detect', path.join(dir, 'a.jpg'), '--model', model, '--json', '--min-score', '0');
    const detections = JSON.parse(stdout) as { score: number; box: number[]; pixelBox: number[] }[];
    assert.ok(detections.length > 0 && detections.length <= 200);
    for (const d of detections) {
      assert.deepEqual(
        d.pixelBox.map((v) => Math.round(v * 1000)),
        [d.box[0] * 640, d.box[1] * 480, d.box[2] * 640, d.box[3] * 480].map((v) => Math.round(v * 1000)),
      );
    }
  });

  it('the node and wasm backends give the same detections', async () => {
    const image = path.join(dir, 'b.png');
    const [node, wasm] = await Promise.all(
      ['node', 'wasm'].map(
        async (backend) =>
          JSON.parse((await cli('detect', image, '--model', model, '--json', '--backend', backend)).stdout) as {
            score: number;
            classId: number;
          }[],
      ),
    );
    assert.deepEqual(
      wasm.map((d) => d.classId),
      node.map((d) => d.classId),
    );
    wasm.forEach((d, i) => assert.ok(Math.abs(d.score - node[i].score) < 1e-4));
  });

  it('detect on a directory annotates every image and keeps going past a broken one', async () => {
    await writeFile(path.join(dir, 'c.jpg'), 'not a jpeg');
    const out = path.join(dir, 'annotated');
    const failure = await cliFails(
      ['detect', dir, '--model', model, '--out', out, '--min-score', '0'],
      /c\.jpg: .*1 of 4 images failed/s,
    );
    assert.match(failure.stdout, /a\.jpg: [1-9]\d* detections?/, 'the random model at --min-score 0 finds some');
    const annotated = await sharp(path.join(out, 'b.png')).metadata();
    assert.deepEqual([annotated.width, annotated.height, annotated.format], [200, 300, 'png']);
    await rm(path.join(dir, 'c.jpg'));
  });

  it('clear errors for a missing image, a missing model and bad options', async () => {
    await cliFails(['detect', path.join(dir, 'nope.jpg'), '--model', model], /'.*nope\.jpg' does not exist/);
    // Without --model, the default model (the COCO detector) runs; built-in models go by name
    assert.match(
      (await cli('detect', fileURLToPath(new URL('../../../samples/dog.jpg', import.meta.url)))).stdout,
      /dog\.jpg: [1-9]\d* detections?\n\s+dog\s/,
    );
    const dog = JSON.parse(
      (await cli('detect', fileURLToPath(new URL('../../../samples/dog.jpg', import.meta.url)), '--json')).stdout,
    ) as { label: string }[];
    assert.deepEqual(dog.map((d) => d.label).slice(0, 3), ['dog', 'bicycle', 'car']);
    const shapes = (await cli('detect', path.join(dir, 'shapes.jpg'), '--model', 'shapes')).stdout;
    assert.match(shapes, new RegExp(`shapes\\.jpg: ${shapeNames.length} detections?`));
    assert.deepEqual(
      [...shapes.matchAll(/^\s+(\w+)\s+\d\.\d+/gm)].map((m) => m[1]).sort(),
      shapeNames,
      'the shapes drawn, found',
    );
    await cliFails(
      ['detect', path.join(dir, 'a.jpg'), '--model', path.join(dir, 'missing.onnx')],
      /missing\.onnx does not exist; pass --model ssd-mobilenet-v2-coco \| shapes \| face-ssd-mobilenet-v1 \| an \.onnx or \.tflite file/,
    );
    await cliFails(
      ['detect', path.join(dir, 'a.jpg'), '--model', model, '--min-score', '2'],
      /--min-score is '2'; it must be a number in \[0, 1\]/,
    );
    await cliFails(['detect', path.join(dir, 'a.jpg'), '--model', model, '--backend', 'gpu'], /--backend is 'gpu'/);
    // counts are whole numbers, for images and for videos alike
    await cliFails(
      ['detect', path.join(dir, 'a.jpg'), '--model', model, '--threads', '1.5'],
      /--threads is 1\.5; it must be an integer/,
    );
    await cliFails(['detect', path.join(dir, 'clip.mp4'), '--every', '2.5'], /--every is 2\.5; it must be an integer/);
    await cliFails(
      ['detect', path.join(dir, 'a.jpg'), '--modle', model],
      /unknown option --modle \(did you mean --model\?\); options: --model/,
    );
    await cliFails(['export', '--width', '2', '--out', path.join(dir, 'x.onnx')], /--width is '2'/);
    await cliFails(['export'], /--out is required/);
    // an existing model is never replaced without --force; a folder is not a file name
    const before = await readFile(model);
    await cliFails(
      ['export', '--out', model, '--width', '0.125'],
      /export: .*small\.onnx exists; pass --force to replace it/,
    );
    assert.deepEqual(await readFile(model), before, 'the model is untouched');
    await cliFails(['export', '--out', dir], /--out .* is a folder; give a file name/);
    const replaced = path.join(dir, 'replaced.onnx');
    await writeFile(replaced, 'not a model');
    await cli('export', '--out', replaced, '--width', '0.0625', '--force');
    assert.ok((await readFile(replaced)).byteLength > 1000, '--force replaces it with the model');
  });
});

describe('ssd-edge generate-data', () => {
  it('writes a VOC-layout dataset that the VOC reader reads back', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-data-'));
    try {
      const { stdout, stderr } = await cli('generate-data', '--out', dir, '--train', '4', '--test', '2', '--seed', '9');
      assert.match(
        stdout,
        /4 training and 2 held-out images, \d+ objects .* classes circle, square, triangle, star, ring, cross/,
      );
      assert.match(stderr, /generate-data: 6\/6/);
      const { readVocDataset } = await import('../../src/train/data/index.js');
      const train = await readVocDataset(dir, { split: 'trainval' });
      const test = await readVocDataset(dir, { split: 'test' });
      assert.deepEqual([train.items.length, test.items.length], [4, 2]);
      await cliFails(['generate-data', '--out', dir, '--train', '1.5'], /--train is 1.5; it must be an integer/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

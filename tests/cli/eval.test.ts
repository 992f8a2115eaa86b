/**
 * `ssd-edge eval` end to end: a model trained 2 steps at width 1/32 on a tiny generated dataset
 * (4 train + 3 test images), exported to ONNX and evaluated through the runtime, and the same
 * checkpoint evaluated in tfjs (--weights).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateVocDataset } from '../../src/train/data/index.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { maxBuffer: 16 * 2 ** 20 });
const CLASSES = ['circle', 'square', 'triangle', 'star', 'ring', 'cross'];

interface JsonResult {
  map07: number | null;
  mapAll: number | null;
  images: number;
  seconds: number;
  backend: string;
  perClass: {
    classId: number;
    label: string;
    ap07: number | null;
    apAll: number | null;
    numGroundTruth: number;
    numDetections: number;
  }[];
}

describe('ssd-edge eval', () => {
  let dir: string, data: string, model: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-cli-eval-'));
    data = path.join(dir, 'data');
    model = path.join(dir, 'm.onnx');
    await generateVocDataset(data, { trainCount: 4, testCount: 3, seed: 3 });
    await cli(
      'train',
      '--data',
      data,
      '--width',
      '0.03125',
      '--batch',
      '2',
      '--max-steps',
      '2',
      '--backend',
      'wasm',
      '--checkpoints',
      path.join(dir, 'ck'),
      '--seed',
      '1',
    );
    await cli('export', '--weights', path.join(dir, 'ck'), '--out', model);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('prints progress, a per-class table and both mAPs in [0, 1]', async () => {
    const { stdout, stderr } = await cli('eval', '--model', model, '--data', data, '--backend', 'wasm');
    assert.match(stderr, /eval: 3\/3/);
    assert.match(stdout, /^class\s+AP07\s+AP all\s+#GT\s+#det$/m);
    for (const name of CLASSES)
      assert.match(stdout, new RegExp(`^${name}\\s+(\\d\\.\\d{4}|n/a)\\s+(\\d\\.\\d{4}|n/a)\\s+\\d+\\s+\\d+$`, 'm'));
    const map07 = Number(/mAP@0\.5 \(VOC2007 11-point\): ([\d.]+)/.exec(stdout)?.[1]);
    const mapAll = Number(/mAP@0\.5 \(all-point\):\s+([\d.]+)/.exec(stdout)?.[1]);
    for (const v of [map07, mapAll]) assert.ok(v >= 0 && v <= 1, stdout);
    assert.match(stdout, /3 images in [\d.]+ s on wasm/);
  });

  it('--json prints the result object; --limit and --split pick the images', async () => {
    const result = JSON.parse(
      (
        await cli(
          'eval',
          '--model',
          model,
          '--data',
          data,
          '--backend',
          'wasm',
          '--json',
          '--split',
          'trainval',
          '--limit',
          '2',
        )
      ).stdout,
    ) as JsonResult;
    assert.equal(result.images, 2);
    assert.equal(result.backend, 'wasm');
    assert.ok(result.seconds >= 0);
    assert.deepEqual(
      result.perClass.map((c) => c.label),
      CLASSES,
    );
    assert.deepEqual(
      result.perClass.map((c) => c.classId),
      [1, 2, 3, 4, 5, 6],
    );
    const withTruth = result.perClass.filter((c) => c.numGroundTruth > 0);
    assert.ok(withTruth.length > 0);
    for (const c of withTruth) {
      assert.ok(c.ap07 !== null && c.ap07 >= 0 && c.ap07 <= 1);
      assert.ok(c.apAll !== null && c.apAll >= 0 && c.apAll <= 1);
    }
    for (const c of result.perClass.filter((c) => c.numGroundTruth === 0)) assert.equal(c.ap07, null);
    const mean = withTruth.reduce((s, c) => s + (c.apAll as number), 0) / withTruth.length;
    assert.ok(Math.abs((result.mapAll as number) - mean) < 1e-12);
  });

  it('--weights: the checkpoint in tfjs has the mAP of its ONNX export through the runtime (within 0.5 points)', async () => {
    const args = ['--data', data, '--split', 'trainval', '--json'];
    const onnx = JSON.parse((await cli('eval', '--model', model, '--backend', 'node', ...args)).stdout) as JsonResult;
    const tfjs = JSON.parse(
      (await cli('eval', '--weights', path.join(dir, 'ck'), '--backend', 'wasm', ...args)).stdout,
    ) as JsonResult;
    assert.equal(tfjs.backend, 'tfjs-wasm');
    assert.equal(tfjs.images, onnx.images);
    assert.ok(
      Math.abs((tfjs.mapAll as number) - (onnx.mapAll as number)) <= 0.005,
      `all-point mAP tfjs ${tfjs.mapAll} vs onnx ${onnx.mapAll}`,
    );
    assert.ok(
      Math.abs((tfjs.map07 as number) - (onnx.map07 as number)) <= 0.005,
      `11-point mAP tfjs ${tfjs.map07} vs onnx ${onnx.map07}`,
    );
    tfjs.perClass.forEach((c, i) =>
      assert.equal(c.numDetections, onnx.perClass[i].numDetections, `${c.label}: detections`),
    );
  });

  it("fails clearly when the model's classes differ from the dataset's", async () => {
    const voc = path.join(dir, 'voc.onnx');
    await cli('export', '--out', voc, '--width', '0.03125');
    await assert.rejects(
      cli('eval', '--model', voc, '--data', data, '--backend', 'wasm'),
      (e: { code: number; stderr: string }) =>
        e.code === 1 &&
        /the model's classes do not match the dataset's/.test(e.stderr) &&
        /aeroplane, bicycle/.test(e.stderr) &&
        /background, circle, square, triangle, star, ring, cross/.test(e.stderr),
    );
  });

  it('--skip-invalid leaves out a zero-width box and says so; without it eval names the file', async () => {
    const bad = path.join(dir, 'bad-data');
    await cp(data, bad, { recursive: true });
    const [first] = (await readFile(path.join(bad, 'ImageSets/Main/test.txt'), 'utf8')).split('\n');
    const xmlPath = path.join(bad, 'Annotations', `${first}.xml`);
    const xml = await readFile(xmlPath, 'utf8');
    // the first box: xmax = xmin
    await writeFile(
      xmlPath,
      xml.replace(/<xmin>(\d+)<\/xmin>([\s\S]*?)<xmax>\d+<\/xmax>/, '<xmin>$1</xmin>$2<xmax>$1</xmax>'),
    );
    await assert.rejects(
      cli('eval', '--model', model, '--data', bad, '--backend', 'wasm'),
      (e: { code: number; stderr: string }) =>
        e.code === 1 && e.stderr.includes(`${first}.xml`) && /--skip-invalid/.test(e.stderr),
    );
    const { stdout, stderr } = await cli(
      'eval',
      '--model',
      model,
      '--data',
      bad,
      '--backend',
      'wasm',
      '--skip-invalid',
      '--json',
    );
    assert.match(stderr, /eval: left out 1 box and 0 images \(--skip-invalid\); first: .*\.xml/);
    const result = JSON.parse(stdout) as JsonResult & { skipped: { boxes: number } };
    assert.equal(result.images, 3);
    assert.equal(result.skipped.boxes, 1);
  });

  it('fails clearly on a missing split, or without --model / --data', async () => {
    await assert.rejects(
      cli('eval', '--model', model, '--data', data, '--split', 'val', '--backend', 'wasm'),
      (e: { code: number; stderr: string }) =>
        e.code === 1 && /image list of split 'val' missing: .*val\.txt/.test(e.stderr),
    );
    // The dataset is read before any model is loaded: a wrong --data is what gets reported.
    for (const source of [
      ['--model', path.join(dir, 'absent.onnx')],
      ['--weights', path.join(dir, 'absent-ck')],
    ]) {
      await assert.rejects(
        cli('eval', ...source, '--data', path.join(dir, 'absent-data'), '--backend', 'wasm'),
        (e: { code: number; stderr: string }) =>
          e.code === 1 && /image list of split 'test' missing: .*absent-data/.test(e.stderr),
      );
    }
    await assert.rejects(
      cli('eval', '--data', data),
      (e: { code: number; stderr: string }) => e.code === 1 && /give one of --model .* or --weights/.test(e.stderr),
    );
    await assert.rejects(
      cli('eval', '--data', data, '--model', model, '--weights', path.join(dir, 'ck')),
      (e: { code: number; stderr: string }) => e.code === 1 && /give one of --model .* or --weights/.test(e.stderr),
    );
    await assert.rejects(
      cli('eval', '--model', model),
      (e: { code: number; stderr: string }) => e.code === 1 && /--data is required/.test(e.stderr),
    );
  });
});

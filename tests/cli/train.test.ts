/** `ssd-edge train` end to end: 2 steps at width 1/32 on wasm, on a generated dataset. About 3 s. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateVocDataset } from '../../src/train/data/index.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { maxBuffer: 16 * 2 ** 20 });

describe('ssd-edge train', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-cli-train-'));
    await generateVocDataset(path.join(dir, 'data'), { trainCount: 4, testCount: 0, seed: 2 });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('trains 2 steps, prints the backend, progress and the final checkpoint', async () => {
    const checkpoints = path.join(dir, 'ck');
    const { stdout, stderr } = await cli(
      'train',
      '--data',
      path.join(dir, 'data'),
      '--width',
      '0.03125',
      '--batch',
      '2',
      '--max-steps',
      '2',
      '--backend',
      'wasm',
      '--checkpoints',
      checkpoints,
      '--seed',
      '1',
      '--log-every',
      '1',
    );
    assert.match(stdout, /tfjs training backend: wasm/);
    assert.match(
      stderr,
      /train: step 1\/2 epoch 1 loss [\d.]+ \(loc [\d.]+ conf [\d.]+\) pos \d+ lr [\d.e-]+ [\d.]+ images\/s/,
    );
    assert.match(stderr, /train: step 2\/2/);
    const saved = /saved final checkpoint: (.*checkpoint\.json)/.exec(stdout);
    assert.ok(saved, stdout);
    assert.equal(saved[1], path.join(checkpoints, 'checkpoint.json'));
    const { meta } = await loadCheckpoint(checkpoints);
    assert.equal(meta.step, 2);
    assert.equal(meta.width, 0.03125);
  });

  it("the checkpoint exports to ONNX (--weights) and detects with the dataset's labels", async () => {
    const model = path.join(dir, 'trained.onnx');
    const { stdout } = await cli('export', '--weights', path.join(dir, 'ck'), '--out', model);
    assert.match(stdout, /wrote .*trained.onnx: SSD300, width 0.03125, 7 classes/);
    assert.match(stdout, /weights from the checkpoint in .* \(ssd-edge train: 2 steps, last loss [\d.]+\)/);
    const image = path.join(dir, 'data', 'JPEGImages', 'train_000001.jpg');
    const found = JSON.parse((await cli('detect', image, '--model', model, '--json', '--min-score', '0')).stdout) as {
      label: string;
    }[];
    const names = ['background', 'circle', 'square', 'triangle', 'star', 'ring', 'cross'];
    assert.ok(found.length > 0 && found.every((d) => names.slice(1).includes(d.label)), 'labels come from the dataset');
    await assert.rejects(
      cli('export', '--weights', path.join(dir, 'ck'), '--out', model, '--width', '0.5'),
      (e: { code: number; stderr: string }) =>
        e.code === 1 && /--weights takes width and classes from the checkpoint/.test(e.stderr),
    );
  });

  it('fails clearly without --data, or with a bad --batch', async () => {
    await assert.rejects(
      cli('train'),
      (e: { code: number; stderr: string }) => e.code === 1 && /--data is required/.test(e.stderr),
    );
    await assert.rejects(
      cli('train', '--data', dir, '--batch', '0'),
      (e: { code: number; stderr: string }) => e.code === 1 && /--batch is '0'/.test(e.stderr),
    );
  });
});

/**
 * What train() guards (SSD300 width 1/32 on wasm, 4 tiny images): a checkpoint folder is never
 * replaced unless asked, a resume on other data is refused and changed hyper-parameters are said,
 * and a run whose loss or weights become non-finite stops with a clear message, keeping the last
 * good checkpoint. About 15 s.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateVocDataset } from '../../src/train/data/index.js';
import { findNonFinite, loadCheckpoint } from '../../src/train/checkpoint.js';
import { train, type TrainOptions } from '../../src/train/train.js';

let root: string, data: string, other: string;
const base = (name: string): TrainOptions => ({
  data,
  width: 1 / 32,
  backend: 'wasm',
  batch: 2,
  seed: 3,
  checkpointDir: join(root, name),
  checkpointEvery: 0,
  maxSteps: 1,
  flip: 0,
});

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ssd-edge-train-guards-'));
  data = join(root, 'data');
  other = join(root, 'other');
  await generateVocDataset(data, { trainCount: 4, testCount: 2, seed: 5, size: 96 });
  await generateVocDataset(other, { trainCount: 4, testCount: 0, seed: 6, size: 96 });
});
after(() => rm(root, { recursive: true, force: true }));

describe('train guards', () => {
  it('refuses a folder holding a checkpoint without resume or force; force replaces it', async () => {
    await train(base('taken'));
    const before = (await loadCheckpoint(join(root, 'taken'))).meta.savedAt;
    await assert.rejects(
      train({ ...base('taken'), maxSteps: 2 }),
      /'.*taken' already holds a checkpoint; pass --resume to continue it, --force to replace it/,
    );
    assert.equal((await loadCheckpoint(join(root, 'taken'))).meta.savedAt, before, 'the checkpoint is untouched');
    const replaced = await train({ ...base('taken'), maxSteps: 2, force: true });
    assert.equal(replaced.startStep, 0);
    assert.equal((await loadCheckpoint(join(root, 'taken'))).meta.step, 2);
    await assert.rejects(
      train({ ...base('taken'), force: 'yes' as unknown as boolean }),
      /force is yes; it must be a boolean/,
    );
  });

  it('a resume refuses another data folder or split, and says which hyper-parameters changed', async () => {
    await train(base('resumed'));
    await assert.rejects(
      train({ ...base('resumed'), data: other, maxSteps: 2, resume: true }),
      /cannot resume: the checkpoint in '.*resumed' has data .*data, this run .*other/,
    );
    await assert.rejects(
      train({ ...base('resumed'), split: 'test', maxSteps: 2, resume: true }),
      /cannot resume: .* has split trainval, this run test/,
    );
    const lines: string[] = [];
    await train({
      ...base('resumed'),
      maxSteps: 2,
      resume: true,
      lr: 0.01,
      momentum: 0.8,
      weightDecay: 0,
      log: (l) => lines.push(l),
    });
    assert.ok(
      lines.some((l) =>
        /resuming with a different lr 0\.01 \(the checkpoint was trained with 0\.001\), momentum 0\.8 \(.* 0\.9\), weightDecay 0 \(.* 0\.0005\)/.test(
          l,
        ),
      ),
      lines.join('\n'),
    );
  });

  it('stops when the loss or the weights become non-finite, keeping the last good checkpoint', async (t) => {
    const steps: number[] = [];
    let message = '';
    await assert.rejects(
      train({ ...base('diverged'), lr: 1e12, momentum: 0, maxSteps: 8, onProgress: (p) => steps.push(p.step) }),
      (error: Error) => {
        message = error.message;
        return true;
      },
    );
    assert.match(
      message,
      /^train: (the loss is (NaN|-?Infinity)|a gradient of .* is (NaN|-?Infinity)|the update makes the weights non-finite) at step \d+ \(lr 1000000000000\): stopped\. The last good weights \(step \d+\) are saved in .*diverged.checkpoint\.json; try a lower --lr/,
    );
    t.diagnostic(message);
    const lastGood = steps.at(-1) ?? 0;
    const { meta, weights, momentum } = await loadCheckpoint(join(root, 'diverged'));
    assert.equal(meta.step, lastGood, `saved at the last completed step (${message})`);
    assert.equal(findNonFinite(weights), undefined);
    assert.equal(findNonFinite(momentum), undefined);
  });

  it('refuses a dataset with a zero-width box, naming the file, before training; --skip-invalid leaves it out and says so', async () => {
    const { readFile, writeFile } = await import('node:fs/promises');
    const xml = join(data, 'Annotations', 'train_000002.xml');
    const original = await readFile(xml, 'utf8');
    try {
      await writeFile(
        xml,
        original.replace(/<xmax>\d+<\/xmax>/, (m) => m.replace(/\d+/, /<xmin>(\d+)<\/xmin>/.exec(original)![1])),
      );
      await assert.rejects(train(base('zero-width')), /train_000002\.xml: object 1 .* has zero width \(xmin = xmax\)/);
      const lines: string[] = [];
      const result = await train({ ...base('zero-width'), skipInvalid: true, log: (l) => lines.push(l) });
      assert.equal(result.steps, 1);
      assert.ok(
        lines.some((l) => /left out of .* \(trainval\): 1 box, 0 images; first: .*train_000002\.xml/.test(l)),
        lines.join('\n'),
      );
    } finally {
      await writeFile(xml, original);
    }
  });
});

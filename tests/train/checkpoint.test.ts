/**
 * Checkpoints are one atomic unit: the JSON names its binary (with size and SHA-256), a binary
 * that does not belong to the JSON is refused, a write killed before its commit leaves the
 * previous checkpoint, and NaN or ±Infinity is never saved nor loaded. Version 1 checkpoints
 * (a fixed checkpoint.bin) still load. No tfjs: tiny tensors through saveCheckpoint.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadCheckpoint, saveCheckpoint, type CheckpointMeta } from '../../src/train/checkpoint.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ssd-edge-checkpoint-'));
});
after(() => rm(root, { recursive: true, force: true }));

const meta = (step: number): Omit<CheckpointMeta, 'format' | 'version' | 'tensors' | 'savedAt'> => ({
  arch: 'ssd300',
  numClasses: 3,
  width: 0.25,
  classes: ['background', 'a', 'b'],
  step,
  epoch: 0,
  options: {},
});
const weightsAt = (step: number) => ({
  'conv.kernel': new Float32Array([step, step + 0.5, -step]),
  'conv.bias': new Float32Array([step * 2]),
});
const momentumAt = (step: number) => ({
  'conv.kernel': new Float32Array([0.1 * step, 0, 0]),
  'conv.bias': new Float32Array([0]),
});
const shapes = { 'conv.kernel': [1, 1, 3], 'conv.bias': [1] };
const save = (dir: string, step: number, weights = weightsAt(step)) =>
  saveCheckpoint(dir, meta(step), weights, momentumAt(step), shapes);
const bins = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith('.bin') || n.endsWith('.tmp')).sort();

describe('checkpoints', () => {
  it('round-trip, one JSON and the one binary it names; a new save removes the old binary', async () => {
    const dir = join(root, 'round-trip');
    await save(dir, 1);
    const first = await bins(dir);
    await save(dir, 2);
    const second = await bins(dir);
    assert.equal(first.length, 1);
    assert.equal(second.length, 1);
    assert.notDeepEqual(second, first);
    const { meta: m, weights, momentum } = await loadCheckpoint(dir);
    assert.equal(m.step, 2);
    assert.equal(m.bin?.file, second[0]);
    assert.deepEqual(weights['conv.kernel'], weightsAt(2)['conv.kernel']);
    assert.deepEqual(momentum['conv.kernel'], momentumAt(2)['conv.kernel']);
  });

  it("a binary from another step under the JSON's name is refused, naming both files", async () => {
    const a = join(root, 'mixed-a'),
      b = join(root, 'mixed-b');
    await save(a, 1);
    await save(b, 2);
    // what a kill between two renames used to leave: this JSON with the other step's binary
    await copyFile(join(b, (await bins(b))[0]), join(a, (await bins(a))[0]));
    await assert.rejects(
      loadCheckpoint(a),
      /checkpoint binary .*checkpoint-1-.*\.bin is not the one .*checkpoint\.json \(step 1\) recorded/,
    );
  });

  it('a save killed before its commit leaves the previous checkpoint, and the next save clears its leftovers', async () => {
    const dir = join(root, 'killed');
    await save(dir, 1);
    // a killed step-2 save: its binary (and a temporary) written, checkpoint.json not yet renamed
    await writeFile(join(dir, 'checkpoint-2-deadbeef.bin'), new Uint8Array(40));
    await writeFile(join(dir, 'checkpoint.json.tmp'), '{"step": 2');
    const { meta: m, weights } = await loadCheckpoint(dir);
    assert.equal(m.step, 1);
    assert.deepEqual(weights['conv.bias'], weightsAt(1)['conv.bias']);
    await save(dir, 3);
    assert.equal((await bins(dir)).length, 1, `left: ${await bins(dir)}`);
    assert.equal((await loadCheckpoint(dir)).meta.step, 3);
  });

  it('NaN or ±Infinity in the weights or momentum is never saved', async () => {
    const dir = join(root, 'nan');
    await save(dir, 1);
    for (const bad of [NaN, Infinity, -Infinity]) {
      await assert.rejects(
        save(dir, 2, { ...weightsAt(2), 'conv.bias': new Float32Array([bad]) }),
        new RegExp(`weights/conv\\.bias\\[0\\] is ${bad}; a checkpoint with non-finite values is not saved`),
      );
    }
    await assert.rejects(
      saveCheckpoint(dir, meta(2), weightsAt(2), { ...momentumAt(2), 'conv.bias': new Float32Array([NaN]) }, shapes),
      /momentum\/conv\.bias\[0\] is NaN/,
    );
    assert.equal((await loadCheckpoint(dir)).meta.step, 1, 'the checkpoint there is untouched');
  });

  it('a version 1 checkpoint (checkpoint.bin) loads, and one holding NaN is refused', async () => {
    const dir = join(root, 'v1');
    await save(dir, 4);
    const json = JSON.parse(await readFile(join(dir, 'checkpoint.json'), 'utf8')) as CheckpointMeta;
    const bin = await readFile(join(dir, json.bin!.file));
    await rm(join(dir, json.bin!.file));
    delete json.bin;
    await writeFile(join(dir, 'checkpoint.json'), JSON.stringify({ ...json, version: 1 }));
    await writeFile(join(dir, 'checkpoint.bin'), bin);
    assert.deepEqual((await loadCheckpoint(dir)).weights['conv.kernel'], weightsAt(4)['conv.kernel']);
    const values = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
    values[1] = NaN;
    await writeFile(join(dir, 'checkpoint.bin'), new Uint8Array(values.buffer));
    await assert.rejects(
      loadCheckpoint(dir),
      /holds NaN in weights\/conv\.kernel\[1\] \(step 4\); refusing a checkpoint with non-finite values/,
    );
  });
});

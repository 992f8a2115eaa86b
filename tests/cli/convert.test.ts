/**
 * `ssd-edge convert`: writes a model that runs, and never loses a file: not over its input, not
 * over an existing --out without --force, nothing at --out when the conversion fails.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';

const run = promisify(execFile);
const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;
const TFLITE = new URL('../../../models/mobilenet_ssd_v2_coco_quant_postprocess.tflite', import.meta.url).pathname;

async function fails(args: string[], message: RegExp): Promise<void> {
  await assert.rejects(run(process.execPath, [CLI, ...args]), (error: { stderr: string; code: number }) => {
    assert.equal(error.code, 1);
    assert.match(error.stderr, message);
    return true;
  });
}

describe('ssd-edge convert', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-convert-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('converts the COCO TFLite model, reports it, and writes a model with its metadata', async () => {
    const out = path.join(dir, 'coco.onnx');
    const { stdout } = await run(process.execPath, [CLI, 'convert', TFLITE, '--out', out]);
    assert.match(stdout, /wrote .*coco\.onnx: 6\.0 MiB ONNX \(\d+ nodes\) from 98 TFLite operators, exact arithmetic/);
    assert.match(stdout, /1917 anchors, 91 score columns/);
    assert.match(stdout, /labels: person, bicycle, car, .*assumed from its 91 score columns/);
    const meta = readSsdEdgeMetadata(await readFile(out))!;
    assert.equal(meta.postprocess.labels?.[18], 'dog');
    assert.deepEqual(await readdir(dir), ['coco.onnx'], 'no temporary file left behind');
  });

  it('refuses to write over its input or an existing file, and leaves nothing when the input is bad', async () => {
    const input = path.join(dir, 'copy.tflite');
    await copyFile(TFLITE, input);
    await fails(['convert', input, '--out', input], /--out is the input file/);
    const existing = path.join(dir, 'keep.onnx');
    await writeFile(existing, 'precious');
    await fails(['convert', input, '--out', existing], /keep\.onnx exists; pass --force/);
    assert.equal(await readFile(existing, 'utf8'), 'precious');

    const truncated = path.join(dir, 'truncated.tflite');
    await writeFile(truncated, (await readFile(TFLITE)).subarray(0, 200_000));
    await fails(['convert', truncated, '--out', path.join(dir, 'never.onnx')], /truncated or corrupt/);
    await fails(
      ['convert', path.join(dir, 'keep.onnx'), '--out', path.join(dir, 'never.onnx')],
      /not a model file ssd-edge can convert/,
    );
    // --force over an existing file, with a failing input: the old file survives
    await fails(['convert', truncated, '--out', existing, '--force'], /truncated or corrupt/);
    assert.equal(await readFile(existing, 'utf8'), 'precious');
    const files = (await readdir(dir)).sort();
    assert.ok(
      !files.includes('never.onnx') && !files.some((f) => f.endsWith('.tmp')),
      `files left: ${files.join(', ')}`,
    );
  });

  it('clear errors for a missing --out, a folder as --out and a labels file that does not fit', async () => {
    await fails(['convert', TFLITE], /--out is required/);
    await fails(['convert', TFLITE, '--out', dir], /is a folder; give a file name/);
    const labels = path.join(dir, 'labels.txt');
    await writeFile(labels, 'background\ncat\ndog\n');
    await fails(
      ['convert', TFLITE, '--out', path.join(dir, 'x.onnx'), '--labels', labels],
      /labels file has 3 names; the model has 91 classes/,
    );
    await fails(
      ['convert', TFLITE, '--out', path.join(dir, 'x.onnx'), '--mode', 'fast'],
      /--mode is 'fast'; use exact, qdq or float/,
    );
    await fails(
      ['convert', TFLITE, '--out', path.join(dir, 'x.onnx'), '--float', '--mode', 'exact'],
      /--float and --mode exact disagree/,
    );
    await fails(
      ['convert', TFLITE, '--out', path.join(dir, 'x.onnx'), '--preset', 'nope'],
      /unknown --preset 'nope'; conversion presets: mediapipe-blazeface; post-processing presets: ssd300Voc/,
    );
    const anchors = path.join(dir, 'anchors.json');
    await writeFile(anchors, '{"cx": 1}');
    await fails(
      ['convert', TFLITE, '--out', path.join(dir, 'x.onnx'), '--anchors', anchors],
      /holds neither a PriorConfig .* nor an array/,
    );
    await fails(
      ['convert', TFLITE, '--out', path.join(dir, 'x.onnx'), '--preset', 'tfSsdMobilenetV1Coco'],
      /carries its own anchors/,
    );
    await writeFile(
      anchors,
      JSON.stringify({
        family: 'tfGrid',
        featureMaps: [19, 10, 5, 3, 2, 1],
        minScale: 0.2,
        maxScale: 0.95,
        aspectRatio: [1, 2],
      }),
    );
    await fails(
      ['convert', TFLITE, '--out', path.join(dir, 'x.onnx'), '--anchors', anchors],
      /--anchors .*anchors\.json: PriorConfig \(family 'tfGrid'\) has an unknown key 'aspectRatio'; did you mean 'aspectRatios'\?/,
    );
    assert.ok(!(await readdir(dir)).includes('x.onnx'), 'nothing written by a refused conversion');
  });
});

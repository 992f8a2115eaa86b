/**
 * MobileNet checkpoints through export and eval, end to end: `ssd-edge train` a few steps of
 * SSD MobileNet V2 (300), SSDLite MobileNet V2 (320, backbone frozen for the first step) and SSD
 * MobileNet V1 (300) at width 0.35 on a tiny generated dataset, `ssd-edge export --weights` to ONNX, then
 * - onnxruntime-node on the file gives the checkpoint's tfjs head outputs (within 1e-4 · max(1, max |output|));
 * - `ssd-edge eval --model` (the runtime, no preset: anchors, box coding and input from the
 *   metadata) and `eval --weights` (tfjs) both run and find the same detections per class.
 * About 1 minute on 2 busy cores.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { generateVocDataset } from '../../src/train/data/index.js';
import { useTfjsBackend } from '../model/tfjs.js';
import { assertOnnxGivesCheckpointHeads } from '../train/export-parity.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { maxBuffer: 16 * 2 ** 20 });

interface JsonResult {
  map07: number | null;
  images: number;
  perClass: { label: string; numDetections: number }[];
}

const CASES = [
  { arch: 'mobilenet-v2', size: 300, extra: [] as string[] },
  { arch: 'ssdlite-mobilenet-v2', size: 320, extra: ['--input-size', '320', '--freeze-backbone-steps', '1'] },
  { arch: 'ssd-mobilenet-v1', size: 300, extra: [] as string[] },
];
const DESCRIBED: Record<string, string> = {
  'mobilenet-v2': 'SSD MobileNet V2',
  'ssdlite-mobilenet-v2': 'SSDLite MobileNet V2',
  'ssd-mobilenet-v1': 'SSD MobileNet V1',
};

describe('ssd-edge export and eval of MobileNet checkpoints', () => {
  let dir: string, data: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-mobilenet-export-'));
    data = path.join(dir, 'data');
    await generateVocDataset(data, { trainCount: 4, testCount: 2, seed: 3 });
    await useTfjsBackend('wasm');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const { arch, size, extra } of CASES) {
    it(`${arch} ${size}: train 2 steps, export (ONNX = tfjs heads), eval --model and --weights`, async (t) => {
      const ck = path.join(dir, `${arch}-ck`),
        onnx = path.join(dir, `${arch}.onnx`);
      await cli(
        'train',
        '--data',
        data,
        '--arch',
        arch,
        '--width',
        '0.35',
        '--batch',
        '2',
        '--max-steps',
        '2',
        '--backend',
        'wasm',
        '--checkpoints',
        ck,
        '--seed',
        '2',
        '--save-every',
        '0',
        ...extra,
      );
      const exported = await cli('export', '--weights', ck, '--out', onnx);
      assert.match(exported.stdout, new RegExp(`wrote .*: ${DESCRIBED[arch]} ${size}×${size}, width 0.35, 7 classes`));
      const bytes = new Uint8Array(await readFile(onnx));
      const meta = readSsdEdgeMetadata(bytes)!;
      assert.deepEqual(meta.preprocess.size, [size, size]);
      assert.equal((meta.postprocess.priors as { family: string }).family, 'tfGrid');
      assert.equal(meta.postprocess.scoreActivation, 'softmax');
      assert.equal(meta.postprocess.labels?.[0], 'background');

      // the same input through the checkpoint in tfjs and the file in onnxruntime-node
      const heads = await assertOnnxGivesCheckpointHeads(ck, bytes, size, (line) => t.diagnostic(line));
      assert.equal(heads.arch, arch);

      const onnxEval = JSON.parse(
        (await cli('eval', '--model', onnx, '--data', data, '--backend', 'node', '--json')).stdout,
      ) as JsonResult;
      const tfjsEval = JSON.parse(
        (await cli('eval', '--weights', ck, '--data', data, '--backend', 'wasm', '--json')).stdout,
      ) as JsonResult;
      assert.equal(onnxEval.images, 2);
      assert.ok(onnxEval.map07 === null || (onnxEval.map07 >= 0 && onnxEval.map07 <= 1));
      const counts = (r: JsonResult) => r.perClass.map((c) => `${c.label}:${c.numDetections}`);
      t.diagnostic(`detections per class: ONNX ${counts(onnxEval).join(' ')}; tfjs ${counts(tfjsEval).join(' ')}`);
      assert.deepEqual(counts(onnxEval), counts(tfjsEval));
    });
  }
});

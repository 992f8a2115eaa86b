/**
 * Fine-tuning SSDLite MobileNet V2 from the COCO model at a 192×192 input, end to end: `ssd-edge
 * train --init-from models/ssd-mobilenet-v2-coco.onnx --input-size 192` (one step, base held, so
 * the checkpoint's base is still COCO's), `ssd-edge export --weights` (the ONNX file computes the
 * checkpoint's tfjs head outputs at 192; its metadata records 192 and the 12, 6, 3, 2, 1, 1
 * anchors), and createDetector on it with no preset (it resizes a 300×200 image to 192×192);
 * then the mismatches: a resume at another size, --init-from at another width, a size off the rule.
 * About 30 s on 2 busy cores (width 1, batch 2, one step on wasm).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { readTfliteWeights } from '../../src/model/tflite-weights.js';
import { createDetector } from '../../src/runtime/detector.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { generateVocDataset } from '../../src/train/data/index.js';
import { initTraining } from '../../src/train/tfjs.js';
import { train } from '../../src/train/train.js';
import { assertOnnxGivesCheckpointHeads } from './export-parity.js';
import { trainFrozenSsdliteStep } from './train-cli.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const MODELS = new URL('../../../models/', import.meta.url);
const ONNX = fileURLToPath(new URL('ssd-mobilenet-v2-coco.onnx', MODELS));
const TFLITE = fileURLToPath(new URL('mobilenet_ssd_v2_coco_quant_postprocess.tflite', MODELS));
const SIZE = 192;

let root: string, data: string, checkpoints: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ssd-edge-mobilenet-size-'));
  data = join(root, 'data');
  checkpoints = join(root, 'ck');
  await generateVocDataset(data, { trainCount: 4, testCount: 0, seed: 5 });
  await initTraining({ backend: 'wasm', log: () => {} });
});
after(() => rm(root, { recursive: true, force: true }));

describe('SSDLite MobileNet V2 fine-tuned from COCO at 192×192', () => {
  it('train --init-from the COCO model --input-size 192 (1 step), export, ONNX = tfjs heads, createDetector', async (t) => {
    const lines = await trainFrozenSsdliteStep(data, checkpoints, SIZE, ['--init-from', ONNX]);
    assert.ok(
      lines.some((l) => /trained 1 steps? .* on wasm/.test(l)),
      lines.join('\n'),
    );
    const { meta, weights } = await loadCheckpoint(checkpoints);
    assert.deepEqual(meta.preprocess?.size, [SIZE, SIZE]);
    assert.equal(meta.options.inputSize, SIZE);
    assert.ok(Number.isFinite(meta.lastLoss!.total), `loss ${meta.lastLoss!.total}`);
    // the base was held for the step: still the COCO model's (the .onnx conversion holds the .tflite's filters)
    const coco = readTfliteWeights(new Uint8Array(readFileSync(TFLITE)));
    for (const name of ['FeatureExtractor/MobilenetV2/Conv', 'FeatureExtractor/MobilenetV2/expanded_conv_13/expand']) {
      assert.deepEqual(weights[`${name}.filter`], coco.layers.get(name)!.filter.values, `${name}: COCO's filter`);
    }

    const onnx = join(root, 'lite-192.onnx');
    const exported = await run(process.execPath, [CLI, 'export', '--weights', checkpoints, '--out', onnx]);
    assert.match(exported.stdout, /wrote .*: SSDLite MobileNet V2 192×192, width 1, 7 classes/);
    const bytes = new Uint8Array(await readFile(onnx));
    const recorded = readSsdEdgeMetadata(bytes)!;
    assert.deepEqual(recorded.preprocess.size, [SIZE, SIZE]);
    assert.deepEqual(
      (recorded.postprocess.priors as unknown as { featureMaps: number[] }).featureMaps,
      [12, 6, 3, 2, 1, 1],
    );

    // the same input through the checkpoint in tfjs and the file in onnxruntime-node: 738 rows each
    const { dims } = await assertOnnxGivesCheckpointHeads(checkpoints, bytes, SIZE, (line) => t.diagnostic(line));
    assert.deepEqual(dims.loc, [1, 738, 4]);

    // the runtime takes the size from the metadata and resizes to it (a 300×200 image here)
    const detector = await createDetector({ model: bytes, backend: 'node' });
    try {
      assert.deepEqual(detector.inputSpec.size, [SIZE, SIZE]);
      const image = { width: 300, height: 200, data: new Uint8ClampedArray(300 * 200 * 4).fill(96) };
      const found = await detector.detect(image as unknown as ImageData);
      assert.ok(Array.isArray(found) && found.length <= 100);
      for (const d of found) assert.ok(d.box.every((v) => Number.isFinite(v)));
    } finally {
      await detector.dispose();
    }
  });

  it('refuses: a resume at another size, --init-from at another width, a size off the rule', async () => {
    const options = {
      data,
      arch: 'ssdlite-mobilenet-v2' as const,
      backend: 'wasm' as const,
      batch: 2,
      seed: 3,
      checkpointDir: checkpoints,
      checkpointEvery: 0,
    };
    await assert.rejects(
      train({ ...options, inputSize: 224, resume: true, maxSteps: 2 }),
      /cannot resume: .* has inputSize 192, this run 224/,
    );
    await assert.rejects(
      train({ ...options, checkpointDir: join(root, 'narrow'), initFrom: ONNX, width: 0.5, inputSize: SIZE }),
      /the TFLite filter is \[.*\] .*; the network's is \[.*\]: was it built with another width/,
    );
    await assert.rejects(
      train({ ...options, checkpointDir: join(root, 'odd'), inputSize: 200 }),
      /train: inputSize is 200; a MobileNet SSD takes 300, or a multiple of 32 from 128 to 640/,
    );
    const refused = await run(process.execPath, [
      CLI,
      'export',
      '--arch',
      'ssdlite-mobilenet-v2',
      '--input-size',
      '100',
      '--out',
      join(root, 'x.onnx'),
    ]).catch((error: { stderr: string }) => error);
    assert.match(refused.stderr, /export: --input-size is 100; a MobileNet SSD takes 300, or a multiple of 32/);
  });
});

/**
 * Fine-tuning SSD MobileNet V2 from the COCO model, a few steps on wasm on a tiny generated VOC
 * dataset: the ONNX conversion gives the same weights as the .tflite (so `--init-from` takes
 * either), `ssd-edge train --init-from models/ssd-mobilenet-v2-coco.onnx` trains with finite losses
 * and writes a checkpoint of the dataset's classes, the COCO box heads start with a far lower
 * localisation loss than fresh ones, the class heads are new, and a resume continues the run.
 * About 3 minutes on 2 busy cores (each MobileNet step at batch 2 is several seconds on wasm).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createMobilenetSsd } from '../../src/model/mobilenet-ssd.js';
import { decodeOnnxModel } from '../../src/model/onnx/read.js';
import { readConvertedOnnxWeights, readTfliteWeights } from '../../src/model/tflite-weights.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { generateVocDataset } from '../../src/train/data/index.js';
import { initTraining } from '../../src/train/tfjs.js';
import { train, type TrainOptions, type TrainProgress } from '../../src/train/train.js';
import { trainCli } from './train-cli.js';

const MODELS = new URL('../../../models/', import.meta.url);
const ONNX = fileURLToPath(new URL('ssd-mobilenet-v2-coco.onnx', MODELS));
const TFLITE = fileURLToPath(new URL('mobilenet_ssd_v2_coco_quant_postprocess.tflite', MODELS));

let root: string;
let data: string;
const base = (name: string): TrainOptions => ({
  data,
  arch: 'mobilenet-v2',
  backend: 'wasm',
  batch: 2,
  seed: 3,
  flip: 0,
  lr: 1e-3,
  checkpointDir: join(root, name),
  checkpointEvery: 0,
});

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ssd-edge-mobilenet-'));
  data = join(root, 'data');
  await generateVocDataset(data, { trainCount: 4, testCount: 0, seed: 5 });
  await initTraining({ backend: 'wasm', log: () => {} });
});
after(() => rm(root, { recursive: true, force: true }));

describe('SSD MobileNet V2 fine-tuning from COCO (wasm, a few steps)', () => {
  it("the ONNX conversion holds the .tflite's weights: every filter equal, biases within 1e-6 relative", () => {
    const net = createMobilenetSsd({ numClasses: 91 });
    try {
      const fromOnnx = readConvertedOnnxWeights(
        decodeOnnxModel(readFileSync(ONNX)),
        net.convolutions.map((l) => l.name),
      );
      const fromTflite = readTfliteWeights(new Uint8Array(readFileSync(TFLITE)));
      assert.equal(fromOnnx.layers.size, 72);
      for (const [name, t] of fromTflite.layers) {
        const o = fromOnnx.layers.get(name)!;
        assert.deepEqual(o.filter.shape, t.filter.shape, name);
        assert.deepEqual(o.filter.values, t.filter.values, `${name}: filter`);
        o.bias.forEach((v, i) =>
          assert.ok(
            Math.abs(v - t.bias[i]) <= 1e-6 * Math.max(1, Math.abs(t.bias[i])),
            `${name}: bias ${i} ${v} vs ${t.bias[i]}`,
          ),
        );
      }
      assert.throws(
        () => readConvertedOnnxWeights(decodeOnnxModel(readFileSync(ONNX)), ['one']),
        /the ONNX model has 72 convolutions; the network has 1/,
      );
    } finally {
      net.dispose();
    }
  });

  it("ssd-edge train --init-from models/ssd-mobilenet-v2-coco.onnx: 2 steps, finite losses, a checkpoint of the dataset's classes; --resume continues", async () => {
    const dir = join(root, 'cli');
    const lines = await trainCli([
      '--data',
      data,
      '--init-from',
      ONNX,
      '--backend',
      'wasm',
      '--batch',
      '2',
      '--max-steps',
      '2',
      '--checkpoints',
      dir,
      '--save-every',
      '0',
    ]);
    const { meta, weights } = await loadCheckpoint(dir);
    assert.equal(meta.arch, 'mobilenet-v2');
    assert.equal(meta.step, 2);
    assert.deepEqual(meta.classes[0], 'background');
    assert.ok(Number.isFinite(meta.lastLoss!.total), `loss ${meta.lastLoss!.total}`);
    assert.equal(
      weights['BoxPredictor_0/ClassPredictor.filter'].length,
      576 * 3 * meta.numClasses,
      'new class heads for the dataset',
    );
    assert.equal(weights['BoxPredictor_0/BoxEncodingPredictor.filter'].length, 576 * 12);
    assert.ok(
      lines.some((l) => /trained 2 steps .* on wasm/.test(l)),
      lines.join('\n'),
    );

    // the CLI's defaults (seed 1, flip 0.5), as a resume needs them
    const resumed = await train({
      data,
      arch: 'mobilenet-v2',
      backend: 'wasm',
      batch: 2,
      epochs: 2,
      checkpointDir: dir,
      checkpointEvery: 0,
      resume: true,
      maxSteps: 3,
    });
    assert.equal(resumed.startStep, 2);
    assert.equal(resumed.steps, 3);
  });

  it('the COCO box heads (from the .tflite) start far better than fresh ones: step-1 localisation loss', async () => {
    const first = async (name: string, initFrom?: string) => {
      const progress: TrainProgress[] = [];
      await train({
        ...base(name),
        ...(initFrom ? { initFrom } : {}),
        maxSteps: 1,
        onProgress: (p) => progress.push(p),
      });
      return progress[0].loss;
    };
    const fresh = await first('fresh'),
      coco = await first('coco', TFLITE);
    assert.ok(Number.isFinite(fresh.total) && Number.isFinite(coco.total));
    assert.ok(coco.loc < 0.5 * fresh.loc, `localisation loss: COCO-initialised ${coco.loc}, fresh ${fresh.loc}`);
    console.log(
      `step-1 loss: from COCO loc ${coco.loc.toFixed(3)} conf ${coco.conf.toFixed(3)}; from scratch loc ${fresh.loc.toFixed(3)} conf ${fresh.conf.toFixed(3)}`,
    );
  });

  it('refuses --init-from for another architecture, and a file of another kind', async () => {
    await assert.rejects(
      train({ ...base('bad'), arch: 'ssd300', initFrom: ONNX }),
      /initFrom loads a pretrained SSD MobileNet V2; it needs arch mobilenet-v2 or ssdlite-mobilenet-v2, not ssd300/,
    );
    await assert.rejects(
      train({ ...base('bad2'), initFrom: join(root, 'data', 'ImageSets', 'Main', 'trainval.txt') }),
      /neither a \.tflite nor an \.onnx file/,
    );
  });
});

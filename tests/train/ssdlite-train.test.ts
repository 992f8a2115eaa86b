/**
 * Training SSDLite MobileNet V2: `--init-from` the COCO SSD model loads its MobileNet base and the
 * extras' 1×1 layers (from the .tflite by name, from the ONNX conversion by position: the same
 * values), the separable layers stay new; `--freeze-backbone-steps` holds the base (weights,
 * momentum) for the first steps and trains it after; the options are checked.
 * About 1 minute on 2 busy cores (width 0.35, 320×320, batch 2, wasm).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createMobilenetSsd } from '../../src/model/mobilenet-ssd.js';
import { readTfliteWeights } from '../../src/model/tflite-weights.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { generateVocDataset } from '../../src/train/data/index.js';
import { initMobilenetFrom } from '../../src/train/networks.js';
import { initTraining } from '../../src/train/tfjs.js';
import { train, type TrainOptions } from '../../src/train/train.js';
import { trainFrozenSsdliteStep } from './train-cli.js';

const MODELS = new URL('../../../models/', import.meta.url);
const ONNX = fileURLToPath(new URL('ssd-mobilenet-v2-coco.onnx', MODELS));
const TFLITE = fileURLToPath(new URL('mobilenet_ssd_v2_coco_quant_postprocess.tflite', MODELS));

let root: string, data: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ssd-edge-ssdlite-'));
  data = join(root, 'data');
  await generateVocDataset(data, { trainCount: 4, testCount: 0, seed: 5 });
  await initTraining({ backend: 'wasm', log: () => {} });
});
after(() => rm(root, { recursive: true, force: true }));

const base = (name: string): TrainOptions => ({
  data,
  arch: 'ssdlite-mobilenet-v2',
  inputSize: 320,
  width: 0.35,
  backend: 'wasm',
  batch: 2,
  seed: 3,
  flip: 0,
  lr: 1e-2,
  checkpointDir: join(root, name),
  checkpointEvery: 0,
});

const equal = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

describe('SSDLite MobileNet V2 training', () => {
  it("--init-from the COCO SSD model: the MobileNet base and the extras' 1×1 layers, the same from .tflite and .onnx; separable layers new", async () => {
    const fromTflite = createMobilenetSsd({ numClasses: 4, lite: true });
    const fromOnnx = createMobilenetSsd({ numClasses: 4, lite: true });
    const fresh = createMobilenetSsd({ numClasses: 4, lite: true });
    try {
      const loaded = await initMobilenetFrom(fromTflite, TFLITE);
      assert.equal(loaded.length, 52 + 4);
      assert.deepEqual(
        loaded.filter((n) => n.includes('layer_19')),
        [2, 3, 4, 5].map((k) => loaded.find((n) => n.includes(`layer_19_1_Conv2d_${k}_1x1`))),
      );
      assert.deepEqual(await initMobilenetFrom(fromOnnx, ONNX), loaded);
      const coco = readTfliteWeights(new Uint8Array(readFileSync(TFLITE)));
      for (const [i, layer] of fromTflite.convolutions.entries()) {
        const a = layer.filter.dataSync() as Float32Array,
          o = fromOnnx.convolutions[i].filter.dataSync() as Float32Array;
        const f = fresh.convolutions[i].filter.dataSync() as Float32Array;
        if (loaded.includes(layer.name)) {
          assert.ok(equal(a, coco.layers.get(layer.name)!.filter.values), `${layer.name}: the COCO filter`);
          assert.ok(equal(a, o), `${layer.name}: .tflite and .onnx agree`);
        } else {
          assert.ok(equal(a, f) && equal(o, f), `${layer.name}: left as initialised`);
        }
      }
    } finally {
      fromTflite.dispose();
      fromOnnx.dispose();
      fresh.dispose();
    }
  });

  it("--freeze-backbone-steps 1: step 1 leaves the base's weights and momentum as they were, trains the rest; step 2 trains the base", async () => {
    const dir = join(root, 'frozen');
    const lines = await trainFrozenSsdliteStep(data, dir, 320, ['--width', '0.35', '--lr', '0.01']);
    assert.ok(
      lines.some((l) => /backbone frozen for steps 1 … 1: 104 of \d+ variables held/.test(l)),
      lines.join('\n'),
    );
    const first = await loadCheckpoint(dir);
    assert.equal(first.meta.arch, 'ssdlite-mobilenet-v2');
    assert.deepEqual(first.meta.preprocess?.size, [320, 320]);
    assert.equal(first.meta.options.freezeBackboneSteps, 1);
    const init = createMobilenetSsd({
      numClasses: first.meta.numClasses,
      width: 0.35,
      lite: true,
      inputSize: 320,
      seed: 3,
    });
    const initial = await init.saveWeights();
    const backbone = new Set(init.backbone.flatMap((l) => [`${l.name}.filter`, `${l.name}.bias`]));
    init.dispose();
    let heldBase = 0,
      trainedRest = 0;
    for (const [name, values] of Object.entries(first.weights)) {
      if (backbone.has(name)) {
        assert.ok(equal(values, initial[name]), `${name}: held`);
        assert.ok(
          first.momentum[name].every((v) => v === 0),
          `${name}: no momentum`,
        );
        heldBase++;
      } else if (!equal(values, initial[name])) {
        trainedRest++;
      }
    }
    assert.equal(heldBase, 104);
    // every other filter moves (weight decay at least); biases start at 0 and move where a gradient reaches
    const otherFilters = Object.keys(first.weights).filter((n) => !backbone.has(n) && n.endsWith('.filter'));
    assert.ok(
      otherFilters.every((n) => !equal(first.weights[n], initial[n])),
      'extras and heads trained',
    );
    assert.ok(
      !equal(first.weights['BoxPredictor_0/ClassPredictor.bias'], initial['BoxPredictor_0/ClassPredictor.bias']),
    );
    assert.ok(trainedRest > otherFilters.length, `${trainedRest} trained`);

    // resumed past the frozen steps, the base trains
    const resumed = await train({ ...base('frozen'), flip: 0.5, resume: true, maxSteps: 2, freezeBackboneSteps: 1 });
    assert.equal(resumed.steps, 2);
    const second = await loadCheckpoint(dir);
    const changed = [...backbone].filter((name) => !equal(second.weights[name], initial[name]));
    assert.ok(
      changed.length >= backbone.size / 2 &&
        [...backbone].filter((n) => n.endsWith('.filter')).every((n) => changed.includes(n)),
      `${changed.length} of ${backbone.size} base variables trained at step 2`,
    );
  });

  it('checks the options', async () => {
    await assert.rejects(
      train({ ...base('x'), arch: 'ssd300', inputSize: 320 }),
      /inputSize 320 is for mobilenet-v2, ssdlite-mobilenet-v2 and ssd-mobilenet-v1/,
    );
    await assert.rejects(
      train({ ...base('x'), inputSize: 500 }),
      /inputSize is 500; a MobileNet SSD takes 300, or a multiple of 32 from 128 to 640/,
    );
    await assert.rejects(
      train({ ...base('x'), arch: 'ssd300', inputSize: 300, freezeBackboneSteps: 5 }),
      /freezeBackboneSteps holds a MobileNet base; arch ssd300 has none/,
    );
    await assert.rejects(
      train({ ...base('x'), freezeBackboneSteps: -1 }),
      /freezeBackboneSteps is -1; it must be an integer ≥ 0/,
    );
    // a resume must keep the input size
    await assert.rejects(
      train({ ...base('frozen'), flip: 0.5, inputSize: 300, resume: true, maxSteps: 3 }),
      /cannot resume: .* has inputSize 320, this run 300/,
    );
  });
});

/**
 * TensorFlow Lite's own runtime (tfjs-tflite in Debian's Chromium) on the real COCO detector:
 * the dog photo's detections make sense, and the runner reproduces the committed fixture's head
 * tensors exactly (so the fixtures can be trusted and re-made). One Chromium launch, two model
 * loads, a few seconds.
 *
 * Skipped, with one line saying why, when /usr/bin/chromium or the model is missing.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COCO_MODEL_HINT, findCocoModel, parseCocoLabels } from '../../tools/tflite-reference/coco-model.js';
import { tfliteInput } from '../../tools/tflite-reference/input.js';
import { CHROMIUM, openTfliteReference, type TfliteReference } from '../../tools/tflite-reference/runner.js';
import { repoRoot } from '../browser/chromium.js';
import { readTfliteCocoFixtures } from './fixtures.js';

const files = findCocoModel();
const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing (apt-get install chromium)`
  : !files
    ? COCO_MODEL_HINT
    : false;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('TFLite reference runner', { skip }, () => {
  let reference: TfliteReference;
  let model: Uint8Array;
  before(async () => {
    model = new Uint8Array(await readFile(files!.model));
    reference = await openTfliteReference();
  });
  after(() => reference?.close());

  it('finds the dog, the bicycle and the vehicle in dog.jpg', async (t) => {
    const labels = parseCocoLabels(await readFile(files!.labels, 'utf8').catch(() => ''));
    const input = await tfliteInput(path.join(repoRoot, 'samples/dog.jpg'));
    const loaded = await reference.load(model);
    const [run] = await loaded.run([input]);
    const [boxes, classes, scores, count] = run.outputs;
    assert.deepEqual(
      run.outputs.map((o) => [o.name, o.dtype]),
      [
        ['TFLite_Detection_PostProcess', 'float32'],
        ['TFLite_Detection_PostProcess:1', 'float32'],
        ['TFLite_Detection_PostProcess:2', 'float32'],
        ['TFLite_Detection_PostProcess:3', 'float32'],
      ],
    );
    assert.deepEqual(boxes.shape, [1, 20, 4]);
    const top = Array.from(classes.data.subarray(0, 3));
    t.diagnostic(
      `${reference.environment.userAgent.match(/Chrome\/\S+/)?.[0]}, ${loaded.wasmScript?.split('/').pop()}; ` +
        `Chromium start ${reference.environment.launchMs.toFixed(0)} ms, load ${loaded.loadMs.toFixed(0)} ms, inference ${run.inferMs.toFixed(0)} ms`,
    );
    t.diagnostic(
      `top 3: ${top.map((c, i) => `${labels.get(c) ?? c} ${scores.data[i].toFixed(3)}`).join(', ')}; count ${count.data[0]}`,
    );
    assert.ok(top.includes(17), `dog (17) not in the top 3 classes [${top}]`);
    assert.ok(top.includes(1), `bicycle (1) not in the top 3 classes [${top}]`);
    assert.ok(top.includes(2) || top.includes(7), `neither car (2) nor truck (7) in the top 3 classes [${top}]`);
    assert.ok(scores.data[0] > 0.8, `best score ${scores.data[0]}`);
    const dog = top.indexOf(17);
    const [ymin, xmin, ymax, xmax] = boxes.data.subarray(4 * dog, 4 * dog + 4);
    assert.ok(
      ymin > 0.3 && ymax > 0.85 && xmin < 0.25 && xmax < 0.5,
      `the dog is in the lower left: box ${[ymin, xmin, ymax, xmax]}`,
    );
  });

  it('returns intermediate tensors and reproduces the fixture heads bit for bit', async () => {
    const fixture = (await readTfliteCocoFixtures()).find((f) => f.name === 'dog')!;
    const { boxEncodings, classPredictions } = fixture.json.heads;
    const loaded = await reference.load(model, {
      outputs: [boxEncodings.index, classPredictions.index, 61],
      threads: 2,
    });
    const [run] = await loaded.run([fixture.input]);
    const [box, cls, conv] = run.outputs;
    assert.deepEqual([box.name, box.shape, box.dtype], ['Squeeze', [1, 1917, 4], 'uint8']);
    assert.deepEqual([cls.name, cls.shape, cls.dtype], ['convert_scores', [1, 1917, 91], 'uint8']);
    assert.deepEqual(
      [conv.name, conv.shape, conv.dtype],
      ['FeatureExtractor/MobilenetV2/Conv/Relu6', [1, 150, 150, 32], 'uint8'],
    );
    assert.deepEqual(box.quantization?.zeroPoint, [179]);
    assert.equal(
      sha256(box.data as Uint8Array),
      boxEncodings.sha256,
      'box encodings differ from the fixture (fixture made with 1 thread, this run 2)',
    );
    assert.equal(sha256(cls.data as Uint8Array), classPredictions.sha256, 'class predictions differ from the fixture');
  });
});

/**
 * The uint8 executor layer by layer against TensorFlow Lite itself (tfjs-tflite, XNNPACK, in
 * Debian's Chromium): every CONV_2D, DEPTHWISE_CONV_2D, ADD, CONCATENATION and LOGISTIC output of
 * the COCO detector, on two sample photos, must equal TFLite's tensor byte for byte (SIMD build).
 * One Chromium launch, one model load; skipped, with one line saying why, when /usr/bin/chromium
 * or the model is missing.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { readTflite } from '../../src/convert/tflite/read.js';
import { createTfliteInt8Network } from '../../src/int8/network.js';
import { COCO_MODEL_HINT, findCocoModel } from '../../tools/tflite-reference/coco-model.js';
import { CHROMIUM, openTfliteReference, type TfliteReference } from '../../tools/tflite-reference/runner.js';
import { readTfliteCocoFixtures } from '../tflite-reference/fixtures.js';

const files = findCocoModel();
const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is missing (apt-get install chromium)`
  : !files
    ? COCO_MODEL_HINT
    : false;
const CHECKED = new Set(['CONV_2D', 'DEPTHWISE_CONV_2D', 'ADD', 'CONCATENATION', 'LOGISTIC']);

describe('int8 executor against TensorFlow Lite, layer by layer', { skip }, () => {
  let reference: TfliteReference;
  before(async () => {
    reference = await openTfliteReference();
  });
  after(() => reference?.close());

  it("every convolution, depthwise convolution, ADD, concatenation and LOGISTIC output is TFLite's, on two photos", async (t) => {
    const model = new Uint8Array(await readFile(files!.model));
    const graph = readTflite(model);
    const ops = graph.operators.filter((op) => CHECKED.has(op.name));
    const indices = ops.map((op) => op.outputs[0]);
    const net = await createTfliteInt8Network(model, { build: 'simd', outputs: indices });
    const loaded = await reference.load(model, { outputs: indices, threads: 1 });
    const fixtures = (await readTfliteCocoFixtures()).filter((f) => f.name === 'dog' || f.name === 'coffee');
    let values = 0;
    for (const f of fixtures) {
      const [run] = await loaded.run([f.input]);
      const ours = net.run(f.input);
      const wrong: string[] = [];
      run.outputs.forEach((theirs, k) => {
        assert.equal(theirs.index, indices[k]);
        const mine = ours[k],
          data = theirs.data as Uint8Array;
        assert.equal(mine.length, data.length, `${ops[k].name} #${ops[k].index}: size`);
        let differ = 0;
        for (let i = 0; i < data.length; i++) if (mine[i] !== data[i]) differ++;
        if (differ) wrong.push(`${ops[k].name} #${ops[k].index} (${theirs.name}): ${differ} of ${data.length}`);
        values += data.length;
      });
      assert.deepEqual(wrong, [], `${f.name}: tensors that differ from TFLite's`);
    }
    t.diagnostic(`${ops.length} tensors × ${fixtures.length} photos, ${values} values, all identical`);
  });
});

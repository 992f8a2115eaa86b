/**
 * The two-thread uint8 executor (src/int8/threads.ts, `threads: 2`): the caller and one worker
 * each run half of every large kernel call on one shared memory. Its heads equal the one-thread
 * executor's and TensorFlow Lite's own (tests/fixtures/tflite-coco) byte for byte on every sample
 * photo, and dispose() leaves no worker behind.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { createTfliteInt8Network } from '../../src/int8/network.js';
import { liveWorkers } from '../../src/int8/threads.js';
import { readTfliteCocoFixtures, type TfliteCocoFixture } from '../tflite-reference/fixtures.js';
import { wasmSections } from '../wasm-binary.js';

const MODEL = new URL('../../../models/mobilenet_ssd_v2_coco_quant_postprocess.tflite', import.meta.url);

describe('int8 executor, two threads', () => {
  it('the threaded build has no data segments and no start function: instantiating it in the worker writes nothing to the shared memory', () => {
    const bytes = new Uint8Array(readFileSync(new URL('../../wasm/ssd-int8.threads.wasm', import.meta.url)));
    const ids = wasmSections(bytes).map((section) => section.id);
    assert.ok(ids.includes(10), `sections ${ids}`); // code
    assert.ok(
      !ids.includes(11) && !ids.includes(12) && !ids.includes(8),
      `sections ${ids}: a data (11), data count (12) or start (8) section`,
    );
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
    assert.deepEqual(
      imports.filter((i) => i.kind === 'memory').map((i) => `${i.module}.${i.name}`),
      ['env.memory'],
    );
  });

  let fixtures: TfliteCocoFixture[];
  const model = new Uint8Array(readFileSync(MODEL));
  before(async () => {
    fixtures = await readTfliteCocoFixtures();
  });

  it("gives the one-thread heads and TensorFlow Lite's on every sample photo, byte for byte", async () => {
    const one = await createTfliteInt8Network(model, { build: 'simd' });
    const two = await createTfliteInt8Network(model, { threads: 2 });
    try {
      assert.equal(one.threads, 1);
      assert.equal(two.threads, 2, two.threadsReason);
      assert.equal(two.build, 'simd');
      assert.ok(fixtures.length >= 5, `${fixtures.length} fixtures`);
      for (let round = 0; round < 2; round++) {
        // a second round: nothing left over from the previous run matters
        for (const f of fixtures) {
          const a = one.runHeads(f.input),
            b = two.runHeads(f.input);
          assert.ok(
            Buffer.from(b.boxEncodings).equals(Buffer.from(a.boxEncodings)),
            `${f.name}: box encodings differ from one thread's`,
          );
          assert.ok(
            Buffer.from(b.classPredictions).equals(Buffer.from(a.classPredictions)),
            `${f.name}: class predictions differ from one thread's`,
          );
          assert.ok(
            Buffer.from(b.boxEncodings).equals(Buffer.from(f.boxEncodings)),
            `${f.name}: box encodings differ from TFLite's`,
          );
          assert.ok(
            Buffer.from(b.classPredictions).equals(Buffer.from(f.classPredictions)),
            `${f.name}: class predictions differ from TFLite's`,
          );
        }
      }
      // the worker did run chunks (which chunks varies with scheduling; the results may not)
      assert.ok(two.workerShare > 0 && two.workerShare < 1, `worker share ${two.workerShare}`);
      assert.equal(one.workerShare, 0);
      // profile() runs the same split steps
      assert.ok(two.profile(fixtures[0].input).length > 0);
      assert.ok(Buffer.from(two.run(fixtures[0].input)[1]).equals(Buffer.from(fixtures[0].classPredictions)));
    } finally {
      await one.dispose();
      await two.dispose();
    }
  });

  it('dispose() terminates the worker: none is left, and the network refuses to run', async () => {
    const before = liveWorkers();
    const net = await createTfliteInt8Network(model, { threads: 2 });
    assert.equal(liveWorkers(), before + 1);
    await net.dispose();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the 'exit' event
    assert.equal(liveWorkers(), 0);
    assert.throws(() => net.run(new Uint8Array(270000)), /disposed/);
    await net.dispose(); // twice is harmless
  });

  it('falls back to one thread where the threaded build cannot run, and says why', async () => {
    const net = await createTfliteInt8Network(model, { threads: 2, build: 'baseline' });
    assert.equal(net.threads, 1);
    assert.match(net.threadsReason, /SIMD/);
    assert.equal(liveWorkers(), 0);
    await assert.rejects(createTfliteInt8Network(model, { threads: 3 as 2 }), /threads is 3; it must be 1 or 2/);
  });
});

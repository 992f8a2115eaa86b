/**
 * The low-power profile in Node on onnxruntime-web's wasm backend: one thread, the same
 * detections as the default profile, and its option checks. (Its browser side, without
 * cross-origin isolation, is in tests/browser/demo.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as ortWasm from 'onnxruntime-web/wasm';
import { createDetector } from '../../src/runtime/detector.js';
import type { RawImage } from '../../src/runtime/types.js';
import { assertSameDetections } from '../helpers.js';
import { ssdModel, ssdOutputs } from './onnx-models.js';

const P = 8732,
  C = 21;
const { loc, conf } = ssdOutputs(P, C, [
  { prior: 300, classId: 4, logit: 9 },
  { prior: 6000, classId: 15, logit: 11 },
]);
const MODEL = ssdModel({ numPriors: P, numClasses: C, loc, conf });
const IMAGE: RawImage = { data: new Uint8Array(40 * 30 * 3).fill(128), width: 40, height: 30 };

describe("profile 'low-power'", () => {
  it('runs one thread on wasm and finds what the default profile finds', async () => {
    const low = await createDetector({ model: MODEL, preset: 'ssd300Voc', backend: 'wasm', profile: 'low-power' });
    const usual = await createDetector({ model: MODEL, preset: 'ssd300Voc', backend: 'node' });
    try {
      assert.equal(low.profile, 'low-power');
      assert.equal(low.threads, 1);
      assert.equal(low.backend, 'wasm');
      assert.equal(usual.profile, 'default');
      const found = await low.detect(IMAGE);
      assert.equal(found.length, 2);
      assertSameDetections(found, await usual.detect(IMAGE), 'low-power vs default', 1e-6, 1e-6);
    } finally {
      await low.dispose();
      await usual.dispose();
    }
  });

  it('takes another onnxruntime-web build through `ort` (the wasm-only one here)', async () => {
    const low = await createDetector({
      model: MODEL,
      preset: 'ssd300Voc',
      backend: 'wasm',
      profile: 'low-power',
      ort: ortWasm,
    });
    try {
      assert.equal(low.threads, 1);
      assert.equal((await low.detect(IMAGE)).length, 2);
    } finally {
      await low.dispose();
    }
  });

  it('rejects more than one thread, an unknown profile, and an `ort` that is not onnxruntime-web', async () => {
    await assert.rejects(
      createDetector({ model: MODEL, preset: 'ssd300Voc', profile: 'low-power', threads: 2 }),
      (e: Error) => e instanceof RangeError && /threads is 2, but profile 'low-power' runs one thread/.test(e.message),
    );
    await assert.rejects(
      createDetector({ model: MODEL, preset: 'ssd300Voc', profile: 'fast' as never }),
      (e: Error) =>
        e instanceof RangeError && /profile is "fast"; it must be one of 'default', 'low-power'/.test(e.message),
    );
    await assert.rejects(
      createDetector({ model: MODEL, preset: 'ssd300Voc', backend: 'wasm', ort: {} as never }),
      /ort must be the onnxruntime-web module/,
    );
  });
});

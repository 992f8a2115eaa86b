/**
 * The uint8 executor (src/int8/network.ts) on the real COCO detector: on each of the five sample
 * photos its two SSD heads equal TensorFlow Lite's own uint8 tensors (tests/fixtures/tflite-coco,
 * computed by TFLite + XNNPACK in Chromium) byte for byte, with the SIMD and the baseline build.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { createTfliteInt8Network } from '../../src/int8/network.js';
import { readTfliteCocoFixtures, type TfliteCocoFixture } from '../tflite-reference/fixtures.js';

const MODEL = new URL('../../../models/mobilenet_ssd_v2_coco_quant_postprocess.tflite', import.meta.url);

/** Where two byte arrays first differ, for a message that says how far off a run is. */
function firstDifference(a: Uint8Array, b: Uint8Array): string {
  let count = 0,
    first = -1;
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i]) {
      count++;
      if (first < 0) first = i;
    }
  return count === 0
    ? 'identical'
    : `${count} of ${a.length} bytes differ, first at ${first}: ${a[first]} vs ${b[first]}`;
}

describe('int8 executor on SSD MobileNet V2 COCO (uint8)', () => {
  let fixtures: TfliteCocoFixture[];
  const model = new Uint8Array(readFileSync(MODEL));
  before(async () => {
    fixtures = await readTfliteCocoFixtures();
  });

  for (const build of ['simd', 'baseline'] as const) {
    it(`${build} build: both heads equal TensorFlow Lite's on every sample photo, byte for byte`, async () => {
      const net = await createTfliteInt8Network(model, { build });
      assert.equal(net.build, build);
      assert.deepEqual(
        net.outputs.map((o) => o.shape),
        [
          [1, 1917, 4],
          [1, 1917, 91],
        ],
      );
      assert.ok(fixtures.length >= 5, `${fixtures.length} fixtures`);
      for (const f of fixtures) {
        const { boxEncodings, classPredictions } = net.runHeads(f.input);
        assert.ok(
          Buffer.from(boxEncodings).equals(Buffer.from(f.boxEncodings)),
          `${f.name}: box encodings: ${firstDifference(boxEncodings, f.boxEncodings)}`,
        );
        assert.ok(
          Buffer.from(classPredictions).equals(Buffer.from(f.classPredictions)),
          `${f.name}: class predictions: ${firstDifference(classPredictions, f.classPredictions)}`,
        );
      }
    });
  }

  it('refuses an input of the wrong size, saying what it needs', async () => {
    const net = await createTfliteInt8Network(model, { build: 'baseline' });
    assert.throws(() => net.run(new Uint8Array(100)), /input has 100 bytes; \[1,300,300,3\] needs 270000/);
  });
});

/**
 * The TFLite COCO fixtures (tests/fixtures/tflite-coco/) are whole and plausible: files match
 * their hashes and shapes, floats are float32 values, and the detections name what the photos
 * show. Needs neither Chromium nor the model.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readTfliteCocoFixtures } from './fixtures.js';

/** COCO ids (coco_labels.txt) each photo must have among its top detections. */
const EXPECTED: Record<string, { top: number; classes: number[][] }> = {
  dog: { top: 3, classes: [[17], [1], [2, 7]] }, // dog, bicycle, car or truck
  person: { top: 2, classes: [[0], [18]] }, // person, horse
  astronaut: { top: 1, classes: [[0]] }, // person
  chelsea: { top: 1, classes: [[16]] }, // cat
  coffee: { top: 1, classes: [[46]] }, // cup
};

describe('TFLite COCO fixtures', async () => {
  const fixtures = await readTfliteCocoFixtures();

  it('cover the five sample photos', () => {
    assert.deepEqual(
      fixtures.map((f) => f.name),
      Object.keys(EXPECTED).sort(),
    );
  });

  for (const f of fixtures) {
    it(`${f.name}: heads and post-processing outputs are consistent`, () => {
      const p = f.postprocess,
        json = f.json;
      assert.deepEqual(json.heads.boxEncodings.shape, [1, 1917, 4]);
      assert.deepEqual(json.heads.classPredictions.shape, [1, 1917, 91]);
      assert.ok(p.count > 0 && p.count <= p.scores.length, `count ${p.count} of ${p.scores.length} slots`);
      json.postprocess.scores.forEach((s, i) =>
        assert.equal(Math.fround(s), s, `score ${i} ${s} is not a float32 value`),
      );
      for (let i = 1; i < p.count; i++) assert.ok(p.scores[i] <= p.scores[i - 1], `scores not descending at ${i}`);
      // with sigmoid scores quantised at 1/256, every score is a multiple of 1/256
      for (let i = 0; i < p.count; i++) assert.equal((p.scores[i] * 256) % 1, 0, `score ${p.scores[i]} is not k/256`);
      // the best detection's score is some anchor's class prediction (class id + 1: slot 0 is background)
      const best = p.classes[0] + 1,
        target = Math.round(p.scores[0] * 256);
      let found = false;
      for (let a = 0; a < 1917 && !found; a++) found = f.classPredictions[a * 91 + best] === target;
      assert.ok(found, `no anchor has class ${best} at ${target}/256`);
    });

    it(`${f.name}: detections name what the photo shows`, () => {
      const expected = EXPECTED[f.name];
      const top = Array.from(f.postprocess.classes.subarray(0, expected.top));
      for (const ids of expected.classes) {
        assert.ok(
          top.some((c) => ids.includes(c)),
          `top ${expected.top} classes [${top}] of ${f.name} lack any of [${ids}]: ${JSON.stringify(f.json.detections.slice(0, 5))}`,
        );
      }
    });
  }
});

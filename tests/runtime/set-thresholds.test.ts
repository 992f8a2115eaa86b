/**
 * Detector.setThresholds (the demo's sliders): it re-runs only the post-processing of the last
 * call, equal to a postprocessor made with the new thresholds on the same model outputs; later
 * calls use them; bad values are rejected and leave the detector as it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPostprocessor } from '../../src/core/postprocessor.js';
import { presets } from '../../src/core/presets.js';
import { createDetector, type Detector } from '../../src/runtime/detector.js';
import type { RawImage } from '../../src/runtime/types.js';
import { assertSameDetections } from '../helpers.js';
import { ssdModel, ssdOutputs } from './onnx-models.js';
import { countInstances } from './wasm-instances.js';

const P = 8732,
  C = 21;
// overlapping neighbours (priors 100–103 share a location cell) at falling logits: scores spread
// over (0, 1), so thresholds and NMS both matter
const HITS = [100, 101, 102, 103, 4000, 4001, 7000].flatMap((prior, i) => [
  { prior, classId: 12, logit: 12 - i },
  { prior, classId: 3, logit: 10.5 - i },
]);
const { loc, conf } = ssdOutputs(P, C, HITS);
const MODEL = ssdModel({ numPriors: P, numClasses: C, loc, conf });
const IMAGE: RawImage = { data: new Uint8Array(64 * 48 * 3).fill(90), width: 64, height: 48 };

/** The core's detections on the model's constant outputs with these thresholds. */
async function expected(scoreThreshold: number, nmsThreshold: number) {
  const post = await createPostprocessor({ ...presets.ssd300Voc, scoreThreshold, nmsThreshold });
  try {
    return post.run(loc, conf)[0];
  } finally {
    post.dispose();
  }
}

describe('Detector.setThresholds', () => {
  let detector: Detector;
  before(async () => {
    detector = await createDetector({ model: MODEL, preset: 'ssd300Voc', backend: 'node', threads: 1 });
  });
  after(() => detector.dispose());

  it('before any detect(): sets the thresholds and returns undefined', async () => {
    assert.equal(await detector.setThresholds({ scoreThreshold: 0.01 }), undefined);
    assert.equal(detector.config.scoreThreshold, 0.01);
  });

  it('re-runs only the post-processing of the last call, as a postprocessor with those thresholds would', async () => {
    const all = await detector.detect(IMAGE);
    assertSameDetections(all, await expected(0.01, 0.45), 'detect at 0.01', 0, 1e-6);
    const counts = new Set([all.length]);
    for (const [score, nms] of [
      [0.5, 0.45],
      [0.05, 0.9],
      [0.81, 0.9],
    ]) {
      const [again] = (await detector.setThresholds({ scoreThreshold: score, nmsThreshold: nms }))!;
      assertSameDetections(again, await expected(score, nms), `score ${score}, IoU ${nms}`, 0, 1e-6);
      counts.add(again.length);
      const t = detector.lastTimings!;
      assert.equal(t.inference + t.preprocess + t.decode, 0, 'nothing but post-processing ran');
      // pixel boxes are in the last image's pixels
      const [x0, , x1] = again[0].box;
      assert.ok(Math.abs(again[0].pixelBox[2] - again[0].pixelBox[0] - (x1 - x0) * IMAGE.width) < 1e-9);
    }
    assert.equal(counts.size, 4, `each setting keeps a different number of detections: ${[...counts]}`);
  });

  it('later calls use the new thresholds; only the given field changes', async () => {
    await detector.setThresholds({ scoreThreshold: 0.6, nmsThreshold: 0.3 });
    await detector.setThresholds({ nmsThreshold: 0.2 });
    assert.equal(detector.config.scoreThreshold, 0.6);
    assertSameDetections(await detector.detect(IMAGE), await expected(0.6, 0.2), 'detect after setThresholds', 0, 1e-6);
  });

  it('reconfigures the post-processor in place: no new wasm instance per slider move', async () => {
    await detector.detect(IMAGE);
    const post = (detector as unknown as { post: object }).post;
    const { instances } = await countInstances(async () => {
      for (let i = 1; i <= 10; i++)
        await detector.setThresholds({ scoreThreshold: i / 20, nmsThreshold: 0.3 + i / 50 });
    });
    assert.equal(instances, 0, 'no core instantiated');
    assert.equal((detector as unknown as { post: object }).post, post, 'the same post-processor');
    assertSameDetections(await detector.detect(IMAGE), await expected(0.5, 0.5), 'after ten moves', 0, 1e-6);
  });

  it('calls in flight keep the thresholds in force when each was made, in any interleaving', async () => {
    await detector.setThresholds({ scoreThreshold: 0.01, nmsThreshold: 0.45 });
    const first = detector.detect(IMAGE);
    const toStrict = detector.setThresholds({ scoreThreshold: 0.81, nmsThreshold: 0.9 });
    const second = detector.detect(IMAGE);
    const toMiddle = detector.setThresholds({ scoreThreshold: 0.5 });
    const third = detector.detect(IMAGE);
    assertSameDetections(await first, await expected(0.01, 0.45), 'made at 0.01', 0, 1e-6);
    assertSameDetections(await second, await expected(0.81, 0.9), 'made at 0.81', 0, 1e-6);
    assertSameDetections(await third, await expected(0.5, 0.9), 'made at 0.5', 0, 1e-6);
    assertSameDetections((await toStrict)![0], await expected(0.81, 0.9), 're-run at 0.81', 0, 1e-6);
    assertSameDetections((await toMiddle)![0], await expected(0.5, 0.9), 're-run at 0.5', 0, 1e-6);
  });

  it('rejects bad values with a RangeError naming them, and keeps the thresholds it had', async () => {
    await detector.setThresholds({ scoreThreshold: 0.5, nmsThreshold: 0.45 });
    await assert.rejects(
      detector.setThresholds({ scoreThreshold: 1.5 }),
      (e: Error) => e instanceof RangeError && /1\.5/.test(e.message),
    );
    await assert.rejects(detector.setThresholds({ nmsThreshold: -1 }), RangeError);
    await assert.rejects(
      detector.setThresholds(null as never),
      /setThresholds takes \{ scoreThreshold\?, nmsThreshold\? \}/,
    );
    assert.equal(detector.config.scoreThreshold, 0.5);
    assertSameDetections(await detector.detect(IMAGE), await expected(0.5, 0.45), 'after rejected calls', 0, 1e-6);
  });
});

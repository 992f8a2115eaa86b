/** A batch of N images in one call gives the same detections as N single-image calls. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPostprocessor, presets } from '../../src/index.js';
import { makeScenario } from '../../bench/scenarios.js';
import { assertSameDetections } from '../helpers.js';

describe('batches', () => {
  for (const build of ['simd', 'baseline'] as const) {
    it(`${build}: batch results equal single-image results, and the arena grows for larger batches`, async () => {
      const post = await createPostprocessor(presets.ssd300Voc, { build });
      const P = post.priors.length / 4,
        C = 21;
      const names = ['realistic', 'crowded', 'adversarial', 'realistic', 'crowded'] as const;
      const images = names.map((name, i) => makeScenario(name, post.priors, C, 40 + i));
      const singles = images.map(({ loc, conf }) => post.run(loc, conf)[0]);
      for (const size of [2, 5, 3]) {
        const loc = new Float32Array(size * P * 4),
          conf = new Float32Array(size * P * C);
        for (let i = 0; i < size; i++) {
          loc.set(images[i].loc, i * P * 4);
          conf.set(images[i].conf, i * P * C);
        }
        const batched = post.run(loc, conf, size);
        assert.equal(batched.length, size);
        batched.forEach((detections, i) =>
          assertSameDetections(detections, singles[i], `${build} batch ${size} image ${i}`),
        );
        // batch inferred from the lengths
        assert.equal(post.run(loc, conf).length, size);
      }
    });
  }

  it('labels are attached from the config', async () => {
    const post = await createPostprocessor(presets.ssd300Voc);
    const { loc, conf } = makeScenario('realistic', post.priors, 21, 3);
    const [detections] = post.run(loc, conf);
    assert.ok(detections.length > 0);
    for (const d of detections) assert.equal(d.label, presets.ssd300Voc.labels![d.classId]);
    // normalised xyxy, best first
    for (let i = 1; i < detections.length; i++) assert.ok(detections[i - 1].score >= detections[i].score);
  });
});

/** Training targets: the matcher's classes and offsets, stacked per image, with errors naming the image. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { createMatcher, type Matcher } from '../../src/core/matcher.js';
import { buildTargets, type BoxAnnotation } from '../../src/train/targets.js';
import { initTraining } from '../../src/train/tfjs.js';

let matcher: Matcher;
before(async () => {
  tf.enableProdMode();
  await initTraining({ backend: 'cpu', log: () => {} });
  matcher = await createMatcher('ssd300Voc');
});
after(() => matcher.dispose());

describe('buildTargets', () => {
  it('equals the matcher image by image (SSD300 VOC priors, an image without boxes, IoU 0.5 and 0.35)', () => {
    const annotations: BoxAnnotation[] = [
      { boxes: [0.1, 0.2, 0.5, 0.7, 0.6, 0.1, 0.9, 0.4], labels: [1, 3] },
      { boxes: [], labels: [] },
      { boxes: Float32Array.of(0.02, 0.03, 0.12, 0.1, 0.3, 0.3, 0.95, 0.9, 0.5, 0.55, 0.6, 0.7), labels: [20, 7, 7] },
    ];
    for (const threshold of [0.5, 0.35]) {
      const targets = buildTargets(matcher, annotations, threshold);
      const P = matcher.priors.length / 4;
      assert.deepEqual(targets.loc.shape, [3, P, 4]);
      assert.deepEqual(targets.conf.shape, [3, P]);
      assert.equal(targets.conf.dtype, 'int32');
      const loc = targets.loc.dataSync(),
        conf = targets.conf.dataSync();
      let numPositive = 0;
      annotations.forEach(({ boxes, labels }, i) => {
        const expected = matcher.match(boxes, labels, threshold);
        assert.deepEqual(conf.slice(i * P, (i + 1) * P), expected.conf, `image ${i}: classes`);
        assert.deepEqual(loc.slice(i * P * 4, (i + 1) * P * 4), expected.loc, `image ${i}: offsets`);
        numPositive += expected.numPositive;
      });
      assert.ok(numPositive > 3, 'the scene has positives beyond the forced ones');
      assert.equal(targets.numPositive, numPositive);
      assert.ok(
        conf.slice(P, 2 * P).every((c) => c === 0),
        'the image without boxes is all background',
      );
      tf.dispose([targets.loc, targets.conf]);
    }
  });

  it('names the image whose annotation the matcher rejects, keeping the error class', () => {
    assert.throws(
      () =>
        buildTargets(matcher, [
          { boxes: [0, 0, 1, 1], labels: [1] },
          { boxes: [0.5, 0.5, 0.2, 0.9], labels: [2] },
        ]),
      (e: unknown) =>
        e instanceof RangeError && /^annotations\[1\]: truth 0 is \(0\.5, 0\.5, 0\.2, 0\.9\)/.test(e.message),
    );
    assert.throws(
      () => buildTargets(matcher, [{ boxes: [0, 0, 1, 1], labels: [0] }]),
      /^RangeError: annotations\[0\]: labels\[0\] is 0/,
    );
    assert.throws(() => buildTargets(matcher, []), /annotations is empty/);
  });
});

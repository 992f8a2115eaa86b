/** Ground-truth matching for training targets: hand cases and the reference on random scenes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMatcher, presets } from '../../src/index.js';
import { referenceMatch } from '../../src/core/reference/match.js';
import { decodeBox, type Box } from '../../src/core/reference/coder.js';
import { resolveConfig } from '../../src/core/config.js';
import { random } from '../helpers.js';

describe('matching', () => {
  it('hand case: forced best prior under the threshold, IoU ≥ 0.5 positive, background otherwise', async () => {
    // three priors (cx, cy, w, h): A = [0, 0, 0.4, 0.4], B = [0.5, 0.5, 0.9, 0.9], C = [0.6, 0, 1, 0.4]
    const priors = Float32Array.of(0.2, 0.2, 0.4, 0.4, 0.7, 0.7, 0.4, 0.4, 0.8, 0.2, 0.4, 0.4);
    const matcher = await createMatcher({ ...presets.ssd300Voc, priors });
    // truth 1 = [0, 0, 0.4, 0.3]: IoU with A = 0.12 / 0.16 = 0.75 → A positive (class 3)
    // truth 2 = [0.45, 0.45, 0.95, 0.95]: IoU with B = 0.16 / (0.25 + 0.16 − 0.16) = 0.64 → B positive (class 7)
    let result = matcher.match([0, 0, 0.4, 0.3, 0.45, 0.45, 0.95, 0.95], [3, 7]);
    assert.deepEqual([...result.conf], [3, 7, 0], 'A and B matched, C background');
    assert.equal(result.numPositive, 2);
    // truth = [0.6, 0.3, 1, 0.5]: IoU with C = 0.04 / (0.16 + 0.08 − 0.04) = 0.2 < 0.5, but C is its best prior
    result = matcher.match([0.6, 0.3, 1, 0.5], [5]);
    assert.deepEqual([...result.conf], [0, 0, 5], 'the best prior is forced even under the threshold');
    // the encoded offsets of C decode back to the truth
    const config = resolveConfig({ ...presets.ssd300Voc, priors }, priors);
    const decoded = decodeBox(result.loc, 8, priors, 2, config.coding, false);
    [0.6, 0.3, 1, 0.5].forEach((v, i) =>
      assert.ok(Math.abs(decoded[i] - v) < 1e-5, `decoded[${i}] = ${decoded[i]}, truth ${v}`),
    );
    // no truths: everything background
    result = matcher.match([], []);
    assert.deepEqual([...result.conf], [0, 0, 0]);
    assert.equal(result.numPositive, 0);
  });

  it('two truths wanting the same best prior: the later one keeps it', async () => {
    const priors = Float32Array.of(0.5, 0.5, 0.4, 0.4, 0.1, 0.1, 0.05, 0.05);
    const matcher = await createMatcher({ ...presets.ssd300Voc, priors });
    const result = matcher.match([0.3, 0.3, 0.7, 0.7, 0.31, 0.31, 0.69, 0.69], [1, 2]);
    assert.equal(result.conf[0], 2, 'ssd.pytorch assigns forced priors in truth order, the last one wins');
  });

  it('equals the reference on 200 random scenes with SSD300 priors', async () => {
    const matcher = await createMatcher(presets.ssd300Voc);
    const config = resolveConfig(presets.ssd300Voc, matcher.priors);
    for (let scene = 0; scene < 200; scene++) {
      const rand = random(500 + scene);
      const truths: Box[] = [],
        labels: number[] = [];
      for (let t = 0, n = Math.floor(rand() * 9); t < n; t++) {
        const w = 0.02 + rand() * 0.7,
          h = 0.02 + rand() * 0.7,
          x = rand() * (1 - w),
          y = rand() * (1 - h);
        truths.push([x, y, x + w, y + h].map(Math.fround) as Box);
        labels.push(1 + Math.floor(rand() * 20));
      }
      const threshold = [0.5, 0.35, 0.7][scene % 3];
      const actual = matcher.match(truths.flat(), labels, threshold);
      const expected = referenceMatch(matcher.priors, truths, labels, threshold, config.coding);
      assert.deepEqual([...actual.conf], [...expected.conf], `scene ${scene}: classes per prior`);
      assert.equal(actual.numPositive, expected.numPositive);
      for (let i = 0; i < actual.loc.length; i++) {
        const tolerance = 1e-4 * Math.max(1, Math.abs(expected.loc[i]));
        assert.ok(
          Math.abs(actual.loc[i] - expected.loc[i]) <= tolerance,
          `scene ${scene}: loc[${i}] = ${actual.loc[i]}, reference ${expected.loc[i]}`,
        );
      }
    }
  });

  it('rejects bad truths and labels', async () => {
    const matcher = await createMatcher('ssd300Voc');
    assert.throws(() => matcher.match([0, 0, 1], [1]), /truths has 3 values/);
    assert.throws(() => matcher.match([0, 0, 1, 1], [1, 2]), /labels has 2 entries for 1 truth boxes/);
    assert.throws(
      () => matcher.match([0.5, 0, 0.4, 1], [1]),
      /truth 0 is \(0.5, 0, 0.4, 1\); it needs finite corners with xmax > xmin/,
    );
    assert.throws(() => matcher.match([0, 0, NaN, 1], [1]), /truth 0/);
    assert.throws(() => matcher.match([0, 0, 1, 1], [0]), /labels\[0\] is 0; it must be a foreground class/);
    assert.throws(() => matcher.match([0, 0, 1, 1], [21]), /labels\[0\] is 21/);
    assert.throws(() => matcher.match([0, 0, 1, 1], [1], 1.5), /threshold is 1.5/);
    // still works
    assert.equal(matcher.match([0, 0, 1, 1], [1]).numPositive > 0, true);
  });
});

/** Shared test helpers: a seeded PRNG and detection comparison. */
import assert from 'node:assert/strict';
import type { Detection } from '../src/core/types.js';

/** mulberry32, seeded: the same sequence on every machine (the benchmark uses the same one). */
export { mulberry32 as random } from '../src/util/random.js';

/** A standard normal sample (Box–Muller). */
export function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * Asserts two detection lists are the same: classes, priors and order equal, boxes within
 * `boxTolerance`, scores within `scoreTolerance` relative (0 = bit-identical).
 */
export function assertSameDetections(
  actual: Detection[],
  expected: Detection[],
  context: string,
  boxTolerance = 0,
  scoreTolerance = 0,
): void {
  assert.equal(actual.length, expected.length, `${context}: ${actual.length} detections, expected ${expected.length}`);
  actual.forEach((a, i) => {
    const e = expected[i];
    assert.equal(a.classId, e.classId, `${context}: detection ${i} class ${a.classId}, expected ${e.classId}`);
    assert.equal(
      a.priorIndex,
      e.priorIndex,
      `${context}: detection ${i} prior ${a.priorIndex}, expected ${e.priorIndex}`,
    );
    const scoreError = Math.abs(a.score - e.score) / Math.max(Math.abs(e.score), 1e-30);
    assert.ok(scoreError <= scoreTolerance, `${context}: detection ${i} score ${a.score}, expected ${e.score}`);
    a.box.forEach((v, j) => {
      assert.ok(
        Math.abs(v - e.box[j]) <= boxTolerance,
        `${context}: detection ${i} box[${j}] ${v}, expected ${e.box[j]}`,
      );
    });
  });
}

/** The largest |actual − expected| / max(|expected|, 1): relative where values are large, absolute near 0. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, `${actual.length} values, expected ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), 1));
  }
  return worst;
}

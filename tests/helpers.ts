/** Shared test helpers: a seeded PRNG, detection and head comparison. */
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

/**
 * Asserts `actual` is `expected` within `tolerance` · max(1, max |expected|) at every index (a
 * network head against its reference). The message names the worst index and both values there.
 * Returns the largest |actual − expected| and max |expected|, for a diagnostic.
 */
export function assertWithinScale(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
): { maxError: number; scale: number } {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} values, expected ${expected.length}`);
  let maxError = 0,
    worst = 0,
    scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    // a NaN difference is the worst and stays so
    if (!(d <= maxError) && !Number.isNaN(maxError)) {
      maxError = d;
      worst = i;
    }
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  assert.ok(
    maxError <= tolerance * Math.max(1, scale),
    `${what}[${worst}] is ${actual[worst]}, expected ${expected[worst]}: |Δ| ${maxError} > ${tolerance} · max(1, ${scale})`,
  );
  return { maxError, scale };
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

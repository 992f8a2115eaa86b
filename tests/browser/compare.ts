/**
 * Detections from a page against the Node CLI's: the same classes, boxes within 1e-3, scores
 * within 1e-4. Matched greedily rather than by rank, so that two detections whose scores differ
 * by less than the tolerance may swap places; one may be missing only when its score is within
 * the tolerance of the threshold (it passed on one side and not on the other).
 */
import type { Detection } from '../../src/core/types.js';

export const BOX_TOLERANCE = 1e-3;
export const SCORE_TOLERANCE = 1e-4;

type Compared = Pick<Detection, 'classId' | 'score' | 'box'>;

const describe = (d: Compared) =>
  `class ${d.classId} score ${d.score.toFixed(6)} box [${d.box.map((v) => v.toFixed(4)).join(', ')}]`;

function close(a: Compared, b: Compared): boolean {
  return (
    a.classId === b.classId &&
    Math.abs(a.score - b.score) <= SCORE_TOLERANCE &&
    a.box.every((v, i) => Math.abs(v - b.box[i]) <= BOX_TOLERANCE)
  );
}

/** What differs, one line each; empty when they agree. */
export function compareDetections(
  actual: readonly Compared[],
  expected: readonly Compared[],
  threshold: number,
): string[] {
  const failures: string[] = [];
  const unmatched = new Set(actual.map((_, i) => i));
  for (const e of expected) {
    const index = [...unmatched].find((i) => close(actual[i], e));
    if (index !== undefined) unmatched.delete(index);
    else if (e.score - threshold > SCORE_TOLERANCE) failures.push(`missing: ${describe(e)}`);
  }
  for (const i of unmatched) {
    if (actual[i].score - threshold > SCORE_TOLERANCE) failures.push(`unexpected: ${describe(actual[i])}`);
  }
  return failures;
}

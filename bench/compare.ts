/**
 * Comparing two detection lists the way the benchmark must: floating-point peers may order
 * near-tied detections differently, so besides 'equal' we recognise 'reordered' (the same
 * detections within tolerance, in another order) and explain the swap.
 */
import type { Detection } from '../src/core/types.js';

const BOX_TOL = 1e-5;
const SCORE_REL_TOL = 1e-5;

export const key = (d: Detection): string => `${d.classId}:${d.priorIndex}`;

function sameDetection(a: Detection, b: Detection): boolean {
  return (
    key(a) === key(b) &&
    a.box.every((v, i) => Math.abs(v - b.box[i]) <= BOX_TOL) &&
    Math.abs(a.score - b.score) <= SCORE_REL_TOL * Math.abs(b.score)
  );
}

/** Distance between two float32 values in units of the larger one's last place. */
function float32Ulps(a: number, b: number): number {
  const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(a), Math.abs(b)))) - 23);
  return Math.round(Math.abs(a - b) / ulp);
}

/**
 * 'equal': same (class, prior) sequence, boxes and scores within tolerance. 'reordered': the
 * same detections within tolerance, in another order — with where the order first departs and
 * the peer's own scores of the two swapped detections. 'differs': anything else.
 */
export function compare(got: Detection[], want: Detection[]): string {
  const first = want.findIndex((w, i) => !got[i] || !sameDetection(got[i], w));
  if (first < 0 && got.length === want.length) return 'equal';
  const byKey = new Map(got.map((d) => [key(d), d]));
  const sameSet =
    got.length === want.length &&
    want.every((w) => {
      const g = byKey.get(key(w));
      return g !== undefined && sameDetection(g, w);
    });
  const at = first < 0 ? want.length : first;
  const g = got[at];
  const w = want[at];
  if (!sameSet || !g || !w) {
    const shared = want.filter((d) => byKey.has(key(d))).length;
    return `DIFFERS from #${at} (${shared}/${want.length} (class, prior) pairs shared, ${got.length} detections)`;
  }
  const mine = byKey.get(key(w))!.score;
  const reference = want.find((d) => key(d) === key(g))!.score;
  const tie =
    g.score === mine
      ? 'an exact tie in its float32 scores'
      : `its float32 scores ${float32Ulps(g.score, mine)} ulp apart`;
  return (
    `reordered from #${at}: put ${key(g)} before ${key(w)}, ${tie}; ` +
    `the expected list has them ${(w.score - reference).toExponential(2)} apart`
  );
}

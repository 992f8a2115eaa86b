/**
 * Strict option objects: a misspelled key (`nmsThresold`) is an error naming the nearest known
 * key, never a setting silently left at its default.
 */

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
    }
  }
  return rows[a.length][b.length];
}

/** The known name closest to `name`, when close enough to be a typo of it (a third of its letters, at least 2). */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined,
    bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/**
 * Throws a TypeError for the first own key of `value` not in `known`:
 * `createDetector options has an unknown key 'nmsThresold'; did you mean 'nmsThreshold'? (keys: …)`.
 * Keys whose value is undefined count too: they are still typos.
 */
export function rejectUnknownKeys(value: object, known: readonly string[], what: string): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const near = nearestName(key, known);
    throw new TypeError(
      `${what} has an unknown key '${key}'; ${near ? `did you mean '${near}'? ` : ''}` +
        `(known keys: ${known.join(', ')})`,
    );
  }
}

/** Throws a TypeError unless `value` is undefined or a boolean. */
export function optionalBoolean(name: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TypeError(
      `${name} must be true or false, got ${typeof value === 'string' ? `'${value}'` : String(value)} (${typeof value})`,
    );
  }
  return value;
}

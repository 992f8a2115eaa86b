/**
 * Live statistics for a stream: per-stage p50/p95 over a sliding window of recent frames, and
 * rates (frames per second) over a sliding time window. Plain TypeScript, no DOM.
 */

/** p50 and p95 of a stage over the last `window` frames that ran it, and its latest value (ms). */
export interface StagePercentiles {
  p50: number;
  p95: number;
  last: number;
  /** Samples in the window. */
  count: number;
}

/**
 * Nearest-rank percentile of `sorted` (ascending, not empty): the value at rank ⌈q·n⌉.
 * see: NIST, "nearest rank" method.
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

/** The last `size` values of one stage. */
export class StageWindow {
  private readonly values: number[] = [];
  private next = 0;
  constructor(private readonly size = 120) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`window size is ${size}; it must be an integer ≥ 1`);
  }

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    if (this.values.length < this.size) this.values.push(value);
    else this.values[this.next] = value;
    this.next = (this.next + 1) % this.size;
    this.lastValue = value;
  }

  private lastValue = NaN;

  summary(): StagePercentiles {
    const sorted = [...this.values].sort((a, b) => a - b);
    return { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), last: this.lastValue, count: sorted.length };
  }
}

/**
 * Events per second over the last `spanMs` milliseconds (by the caller's clock), or over the last
 * two events when fewer fall in the span (slow rates, such as a second or more per inference).
 */
export class RateMeter {
  private readonly times: number[] = [];
  constructor(private readonly spanMs = 3000) {}

  tick(nowMs: number): void {
    this.times.push(nowMs);
    this.trim(nowMs);
  }

  private trim(nowMs: number): void {
    let drop = 0;
    while (drop < this.times.length - 2 && this.times[drop] <= nowMs - this.spanMs) drop++;
    if (drop) this.times.splice(0, drop);
  }

  /**
   * Events per second: (n − 1) intervals over the time from the first to the last event in the
   * window (0 with fewer than two events).
   */
  rate(nowMs: number): number {
    this.trim(nowMs);
    const n = this.times.length;
    if (n < 2) return 0;
    const span = this.times[n - 1] - this.times[0];
    return span > 0 ? ((n - 1) * 1000) / span : 0;
  }
}

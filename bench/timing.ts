/** Timing helpers: median of repeated runs after warm-up. */
import { performance } from 'node:perf_hooks';
import { median } from '../src/util/median.js';

export { median };

export async function timeRun(run: () => unknown, runs: number, warmup = 3): Promise<number> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/**
 * Unclosed VideoFrames, found deterministically. Chromium reports a VideoFrame garbage collected
 * without close() only after a GC and then on a poll (every 10 s, per page or worker: Blink's
 * WebCodecsLogger), so a plain look at the console passes or fails with GC timing. Here the
 * page and its workers are collected on demand (`gc()`, which needs EXPOSE_GC_ARGS at launch)
 * and the check waits out one poll, so each test case learns whether it leaked.
 */
import type { Page } from 'playwright-core';
import type { OpenPage } from './chromium.js';

/** Makes `gc()` callable in pages and workers. */
export const EXPOSE_GC_ARGS = ['--js-flags=--expose-gc'];

/** Chromium's console line for a VideoFrame garbage collected without close(). */
export const FRAME_LEAK_WARNING = /garbage collected without being closed/i;

/** Blink's WebCodecsLogger reports unclosed frames on a 10 s timer; a second more for a busy renderer. */
export const LEAK_REPORT_WAIT_MS = 11_000;

/** How long a worker may take to run gc(); one blocked in Atomics.wait (an onnxruntime thread) never does. */
const WORKER_GC_TIMEOUT_MS = 2000;

/** Full GCs in the page and each of its workers; how many workers ran theirs, and how many were blocked. */
export async function collectGarbage(page: Page): Promise<{ collected: number; blocked: number }> {
  const hasGc = await page.evaluate(() => typeof (globalThis as { gc?: unknown }).gc === 'function');
  if (!hasGc)
    throw new Error(`gc() is missing in the page: launch Chromium with ${EXPOSE_GC_ARGS.join(' ')} (EXPOSE_GC_ARGS)`);
  // twice: the first GC's finalizers may free the last references of a second generation
  for (let pass = 0; pass < 2; pass++) await page.evaluate(() => (globalThis as unknown as { gc(): void }).gc());
  let collected = 0,
    blocked = 0;
  for (const worker of page.workers()) {
    const ran = worker
      .evaluate(() => {
        const gc = (globalThis as unknown as { gc(): void }).gc;
        gc();
        gc();
      })
      .then(
        () => true,
        (error: Error) => {
          // a worker that ended meanwhile has nothing left to report; any other failure is real
          if (page.workers().includes(worker)) throw error;
          return false;
        },
      );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'blocked'>((resolve) => {
      timer = setTimeout(() => resolve('blocked'), WORKER_GC_TIMEOUT_MS);
    });
    const outcome = await Promise.race([ran, timedOut]).finally(() => clearTimeout(timer));
    if (outcome === 'blocked') blocked++;
    else if (outcome) collected++;
  }
  return { collected, blocked };
}

/**
 * Per test case: whether a VideoFrame leaked since the last check. Each check collects garbage in
 * the page and its workers, waits for Chromium's next report, and fails naming the case when a
 * leak warning came since the previous check.
 */
export class FrameLeakCheck {
  /** consoleLines before this index belong to earlier cases. */
  private checkedUpTo = 0;

  constructor(private readonly open: OpenPage) {}

  /** Asserts that nothing since the previous check (the case `caseName`) leaked a VideoFrame. */
  async assertNoLeak(caseName: string): Promise<void> {
    const from = this.checkedUpTo;
    const { collected, blocked } = await collectGarbage(this.open.page);
    const leaked = () => this.open.consoleLines.slice(from).find((line) => FRAME_LEAK_WARNING.test(line));
    const deadline = Date.now() + LEAK_REPORT_WAIT_MS;
    while (!leaked() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    this.checkedUpTo = this.open.consoleLines.length;
    const line = leaked();
    if (line) {
      throw new Error(
        `a VideoFrame leaked in "${caseName}": after a forced GC of the page and ${collected} worker(s) ` +
          `(${blocked} blocked, not collected), ` +
          `Chromium reported: ${line}`,
      );
    }
  }
}

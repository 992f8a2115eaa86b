/**
 * Two threads for the uint8 network (network.ts, `threads: 2`): the kernels-only build
 * (assembly/int8.ts → dist/wasm/ssd-int8.threads.wasm) is instantiated on one shared
 * WebAssembly.Memory by the calling thread and by one worker (worker_threads in Node, a module
 * Web Worker in browsers, which needs `crossOriginIsolated`). The arena (weights, activations)
 * lives in that memory once. Each kernel call that is worth splitting is cut into a few chunks,
 * calls on disjoint output ranges (rows, output channel blocks, 16-byte runs of elements); both
 * threads know every chunk's [kernel, paramsPtr] from the start (each chunk's parameter block,
 * params.ts, written once in the shared memory when the network is built; the worker's chunks
 * have blocks of their own, naming its im2col scratch), and during a run both claim chunks
 * of the current step until none is left (so a thread the OS has descheduled, or a busy browser
 * worker, costs at most the chunk it holds, not half the step). A run only exchanges two words
 * of a control block in the shared memory:
 *
 * ```
 * int32 [0]  TICKET  step (bits 0–9) | next unclaimed chunk (bits 10–17) | generation (bits 18–30);
 *                    claimed by compare-exchange, so a stale claim can never succeed; -1 = exit
 *       [16] FINISHED chunks of the current step finished (own 64-byte line)
 *       [17] ERROR    1 when a worker chunk threw (the message goes out by postMessage)
 *       [18] WORKER_CHUNKS  chunks the worker has run (a statistic)
 * ```
 * The caller resets FINISHED, publishes the ticket, runs chunks, and waits until FINISHED counts
 * them all. Both sides spin briefly, then sleep in Atomics.wait (the caller only where it may
 * block: Node, or inside a worker; a browser main thread keeps spinning).
 *
 * The module has no data segments and no start function (every kernel keeps its state in the
 * regions it is given), so instantiating it in the worker writes nothing to the shared memory.
 */
import type { Core, CoreExports } from '../core/loader.js';
import { compileWasmUrl } from '../core/wasm-compile.js';
import type { KernelName } from './params.js';

/** The kernels a worker can run, by index in its call lists. */
export const KERNELS = ['qgemm', 'qconv', 'qdepthwise', 'qadd', 'qlookup'] as const satisfies readonly KernelName[];

export const CONTROL_BYTES = 128;
export const TICKET = 0,
  FINISHED = 16,
  ERROR = 17,
  WORKER_CHUNKS = 18;
/** Most chunks a step is cut into (the ticket's chunk field holds up to 255). */
export const MAX_CHUNKS = 255;
const STEP_MASK = 0x3ff,
  CHUNK_SHIFT = 10,
  CHUNK_MASK = 0xff,
  GEN_SHIFT = 18,
  GEN_MASK = 0x1fff;
/** Steps one network may split (the ticket's step field). */
export const MAX_SPLIT_STEPS = STEP_MASK + 1;
/** Pages of the shared memory's maximum (512 MiB): shared memories cannot grow past it. */
export const MAX_PAGES = 8192;
/**
 * How long either side spins on the control block before it sleeps in Atomics.wait (ms; Node:
 * SSD_INT8_SPIN_MS overrides it). Longer spins skip futex wake-ups between steps on an idle
 * machine but steal the core from the other thread on a busy one: on the shared 2-core machine
 * (load 3–4) the 2-thread run took 32.0 ms at 0.02, 34.1 at 0.1 and 47 at 1 ms (1 thread: 29.5).
 */
const SPIN_MS = Number(
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.SSD_INT8_SPIN_MS ?? 0.02,
);
const now = () => performance.now();

const THREADS_WASM = 'ssd-int8.threads.wasm';

let live = 0;
/** Workers started and not yet exited (for tests: dispose() leaves none). */
export function liveWorkers(): number {
  return live;
}

/** Whether this engine can run the two-thread network: shared memory, Atomics, workers, isolation in browsers. */
export function threadsSupported(): { ok: boolean; reason: string } {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object')
    return { ok: false, reason: 'no SharedArrayBuffer' };
  const g = globalThis as {
    crossOriginIsolated?: boolean;
    process?: { versions?: { node?: string } };
    Worker?: unknown;
  };
  const node = !!g.process?.versions?.node;
  if (!node && g.crossOriginIsolated !== true) return { ok: false, reason: 'the page is not cross-origin isolated' };
  if (!node && typeof g.Worker !== 'function') return { ok: false, reason: 'no Web Workers' };
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
  } catch {
    return { ok: false, reason: 'no shared WebAssembly memory' };
  }
  return { ok: true, reason: node ? 'Node worker_threads' : 'cross-origin isolated' };
}

function compileThreaded(wasmBaseUrl?: string | URL): Promise<WebAssembly.Module> {
  const url =
    wasmBaseUrl === undefined
      ? new URL(`../../wasm/${THREADS_WASM}`, import.meta.url)
      : new URL(
          THREADS_WASM,
          new URL(
            String(wasmBaseUrl).replace(/\/?$/, '/'),
            (globalThis as { location?: { href: string } }).location?.href,
          ),
        );
  return compileWasmUrl(url).catch((error: unknown) => {
    throw new Error(`could not load ${url.href}: ${(error as Error).message}`, { cause: error });
  });
}

/**
 * Starts fetching and compiling the threaded build where two threads can run, so that it loads
 * alongside the model's bytes; a failure is reported by the instantiateThreadedCore call that needs it.
 */
export function precompileThreaded(wasmBaseUrl?: string | URL): void {
  if (threadsSupported().ok) compileThreaded(wasmBaseUrl).catch(() => {});
}

const imports = (memory: WebAssembly.Memory) => ({
  env: {
    memory,
    abort(): never {
      throw new Error('ssd-edge core aborted: an internal invariant failed (please report this as a bug)');
    },
  },
});

/** A Core on a fresh shared memory, running the kernels-only threaded build (SIMD). */
export async function instantiateThreadedCore(
  wasmBaseUrl?: string | URL,
): Promise<{ core: Core; module: WebAssembly.Module }> {
  const module = await compileThreaded(wasmBaseUrl);
  const memory = new WebAssembly.Memory({
    initial: 1,
    maximum: MAX_PAGES,
    shared: true,
  } as WebAssembly.MemoryDescriptor);
  const instance = await WebAssembly.instantiate(module, imports(memory));
  const exports = { ...(instance.exports as object), memory } as unknown as CoreExports;
  const heapBase = (exports.heapBase() + 15) & ~15;
  const core: Core = {
    build: 'simd',
    exports,
    memory,
    heapBase,
    scratch(): number {
      throw new Error('the threaded int8 core has no scratch: its memory is the network arena');
    },
  };
  return { core, module };
}

/** What a worker needs: the module, the memory, the control block and every split step's chunk calls. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: number;
  /** By split step: its chunks, each [kernel index in KERNELS, address of its parameter block]. */
  steps: [number, number][][];
}

/**
 * Claims and runs chunks of the ticket's step until none is left.
 * `ticket` was read from TICKET; a failed compare-exchange re-reads it and stops when it
 * belongs to another step or generation.
 */
function claimChunks(c: Int32Array, ticket: number, count: number, runChunk: (i: number) => void): void {
  for (;;) {
    const i = (ticket >>> CHUNK_SHIFT) & CHUNK_MASK;
    if (i >= count) return;
    const seen = Atomics.compareExchange(c, TICKET, ticket, ticket + (1 << CHUNK_SHIFT));
    if (seen !== ticket) {
      // another thread took chunk i (same step and generation: try the next), or the step is over
      if ((seen & ~(CHUNK_MASK << CHUNK_SHIFT)) !== (ticket & ~(CHUNK_MASK << CHUNK_SHIFT))) return;
      ticket = seen;
      continue;
    }
    try {
      runChunk(i);
    } finally {
      Atomics.add(c, FINISHED, 1);
      Atomics.notify(c, FINISHED);
    }
    ticket += 1 << CHUNK_SHIFT;
  }
}

/** Runs in the worker (worker.ts): instantiates the module on the shared memory, then claims chunks until told to exit. */
export async function serve(init: WorkerInit, post: (message: unknown) => void): Promise<void> {
  const instance = await WebAssembly.instantiate(init.module, imports(init.memory));
  const e = instance.exports as unknown as Record<KernelName, (paramsPtr: number) => void>;
  const fns = KERNELS.map((name) => e[name]);
  const steps = init.steps.map((chunks) => chunks.map(([k, paramsPtr]) => ({ fn: fns[k], paramsPtr })));
  const c = new Int32Array(init.memory.buffer, init.control, CONTROL_BYTES >> 2);
  let seen = Atomics.load(c, TICKET); // before saying ready: the caller publishes nothing until then
  post({ ready: true });
  for (;;) {
    let ticket: number;
    let t0 = -1;
    for (let spin = 0; (ticket = Atomics.load(c, TICKET)) === seen; spin++) {
      if ((spin & 255) !== 255) continue;
      if (t0 < 0) t0 = now();
      else if (now() - t0 > SPIN_MS) {
        Atomics.wait(c, TICKET, seen);
        t0 = -1;
      }
    }
    if (ticket === -1) break;
    const chunks = steps[ticket & STEP_MASK];
    claimChunks(c, ticket, chunks.length, (i) => {
      Atomics.add(c, WORKER_CHUNKS, 1);
      try {
        chunks[i].fn(chunks[i].paramsPtr);
      } catch (error) {
        Atomics.store(c, ERROR, 1);
        post({ error: String((error as Error)?.stack ?? error) });
      }
    });
    // wait for the next step: this one's ticket no longer changes once every chunk is claimed
    seen = Atomics.load(c, TICKET);
    if ((seen & ~(CHUNK_MASK << CHUNK_SHIFT)) !== (ticket & ~(CHUNK_MASK << CHUNK_SHIFT))) seen = -2; // a new step is out already: take it at once
  }
  post({ exited: true });
}

/** The calling thread's side: one worker, started on the network's memory, and the chunk handshake. */
export class WorkerPair {
  private generation = 0;
  private readonly c: Int32Array;
  private readonly canWait: boolean;
  private closed = false;
  private total = 0;

  private constructor(
    control: number,
    memory: WebAssembly.Memory,
    private readonly stop: () => Promise<void>,
    private readonly errors: { message: string },
  ) {
    this.c = new Int32Array(memory.buffer, control, CONTROL_BYTES >> 2);
    const g = globalThis as { process?: { versions?: { node?: string } }; document?: unknown };
    this.canWait = !!g.process?.versions?.node || g.document === undefined;
  }

  /** Starts the worker and resolves once it has instantiated the module. */
  static async start(init: WorkerInit): Promise<WorkerPair> {
    if (init.steps.length > MAX_SPLIT_STEPS)
      throw new RangeError(`${init.steps.length} split steps; at most ${MAX_SPLIT_STEPS}`);
    if (init.steps.some((chunks) => chunks.length > MAX_CHUNKS))
      throw new RangeError(`a step has more than ${MAX_CHUNKS} chunks`);
    const errors = { message: '' };
    const node = !!(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
    const script = new URL('./worker.js', import.meta.url);
    let stop: () => Promise<void>;
    if (node) {
      const { Worker } = await import('node:worker_threads');
      const worker = new Worker(script, { workerData: init });
      live++;
      worker.once('exit', () => {
        live--;
      });
      let onError: (error: Error) => void = () => {},
        onExit: (code: number) => void = () => {};
      try {
        await new Promise<void>((resolve, reject) => {
          onError = reject;
          onExit = (code) => reject(new Error(`the int8 worker exited (${code}) before it was ready`));
          worker
            .once('error', onError)
            .once('exit', onExit)
            .once('message', () => resolve());
        });
      } catch (error) {
        await worker.terminate();
        throw error;
      } finally {
        worker.off('error', onError).off('exit', onExit);
      }
      worker.on('message', (m: { error?: string }) => {
        if (m.error) errors.message = m.error;
      });
      worker.on('error', (error: Error) => {
        errors.message = String(error.stack ?? error);
      });
      worker.unref(); // a network not disposed does not keep the process alive
      stop = async () => {
        await worker.terminate();
      };
    } else {
      const W = (globalThis as unknown as { Worker: new (url: URL, options: { type: 'module' }) => Worker }).Worker;
      const worker = new W(script, { type: 'module' });
      live++;
      await new Promise<void>((resolve, reject) => {
        worker.onerror = (event) => reject(new Error(`the int8 worker failed to start: ${event.message}`));
        worker.onmessage = () => resolve();
        worker.postMessage(init);
      });
      worker.onmessage = (event: MessageEvent<{ error?: string }>) => {
        if (event.data?.error) errors.message = event.data.error;
      };
      stop = async () => {
        worker.terminate();
        live--;
      };
    }
    return new WorkerPair(init.control, init.memory, stop, errors);
  }

  /**
   * Runs split step `k` (its chunks as the caller's closures, the same calls as the worker's
   * list): publishes the ticket, claims chunks alongside the worker, waits until all are finished.
   */
  run(k: number, chunks: (() => void)[]): void {
    if (this.closed) throw new Error('the int8 network was disposed');
    const c = this.c;
    const g = ++this.generation & GEN_MASK;
    const ticket = (g << GEN_SHIFT) | k;
    Atomics.store(c, FINISHED, 0);
    Atomics.store(c, TICKET, ticket);
    Atomics.notify(c, TICKET, 1);
    this.total += chunks.length;
    claimChunks(c, ticket, chunks.length, (i) => chunks[i]());
    let spin = 0;
    let t0 = -1;
    for (let done = Atomics.load(c, FINISHED); done < chunks.length; done = Atomics.load(c, FINISHED)) {
      if ((++spin & 255) !== 0) continue;
      if (t0 < 0) t0 = now();
      const waited = now() - t0;
      if (waited > SPIN_MS && this.canWait) Atomics.wait(c, FINISHED, done, 50);
      if (waited > 30000)
        throw new Error(
          `the int8 worker did not finish its chunk within 30 s${this.errors.message ? `: ${this.errors.message}` : ''}`,
        );
    }
    if (Atomics.load(c, ERROR)) {
      Atomics.store(c, ERROR, 0);
      throw new Error(`the int8 worker failed${this.errors.message ? `: ${this.errors.message}` : ''}`);
    }
  }

  /** Chunks run so far: by both threads, by the worker. */
  get chunks(): { total: number; worker: number } {
    return { total: this.total, worker: Atomics.load(this.c, WORKER_CHUNKS) };
  }

  /** Tells the worker to exit and terminates it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.c, TICKET, -1);
    Atomics.notify(this.c, TICKET, 1);
    await this.stop();
  }
}

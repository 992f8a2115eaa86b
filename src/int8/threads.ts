/**
 * Two threads for the uint8 network (network.ts, `threads: 2`): the kernels-only build
 * (assembly/int8.ts → dist/wasm/ssd-int8.threads.wasm) is instantiated on one shared
 * WebAssembly.Memory by the calling thread and by one worker (worker_threads in Node, a module
 * Web Worker in browsers, which needs `crossOriginIsolated`). The arena (weights, activations)
 * lives in that memory once. Each kernel call that is worth splitting runs as two calls on
 * disjoint output ranges (rows, or output channels, or elements): the worker's half is a
 * [kernel, ...args] list it received once, so a run only signals step numbers through a control
 * block in the shared memory:
 *
 * ```
 * int32 [0] GO    generation, written by the caller last (after STEP)
 *       [1] STEP  the worker's call list index for that generation; -1 = exit
 *       [16] DONE generation the worker has finished (own 64-byte line)
 *       [17] ERROR 1 when the worker's call threw (the message goes out by postMessage)
 * ```
 * Both sides spin briefly, then sleep in Atomics.wait (the caller only where it may block: Node,
 * or inside a worker; a browser main thread keeps spinning).
 *
 * The module has no data segments and no start function (every kernel keeps its state in the
 * regions it is given), so instantiating it in the worker writes nothing to the shared memory.
 */
import type { Core, CoreExports } from '../core/loader.js';

/** The kernels a worker can run, by index in its call lists. */
export const KERNELS = ['qgemm', 'qconv', 'qdepthwise', 'qadd', 'qlookup'] as const;
export type KernelName = typeof KERNELS[number];

/** One kernel call: the kernel and its (integer) arguments. */
export type KernelCall = [KernelName, ...number[]];

export const CONTROL_BYTES = 128;
export const GO = 0, STEP = 1, DONE = 16, ERROR = 17;
/** Pages of the shared memory's maximum (512 MiB): shared memories cannot grow past it. */
export const MAX_PAGES = 8192;
/**
 * How long either side spins on the control block before it sleeps in Atomics.wait (ms): steps
 * follow each other within microseconds during a run, and waking a sleeping thread costs a
 * futex round trip (0.1–0.3 ms measured on a loaded 2-core machine), so the worker spins through
 * a whole run and sleeps between runs.
 */
const SPIN_MS = Number((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.SSD_INT8_SPIN_MS ?? 0.1);
const now = () => performance.now();

const THREADS_WASM = 'ssd-int8.threads.wasm';

let live = 0;
/** Workers started and not yet exited (for tests: dispose() leaves none). */
export function liveWorkers(): number {
  return live;
}

/** Whether this engine can run the two-thread network: shared memory, Atomics, workers, isolation in browsers. */
export function threadsSupported(): { ok: boolean; reason: string } {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return { ok: false, reason: 'no SharedArrayBuffer' };
  const g = globalThis as { crossOriginIsolated?: boolean; process?: { versions?: { node?: string } }; Worker?: unknown };
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

let compiled: Promise<WebAssembly.Module> | undefined;

function compileThreaded(wasmBaseUrl?: string | URL): Promise<WebAssembly.Module> {
  const url = wasmBaseUrl === undefined
    ? new URL(`../../wasm/${THREADS_WASM}`, import.meta.url)
    : new URL(THREADS_WASM, new URL(String(wasmBaseUrl).replace(/\/?$/, '/'), (globalThis as { location?: { href: string } }).location?.href));
  const load = async () => {
    if (url.protocol === 'file:') {
      const { readFile } = await import('node:fs/promises');
      return WebAssembly.compile(await readFile(url));
    }
    const response = await fetch(url);
    if (!response.ok) throw new Error(`could not load ${url.href}: HTTP ${response.status}`);
    return WebAssembly.compile(await response.arrayBuffer());
  };
  if (wasmBaseUrl !== undefined) return load();
  compiled ??= load().catch((error: unknown) => { compiled = undefined; throw error; });
  return compiled;
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
export async function instantiateThreadedCore(wasmBaseUrl?: string | URL): Promise<{ core: Core; module: WebAssembly.Module }> {
  const module = await compileThreaded(wasmBaseUrl);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true } as WebAssembly.MemoryDescriptor);
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

/** What a worker needs: the module, the memory, the control block and its half of every split call. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: number;
  calls: number[][];
}

/** Runs in the worker (worker.ts): instantiates the module on the shared memory, then serves calls until told to exit. */
export async function serve(init: WorkerInit, post: (message: unknown) => void): Promise<void> {
  const instance = await WebAssembly.instantiate(init.module, imports(init.memory));
  const e = instance.exports as unknown as Record<KernelName, (...args: number[]) => void>;
  const fns = KERNELS.map(name => e[name]);
  const calls = init.calls.map(([k, ...args]) => ({ fn: fns[k], args }));
  const c = new Int32Array(init.memory.buffer, init.control, CONTROL_BYTES >> 2);
  let seen = Atomics.load(c, GO); // before saying ready: the caller posts nothing until then
  post({ ready: true });
  for (;;) {
    let g: number;
    let t0 = -1;
    for (let spin = 0; (g = Atomics.load(c, GO)) === seen; spin++) {
      if ((spin & 255) !== 255) continue;
      if (t0 < 0) t0 = now();
      else if (now() - t0 > SPIN_MS) { Atomics.wait(c, GO, seen); t0 = -1; }
    }
    seen = g;
    const k = Atomics.load(c, STEP);
    if (k < 0) break;
    try {
      const call = calls[k];
      call.fn(...call.args);
    } catch (error) {
      Atomics.store(c, ERROR, 1);
      post({ error: String((error as Error)?.stack ?? error) });
    }
    Atomics.store(c, DONE, g);
    Atomics.notify(c, DONE);
  }
  post({ exited: true });
}

/** The calling thread's side: one worker, started on the network's memory, and the per-step handshake. */
export class WorkerPair {
  private generation = 0;
  private readonly c: Int32Array;
  private readonly canWait: boolean;
  private closed = false;
  private lastError = '';

  private constructor(private readonly control: number, memory: WebAssembly.Memory,
                      private readonly stop: () => Promise<void>, private readonly errors: { message: string }) {
    this.c = new Int32Array(memory.buffer, control, CONTROL_BYTES >> 2);
    const g = globalThis as { process?: { versions?: { node?: string } }; document?: unknown };
    this.canWait = !!g.process?.versions?.node || g.document === undefined;
  }

  /** Starts the worker and resolves once it has instantiated the module. */
  static async start(init: WorkerInit): Promise<WorkerPair> {
    const errors = { message: '' };
    const node = !!(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
    const script = new URL('./worker.js', import.meta.url);
    let stop: () => Promise<void>;
    if (node) {
      const { Worker } = await import('node:worker_threads');
      const worker = new Worker(script, { workerData: init });
      live++;
      worker.once('exit', () => { live--; });
      let onError: (error: Error) => void = () => {}, onExit: (code: number) => void = () => {};
      try {
        await new Promise<void>((resolve, reject) => {
          onError = reject;
          onExit = code => reject(new Error(`the int8 worker exited (${code}) before it was ready`));
          worker.once('error', onError).once('exit', onExit).once('message', () => resolve());
        });
      } catch (error) {
        await worker.terminate();
        throw error;
      } finally {
        worker.off('error', onError).off('exit', onExit);
      }
      worker.on('message', (m: { error?: string }) => { if (m.error) errors.message = m.error; });
      worker.on('error', (error: Error) => { errors.message = String(error.stack ?? error); });
      worker.unref(); // a network not disposed does not keep the process alive
      stop = async () => { await worker.terminate(); };
    } else {
      const W = (globalThis as unknown as { Worker: new (url: URL, options: { type: 'module' }) => Worker }).Worker;
      const worker = new W(script, { type: 'module' });
      live++;
      await new Promise<void>((resolve, reject) => {
        worker.onerror = (event) => reject(new Error(`the int8 worker failed to start: ${event.message}`));
        worker.onmessage = () => resolve();
        worker.postMessage(init);
      });
      worker.onmessage = (event: MessageEvent<{ error?: string }>) => { if (event.data?.error) errors.message = event.data.error; };
      stop = async () => { worker.terminate(); live--; };
    }
    return new WorkerPair(init.control, init.memory, stop, errors);
  }

  /** Hands call `k` of the worker's list to the worker (returns at once). */
  post(k: number): number {
    if (this.closed) throw new Error('the int8 network was disposed');
    const g = ++this.generation;
    Atomics.store(this.c, STEP, k);
    Atomics.store(this.c, GO, g);
    Atomics.notify(this.c, GO, 1);
    return g;
  }

  /** Waits until the worker has finished generation `g`. */
  join(g: number): void {
    const c = this.c;
    let spin = 0;
    let t0 = -1;
    for (let done = Atomics.load(c, DONE); done !== g; done = Atomics.load(c, DONE)) {
      if ((++spin & 255) !== 0) continue;
      if (t0 < 0) t0 = now();
      const waited = now() - t0;
      if (waited > SPIN_MS && this.canWait) Atomics.wait(c, DONE, done, 50);
      if (waited > 30000) throw new Error(`the int8 worker did not answer within 30 s${this.errors.message ? `: ${this.errors.message}` : ''}`);
    }
    if (Atomics.load(c, ERROR)) {
      Atomics.store(c, ERROR, 0);
      this.lastError = this.errors.message;
      throw new Error(`the int8 worker failed${this.lastError ? `: ${this.lastError}` : ''}`);
    }
  }

  /** Tells the worker to exit and terminates it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.c, STEP, -1);
    Atomics.store(this.c, GO, ++this.generation);
    Atomics.notify(this.c, GO, 1);
    await this.stop();
  }

  get controlPtr(): number {
    return this.control;
  }
}

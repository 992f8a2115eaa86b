/**
 * Loads the wasm core: the SIMD build where the engine validates wasm SIMD, else the baseline
 * build. Reads the file with node:fs in Node and fetches it in browsers, compiling it as it
 * streams in (wasm-compile.ts). Compiled modules are memoised; every Core has its own instance
 * and memory.
 */

import { compileWasmUrl } from './wasm-compile.js';
import { defaultWasmSource, WASM_FILES } from './wasm-source.js';

export type CoreBuild = 'simd' | 'baseline';

/** The core's flat ABI (assembly/index.ts). Pointers and counts are plain numbers. */
export interface CoreExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  simdEnabled(): number;
  /** 1 when the score scan found every input value finite (SSD modes); else the host must check. */
  detectBatch(planPtr: number, numImages: number): number;
  detectBatchQuantized(planPtr: number, numImages: number, quantPtr: number): void;
  findNonFinite(ptr: number, num: number): number;
  // (paramsPtr[, count[, blockPtr]]): the blocks of assembly/params.ts, written from src/core/params.ts
  matchPriors(paramsPtr: number, numTruths: number): number;
  resizeToTensor(paramsPtr: number): void;
  resizeToU8(paramsPtr: number): void;
  trackerUpdate(statePtr: number, numDets: number, framePtr: number): number;
  trackScratchBytes(numTracks: number, numDets: number): number;
  priorsSsd(paramsPtr: number, outPtr: number): number;
  priorsTorchvision(paramsPtr: number, outPtr: number): number;
  priorsTfGrid(paramsPtr: number, outPtr: number): number;
  priorsMediapipe(paramsPtr: number, outPtr: number): number;
  // uint8 network kernels (assembly/qgemm.ts, qconv.ts, qdepthwise.ts, qadd.ts, qlookup.ts), in the same
  // convention, (paramsPtr): the blocks of assembly/qparams.ts, written from src/int8/params.ts
  qgemmPackedBytes(numOut: number, numK: number): number;
  /** Returns the bytes written. */
  qgemmPack(paramsPtr: number): number;
  qgemm(paramsPtr: number): void;
  qconv(paramsPtr: number): void;
  qdepthwisePackedBytes(channels: number, taps: number): number;
  /** Returns the bytes written. */
  qdepthwisePack(paramsPtr: number): number;
  qdepthwise(paramsPtr: number): void;
  qadd(paramsPtr: number): void;
  qlookup(paramsPtr: number): void;
}

export interface Core {
  /** Which build runs. */
  readonly build: CoreBuild;
  readonly exports: CoreExports;
  readonly memory: WebAssembly.Memory;
  /** First byte the host may use (16-byte aligned). */
  readonly heapBase: number;
  /**
   * Grows memory so that [heapBase, heapBase + bytes) exists; returns heapBase. `purpose` ("a
   * 4000 × 3000 image") names what needs it when the engine refuses the memory.
   */
  scratch(bytes: number, purpose?: string): number;
}

export interface LoadCoreOptions {
  /** 'auto' (default) picks 'simd' when the engine supports it. */
  build?: 'auto' | CoreBuild;
  /**
   * The folder the .wasm files (`ssd-core.simd.wasm`, `ssd-core.baseline.wasm`) are served from,
   * for bundlers that move assets. Default: `setWasmBaseUrl()`'s value, else beside the module
   * (dist/wasm/ in Node, the bundle's own URL for the ESM bundle, inlined in the script-tag bundle).
   */
  wasmBaseUrl?: string | URL;
}

const WASM_PAGE = 65536;

// A minimal module using v128 (from wasm-feature-detect): validates only where SIMD works.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

/** Whether this engine runs wasm SIMD (v128). */
export function simdSupported(): boolean {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

let defaultBaseUrl: string | undefined;

/**
 * Sets the folder every later core load fetches its .wasm files from (unless a call passes its
 * own `wasmBaseUrl`); `undefined` restores the default. Relative URLs resolve against the page.
 */
export function setWasmBaseUrl(base: string | URL | undefined): void {
  if (base !== undefined && typeof base !== 'string' && !(base instanceof URL)) {
    throw new TypeError(`wasmBaseUrl must be a URL or a string, got ${typeof base}`);
  }
  defaultBaseUrl = base === undefined ? undefined : String(base);
}

/** Where a build is loaded from: a URL, or bytes the bundle carries inline. */
function wasmSource(build: CoreBuild, base: string | URL | undefined = defaultBaseUrl): URL | Uint8Array {
  if (base === undefined) return defaultWasmSource(build);
  const text = String(base);
  const folder = text.endsWith('/') ? text : `${text}/`;
  return new URL(WASM_FILES[build], new URL(folder, globalThis.location?.href));
}

const inlineModules = new Map<Uint8Array, Promise<WebAssembly.Module>>();

function compile(build: CoreBuild, base?: string | URL): Promise<WebAssembly.Module> {
  const source = wasmSource(build, base);
  if (source instanceof Uint8Array) {
    let module = inlineModules.get(source);
    if (!module) inlineModules.set(source, (module = WebAssembly.compile(source as BufferSource)));
    return module;
  }
  return compileWasmUrl(source).catch((error: unknown) => {
    throw new Error(
      `could not load the ssd-edge ${build} core from ${source.href}: ${(error as Error).message}. ` +
        'If a bundler moved the .wasm files, pass { wasmBaseUrl } or call setWasmBaseUrl() to say where they are served.',
    );
  });
}

/**
 * Starts fetching and compiling the core build `instantiateCore` will use, so that it runs
 * alongside other loading (the model's bytes); the module is kept, and a failure is reported by
 * the instantiateCore call that needs it.
 */
export function precompileCore(options: LoadCoreOptions = {}): void {
  compile(chooseBuild(options.build), options.wasmBaseUrl).catch(() => {});
}

/** Picks the build: an explicit choice, or SIMD where supported. */
export function chooseBuild(requested: LoadCoreOptions['build'] = 'auto'): CoreBuild {
  if (requested === 'auto') return simdSupported() ? 'simd' : 'baseline';
  if (requested !== 'simd' && requested !== 'baseline') {
    throw new RangeError(`build is '${String(requested)}'; it must be 'auto', 'simd' or 'baseline'`);
  }
  if (requested === 'simd' && !simdSupported()) {
    throw new Error("build 'simd' was requested but this engine does not support wasm SIMD; use 'baseline' or 'auto'");
  }
  return requested;
}

/** A fresh core instance with its own memory. */
export async function instantiateCore(options: LoadCoreOptions = {}): Promise<Core> {
  const build = chooseBuild(options.build);
  const module = await compile(build, options.wasmBaseUrl);
  const instance = await WebAssembly.instantiate(module, {
    env: {
      abort(): never {
        throw new Error('ssd-edge core aborted: an internal invariant failed (please report this as a bug)');
      },
    },
  });
  const exports = instance.exports as unknown as CoreExports;
  const memory = exports.memory;
  const heapBase = (exports.heapBase() + 15) & ~15;
  return {
    build,
    exports,
    memory,
    heapBase,
    scratch(bytes: number, purpose = 'its working memory'): number {
      const needed = heapBase + bytes;
      if (needed > memory.buffer.byteLength) {
        try {
          memory.grow(Math.ceil((needed - memory.buffer.byteLength) / WASM_PAGE));
        } catch (error) {
          const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
          throw new RangeError(
            `the ssd-edge core needs ${mb(needed)} of WebAssembly memory for ${purpose} (it has ` +
              `${mb(memory.buffer.byteLength)}; wasm32 allows at most 4096 MiB) and the engine refused: ` +
              `${(error as Error).message}. Use a smaller image or batch, or free memory`,
            { cause: error },
          );
        }
      }
      return heapBase;
    },
  };
}

let shared: Promise<Core> | undefined;

/** The shared core instance used for one-off work such as generatePriors. */
export function loadCore(): Promise<Core> {
  shared ??= instantiateCore().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

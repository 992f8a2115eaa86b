/**
 * The wasm module that runs ssd-edge's own float32 training kernels (the depthwise gradients,
 * assembly/dwconv-backprop-*.ts, built from assembly/train.ts into dist/wasm/ssd-train.*.wasm,
 * apart from the runtime core so the browser bundles stay small) for tfjs's wasm backend. tfjs
 * owns its wasm heap and this module has its own memory, so a kernel copies its inputs from tfjs's
 * heap into the module's scratch region, runs, and copies its output into a tfjs tensor: two
 * copies against KH·KW multiply-adds per value, and no pointer into tfjs's memory is ever held.
 *
 * Kernels are synchronous and the module loads asynchronously: loadTrainingCore() runs once,
 * before the kernels are registered (initTraining does it for the wasm backend). Node only, like
 * initTraining. The file is compiled once per process (core/wasm-compile.ts), as the runtime core is.
 */
import { chooseBuild, type CoreBuild } from '../../core/loader.js';
import { compileWasmUrl } from '../../core/wasm-compile.js';

const WASM_PAGE = 65536;

/** assembly/train.ts's flat ABI: a kernel takes its parameter block's pointer (params.ts). */
export interface TrainingCoreExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  simdEnabled(): number;
  /** Reads a DWCONV_INPUT_FIELDS block (params.ts). */
  dwconvBackpropInput(paramsPtr: number): void;
  /** Reads a DWCONV_FILTER_FIELDS block (params.ts). */
  dwconvBackpropFilter(paramsPtr: number): void;
}

export interface TrainingCore {
  readonly build: CoreBuild;
  readonly exports: TrainingCoreExports;
  readonly memory: WebAssembly.Memory;
  /** Grows memory so that [heapBase, heapBase + bytes) exists; returns heapBase (16-byte aligned). */
  scratch(bytes: number, purpose: string): number;
}

/** A fresh instance of the training kernels' module, with its own memory. */
export async function instantiateTrainingCore(requested: 'auto' | CoreBuild = 'auto'): Promise<TrainingCore> {
  const build = chooseBuild(requested);
  const url = new URL(`../../../wasm/ssd-train.${build}.wasm`, import.meta.url);
  let module: WebAssembly.Module;
  try {
    module = await compileWasmUrl(url);
  } catch (error) {
    throw new Error(
      `could not load ssd-edge's training kernels (${build}) from ${url.href}: ${(error as Error).message}. ` +
        'Run `npm run build:wasm` in a source checkout',
      { cause: error },
    );
  }
  const instance = await WebAssembly.instantiate(module, {
    env: {
      abort(): never {
        throw new Error(
          'ssd-edge training kernels aborted: an internal invariant failed (please report this as a bug)',
        );
      },
    },
  });
  const exports = instance.exports as unknown as TrainingCoreExports;
  const memory = exports.memory;
  const heapBase = (exports.heapBase() + 15) & ~15;
  return {
    build,
    exports,
    memory,
    scratch(bytes: number, purpose: string): number {
      const needed = heapBase + bytes;
      if (needed > memory.buffer.byteLength) {
        try {
          memory.grow(Math.ceil((needed - memory.buffer.byteLength) / WASM_PAGE));
        } catch (error) {
          const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
          throw new RangeError(
            `ssd-edge's training kernels need ${mib(needed)} of WebAssembly memory for ${purpose} (they have ` +
              `${mib(memory.buffer.byteLength)}; wasm32 allows at most 4096 MiB) and the engine refused: ${(error as Error).message}. ` +
              'Use a smaller batch or input size',
            { cause: error },
          );
        }
      }
      return heapBase;
    },
  };
}

let core: TrainingCore | undefined;
let loading: Promise<TrainingCore> | undefined;

/** Loads the module the training kernels use ('auto': SIMD where the engine has it). Idempotent. */
export function loadTrainingCore(): Promise<TrainingCore> {
  if (core !== undefined) return Promise.resolve(core);
  loading ??= instantiateTrainingCore()
    .then((loaded) => {
      core = loaded;
      return loaded;
    })
    .finally(() => {
      loading = undefined;
    });
  return loading;
}

/** The loaded training module; throws, saying what to call first, when it is not loaded. */
export function trainingCore(kernel: string): TrainingCore {
  if (core === undefined) {
    throw new Error(
      `${kernel} (wasm, ssd-edge): the training kernels are not loaded; ` +
        'call initTraining({ backend: "wasm" }) (or await loadTrainingCore()) before running gradients',
    );
  }
  return core;
}

/** Float32 views of consecutive 16-byte-aligned regions of the module's scratch memory, sized in floats. */
export function scratchF32(target: TrainingCore, sizes: readonly number[], purpose: string): Float32Array[] {
  const starts: number[] = [];
  let bytes = 0;
  for (const size of sizes) {
    starts.push(bytes);
    bytes += (size * 4 + 15) & ~15;
  }
  const base = target.scratch(bytes, purpose);
  // Views after the scratch call: growing memory detaches the old buffer.
  return sizes.map((size, i) => new Float32Array(target.memory.buffer, base + starts[i], size));
}

/**
 * The relaxed-SIMD kernels of the uint8 network: the kernels-only build with
 * `i32x4.relaxed_dot_i8x16_i7x16_add_s` in its GEMM (assembly/qgemm-relaxed.ts, asconfig target
 * "int8-relaxed" → dist/wasm/ssd-int8.relaxed.wasm), one thread, its own memory. Its results are
 * the SIMD build's byte for byte on every engine (the operand split in qgemm-relaxed.ts keeps
 * every relaxed dot in the range where the instruction is deterministic).
 *
 * Node 20 has relaxed SIMD behind `--experimental-wasm-relaxed-simd`, and computes the relaxed dot
 * product right only in its optimising compiler (add `--no-liftoff`); Chromium has it on, and right.
 * So support is a known-answer probe run at load, not only WebAssembly.validate.
 */
import type { Core, CoreExports } from '../core/loader.js';
import { compileWasmUrl } from '../core/wasm-compile.js';

const RELAXED_WASM = 'ssd-int8.relaxed.wasm';

// Operands of the known-answer probe: `a` any i8 (the extremes included), `b` within i7 [0, 127],
// where the instruction is deterministic; `c` the accumulator it must add.
const PROBE_A = [-128, 127, -1, 5, -128, -128, 127, 127, 0, 1, -2, 3, 100, -100, 64, -64];
const PROBE_B = [127, 127, 0, 1, 127, 127, 127, 127, 9, 8, 7, 6, 1, 2, 126, 125];
const PROBE_C = [1000000, -7, 0, 123456];

/** a·b by lane groups of four, plus c: what the instruction must return for these operands. */
function probeExpected(): number[] {
  return PROBE_C.map(
    (c, lane) => c + [0, 1, 2, 3].reduce((sum, i) => sum + PROBE_A[4 * lane + i] * PROBE_B[4 * lane + i], 0),
  );
}

const v128Const = (bytes: Uint8Array) => [0xfd, 12, ...bytes];
const i8Bytes = (values: number[]) => new Uint8Array(Int8Array.from(values).buffer);
const i32Bytes = (values: number[]) => new Uint8Array(Int32Array.from(values).buffer);

/**
 * A module exporting `f: () → i32`, 1 when i32x4.relaxed_dot_i8x16_i7x16_add_s (0xfd 0x113) gives
 * the spec's answer on in-range operands: it validates only where the engine has relaxed SIMD, and
 * running it catches an engine that has the instruction but computes it wrong.
 */
function probeModule(): Uint8Array<ArrayBuffer> {
  const body = [
    0, // no locals
    ...v128Const(i8Bytes(PROBE_A)),
    ...v128Const(i8Bytes(PROBE_B)),
    ...v128Const(i32Bytes(PROBE_C)),
    0xfd,
    0x93,
    0x02, // i32x4.relaxed_dot_i8x16_i7x16_add_s
    ...v128Const(i32Bytes(probeExpected())),
    0xfd,
    0x37, // i32x4.eq
    0xfd,
    0xa3,
    0x01, // i32x4.all_true
    0x0b,
  ];
  return new Uint8Array([
    0,
    97,
    115,
    109,
    1,
    0,
    0,
    0,
    1,
    5,
    1,
    0x60,
    0,
    1,
    0x7f, // type: () → i32
    3,
    2,
    1,
    0, // one function of that type
    7,
    5,
    1,
    1,
    0x66,
    0,
    0, // export "f"
    10,
    body.length + 2,
    1,
    body.length,
    ...body,
  ]);
}

export type RelaxedSupport = 'ok' | 'missing' | 'wrong';

let support: RelaxedSupport | undefined;

/**
 * Whether this engine runs wasm relaxed SIMD correctly: 'missing' where the probe does not
 * validate, 'wrong' where the relaxed dot product returns something else than the spec's value on
 * operands where it is deterministic (Node 20's V8 with --experimental-wasm-relaxed-simd: its
 * baseline compiler, Liftoff, doubles the dot and drops the accumulator), 'ok' otherwise.
 */
export function relaxedSimdSupport(): RelaxedSupport {
  if (support) return support;
  const bytes = probeModule();
  let valid: boolean;
  try {
    valid = WebAssembly.validate(bytes);
  } catch {
    valid = false;
  }
  if (!valid) return (support = 'missing');
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    return (support = (instance.exports.f as () => number)() === 1 ? 'ok' : 'wrong');
  } catch {
    return (support = 'wrong');
  }
}

/** Whether the relaxed-SIMD kernels can run here (relaxedSimdSupport() is 'ok'). */
export function relaxedSimdSupported(): boolean {
  return relaxedSimdSupport() === 'ok';
}

/** Why relaxed SIMD cannot run here, in words (for errors and backendReason); undefined where it can. */
export function relaxedSimdProblem(): string | undefined {
  switch (relaxedSimdSupport()) {
    case 'ok':
      return undefined;
    case 'missing':
      return 'this engine has no wasm relaxed SIMD';
    case 'wrong':
      return "this engine's relaxed integer dot product failed a known-answer check";
  }
}

/** How Node 20 gets a working relaxed SIMD, for errors. */
export const NODE_HINT = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node
  ? ' (Node 20: run node with --experimental-wasm-relaxed-simd --no-liftoff)'
  : '';

function compileRelaxed(wasmBaseUrl?: string | URL): Promise<WebAssembly.Module> {
  const url =
    wasmBaseUrl === undefined
      ? new URL(`../../wasm/${RELAXED_WASM}`, import.meta.url)
      : new URL(
          RELAXED_WASM,
          new URL(
            String(wasmBaseUrl).replace(/\/?$/, '/'),
            (globalThis as { location?: { href: string } }).location?.href,
          ),
        );
  return compileWasmUrl(url).catch((error: unknown) => {
    throw new Error(`could not load ${url.href}: ${(error as Error).message}`, { cause: error });
  });
}

/** A Core running the relaxed-SIMD kernels (uint8 kernels only: qgemm, qconv, qdepthwise, qadd, qlookup). */
export async function instantiateRelaxedCore(wasmBaseUrl?: string | URL): Promise<Core> {
  const problem = relaxedSimdProblem();
  if (problem) throw new Error(`build 'relaxed' was requested but ${problem}${NODE_HINT}; use 'simd' or 'auto'`);
  const module = await compileRelaxed(wasmBaseUrl);
  const instance = await WebAssembly.instantiate(module, {
    env: {
      abort(): never {
        throw new Error('ssd-edge core aborted: an internal invariant failed (please report this as a bug)');
      },
    },
  });
  const exports = instance.exports as unknown as CoreExports;
  const memory = exports.memory;
  return {
    build: 'simd', // a SIMD build as far as the rest of the core is concerned; the network reports 'relaxed'
    exports,
    memory,
    heapBase: (exports.heapBase() + 15) & ~15,
    scratch(): number {
      throw new Error('the relaxed int8 core has no scratch: its memory is the network arena');
    },
  };
}

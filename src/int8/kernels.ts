/**
 * Which uint8 kernels a network runs: relaxed SIMD (relaxed.ts), wasm SIMD, or the scalar
 * baseline — all three give the same bytes — and why, in words for `backendReason`.
 */
import { chooseBuild, simdSupported, type CoreBuild } from '../core/loader.js';
import { NODE_HINT, relaxedSimdProblem } from './relaxed.js';

export type Int8Build = 'relaxed' | CoreBuild;

/**
 * Whether 'auto' runs the relaxed-SIMD kernels on one thread where the engine has them. Decided by
 * measurement (BENCHMARKS.md, "Relaxed SIMD"), not by what the engine offers.
 */
export const AUTO_PREFERS_RELAXED = false;

const BUILDS = ['auto', 'relaxed', 'simd', 'baseline'];

/** The kernels for `requested` on this engine with `threads` threads (the threaded build is SIMD only). */
export function chooseInt8Build(requested: 'auto' | Int8Build, threads: number): { build: Int8Build; reason: string } {
  if (!BUILDS.includes(requested))
    throw new RangeError(
      `build is '${String(requested)}'; it must be one of ${BUILDS.map((b) => `'${b}'`).join(', ')}`,
    );
  const problem = relaxedSimdProblem();
  const relaxed = problem === undefined;
  if (requested === 'relaxed') {
    if (!relaxed) throw new Error(`build 'relaxed' was requested but ${problem}${NODE_HINT}; use 'simd' or 'auto'`);
    return { build: 'relaxed', reason: "relaxed-SIMD kernels (build 'relaxed' asked for)" };
  }
  if (requested !== 'auto')
    return {
      build: chooseBuild(requested),
      reason: `${requested === 'simd' ? 'wasm SIMD' : 'scalar baseline'} kernels (build '${requested}' asked for)`,
    };
  if (!simdSupported()) return { build: 'baseline', reason: 'scalar baseline kernels (this engine has no wasm SIMD)' };
  if (relaxed && AUTO_PREFERS_RELAXED && threads === 1)
    return { build: 'relaxed', reason: 'relaxed-SIMD kernels (the engine has relaxed SIMD)' };
  const why =
    threads !== 1
      ? 'the two-thread build is SIMD'
      : !relaxed
        ? problem
        : 'the engine has relaxed SIMD, measured no faster here';
  return { build: 'simd', reason: `wasm SIMD kernels (${why})` };
}

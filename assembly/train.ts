// The float32 training kernels for tfjs's wasm backend (src/train/kernels/training-core.ts):
// a module of their own, so that the runtime core the browser bundles carry stays small. Kernel
// exports take one parameter block's pointer (train-calls.ts).

/** First free byte after static data: where the host starts its scratch region. */
export function heapBase(): usize {
  return __heap_base;
}

/** Whether this build uses wasm SIMD. */
export function simdEnabled(): bool {
  return ASC_FEATURE_SIMD;
}

export { dwconvBackpropInput, dwconvBackpropFilter } from "./train-calls";

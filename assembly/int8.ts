// The uint8 network kernels alone, for the threaded build (asconfig.json target "int8-threads"):
// one module instantiated per thread on one shared, imported memory (src/int8/threads.ts); and
// for the relaxed-SIMD build (target "int8-relaxed", its own memory, src/int8/relaxed.ts), where
// qgemm.ts hands over to qgemm-relaxed.ts.
// No kernel here keeps mutable state in static memory or globals, so instances on the same
// memory never see each other except through the regions the host hands them.

/** First free byte after static data: where the host starts its arena. */
export function heapBase(): usize {
  return __heap_base;
}

/** Whether this build uses wasm SIMD. */
export function simdEnabled(): bool {
  return ASC_FEATURE_SIMD;
}

// (paramsPtr): the blocks of qparams.ts, written by the host from src/int8/params.ts
export { qgemm, qgemmPack, qconv, qdepthwise, qdepthwisePack, qadd, qlookup } from "./qcalls";
export { qgemmPackedBytes } from "./qgemm";
export { qdepthwisePackedBytes } from "./qdepthwise";

// The core's exports: a flat, pointer-based ABI. The host owns the memory layout.

export { detectBatch, detectBatchQuantized } from "./pipeline";
export { findNonFinite } from "./finite";
export { matchPriors, resizeToTensor, resizeToU8, trackerUpdate } from "./calls";
export { trackScratchBytes } from "./track";
export { priorsSsd, priorsTorchvision, priorsTfGrid, priorsMediapipe } from "./priors";

/** First free byte after static data: where the host starts its arena. */
export function heapBase(): usize {
  return __heap_base;
}

/** Whether this build uses wasm SIMD. */
export function simdEnabled(): bool {
  return ASC_FEATURE_SIMD;
}

// uint8 network kernels (TensorFlow Lite / XNNPACK arithmetic), (paramsPtr): the blocks of qparams.ts
export { qgemm, qgemmPack, qconv, qdepthwise, qdepthwisePack, qadd, qlookup } from "./qcalls";
export { qgemmPackedBytes } from "./qgemm";
export { qdepthwisePackedBytes } from "./qdepthwise";

/**
 * How the runtime gets onnxruntime-web: imported on first use, so that Node users of the 'node'
 * backend never load it. It stays a dependency of the bundles, never copied into them: the ESM
 * bundle keeps this import for the user's bundler (or an import map) to resolve, and the
 * script-tag bundle replaces this module (rollup.config.mjs) with one that takes the global `ort`
 * of onnxruntime-web's own script tag. A page without a bundler maps both specifiers in its
 * import map: 'onnxruntime-web' → ort.min.mjs and 'onnxruntime-web/wasm' → ort.wasm.min.mjs.
 */
import type * as Ort from 'onnxruntime-web';
import { IS_NODE } from './environment.js';

export type OrtWeb = typeof Ort;

/**
 * onnxruntime-web for a backend: in browsers, for 'wasm' its wasm-only build
 * (`onnxruntime-web/wasm`), which compiles half the wasm of the default (WebGPU) build and runs
 * the same wasm kernels 2.7–4× faster in Chromium, bit for bit the same (BENCHMARKS.md); the
 * default build for 'webgpu', and in Node (its export for Node; the wasm-only one fetches its
 * .wasm, which Node's fetch cannot do from a file).
 */
export function importOrtWeb(backend: 'wasm' | 'webgpu'): Promise<OrtWeb> {
  return backend === 'wasm' && !IS_NODE ? import('onnxruntime-web/wasm') : import('onnxruntime-web');
}

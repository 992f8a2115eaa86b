/**
 * Where the core's .wasm files come from by default. In the Node build (tsc) they sit in
 * dist/wasm/, two folders above this module. The browser bundles replace this one module
 * (rollup.config.mjs): the ESM bundle with URLs of the files it emits beside itself, the
 * script-tag bundle with the bytes inlined. Nothing else in the loader depends on the layout.
 */
import type { CoreBuild } from './loader.js';

export const WASM_FILES: Readonly<Record<CoreBuild, string>> = {
  simd: 'ssd-core.simd.wasm',
  baseline: 'ssd-core.baseline.wasm',
};

/** The default source of a build: a URL to fetch or read, or the bytes themselves. */
export function defaultWasmSource(build: CoreBuild): URL | Uint8Array {
  return new URL(`../../wasm/${WASM_FILES[build]}`, import.meta.url);
}

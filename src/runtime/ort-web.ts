/**
 * How the runtime gets onnxruntime-web: imported on first use, so that Node users of the 'node'
 * backend never load it. It stays a dependency of the bundles, never copied into them: the ESM
 * bundle keeps this import for the user's bundler (or an import map) to resolve, and the
 * script-tag bundle replaces this module (rollup.config.mjs) with one that takes the global `ort`
 * of onnxruntime-web's own script tag.
 */
import type * as Ort from 'onnxruntime-web';

export type OrtWeb = typeof Ort;

export function importOrtWeb(): Promise<OrtWeb> {
  return import('onnxruntime-web');
}

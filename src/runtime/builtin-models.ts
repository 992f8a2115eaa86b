/**
 * The models that ship with ssd-edge, by name: `createDetector({ model: 'ssd-mobilenet-v2-coco' })`.
 * In the Node build (tsc) the files sit in models/ at the package root, three folders above this
 * module; the browser bundles replace this module (rollup.config.mjs) with one that emits the
 * files beside the bundle and returns their URLs. `setModelBaseUrl()` points elsewhere (a CDN,
 * a bundler's asset folder). Each file has a card in models/README.md.
 */
import { COCO91_LABELS } from '../core/labels.js';

export const BUILTIN_MODELS = Object.freeze({
  /** COCO's 80 classes: Coral's SSD MobileNet V2 (uint8), converted exactly from TFLite. The default. */
  'ssd-mobilenet-v2-coco': 'ssd-mobilenet-v2-coco.onnx',
  /** The procedural-shapes SSD300 trained by ssd-edge (the training example). */
  shapes: 'ssd300-default.onnx',
  /** Faces: face-api's SSD MobileNet V1 (uint8 weights), converted from its tfjs weight manifest. */
  'face-ssd-mobilenet-v1': 'face-ssd-mobilenet-v1.onnx',
});
export type BuiltinModelName = keyof typeof BUILTIN_MODELS;

/**
 * Built-in models that also ship as the uint8 .tflite they were converted from: backend 'int8'
 * (and 'auto' where it is the fastest exact path) runs that file on the core's own kernels. The
 * labels are those the ONNX file records (a .tflite carries none).
 */
export const BUILTIN_TFLITE_TWINS: Readonly<
  Partial<Record<BuiltinModelName, { file: string; labels: readonly string[] }>>
> = Object.freeze({
  'ssd-mobilenet-v2-coco': { file: 'mobilenet_ssd_v2_coco_quant_postprocess.tflite', labels: COCO91_LABELS },
});
/** The model `createDetector` and the CLI use when none is named. */
export const DEFAULT_MODEL: BuiltinModelName = 'ssd-mobilenet-v2-coco';

let baseUrl: URL | undefined;

/**
 * Where the built-in models are served from (a folder URL; relative URLs resolve against the
 * page); `undefined` restores the default (the package's models/ folder, or beside the bundle).
 */
export function setModelBaseUrl(base: string | URL | undefined): void {
  if (base !== undefined && typeof base !== 'string' && !(base instanceof URL)) {
    throw new TypeError(`modelBaseUrl must be a URL or a string, got ${typeof base}`);
  }
  baseUrl = base === undefined ? undefined : new URL(String(base).replace(/\/?$/, '/'), globalThis.location?.href);
}

export function isBuiltinModel(name: unknown): name is BuiltinModelName {
  return typeof name === 'string' && Object.hasOwn(BUILTIN_MODELS, name);
}

/** The URL of a built-in model's file (its .tflite twin's with `tflite`). */
export function builtinModelUrl(name: BuiltinModelName, { tflite = false } = {}): URL {
  const file = tflite ? BUILTIN_TFLITE_TWINS[name]?.file : BUILTIN_MODELS[name];
  if (file === undefined) throw new Error(`built-in model '${name}' has no .tflite twin`);
  return baseUrl ? new URL(file, baseUrl) : defaultModelUrl(file);
}

/** Replaced in the browser bundles. */
function defaultModelUrl(file: string): URL {
  return new URL(`../../../models/${file}`, import.meta.url);
}

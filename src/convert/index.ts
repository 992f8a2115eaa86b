/**
 * `ssd-edge/convert`: other frameworks' SSD model files → ssd-edge ONNX models, in TypeScript
 * (no Python, no TensorFlow, no PyTorch). Each converted model records its pre- and
 * post-processing in the ONNX metadata, so `createDetector({ model })` needs no preset.
 */
import { convertPytorchSsd, isPth, type PytorchConversionReport, type PytorchConvertOptions } from './pytorch/index.js';
import { convertPreset, type ConvertPresetName } from './tflite/mediapipe.js';
import { convertTfliteSsd, type TfliteConversionReport, type TfliteConvertOptions } from './tflite/ssd.js';
import {
  convertTfjsManifest,
  isTfjsManifest,
  type TfjsConversionReport,
  type TfjsConvertOptions,
} from './tfjs/index.js';

export {
  convertTfliteModel,
  convertTfliteSsd,
  type TfliteConversionReport,
  type TfliteConvertOptions,
} from './tflite/ssd.js';
export {
  readTflite,
  TfliteFormatError,
  type TfliteModel,
  type TfliteOperator,
  type TfliteTensor,
} from './tflite/read.js';
export { SUPPORTED_OPERATORS, type ArithmeticMode } from './tflite/to-onnx.js';
export * from './pytorch/index.js';
export * from './tfjs/index.js';
export { foldFloat16Weights } from './tflite/fold-constants.js';
export {
  BLAZEFACE_ANCHORS,
  BLAZEFACE_POSTPROCESS,
  BLAZEFACE_PREPROCESS,
  CONVERT_PRESETS,
  convertPreset,
  type ConvertPresetName,
} from './tflite/mediapipe.js';

export type ModelFormat = 'tflite' | 'pytorch' | 'tfjs';
/** Options of every format; each converter reads its own (`arch` is PyTorch's, `mode` and `preset` TFLite's). */
export type ConvertOptions = Omit<TfliteConvertOptions, 'postprocess'> &
  Omit<PytorchConvertOptions, 'postprocess'> &
  Omit<TfjsConvertOptions, 'postprocess'> & {
    format?: ModelFormat;
    postprocess?: TfliteConvertOptions['postprocess'] & PytorchConvertOptions['postprocess'];
    /**
     * A TFLite model family's conversion preset ('mediapipe-blazeface'): the anchors, post- and
     * pre-processing its file does not carry, and the arithmetic mode. Other options override it.
     */
    preset?: ConvertPresetName;
  };
export interface TfliteConvertResult {
  onnx: Uint8Array;
  format: 'tflite';
  report: TfliteConversionReport;
}
export interface PytorchConvertResult {
  onnx: Uint8Array;
  format: 'pytorch';
  report: PytorchConversionReport;
}
export interface TfjsConvertResult {
  onnx: Uint8Array;
  format: 'tfjs';
  report: TfjsConversionReport;
}
export type ConvertResult = TfliteConvertResult | PytorchConvertResult | TfjsConvertResult;

/** The format of a model file from its first bytes, or undefined when unknown. */
export function detectFormat(bytes: Uint8Array): ModelFormat | undefined {
  if (bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3') return 'tflite';
  if (isPth(bytes)) return 'pytorch';
  if (isTfjsManifest(bytes)) return 'tfjs';
  return undefined;
}

/** Converts a model file's bytes into an ssd-edge ONNX model; the format is detected unless given. */
export function convertModel(
  bytes: Uint8Array | ArrayBuffer,
  options: ConvertOptions & { format: 'tflite' },
): TfliteConvertResult;
export function convertModel(
  bytes: Uint8Array | ArrayBuffer,
  options: ConvertOptions & { format: 'pytorch' },
): PytorchConvertResult;
export function convertModel(
  bytes: Uint8Array | ArrayBuffer,
  options: ConvertOptions & { format: 'tfjs' },
): TfjsConvertResult;
export function convertModel(bytes: Uint8Array | ArrayBuffer, options?: ConvertOptions): ConvertResult;
export function convertModel(bytes: Uint8Array | ArrayBuffer, options: ConvertOptions = {}): ConvertResult {
  if (!(bytes instanceof Uint8Array || bytes instanceof ArrayBuffer)) {
    throw new TypeError(
      `model bytes must be a Uint8Array or an ArrayBuffer, got ${bytes === null ? 'null' : typeof bytes}`,
    );
  }
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const format = options.format ?? detectFormat(view);
  if (format === 'pytorch') {
    const { onnx, report } = convertPytorchSsd(view, options);
    return { onnx, format, report };
  }
  if (format === 'tfjs') {
    const { onnx, report } = convertTfjsManifest(view, options);
    return { onnx, format, report };
  }
  if (format !== 'tflite') {
    const head = Array.from(view.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(
      `not a model file ssd-edge can convert: ${view.length} bytes starting ${head || '(empty)'}; ` +
        `supported: TensorFlow Lite (.tflite, identifier 'TFL3' at byte 4), PyTorch checkpoints (.pth: a zip archive 'PK', ` +
        `or the legacy pickle stream 80 02 8a 0a), ` +
        `tfjs weight manifests (a *-weights_manifest.json or model.json, with options.shards)`,
    );
  }
  const given = options.preset === undefined ? options : { ...convertPreset(options.preset), ...definedOnly(options) };
  const { onnx, report } = convertTfliteSsd(view, given);
  return { onnx, format, report };
}

/** The options whose value is not undefined (so that a preset's fields are not overridden by `undefined`). */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

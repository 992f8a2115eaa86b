/**
 * `ssd-edge/convert`: other frameworks' SSD model files → ssd-edge ONNX models, in TypeScript
 * (no Python, no TensorFlow). Each converted model records its pre- and post-processing in the
 * ONNX metadata, so `createDetector({ model })` needs no preset.
 */
import { convertPreset, type ConvertPresetName } from './tflite/mediapipe.js';
import { convertTfliteSsd, type TfliteConversionReport, type TfliteConvertOptions } from './tflite/ssd.js';

export { convertTfliteModel, convertTfliteSsd, type TfliteConversionReport, type TfliteConvertOptions } from './tflite/ssd.js';
export { readTflite, TfliteFormatError, type TfliteModel, type TfliteOperator, type TfliteTensor } from './tflite/read.js';
export { SUPPORTED_OPERATORS, type ArithmeticMode } from './tflite/to-onnx.js';
export { foldFloat16Weights } from './tflite/fold-constants.js';
export {
  BLAZEFACE_ANCHORS, BLAZEFACE_POSTPROCESS, BLAZEFACE_PREPROCESS, CONVERT_PRESETS, convertPreset, type ConvertPresetName,
} from './tflite/mediapipe.js';

export type ModelFormat = 'tflite';
export type ConvertOptions = TfliteConvertOptions & {
  format?: ModelFormat;
  /**
   * A model family's conversion preset ('mediapipe-blazeface'): the anchors, post- and
   * pre-processing its file does not carry, and the arithmetic mode. Other options override it.
   */
  preset?: ConvertPresetName;
};
export interface ConvertResult { onnx: Uint8Array; format: ModelFormat; report: TfliteConversionReport }

/** The format of a model file from its first bytes, or undefined when unknown. */
export function detectFormat(bytes: Uint8Array): ModelFormat | undefined {
  if (bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3') return 'tflite';
  return undefined;
}

/** Converts a model file's bytes into an ssd-edge ONNX model. */
export function convertModel(bytes: Uint8Array | ArrayBuffer, options: ConvertOptions = {}): ConvertResult {
  if (!(bytes instanceof Uint8Array || bytes instanceof ArrayBuffer)) {
    throw new TypeError(`model bytes must be a Uint8Array or an ArrayBuffer, got ${bytes === null ? 'null' : typeof bytes}`);
  }
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const format = options.format ?? detectFormat(view);
  if (format !== 'tflite') {
    const head = Array.from(view.subarray(0, 8), b => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`not a model file ssd-edge can convert: ${view.length} bytes starting ${head || '(empty)'}; ` +
      `supported: TensorFlow Lite (.tflite, identifier 'TFL3' at byte 4)`);
  }
  const given = options.preset === undefined ? options : { ...convertPreset(options.preset), ...definedOnly(options) };
  const { onnx, report } = convertTfliteSsd(view, given);
  return { onnx, format, report };
}

/** The options whose value is not undefined (so that a preset's fields are not overridden by `undefined`). */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

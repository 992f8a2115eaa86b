/**
 * `ssd-edge/convert`: other frameworks' SSD model files → ssd-edge ONNX models, in TypeScript
 * (no Python, no TensorFlow). Each converted model records its pre- and post-processing in the
 * ONNX metadata, so `createDetector({ model })` needs no preset.
 */
import { convertTfliteSsd, type TfliteConversionReport, type TfliteConvertOptions } from './tflite/ssd.js';

export { convertTfliteModel, convertTfliteSsd, type TfliteConversionReport, type TfliteConvertOptions } from './tflite/ssd.js';
export { readTflite, TfliteFormatError, type TfliteModel, type TfliteOperator, type TfliteTensor } from './tflite/read.js';
export { SUPPORTED_OPERATORS, type ArithmeticMode } from './tflite/to-onnx.js';

export type ModelFormat = 'tflite';
export type ConvertOptions = TfliteConvertOptions & { format?: ModelFormat };
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
  const { onnx, report } = convertTfliteSsd(view, options);
  return { onnx, format, report };
}

/**
 * A .tflite SSD as its exact ONNX conversion, made in memory, for the onnxruntime backends. Its
 * own module, imported on demand: the browser bundles replace it (rollup.config.mjs) with one that
 * says to convert ahead of time, as the ONNX writer (protobufjs) is not bundled.
 */
import { convertTfliteModel } from '../convert/tflite/ssd.js';
import type { TfliteSsd } from './tflite-model.js';

/** The exact ONNX conversion of the model, with what it was given (labels, anchors) and its pre-processing. */
export function tfliteToOnnx(ssd: TfliteSsd): Uint8Array {
  return convertTfliteModel(ssd.model, { ...ssd.given, preprocess: ssd.description.preprocess, mode: 'exact' }).onnx;
}

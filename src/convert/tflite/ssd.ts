/**
 * A TFLite SSD detector → an ssd-edge ONNX model: the network up to the inputs of TFLite's
 * `TFLite_Detection_PostProcess` (raw box encodings and class scores), with the op's anchors and
 * options recorded as the model's ssd-edge post-processing and the input's quantisation as its
 * pre-processing. A model exported without the op converts too, given its anchors.
 */
import { encodeSsdEdgeMetadata, PRODUCER_NAME } from '../../model/onnx/metadata.js';
import type { FlexValue } from '../flexbuffer.js';
import { describeTfliteSsd, type TfliteSsdGiven } from './describe.js';
import { foldFloat16Weights } from './fold-constants.js';
import { readTflite, type TfliteModel } from './read.js';
import { convertGraph, type ArithmeticMode } from './to-onnx.js';

export {
  describeTfliteSsd,
  DETECTION_POSTPROCESS,
  type TfliteSsdDescription,
  type TfliteSsdGiven,
} from './describe.js';

/** ONNX opset of converted models (QLinearConv, Clip on integers, Gather). */
export const CONVERT_OPSET = 13;
export const CONVERT_IR_VERSION = 7;

export interface TfliteConvertOptions extends TfliteSsdGiven {
  /**
   * 'exact' (default): TFLite's integer arithmetic, bit for bit; 'qdq': the same but ADD as
   * DequantizeLinear/Add/QuantizeLinear (onnxruntime's QLinearAdd: not bit-exact); 'float':
   * dequantised weights, float operators.
   */
  mode?: ArithmeticMode;
  /** More metadata_props (source, licence, ...). */
  metadata?: Readonly<Record<string, string>>;
}

export interface TfliteConversionReport {
  /** Operators of the TFLite graph converted (the post-processing op excluded). */
  tfliteOperators: number;
  onnxNodes: number;
  mode: ArithmeticMode;
  anchors: number;
  numClasses: number;
  /** Quantised operators computed in float in 'exact' mode (not bit-exact); empty when exact. */
  approximated: string[];
  /** The TFLite tensor names of the two outputs. */
  boxTensor: string;
  scoreTensor: string;
  /** The detection op's options as the file records them, or undefined when it has none. */
  detectionOptions: Record<string, FlexValue> | undefined;
}

/** Converts a TFLite SSD's bytes into ONNX bytes with ssd-edge metadata, and a report. */
export function convertTfliteSsd(
  bytes: Uint8Array,
  options: TfliteConvertOptions = {},
): { onnx: Uint8Array; report: TfliteConversionReport } {
  return convertTfliteModel(readTflite(bytes), options);
}

/** convertTfliteSsd on a model already read (readTflite). */
export function convertTfliteModel(
  file: TfliteModel,
  options: TfliteConvertOptions = {},
): { onnx: Uint8Array; report: TfliteConversionReport } {
  // float16 weights (DEQUANTIZE of a float16 constant) become float32 constants
  const model = foldFloat16Weights(file);
  const mode = options.mode ?? 'exact';
  if (mode !== 'exact' && mode !== 'qdq' && mode !== 'float')
    throw new RangeError(`mode is '${String(mode)}'; it must be 'exact', 'qdq' or 'float'`);
  const {
    boxIndex,
    scoreIndex,
    postprocess,
    preprocess,
    detection,
    detectionOptions: flex,
  } = describeTfliteSsd(model, options);

  const conversion = convertGraph(
    model,
    [
      { index: boxIndex, name: 'loc' },
      { index: scoreIndex, name: 'conf' },
    ],
    mode,
  );
  const metadata = encodeSsdEdgeMetadata({
    opset: CONVERT_OPSET,
    preprocess,
    postprocess,
    width: 1,
    numClasses: postprocess.numClasses,
  });
  const onnx = conversion.graph.encode({
    opset: CONVERT_OPSET,
    irVersion: CONVERT_IR_VERSION,
    producerName: PRODUCER_NAME,
    metadata: { ...metadata, 'ssd-edge.source': 'tflite', 'ssd-edge.convertMode': mode, ...options.metadata },
  });
  return {
    onnx,
    report: {
      tfliteOperators: model.operators.length - (detection ? 1 : 0),
      onnxNodes: conversion.operatorCount,
      mode,
      anchors: (postprocess.priors as Float32Array).length / 4,
      numClasses: postprocess.numClasses,
      approximated: conversion.approximated,
      boxTensor: model.tensors[boxIndex].name,
      scoreTensor: model.tensors[scoreIndex].name,
      detectionOptions: flex,
    },
  };
}

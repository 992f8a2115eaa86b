/**
 * A TFLite SSD detector → an ssd-edge ONNX model: the network up to the inputs of TFLite's
 * `TFLite_Detection_PostProcess` (raw box encodings and class scores), with the op's anchors and
 * options recorded as the model's ssd-edge post-processing and the input's quantisation as its
 * pre-processing. A model exported without the op converts too, given its anchors.
 */
import { encodePriorParams } from '../../core/priors.js';
import { priorRows } from '../../core/prior-rows.js';
import type { PostprocessConfig, PriorConfig } from '../../core/types.js';
import { encodeSsdEdgeMetadata, PRODUCER_NAME } from '../../model/onnx/metadata.js';
import type { PreprocessSpec } from '../../runtime/types.js';
import { readFlexbuffer, type FlexValue } from '../flexbuffer.js';
import { foldFloat16Weights } from './fold-constants.js';
import { readTflite, TfliteFormatError, type TfliteModel, type TfliteOperator, type TfliteTensor } from './read.js';
import { constantFloats, convertGraph, type ArithmeticMode } from './to-onnx.js';

/** ONNX opset of converted models (QLinearConv, Clip on integers, Gather). */
export const CONVERT_OPSET = 13;
export const CONVERT_IR_VERSION = 7;
export const DETECTION_POSTPROCESS = 'TFLite_Detection_PostProcess';

export interface TfliteConvertOptions {
  /**
   * 'exact' (default): TFLite's integer arithmetic, bit for bit; 'qdq': the same but ADD as
   * DequantizeLinear/Add/QuantizeLinear (onnxruntime's QLinearAdd: not bit-exact); 'float':
   * dequantised weights, float operators.
   */
  mode?: ArithmeticMode;
  /** Class names by score column (background first when the model has one). */
  labels?: readonly string[];
  /** For models without TFLite_Detection_PostProcess: the anchors, as (cx, cy, w, h) rows or a generator config. */
  anchors?: Float32Array | PriorConfig;
  /** For models without TFLite_Detection_PostProcess: post-processing fields (box coding, thresholds, ...). */
  postprocess?: Partial<PostprocessConfig>;
  /** The input's pre-processing, for float-input models (quantised inputs record their own). */
  preprocess?: PreprocessSpec;
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

/** The detection op's options, read and checked. */
function detectionOptions(op: TfliteOperator): Record<string, FlexValue> {
  let options: FlexValue;
  try {
    options = readFlexbuffer(op.customOptions);
  } catch (e) {
    throw new TfliteFormatError(`${DETECTION_POSTPROCESS} (operator ${op.index}) has unreadable options: ${(e as Error).message}`);
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TfliteFormatError(`${DETECTION_POSTPROCESS} (operator ${op.index}) options are not a map`);
  }
  return options;
}

function numberOption(options: Record<string, FlexValue>, key: string, fallback?: number): number {
  const value = options[key];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TfliteFormatError(`${DETECTION_POSTPROCESS} option '${key}' is ${JSON.stringify(value)}; a number is needed`);
  }
  return value;
}

/** TFLite anchors (ycenter, xcenter, h, w) → ssd-edge priors (cx, cy, w, h). */
function anchorsToPriors(tensor: TfliteTensor): Float32Array {
  if (tensor.shape.length !== 2 || tensor.shape[1] !== 4) {
    throw new TfliteFormatError(`anchors tensor '${tensor.name}' has shape [${tensor.shape}]; [anchors, 4] expected`);
  }
  const yxhw = constantFloats(tensor);
  const priors = new Float32Array(yxhw.length);
  for (let i = 0; i < yxhw.length; i += 4) {
    priors[i] = yxhw[i + 1]; priors[i + 1] = yxhw[i]; priors[i + 2] = yxhw[i + 3]; priors[i + 3] = yxhw[i + 2];
  }
  return priors;
}

/** The image input's pre-processing: quantised inputs take raw 0–255 pixels as uint8. */
function preprocessOf(model: TfliteModel, given: PreprocessSpec | undefined): PreprocessSpec {
  const input = model.tensors[model.inputs[0]];
  const [, height, width] = input.shape;
  if (input.type === 'uint8') {
    const q = input.quantization!;
    return {
      size: [width, height], channels: 'rgb', mean: [0, 0, 0], std: [1, 1, 1], layout: 'nhwc', inputType: 'uint8',
      inputQuantization: { scale: q.scale[0], zeroPoint: q.zeroPoint[0] },
    };
  }
  if (input.type === 'int8') throw new TfliteFormatError('int8 image inputs are not supported yet; convert a model with a uint8 or float32 input');
  // TF Object Detection API and MediaPipe models normalise to [−1, 1]
  return given ?? { size: [width, height], channels: 'rgb', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5], layout: 'nhwc' };
}

function rowsOf(model: TfliteModel, index: number, what: string): { rows: number; columns: number } {
  const shape = model.tensors[index].shape;
  const columns = shape[shape.length - 1];
  const rows = shape.slice(0, -1).reduce((n, d) => n * d, 1);
  if (shape.length < 2 || !(rows > 0 && columns > 0)) throw new TfliteFormatError(`${what} tensor has shape [${shape}]`);
  return { rows, columns };
}

/** Converts a TFLite SSD's bytes into ONNX bytes with ssd-edge metadata, and a report. */
export function convertTfliteSsd(bytes: Uint8Array, options: TfliteConvertOptions = {}): { onnx: Uint8Array; report: TfliteConversionReport } {
  return convertTfliteModel(readTflite(bytes), options);
}

/** convertTfliteSsd on a model already read (readTflite). */
export function convertTfliteModel(file: TfliteModel, options: TfliteConvertOptions = {}): { onnx: Uint8Array; report: TfliteConversionReport } {
  // float16 weights (DEQUANTIZE of a float16 constant) become float32 constants
  const model = foldFloat16Weights(file);
  const mode = options.mode ?? 'exact';
  if (mode !== 'exact' && mode !== 'qdq' && mode !== 'float') throw new RangeError(`mode is '${String(mode)}'; it must be 'exact', 'qdq' or 'float'`);
  const detection = model.operators.find(op => op.custom && op.name === DETECTION_POSTPROCESS);
  let boxIndex: number, scoreIndex: number, priors: Float32Array, postprocess: PostprocessConfig;
  let flex: Record<string, FlexValue> | undefined;
  if (detection && (options.anchors || options.postprocess)) {
    throw new RangeError(`the model carries its own anchors and post-processing (${DETECTION_POSTPROCESS}); anchors and postprocess options are for models exported without it`);
  }
  if (detection) {
    if (detection.inputs.length < 3) throw new TfliteFormatError(`${DETECTION_POSTPROCESS} has ${detection.inputs.length} inputs; it needs boxes, scores and anchors`);
    [boxIndex, scoreIndex] = detection.inputs;
    const anchors = model.tensors[detection.inputs[2]];
    if (!anchors.data) throw new TfliteFormatError(`${DETECTION_POSTPROCESS}'s anchors '${anchors.name}' are not a constant`);
    priors = anchorsToPriors(anchors);
    flex = detectionOptions(detection);
    const boxes = rowsOf(model, boxIndex, 'box encodings');
    const scores = rowsOf(model, scoreIndex, 'class predictions');
    const numAnchors = priors.length / 4;
    if (boxes.rows !== numAnchors || scores.rows !== numAnchors) {
      throw new TfliteFormatError(`the model has ${numAnchors} anchors but ${boxes.rows} box rows and ${scores.rows} score rows`);
    }
    if (boxes.columns < 4) throw new TfliteFormatError(`box encodings have ${boxes.columns} values per anchor; at least 4 needed`);
    const numClasses = numberOption(flex, 'num_classes');
    const offset = scores.columns - numClasses;
    if (offset !== 0 && offset !== 1) {
      throw new TfliteFormatError(`class predictions have ${scores.columns} columns for num_classes ${numClasses}; expected ${numClasses} or ${numClasses + 1}`);
    }
    const scale = (key: string) => numberOption(flex!, key);
    postprocess = {
      priors, numClasses: scores.columns, backgroundClass: offset === 1 ? 0 : -1,
      boxCoding: { scaleFactors: [scale('y_scale'), scale('x_scale'), scale('h_scale'), scale('w_scale')], order: 'yxhw' },
      scoreActivation: 'none',
      scoreThreshold: numberOption(flex, 'nms_score_threshold'),
      nmsThreshold: numberOption(flex, 'nms_iou_threshold'),
      topK: numAnchors,
      keepTopK: numberOption(flex, 'max_detections'),
      tfliteNms: {
        useRegularNms: flex.use_regular_nms === true,
        maxClassesPerDetection: numberOption(flex, 'max_classes_per_detection', 1),
        // fast-NMS files often carry 0 here, which only regular NMS reads
        ...(numberOption(flex, 'detections_per_class', 0) > 0 ? { detectionsPerClass: numberOption(flex, 'detections_per_class') } : {}),
      },
      ...(options.labels ? { labels: options.labels } : {}),
    };
  } else {
    const found = rawOutputs(model);
    [boxIndex, scoreIndex] = [found.boxes, found.scores];
    if (!options.anchors) {
      throw new TfliteFormatError(`the model has no ${DETECTION_POSTPROCESS} operator, so its anchors are not in the file: pass anchors (a PriorConfig such as the tfGrid or mediapipe family, or the rows) and the post-processing`);
    }
    // the plain-TypeScript generator: the same rows as the core's, without loading wasm
    if (!(options.anchors instanceof Float32Array)) encodePriorParams(options.anchors); // validates the config
    priors = options.anchors instanceof Float32Array ? options.anchors : priorRows(options.anchors);
    const numAnchors = priors.length / 4;
    const scores = rowsOf(model, scoreIndex, 'class predictions');
    if (rowsOf(model, boxIndex, 'box encodings').rows !== numAnchors || scores.rows !== numAnchors) {
      throw new TfliteFormatError(`the anchors given are ${numAnchors}, but the model's outputs have ${scores.rows} rows`);
    }
    postprocess = {
      boxCoding: { scaleFactors: [10, 10, 5, 5], order: 'yxhw' }, scoreActivation: 'sigmoid', scoreThreshold: 0.5,
      nmsThreshold: 0.6, topK: numAnchors, keepTopK: 100, ...options.postprocess,
      priors, numClasses: scores.columns, ...(options.labels ? { labels: options.labels } : {}),
    } as PostprocessConfig;
  }
  if (options.labels && options.labels.length !== postprocess.numClasses) {
    throw new RangeError(`labels has ${options.labels.length} names; the model has ${postprocess.numClasses} score columns`);
  }
  const conversion = convertGraph(model, [{ index: boxIndex, name: 'loc' }, { index: scoreIndex, name: 'conf' }], mode);
  const metadata = encodeSsdEdgeMetadata({
    opset: CONVERT_OPSET, preprocess: preprocessOf(model, options.preprocess), postprocess, width: 1, numClasses: postprocess.numClasses,
  });
  const onnx = conversion.graph.encode({
    opset: CONVERT_OPSET, irVersion: CONVERT_IR_VERSION, producerName: PRODUCER_NAME,
    metadata: { ...metadata, 'ssd-edge.source': 'tflite', 'ssd-edge.convertMode': mode, ...options.metadata },
  });
  return {
    onnx,
    report: {
      tfliteOperators: model.operators.length - (detection ? 1 : 0), onnxNodes: conversion.operatorCount, mode,
      anchors: priors.length / 4, numClasses: postprocess.numClasses, approximated: conversion.approximated,
      boxTensor: model.tensors[boxIndex].name, scoreTensor: model.tensors[scoreIndex].name, detectionOptions: flex,
    },
  };
}

/** Without the detection op: the graph outputs [1, N, 4] (boxes) and [1, N, C] (scores). */
function rawOutputs(model: TfliteModel): { boxes: number; scores: number } {
  const shapes = model.outputs.map(i => ({ i, shape: model.tensors[i].shape }));
  const rows = shapes.filter(s => s.shape.length === 3);
  // boxes: the output with 4 values per anchor, or (keypoints after the box) more when the scores have one column
  const boxes = rows.find(s => s.shape[2] === 4) ?? rows.find(s => s.shape[2] > 4 && rows.some(o => o !== s && o.shape[2] === 1));
  const scores = rows.find(s => s !== boxes);
  if (!boxes || !scores) {
    throw new TfliteFormatError(`the model has no ${DETECTION_POSTPROCESS} operator and its outputs [${shapes.map(s => `[${s.shape}]`).join(', ')}] are not an SSD's box encodings [1, N, 4] and class predictions [1, N, C]: is it a detector?`);
  }
  return { boxes: boxes.i, scores: scores.i };
}

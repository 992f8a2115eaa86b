/**
 * What a TFLite SSD says about itself, without converting it: its two head tensors (the inputs of
 * `TFLite_Detection_PostProcess`), the op's anchors and options as ssd-edge's post-processing,
 * and the input's quantisation as its pre-processing. The ONNX conversion (ssd.ts) and the
 * detector's int8 backend (which browsers load without the ONNX writer) both start here.
 */
import { encodePriorParams } from '../../core/priors.js';
import { priorRows } from '../../core/prior-rows.js';
import type { PostprocessConfig, PriorConfig } from '../../core/types.js';
import type { PreprocessSpec } from '../../runtime/types.js';
import { readFlexbuffer, type FlexValue } from '../flexbuffer.js';
import { constantFloats } from './constants.js';
import { TfliteFormatError, type TfliteModel, type TfliteOperator, type TfliteTensor } from './read.js';

export const DETECTION_POSTPROCESS = 'TFLite_Detection_PostProcess';

/** What describeTfliteSsd needs from a file that lacks it (a model exported without the detection op). */
export interface TfliteSsdGiven {
  /** Class names by score column (background first when the model has one). */
  labels?: readonly string[];
  /** For models without TFLite_Detection_PostProcess: the anchors, as (cx, cy, w, h) rows or a generator config. */
  anchors?: Float32Array | PriorConfig;
  /** For models without TFLite_Detection_PostProcess: post-processing fields (box coding, thresholds, ...). */
  postprocess?: Partial<PostprocessConfig>;
  /** The input's pre-processing, for float-input models (quantised inputs record their own). */
  preprocess?: PreprocessSpec;
}

/** The detection op's options, read and checked. */
function detectionOptions(op: TfliteOperator): Record<string, FlexValue> {
  let options: FlexValue;
  try {
    options = readFlexbuffer(op.customOptions);
  } catch (e) {
    throw new TfliteFormatError(
      `${DETECTION_POSTPROCESS} (operator ${op.index}) has unreadable options: ${(e as Error).message}`,
    );
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
    throw new TfliteFormatError(
      `${DETECTION_POSTPROCESS} option '${key}' is ${JSON.stringify(value)}; a number is needed`,
    );
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
    priors[i] = yxhw[i + 1];
    priors[i + 1] = yxhw[i];
    priors[i + 2] = yxhw[i + 3];
    priors[i + 3] = yxhw[i + 2];
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
      size: [width, height],
      channels: 'rgb',
      mean: [0, 0, 0],
      std: [1, 1, 1],
      layout: 'nhwc',
      inputType: 'uint8',
      inputQuantization: { scale: q.scale[0], zeroPoint: q.zeroPoint[0] },
    };
  }
  if (input.type === 'int8')
    throw new TfliteFormatError(
      'int8 image inputs are not supported yet; convert a model with a uint8 or float32 input',
    );
  // TF Object Detection API and MediaPipe models normalise to [−1, 1]
  return (
    given ?? {
      size: [width, height],
      channels: 'rgb',
      mean: [127.5, 127.5, 127.5],
      std: [127.5, 127.5, 127.5],
      layout: 'nhwc',
    }
  );
}

function rowsOf(model: TfliteModel, index: number, what: string): { rows: number; columns: number } {
  const shape = model.tensors[index].shape;
  const columns = shape[shape.length - 1];
  const rows = shape.slice(0, -1).reduce((n, d) => n * d, 1);
  if (shape.length < 2 || !(rows > 0 && columns > 0))
    throw new TfliteFormatError(`${what} tensor has shape [${shape}]`);
  return { rows, columns };
}

/** What an SSD's .tflite file says about itself: its head tensors and ssd-edge's pre- and post-processing for it. */
export interface TfliteSsdDescription {
  /** Tensor indices of the raw box encodings and class predictions (TFLite_Detection_PostProcess's inputs 0 and 1). */
  boxIndex: number;
  scoreIndex: number;
  postprocess: PostprocessConfig;
  preprocess: PreprocessSpec;
  /** The detection op, when the model ends in one, and its options. */
  detection: TfliteOperator | undefined;
  detectionOptions: Record<string, FlexValue> | undefined;
}

/**
 * Reads an SSD's heads, anchors and options from a TFLite model (float16 weights already folded):
 * from TFLite_Detection_PostProcess when the model has it, else from `options.anchors`.
 */
export function describeTfliteSsd(model: TfliteModel, options: TfliteSsdGiven = {}): TfliteSsdDescription {
  const detection = model.operators.find((op) => op.custom && op.name === DETECTION_POSTPROCESS);
  let boxIndex: number, scoreIndex: number, priors: Float32Array, postprocess: PostprocessConfig;
  let flex: Record<string, FlexValue> | undefined;
  if (detection && (options.anchors || options.postprocess)) {
    throw new RangeError(
      `the model carries its own anchors and post-processing (${DETECTION_POSTPROCESS}); anchors and postprocess options are for models exported without it`,
    );
  }
  if (detection) {
    if (detection.inputs.length < 3)
      throw new TfliteFormatError(
        `${DETECTION_POSTPROCESS} has ${detection.inputs.length} inputs; it needs boxes, scores and anchors`,
      );
    [boxIndex, scoreIndex] = detection.inputs;
    const anchors = model.tensors[detection.inputs[2]];
    if (!anchors.data)
      throw new TfliteFormatError(`${DETECTION_POSTPROCESS}'s anchors '${anchors.name}' are not a constant`);
    priors = anchorsToPriors(anchors);
    flex = detectionOptions(detection);
    const boxes = rowsOf(model, boxIndex, 'box encodings');
    const scores = rowsOf(model, scoreIndex, 'class predictions');
    const numAnchors = priors.length / 4;
    if (boxes.rows !== numAnchors || scores.rows !== numAnchors) {
      throw new TfliteFormatError(
        `the model has ${numAnchors} anchors but ${boxes.rows} box rows and ${scores.rows} score rows`,
      );
    }
    if (boxes.columns < 4)
      throw new TfliteFormatError(`box encodings have ${boxes.columns} values per anchor; at least 4 needed`);
    const numClasses = numberOption(flex, 'num_classes');
    const offset = scores.columns - numClasses;
    if (offset !== 0 && offset !== 1) {
      throw new TfliteFormatError(
        `class predictions have ${scores.columns} columns for num_classes ${numClasses}; expected ${numClasses} or ${numClasses + 1}`,
      );
    }
    const scale = (key: string) => numberOption(flex!, key);
    postprocess = {
      priors,
      numClasses: scores.columns,
      backgroundClass: offset === 1 ? 0 : -1,
      boxCoding: {
        scaleFactors: [scale('y_scale'), scale('x_scale'), scale('h_scale'), scale('w_scale')],
        order: 'yxhw',
      },
      scoreActivation: 'none',
      scoreThreshold: numberOption(flex, 'nms_score_threshold'),
      nmsThreshold: numberOption(flex, 'nms_iou_threshold'),
      topK: numAnchors,
      keepTopK: numberOption(flex, 'max_detections'),
      tfliteNms: {
        useRegularNms: flex.use_regular_nms === true,
        maxClassesPerDetection: numberOption(flex, 'max_classes_per_detection', 1),
        // fast-NMS files often carry 0 here, which only regular NMS reads
        ...(numberOption(flex, 'detections_per_class', 0) > 0
          ? { detectionsPerClass: numberOption(flex, 'detections_per_class') }
          : {}),
      },
      ...(options.labels ? { labels: options.labels } : {}),
    };
  } else {
    const found = rawOutputs(model);
    [boxIndex, scoreIndex] = [found.boxes, found.scores];
    if (!options.anchors) {
      throw new TfliteFormatError(
        `the model has no ${DETECTION_POSTPROCESS} operator, so its anchors are not in the file: pass anchors (a PriorConfig such as the tfGrid or mediapipe family, or the rows) and the post-processing`,
      );
    }
    // the plain-TypeScript generator: the same rows as the core's, without loading wasm
    if (!(options.anchors instanceof Float32Array)) encodePriorParams(options.anchors); // validates the config
    priors = options.anchors instanceof Float32Array ? options.anchors : priorRows(options.anchors);
    const numAnchors = priors.length / 4;
    const boxes = rowsOf(model, boxIndex, 'box encodings');
    const scores = rowsOf(model, scoreIndex, 'class predictions');
    if (boxes.rows !== numAnchors || scores.rows !== numAnchors) {
      throw new TfliteFormatError(
        `the anchors given are ${numAnchors}, but the model's outputs have ${boxes.rows} box rows and ${scores.rows} score rows`,
      );
    }
    // a loc row is the 4 box values, then (x, y) per keypoint: what the post-processing will read
    const keypoints = options.postprocess?.keypoints?.count ?? 0;
    if (boxes.columns !== 4 + 2 * keypoints) {
      throw new TfliteFormatError(
        `box encodings '${model.tensors[boxIndex].name}' have ${boxes.columns} values per anchor; the post-processing given reads ${4 + 2 * keypoints} (4 box values and ${keypoints} keypoints)`,
      );
    }
    postprocess = {
      boxCoding: { scaleFactors: [10, 10, 5, 5], order: 'yxhw' },
      scoreActivation: 'sigmoid',
      scoreThreshold: 0.5,
      nmsThreshold: 0.6,
      topK: numAnchors,
      keepTopK: 100,
      ...options.postprocess,
      priors,
      numClasses: scores.columns,
      ...(options.labels ? { labels: options.labels } : {}),
    } as PostprocessConfig;
  }
  if (options.labels && options.labels.length !== postprocess.numClasses) {
    throw new RangeError(
      `labels has ${options.labels.length} names; the model has ${postprocess.numClasses} score columns`,
    );
  }
  return {
    boxIndex,
    scoreIndex,
    postprocess,
    preprocess: preprocessOf(model, options.preprocess),
    detection,
    detectionOptions: flex,
  };
}

/** Without the detection op: the graph outputs [1, N, 4] (boxes) and [1, N, C] (scores). */
function rawOutputs(model: TfliteModel): { boxes: number; scores: number } {
  const shapes = model.outputs.map((i) => ({ i, shape: model.tensors[i].shape }));
  const rows = shapes.filter((s) => s.shape.length === 3);
  // boxes: the output with 4 values per anchor, or (keypoints after the box) more when the scores have one column
  const boxes =
    rows.find((s) => s.shape[2] === 4) ??
    rows.find((s) => s.shape[2] > 4 && rows.some((o) => o !== s && o.shape[2] === 1));
  const scores = rows.find((s) => s !== boxes);
  if (!boxes || !scores) {
    throw new TfliteFormatError(
      `the model has no ${DETECTION_POSTPROCESS} operator and its outputs [${shapes.map((s) => `[${s.shape}]`).join(', ')}] are not an SSD's box encodings [1, N, 4] and class predictions [1, N, C]: is it a detector?`,
    );
  }
  return { boxes: boxes.i, scores: scores.i };
}

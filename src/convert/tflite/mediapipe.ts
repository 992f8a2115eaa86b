/**
 * MediaPipe detectors through the TFLite path. MediaPipe's TFLite files stop at the raw heads
 * (no TFLite_Detection_PostProcess): the anchors and the decoding live in the graph config
 * (`face_detection_short_range.pbtxt`: SsdAnchorsCalculator, TensorsToDetectionsCalculator,
 * NonMaxSuppressionCalculator). A conversion preset supplies them.
 *
 *   convertModel(bytes, { preset: 'mediapipe-blazeface' })
 *   ssd-edge convert face_detection_short_range.tflite --preset mediapipe-blazeface --out blazeface.onnx
 */
import type { MediapipePriorConfig, PostprocessConfig } from '../../core/types.js';
import type { PreprocessSpec } from '../../runtime/types.js';
import type { TfliteConvertOptions } from './ssd.js';

/**
 * BlazeFace short range's anchors: mediapipe/modules/face_detection/face_detection_short_range.pbtxt
 * (FaceDetectionOptions: 128 × 128, num_layers 4, strides 8, 16, 16, 16, interpolated scale
 * aspect ratio 1) with face_detection.pbtxt's SsdAnchorsCalculator defaults (min_scale 0.1484375,
 * max_scale 0.75, offsets 0.5, aspect ratio 1, fixed_anchor_size: true): 896 anchors.
 */
export const BLAZEFACE_ANCHORS: MediapipePriorConfig = {
  family: 'mediapipe',
  inputSize: [128, 128],
  numLayers: 4,
  minScale: 0.1484375,
  maxScale: 0.75,
  strides: [8, 16, 16, 16],
  aspectRatios: [1.0],
  anchorOffsetX: 0.5,
  anchorOffsetY: 0.5,
  interpolatedScaleAspectRatio: 1.0,
  reduceBoxesInLowestLayer: false,
  fixedAnchorSize: true,
};

/**
 * BlazeFace's TensorsToDetectionsCalculator and NonMaxSuppressionCalculator options
 * (face_detection.pbtxt + face_detection_short_range.pbtxt): num_coords 16 (box x, y, w, h —
 * reverse_output_order — then 6 keypoints x, y), x/y/w/h_scale 128, no exp, sigmoid scores,
 * min_score_thresh 0.5, NMS IoU 0.3, WEIGHTED. MediaPipe keeps every detection; keepTopK 100 caps
 * what a photo of a crowd returns.
 */
export const BLAZEFACE_POSTPROCESS: Omit<PostprocessConfig, 'priors' | 'numClasses'> = {
  backgroundClass: -1,
  boxCoding: { linearScales: [128, 128, 128, 128], order: 'xywh' },
  keypoints: { count: 6 },
  scoreActivation: 'sigmoid',
  scoreThreshold: 0.5,
  nmsThreshold: 0.3,
  weightedNms: true,
  topK: 896,
  keepTopK: 100,
  labels: ['face'],
};

/** MediaPipe's ImageToTensorCalculator for BlazeFace: keep_aspect_ratio (a centred letterbox), RGB to [−1, 1], NHWC. */
export const BLAZEFACE_PREPROCESS: PreprocessSpec = {
  size: [128, 128],
  channels: 'rgb',
  mean: [127.5, 127.5, 127.5],
  std: [127.5, 127.5, 127.5],
  layout: 'nhwc',
  fit: 'letterbox',
};

/** Conversion presets by name: the options a model family needs that its file does not carry. */
export const CONVERT_PRESETS = Object.freeze({
  'mediapipe-blazeface': {
    mode: 'float',
    anchors: BLAZEFACE_ANCHORS,
    postprocess: BLAZEFACE_POSTPROCESS,
    preprocess: BLAZEFACE_PREPROCESS,
  } satisfies TfliteConvertOptions,
});
export type ConvertPresetName = keyof typeof CONVERT_PRESETS;

/** The preset's options, or a RangeError listing the valid names. */
export function convertPreset(name: string): TfliteConvertOptions {
  if (!Object.prototype.hasOwnProperty.call(CONVERT_PRESETS, name)) {
    throw new RangeError(
      `unknown conversion preset '${name}'; valid presets: ${Object.keys(CONVERT_PRESETS).join(', ')}`,
    );
  }
  return CONVERT_PRESETS[name as ConvertPresetName];
}

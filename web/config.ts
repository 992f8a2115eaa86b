/**
 * The demo's defaults, one constant each. A query string overrides them:
 * `?model=URL&backend=auto|wasm|webgpu&profile=default|low-power&score=0.3&iou=0.45`.
 */
import { COCO91_LABELS } from '../src/core/labels.js';
import type { Backend, Profile } from '../src/runtime/types.js';

/**
 * The default model, relative to the page (served from the repository's models/ by `npm run demo`):
 * the COCO detector (80 classes) as its uint8 .tflite, which 'auto' runs on ssd-edge's own int8
 * kernels; `?backend=wasm` or `webgpu` (onnxruntime) loads its exact ONNX conversion instead.
 * `?model=models/ssd300-default.onnx` runs the shapes model.
 */
export const DEFAULT_MODEL_URL = 'models/mobilenet_ssd_v2_coco_quant_postprocess.tflite';
export const DEFAULT_ONNX_MODEL_URL = 'models/ssd-mobilenet-v2-coco.onnx';
/** The default .tflite's class names (a .tflite carries none; the ONNX file records the same). */
export const DEFAULT_MODEL_LABELS: readonly string[] = COCO91_LABELS;
export const DEFAULT_BACKEND: Backend | 'auto' = 'auto';
export const DEFAULT_PROFILE: Profile = 'default';
/** Detections drawn: scores above this (the models' own thresholds, 0.01 or TFLite's 1e-8, would draw dozens). */
export const DEFAULT_SCORE_THRESHOLD = 0.5;
export const DEFAULT_IOU_THRESHOLD = 0.45;

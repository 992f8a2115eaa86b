/**
 * The demo's defaults, one constant each. A query string overrides them:
 * `?model=URL&backend=auto|wasm|webgpu&profile=default|low-power&score=0.3&iou=0.45`.
 */
import type { Backend, Profile } from '../src/runtime/types.js';

/** The default model, relative to the page (served from the repository's models/ by `npm run demo`). */
export const DEFAULT_MODEL_URL = 'models/ssd300-default.onnx';
export const DEFAULT_BACKEND: Backend | 'auto' = 'auto';
export const DEFAULT_PROFILE: Profile = 'default';
/** Detections drawn: scores above this (the model's own 0.01 would draw hundreds). */
export const DEFAULT_SCORE_THRESHOLD = 0.3;
export const DEFAULT_IOU_THRESHOLD = 0.45;

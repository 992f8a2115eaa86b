/** The runtime: images → tensors, ONNX sessions, and the Detector. */
export { createDetector, METADATA_POSTPROCESS, METADATA_PREPROCESS, type Detector } from './detector.js';
export { inputPresets } from './input-presets.js';
export { BUILTIN_MODELS, DEFAULT_MODEL, setModelBaseUrl, type BuiltinModelName } from './builtin-models.js';
export { preprocess, inputDims, validatePreprocessSpec } from './preprocess.js';
export { decodeImage } from './image-node.js';
export { readBrowserImage } from './image-browser.js';
export { DEFAULT_MAX_IMAGE_PIXELS } from './image-limits.js';
export { readModelMetadata } from './model-metadata.js';
export {
  createSession,
  readModelBytes,
  describeAdapter,
  type ModelBytes,
  type ModelSession,
  type ModelSource,
  type SessionOptions,
  type SessionOutput,
} from './session.js';
export type * from './types.js';

/** ssd-edge: SSD object detection at the edge. */
export {
  createPostprocessor,
  dequantize,
  type Postprocessor,
  type PostprocessorOptions,
  type PostprocessThresholds,
  type Quantization,
} from './core/postprocessor.js';
export { createMatcher, type Matcher, type MatchTargets } from './core/matcher.js';
export {
  createTracker,
  type Tracker,
  type TrackerOptions,
  type TrackInput,
  type Track,
  type TrackState,
  type SmootherKind,
} from './core/tracker.js';
export {
  createBoxMapper,
  fitTransform,
  letterbox,
  normalizedToSource,
  type BoxMapper,
  type DisplayGeometry,
  type FitTransform,
  type ObjectFit,
} from './stream/geometry.js';
export type {
  TrackSource,
  FrameInput,
  TrackOptions,
  TrackResult,
  TrackedObject,
  TrackHandle,
  TrackSummary,
  TrackStage,
  StagePercentiles,
} from './stream/track.js';
export { generatePriors } from './core/priors.js';
export { presets, presetByName, type PresetName } from './core/presets.js';
export { VOC_LABELS, COCO91_LABELS } from './core/labels.js';
export { simdSupported, setWasmBaseUrl, type CoreBuild, type LoadCoreOptions } from './core/loader.js';
export type * from './core/types.js';
export {
  createDetector,
  inputPresets,
  preprocess,
  readModelMetadata,
  METADATA_POSTPROCESS,
  METADATA_PREPROCESS,
  DEFAULT_MAX_IMAGE_PIXELS,
  BUILTIN_MODELS,
  DEFAULT_MODEL,
  setModelBaseUrl,
  type BuiltinModelName,
  type Detector,
} from './runtime/index.js';
export type * from './runtime/types.js';

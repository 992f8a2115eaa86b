/** SSD300, the mini SSD and SSD / SSDLite MobileNet V2 in tfjs, and their export to ONNX. */
export { createSsd300, SSD300_INPUT_SIZE, type Ssd300, type Ssd300Options, type Ssd300Output } from './ssd300.js';
export type { ConvLayer, L2NormLayer, MaxPoolLayer, NetworkLayers, SourceLayers, TrunkLayer } from './layers.js';
export { exportSsd300, EXPORT_OPSET, type ExportOptions } from './onnx/export.js';
export {
  createMiniSsd,
  MINI_GRID,
  MINI_INPUT_SIZE,
  miniPriors,
  type MiniSsd,
  type MiniSsdOptions,
  type MiniSsdOutput,
} from './mini.js';
export { exportMiniSsd, MINI_PREPROCESS, miniPostprocess, type ExportMiniOptions } from './onnx/export-mini.js';
export { decodeOnnxModel, readSsdEdgeMetadata } from './onnx/read.js';
export { DEFAULT_PREPROCESS, METADATA_KEYS, parseSsdEdgeMetadata, type SsdEdgeMetadata } from './onnx/metadata.js';
export {
  createMobilenetSsd,
  makeDivisible,
  MOBILENET_SSD_BOX_CODING,
  MOBILENET_SSD_INPUT_SIZE,
  MOBILENET_SSD_INPUT_SIZE_RULE,
  MOBILENET_SSD_INPUT_SIZES,
  MOBILENET_SSD_PRIORS,
  isMobilenetSsdInputSize,
  mobilenetSsdFeatureMaps,
  mobilenetSsdPostprocess,
  mobilenetSsdPriors,
  type InvertedResidualBlock,
  type MobilenetForwardMode,
  type MobilenetPostprocessOptions,
  type MobilenetSource,
  type MobilenetSsd,
  type MobilenetSsdInputSize,
  type MobilenetSsdLayers,
  type MobilenetSsdOptions,
  type MobilenetSsdOutput,
} from './mobilenet-ssd.js';
export {
  exportMobilenetSsd,
  mobilenetExportPostprocess,
  mobilenetPreprocess,
  type ExportMobilenetOptions,
} from './onnx/export-mobilenet.js';
export {
  loadTfliteWeights,
  readTfliteWeights,
  type LoadTfliteOptions,
  type TfliteLayerWeights,
  type TfliteWeights,
} from './tflite-weights.js';

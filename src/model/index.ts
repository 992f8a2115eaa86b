/** SSD300 in tfjs, and its export to ONNX. */
export { createSsd300, SSD300_INPUT_SIZE, type Ssd300, type Ssd300Options, type Ssd300Output } from './ssd300.js';
export type { ConvLayer, L2NormLayer, MaxPoolLayer, NetworkLayers, SourceLayers, TrunkLayer } from './layers.js';
export { exportSsd300, EXPORT_OPSET, type ExportOptions } from './onnx/export.js';
export { decodeOnnxModel, readSsdEdgeMetadata } from './onnx/read.js';
export {
  DEFAULT_PREPROCESS, METADATA_KEYS, parseSsdEdgeMetadata, type SsdEdgeMetadata,
} from './onnx/metadata.js';

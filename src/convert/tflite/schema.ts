/**
 * The parts of TensorFlow Lite's schema (tensorflow/lite/schema/schema.fbs) the reader uses:
 * field numbers of the tables, the tensor types and the operator codes, by their schema names.
 */

/** Field numbers (declaration order in schema.fbs). */
export const ModelField = { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 } as const;
export const OperatorCodeField = { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3 } as const;
export const SubGraphField = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 } as const;
export const TensorField = { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4 } as const;
export const QuantizationField = {
  min: 0,
  max: 1,
  scale: 2,
  zeroPoint: 3,
  detailsType: 4,
  quantizedDimension: 6,
} as const;
export const OperatorField = {
  opcodeIndex: 0,
  inputs: 1,
  outputs: 2,
  builtinOptionsType: 3,
  builtinOptions: 4,
  customOptions: 5,
} as const;
export const BufferField = { data: 0, offset: 1, size: 2 } as const;

/** TensorType values → names. */
export const TENSOR_TYPES = [
  'float32',
  'float16',
  'int32',
  'uint8',
  'int64',
  'string',
  'bool',
  'int16',
  'complex64',
  'int8',
  'float64',
] as const;
export type TensorTypeName = (typeof TENSOR_TYPES)[number];

/** BuiltinOperator codes of the operators the converter knows, and the ones it names in errors. */
export const BUILTIN_OPERATORS: Readonly<Record<number, string>> = {
  0: 'ADD',
  1: 'AVERAGE_POOL_2D',
  2: 'CONCATENATION',
  3: 'CONV_2D',
  4: 'DEPTHWISE_CONV_2D',
  5: 'DEPTH_TO_SPACE',
  6: 'DEQUANTIZE',
  7: 'EMBEDDING_LOOKUP',
  8: 'FLOOR',
  9: 'FULLY_CONNECTED',
  10: 'HASHTABLE_LOOKUP',
  11: 'L2_NORMALIZATION',
  12: 'L2_POOL_2D',
  13: 'LOCAL_RESPONSE_NORMALIZATION',
  14: 'LOGISTIC',
  15: 'LSH_PROJECTION',
  16: 'LSTM',
  17: 'MAX_POOL_2D',
  18: 'MUL',
  19: 'RELU',
  20: 'RELU_N1_TO_1',
  21: 'RELU6',
  22: 'RESHAPE',
  23: 'RESIZE_BILINEAR',
  24: 'RNN',
  25: 'SOFTMAX',
  26: 'SPACE_TO_DEPTH',
  27: 'SVDF',
  28: 'TANH',
  32: 'CUSTOM',
  34: 'PAD',
  36: 'GATHER',
  39: 'TRANSPOSE',
  40: 'MEAN',
  41: 'SUB',
  42: 'DIV',
  43: 'SQUEEZE',
  45: 'STRIDED_SLICE',
  47: 'EXP',
  49: 'SPLIT',
  53: 'CAST',
  54: 'PRELU',
  55: 'MAXIMUM',
  57: 'MINIMUM',
  60: 'PADV2',
  65: 'SLICE',
  70: 'EXPAND_DIMS',
  83: 'PACK',
  88: 'UNPACK',
  97: 'RESIZE_NEAREST_NEIGHBOR',
  98: 'LEAKY_RELU',
  102: 'SPLIT_V',
  114: 'QUANTIZE',
  117: 'HARD_SWISH',
};

export const ActivationFunction = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'] as const;
export type ActivationName = (typeof ActivationFunction)[number];

/** Field numbers of the builtin options tables the converter reads. */
export const Conv2DOptionsField = {
  padding: 0,
  strideW: 1,
  strideH: 2,
  activation: 3,
  dilationW: 4,
  dilationH: 5,
} as const;
export const DepthwiseOptionsField = {
  padding: 0,
  strideW: 1,
  strideH: 2,
  depthMultiplier: 3,
  activation: 4,
  dilationW: 5,
  dilationH: 6,
} as const;
export const Pool2DOptionsField = {
  padding: 0,
  strideW: 1,
  strideH: 2,
  filterWidth: 3,
  filterHeight: 4,
  activation: 5,
} as const;
export const ConcatenationOptionsField = { axis: 0, activation: 1 } as const;
/** AddOptions, MulOptions, SubOptions: the fused activation is field 0. */
export const ElementwiseOptionsField = { activation: 0 } as const;
export const ReshapeOptionsField = { newShape: 0 } as const;
export const ResizeBilinearOptionsField = { alignCorners: 2, halfPixelCenters: 3 } as const;
export const Padding = ['SAME', 'VALID'] as const;

/**
 * A TensorFlow Lite flatbuffer writer for tests: small float models made in the test, for the
 * converter to read. Built on the `flatbuffers` package's Builder, with the field ids and enum
 * values taken from TensorFlow's schema (tensorflow/compiler/mlir/lite/schema/schema.fbs, the
 * same file as tensorflow/lite/schema/schema.fbs), written out here rather than imported from
 * src/convert/tflite/schema.ts: a wrong id there would otherwise be written and read alike and
 * no test would see it.
 *
 * Covers what the tests need: one subgraph, float32 and int32 tensors (constants in their own
 * buffers, buffer 0 the empty sentinel), builtin operators with the options tables below.
 */
import { Builder, type Offset } from 'flatbuffers';

/** schema.fbs `enum BuiltinOperator` (the operators the tests write). */
const BUILTIN_CODES = {
  ADD: 0,
  AVERAGE_POOL_2D: 1,
  CONCATENATION: 2,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  LOGISTIC: 14,
  MAX_POOL_2D: 17,
  RELU: 19,
  RESHAPE: 22,
} as const;
export type WrittenOperator = keyof typeof BUILTIN_CODES;

/** schema.fbs `enum TensorType`. */
const TENSOR_TYPES = { float32: 0, int32: 2 } as const;
/** schema.fbs `enum Padding`, `enum ActivationFunctionType`. */
const PADDING = { SAME: 0, VALID: 1 } as const;
const ACTIVATION = { NONE: 0, RELU: 1, RELU6: 3 } as const;
type Padding = keyof typeof PADDING;
type Activation = keyof typeof ACTIVATION;

/** Field ids: declaration order in schema.fbs; a union takes two (its `_type` byte, then the table). */
const MODEL = { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 } as const;
const OPERATOR_CODE = { deprecatedBuiltinCode: 0, version: 2, builtinCode: 3 } as const;
const SUBGRAPH = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 } as const;
const TENSOR = { shape: 0, type: 1, buffer: 2, name: 3 } as const;
const OPERATOR = { opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptionsType: 3, builtinOptions: 4 } as const;
const BUFFER = { data: 0 } as const;

/** schema.fbs `union BuiltinOptions` members (1-based; 0 is NONE) and their tables' fields. */
export type WrittenOptions =
  | { type: 'Conv2DOptions'; padding: Padding; strideW: number; strideH: number; activation?: Activation }
  | {
      type: 'DepthwiseConv2DOptions';
      padding: Padding;
      strideW: number;
      strideH: number;
      depthMultiplier: number;
      activation?: Activation;
    }
  | {
      type: 'Pool2DOptions';
      padding: Padding;
      strideW: number;
      strideH: number;
      filterWidth: number;
      filterHeight: number;
      activation?: Activation;
    }
  | { type: 'ConcatenationOptions'; axis: number; activation?: Activation }
  | { type: 'AddOptions'; activation?: Activation }
  | { type: 'ReshapeOptions'; newShape: number[] };
const OPTIONS_TYPE: Record<WrittenOptions['type'], number> = {
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  ConcatenationOptions: 10,
  AddOptions: 11,
  ReshapeOptions: 17,
};

export interface WrittenTensor {
  name: string;
  shape: number[];
  type: keyof typeof TENSOR_TYPES;
  /** A constant's values; an activation has none. */
  data?: Float32Array | Int32Array;
}

export interface WrittenOperatorSpec {
  op: WrittenOperator;
  inputs: number[];
  outputs: number[];
  options?: WrittenOptions;
}

export interface WrittenModel {
  tensors: WrittenTensor[];
  operators: WrittenOperatorSpec[];
  inputs: number[];
  outputs: number[];
  description?: string;
}

/**
 * A vector of `count` elements of `size` bytes, `alignment`-aligned, added by `add(i)` from the
 * last to the first: a flatbuffer is built back to front.
 */
function vector(b: Builder, size: number, count: number, alignment: number, add: (i: number) => void): Offset {
  b.startVector(size, count, alignment);
  for (let i = count - 1; i >= 0; i--) add(i);
  return b.endVector();
}

const int32Vector = (b: Builder, values: readonly number[]) =>
  vector(b, 4, values.length, 4, (i) => b.addInt32(values[i]));

/** A vector of tables or strings built before it. */
const offsetVector = (b: Builder, offsets: readonly Offset[]) =>
  vector(b, 4, offsets.length, 4, (i) => b.addOffset(offsets[i]));

/** Buffer.data: bytes, 16-byte aligned (schema.fbs `force_align: 16`). */
const bufferData = (b: Builder, bytes: Uint8Array) => vector(b, 1, bytes.length, 16, (i) => b.addInt8(bytes[i]));

function littleEndianBytes(data: Float32Array | Int32Array): Uint8Array {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  data.forEach((v, i) =>
    data instanceof Float32Array ? view.setFloat32(4 * i, v, true) : view.setInt32(4 * i, v, true),
  );
  return bytes;
}

/**
 * Conv2DOptions, DepthwiseConv2DOptions and Pool2DOptions open alike in schema.fbs: padding,
 * stride_w, stride_h, then the table's own int fields (`own`), then fused_activation_function.
 * `numFields` counts all of the table's fields, the unwritten ones (dilations) too.
 */
function windowOptions(
  b: Builder,
  numFields: number,
  o: { padding: Padding; strideW: number; strideH: number; activation?: Activation },
  own: readonly number[],
): Offset {
  b.startObject(numFields);
  b.addFieldInt8(0, PADDING[o.padding], 0);
  b.addFieldInt32(1, o.strideW, 0);
  b.addFieldInt32(2, o.strideH, 0);
  own.forEach((v, i) => b.addFieldInt32(3 + i, v, 0));
  b.addFieldInt8(3 + own.length, ACTIVATION[o.activation ?? 'NONE'], 0);
  return b.endObject();
}

function optionsTable(b: Builder, o: WrittenOptions): Offset {
  switch (o.type) {
    case 'Conv2DOptions':
      return windowOptions(b, 6, o, []);
    case 'DepthwiseConv2DOptions':
      return windowOptions(b, 7, o, [o.depthMultiplier]);
    case 'Pool2DOptions':
      return windowOptions(b, 6, o, [o.filterWidth, o.filterHeight]);
    case 'ConcatenationOptions':
      b.startObject(2);
      b.addFieldInt32(0, o.axis, 0);
      b.addFieldInt8(1, ACTIVATION[o.activation ?? 'NONE'], 0);
      return b.endObject();
    case 'AddOptions':
      b.startObject(1);
      b.addFieldInt8(0, ACTIVATION[o.activation ?? 'NONE'], 0);
      return b.endObject();
    case 'ReshapeOptions': {
      const shape = int32Vector(b, o.newShape);
      b.startObject(1);
      b.addFieldOffset(0, shape, 0);
      return b.endObject();
    }
  }
}

/** The model as a .tflite file's bytes (file identifier 'TFL3', schema version 3). */
export function writeTflite(model: WrittenModel): Uint8Array {
  const b = new Builder(1024);
  b.forceDefaults(true); // every field given is written, default or not
  // Children before parents: a flatbuffer table cannot be built while another is open.
  const buffers: Offset[] = [];
  b.startObject(1);
  buffers.push(b.endObject()); // buffer 0: the empty sentinel
  const bufferOf = model.tensors.map((t) => {
    if (!t.data) return 0;
    const data = bufferData(b, littleEndianBytes(t.data));
    b.startObject(1);
    b.addFieldOffset(BUFFER.data, data, 0);
    buffers.push(b.endObject());
    return buffers.length - 1;
  });

  const tensors = model.tensors.map((t, i) => {
    const name = b.createString(t.name);
    const shape = int32Vector(b, t.shape);
    b.startObject(4);
    b.addFieldOffset(TENSOR.shape, shape, 0);
    b.addFieldInt8(TENSOR.type, TENSOR_TYPES[t.type], 0);
    b.addFieldInt32(TENSOR.buffer, bufferOf[i], 0);
    b.addFieldOffset(TENSOR.name, name, 0);
    return b.endObject();
  });

  const codes: WrittenOperator[] = [...new Set(model.operators.map((o) => o.op))];
  const operatorCodes = codes.map((op) => {
    b.startObject(4);
    b.addFieldInt8(OPERATOR_CODE.deprecatedBuiltinCode, BUILTIN_CODES[op], 0);
    b.addFieldInt32(OPERATOR_CODE.version, 1, 1);
    b.addFieldInt32(OPERATOR_CODE.builtinCode, BUILTIN_CODES[op], 0);
    return b.endObject();
  });

  const operators = model.operators.map((o) => {
    const inputs = int32Vector(b, o.inputs);
    const outputs = int32Vector(b, o.outputs);
    const options = o.options ? optionsTable(b, o.options) : 0;
    b.startObject(5);
    b.addFieldInt32(OPERATOR.opcodeIndex, codes.indexOf(o.op), 0);
    b.addFieldOffset(OPERATOR.inputs, inputs, 0);
    b.addFieldOffset(OPERATOR.outputs, outputs, 0);
    if (o.options) {
      b.addFieldInt8(OPERATOR.builtinOptionsType, OPTIONS_TYPE[o.options.type], 0);
      b.addFieldOffset(OPERATOR.builtinOptions, options, 0);
    }
    return b.endObject();
  });

  const tensorVector = offsetVector(b, tensors);
  const inputVector = int32Vector(b, model.inputs);
  const outputVector = int32Vector(b, model.outputs);
  const operatorVector = offsetVector(b, operators);
  const subgraphName = b.createString('main');
  b.startObject(5);
  b.addFieldOffset(SUBGRAPH.tensors, tensorVector, 0);
  b.addFieldOffset(SUBGRAPH.inputs, inputVector, 0);
  b.addFieldOffset(SUBGRAPH.outputs, outputVector, 0);
  b.addFieldOffset(SUBGRAPH.operators, operatorVector, 0);
  b.addFieldOffset(SUBGRAPH.name, subgraphName, 0);
  const subgraph = b.endObject();

  const codeVector = offsetVector(b, operatorCodes);
  const subgraphVector = offsetVector(b, [subgraph]);
  const description = b.createString(model.description ?? 'written by tests/convert/tflite-writer.ts');
  const bufferVector = offsetVector(b, buffers);
  b.startObject(5);
  b.addFieldInt32(MODEL.version, 3, 0);
  b.addFieldOffset(MODEL.operatorCodes, codeVector, 0);
  b.addFieldOffset(MODEL.subgraphs, subgraphVector, 0);
  b.addFieldOffset(MODEL.description, description, 0);
  b.addFieldOffset(MODEL.buffers, bufferVector, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}

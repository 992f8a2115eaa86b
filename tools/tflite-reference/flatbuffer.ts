/**
 * The least of a TFLite flatbuffer reader the reference runner needs: the first subgraph's
 * tensors (name, shape, type, quantisation), its inputs, outputs and operators, and a patch that
 * makes any tensors the subgraph's outputs (so TensorFlow Lite hands back intermediate values).
 *
 * Deliberately independent of src/convert/ (the converter's own reader): the reference must not
 * share a bug with what it checks.
 *
 * Flatbuffer layout used (see: flatbuffers/docs "FlatBuffers internals"; tensorflow/lite/schema/schema.fbs):
 * - a buffer starts with a uoffset_t (u32) to the root table;
 * - a table starts with an soffset_t (i32): vtable = table − soffset; the vtable holds u16
 *   [vtable bytes, table bytes, field 0 offset, field 1 offset, …], offset 0 = field absent;
 * - a reference field (table, vector, string) holds a u32 offset relative to the field itself,
 *   always forward; a vector is a u32 length then its elements; a string is a vector of bytes.
 */

/** schema.fbs field ids (table slot = 4 + 2 · id in the vtable). */
const MODEL = { operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 } as const;
const SUBGRAPH = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 } as const;
const TENSOR = { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4 } as const;
const QUANTIZATION = { min: 0, max: 1, scale: 2, zeroPoint: 3, quantizedDimension: 6 } as const;
const OPERATOR = { opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptionsType: 3, builtinOptions: 4 } as const;
/** schema.fbs `union BuiltinOptions` members read here, and their tables' field ids. */
const OPTIONS_TYPE = { Conv2DOptions: 1, DepthwiseConv2DOptions: 2 } as const;
const CONV_OPTIONS = { padding: 0, strideW: 1, strideH: 2, fusedActivation: 3, dilationW: 4, dilationH: 5 } as const;
const DEPTHWISE_OPTIONS = {
  padding: 0,
  strideW: 1,
  strideH: 2,
  depthMultiplier: 3,
  fusedActivation: 4,
  dilationW: 5,
  dilationH: 6,
} as const;
const PADDINGS = ['SAME', 'VALID'] as const;
const ACTIVATIONS: Record<number, string> = {
  0: 'NONE',
  1: 'RELU',
  2: 'RELU_N1_TO_1',
  3: 'RELU6',
  4: 'TANH',
  5: 'SIGN_BIT',
};
const OPERATOR_CODE = { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3 } as const;
const BUFFER = { data: 0 } as const;

/** schema.fbs `enum TensorType` (the ones a TFLite detector uses; others print as TYPE_<n>). */
const TENSOR_TYPES: Record<number, string> = {
  0: 'float32',
  1: 'float16',
  2: 'int32',
  3: 'uint8',
  4: 'int64',
  5: 'string',
  6: 'bool',
  7: 'int16',
  9: 'int8',
  10: 'float64',
  15: 'uint32',
  16: 'uint16',
};

/** schema.fbs `enum BuiltinOperator`, the codes this project meets (others print as BUILTIN_<n>). */
const BUILTIN_OPS: Record<number, string> = {
  0: 'ADD',
  2: 'CONCATENATION',
  3: 'CONV_2D',
  4: 'DEPTHWISE_CONV_2D',
  6: 'DEQUANTIZE',
  14: 'LOGISTIC',
  22: 'RESHAPE',
  32: 'CUSTOM',
  114: 'QUANTIZE',
};

export interface TfliteQuantization {
  /** real = scale · (q − zeroPoint); one entry per tensor, or per channel along `quantizedDimension`. */
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
  min?: number[];
  max?: number[];
}

export interface TfliteTensorInfo {
  index: number;
  name: string;
  shape: number[];
  /** 'uint8', 'int32', 'float32', … */
  type: string;
  /** Index into the model's buffers; its data is non-empty for constants (weights, anchors). */
  buffer: number;
  isConstant: boolean;
  quantization?: TfliteQuantization;
}

/** CONV_2D and DEPTHWISE_CONV_2D options (schema.fbs defaults filled in). */
export interface TfliteConvOptions {
  padding: 'SAME' | 'VALID';
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  /** 'NONE', 'RELU', 'RELU6', … */
  fusedActivation: string;
  /** DEPTHWISE_CONV_2D only. */
  depthMultiplier?: number;
}

export interface TfliteOperatorInfo {
  index: number;
  /** 'CONV_2D', …, or the custom code for CUSTOM ops ('TFLite_Detection_PostProcess'). */
  opType: string;
  inputs: number[];
  outputs: number[];
  /** For CONV_2D and DEPTHWISE_CONV_2D. */
  conv?: TfliteConvOptions;
}

function readConvOptions(r: Reader, op: number): TfliteConvOptions | undefined {
  const type = r.scalar(op, OPERATOR.builtinOptionsType, r.u8, 0);
  const table = r.ref(op, OPERATOR.builtinOptions);
  if (table === undefined || (type !== OPTIONS_TYPE.Conv2DOptions && type !== OPTIONS_TYPE.DepthwiseConv2DOptions))
    return undefined;
  const f = type === OPTIONS_TYPE.Conv2DOptions ? CONV_OPTIONS : DEPTHWISE_OPTIONS;
  return {
    padding: PADDINGS[r.scalar(table, f.padding, r.u8, 0)] ?? 'SAME',
    strideW: r.scalar(table, f.strideW, r.i32, 0),
    strideH: r.scalar(table, f.strideH, r.i32, 0),
    dilationW: r.scalar(table, f.dilationW, r.i32, 1),
    dilationH: r.scalar(table, f.dilationH, r.i32, 1),
    fusedActivation: ACTIVATIONS[r.scalar(table, f.fusedActivation, r.u8, 0)] ?? 'UNKNOWN',
    ...(type === OPTIONS_TYPE.DepthwiseConv2DOptions
      ? { depthMultiplier: r.scalar(table, DEPTHWISE_OPTIONS.depthMultiplier, r.i32, 0) }
      : {}),
  };
}

export interface TfliteModelSummary {
  description: string;
  tensors: TfliteTensorInfo[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperatorInfo[];
}

/** Reads little-endian flatbuffer primitives from one buffer; every read is bounds-checked. */
class Reader {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private check(pos: number, size: number): void {
    if (!(pos >= 0 && pos + size <= this.bytes.length)) {
      throw new RangeError(
        `TFLite flatbuffer: read of ${size} bytes at ${pos} is outside the ${this.bytes.length}-byte model (truncated or not a .tflite file?)`,
      );
    }
  }
  u8(pos: number): number {
    this.check(pos, 1);
    return this.view.getUint8(pos);
  }
  u16(pos: number): number {
    this.check(pos, 2);
    return this.view.getUint16(pos, true);
  }
  i32(pos: number): number {
    this.check(pos, 4);
    return this.view.getInt32(pos, true);
  }
  u32(pos: number): number {
    this.check(pos, 4);
    return this.view.getUint32(pos, true);
  }
  f32(pos: number): number {
    this.check(pos, 4);
    return this.view.getFloat32(pos, true);
  }
  i64(pos: number): number {
    this.check(pos, 8);
    return Number(this.view.getBigInt64(pos, true));
  }

  /** Position of field `id`'s value in `table`, or undefined when absent. */
  field(table: number, id: number): number | undefined {
    const vtable = table - this.i32(table);
    const vtableBytes = this.u16(vtable);
    const slot = 4 + 2 * id;
    if (slot + 2 > vtableBytes) return undefined;
    const offset = this.u16(vtable + slot);
    return offset === 0 ? undefined : table + offset;
  }
  /** Follows the uoffset stored at `pos`. */
  deref(pos: number): number {
    return pos + this.u32(pos);
  }
  /** A referenced table/vector/string field's target, or undefined when absent. */
  ref(table: number, id: number): number | undefined {
    const pos = this.field(table, id);
    return pos === undefined ? undefined : this.deref(pos);
  }
  scalar(table: number, id: number, read: (pos: number) => number, fallback: number): number {
    const pos = this.field(table, id);
    return pos === undefined ? fallback : read.call(this, pos);
  }
  /** Element positions of a vector of `elementSize`-byte elements. */
  vector(vec: number | undefined, elementSize: number): number[] {
    if (vec === undefined) return [];
    const length = this.u32(vec);
    this.check(vec + 4, length * elementSize);
    return Array.from({ length }, (_, i) => vec + 4 + i * elementSize);
  }
  /** Tables of a vector of tables. */
  tables(vec: number | undefined): number[] {
    return this.vector(vec, 4).map((p) => this.deref(p));
  }
  ints(vec: number | undefined): number[] {
    return this.vector(vec, 4).map((p) => this.i32(p));
  }
  floats(vec: number | undefined): number[] {
    return this.vector(vec, 4).map((p) => this.f32(p));
  }
  longs(vec: number | undefined): number[] {
    return this.vector(vec, 8).map((p) => this.i64(p));
  }
  string(vec: number | undefined): string {
    if (vec === undefined) return '';
    const length = this.u32(vec);
    this.check(vec + 4, length);
    return new TextDecoder().decode(this.bytes.subarray(vec + 4, vec + 4 + length));
  }
  root(): number {
    return this.deref(0);
  }
}

function firstSubgraph(r: Reader): number {
  const subgraphs = r.tables(r.ref(r.root(), MODEL.subgraphs));
  if (subgraphs.length === 0) throw new RangeError('TFLite flatbuffer: the model has no subgraphs');
  return subgraphs[0];
}

function readQuantization(r: Reader, table: number | undefined): TfliteQuantization | undefined {
  if (table === undefined) return undefined;
  const scale = r.floats(r.ref(table, QUANTIZATION.scale));
  if (scale.length === 0) return undefined;
  const min = r.floats(r.ref(table, QUANTIZATION.min)),
    max = r.floats(r.ref(table, QUANTIZATION.max));
  return {
    scale,
    zeroPoint: r.longs(r.ref(table, QUANTIZATION.zeroPoint)),
    quantizedDimension: r.scalar(table, QUANTIZATION.quantizedDimension, r.i32, 0),
    ...(min.length ? { min } : {}),
    ...(max.length ? { max } : {}),
  };
}

/** Tensors, inputs, outputs and operators of the model's first (main) subgraph. */
export function readTfliteModel(model: Uint8Array): TfliteModelSummary {
  const r = new Reader(model);
  const root = r.root();
  const bufferTables = r.tables(r.ref(root, MODEL.buffers));
  const bufferBytes = bufferTables.map((b) => {
    const v = r.ref(b, BUFFER.data);
    return v === undefined ? 0 : r.u32(v);
  });
  const opcodes = r.tables(r.ref(root, MODEL.operatorCodes)).map((code) => {
    // schema.fbs: old models fill only the deprecated byte, new ones both (or 127 there); the larger wins
    const deprecated = r.scalar(code, OPERATOR_CODE.deprecatedBuiltinCode, r.u8, 0);
    const builtin = Math.max(deprecated, r.scalar(code, OPERATOR_CODE.builtinCode, r.i32, 0));
    const custom = r.string(r.ref(code, OPERATOR_CODE.customCode));
    if (custom) return custom;
    return BUILTIN_OPS[builtin] ?? `BUILTIN_${builtin}`;
  });
  const subgraph = firstSubgraph(r);
  const tensors = r.tables(r.ref(subgraph, SUBGRAPH.tensors)).map((t, index): TfliteTensorInfo => {
    const typeCode = r.scalar(t, TENSOR.type, r.u8, 0);
    const buffer = r.scalar(t, TENSOR.buffer, r.u32, 0);
    const quantization = readQuantization(r, r.ref(t, TENSOR.quantization));
    return {
      index,
      name: r.string(r.ref(t, TENSOR.name)),
      shape: r.ints(r.ref(t, TENSOR.shape)),
      type: TENSOR_TYPES[typeCode] ?? `TYPE_${typeCode}`,
      buffer,
      isConstant: (bufferBytes[buffer] ?? 0) > 0,
      ...(quantization ? { quantization } : {}),
    };
  });
  const operators = r.tables(r.ref(subgraph, SUBGRAPH.operators)).map((op, index): TfliteOperatorInfo => ({
    index,
    opType: opcodes[r.scalar(op, OPERATOR.opcodeIndex, r.u32, 0)] ?? 'UNKNOWN',
    inputs: r.ints(r.ref(op, OPERATOR.inputs)),
    outputs: r.ints(r.ref(op, OPERATOR.outputs)),
    ...((options) => (options ? { conv: options } : {}))(readConvOptions(r, op)),
  }));
  return {
    description: r.string(r.ref(root, MODEL.description)),
    tensors,
    inputs: r.ints(r.ref(subgraph, SUBGRAPH.inputs)),
    outputs: r.ints(r.ref(subgraph, SUBGRAPH.outputs)),
    operators,
  };
}

/**
 * A copy of `model` whose first subgraph's outputs are `outputs` (tensor indices, in that order)
 * instead of the model's own, so that the TFLite interpreter keeps and returns those tensors.
 *
 * How: a new int32 vector is appended at the end of the copy (4-byte aligned) and the subgraph's
 * `outputs` field, a forward uoffset, is re-pointed at it. Appending always works, whatever the
 * count, because the new vector lies after the field that refers to it; the old vector stays in
 * place, unreferenced (flatbuffer verifiers accept unreferenced bytes). The model's other
 * offsets are unchanged, since nothing before the end moves.
 */
export function withSubgraphOutputs(model: Uint8Array, outputs: readonly number[]): Uint8Array {
  const r = new Reader(model);
  const subgraph = firstSubgraph(r);
  const numTensors = r.u32(r.ref(subgraph, SUBGRAPH.tensors) ?? -1);
  outputs.forEach((index) => {
    if (!Number.isInteger(index) || index < 0 || index >= numTensors) {
      throw new RangeError(
        `output tensor index ${index} is not a tensor of the model: it has tensors 0…${numTensors - 1}`,
      );
    }
  });
  if (outputs.length === 0) throw new RangeError('outputs is empty: name at least one tensor index');
  const field = r.field(subgraph, SUBGRAPH.outputs);
  if (field === undefined) throw new RangeError('TFLite flatbuffer: the subgraph has no outputs field to re-point');
  const vectorAt = (model.length + 3) & ~3;
  const patched = new Uint8Array(vectorAt + 4 + 4 * outputs.length);
  patched.set(model);
  const view = new DataView(patched.buffer);
  view.setUint32(vectorAt, outputs.length, true);
  outputs.forEach((index, i) => view.setInt32(vectorAt + 4 + 4 * i, index, true));
  view.setUint32(field, vectorAt - field, true);
  return patched;
}

/**
 * The raw bytes of a constant tensor (weights, biases, anchors), little-endian as stored; a view
 * into `model`. Undefined for tensors without data (activations, inputs).
 */
export function tensorData(model: Uint8Array, tensorIndexInSubgraph: number): Uint8Array | undefined {
  const r = new Reader(model);
  const tensor = r.tables(r.ref(firstSubgraph(r), SUBGRAPH.tensors))[tensorIndexInSubgraph];
  if (tensor === undefined) throw new RangeError(`tensor ${tensorIndexInSubgraph} is not a tensor of the model`);
  const buffer = r.tables(r.ref(r.root(), MODEL.buffers))[r.scalar(tensor, TENSOR.buffer, r.u32, 0)];
  const data = buffer === undefined ? undefined : r.ref(buffer, BUFFER.data);
  if (data === undefined) return undefined;
  const length = r.u32(data);
  return length === 0 ? undefined : model.subarray(data + 4, data + 4 + length);
}

/** The index of the tensor named `name` (exact match); throws listing near names when absent. */
export function tensorIndex(summary: TfliteModelSummary, name: string): number {
  const found = summary.tensors.find((t) => t.name === name);
  if (found) return found.index;
  const near = summary.tensors
    .filter((t) => t.name.includes(name.split('/').pop() ?? name))
    .slice(0, 5)
    .map((t) => t.name);
  throw new RangeError(`no tensor named '${name}' in the model${near.length ? `; similar: ${near.join(', ')}` : ''}`);
}

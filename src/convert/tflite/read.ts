/**
 * Reads a TensorFlow Lite model (a FlatBuffers file with identifier 'TFL3') into plain objects:
 * its first subgraph's tensors (shape, type, quantisation, constant data), operators (builtin
 * name or custom code, inputs, outputs, options) and graph inputs and outputs. Constant data
 * stays a view into the file's bytes: nothing is copied until the converter needs it.
 */
import { rootTable, Table } from '../flatbuffer.js';
import {
  BufferField,
  BUILTIN_OPERATORS,
  ModelField,
  OperatorCodeField,
  OperatorField,
  QuantizationField,
  SubGraphField,
  TENSOR_TYPES,
  TensorField,
  type TensorTypeName,
} from './schema.js';

export interface TfliteQuantization {
  /** One scale per tensor, or one per channel along `axis`. */
  scale: Float32Array;
  zeroPoint: number[];
  /** The channel axis of per-channel parameters. */
  axis: number;
}

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  type: TensorTypeName;
  /** The constant's bytes (little-endian), or undefined for an activation. */
  data: Uint8Array | undefined;
  quantization: TfliteQuantization | undefined;
}

export interface TfliteOperator {
  index: number;
  /** The BuiltinOperator name ('CONV_2D', ...), or the custom code of a CUSTOM operator. */
  name: string;
  custom: boolean;
  /** Tensor indices; −1 marks an omitted optional input. */
  inputs: number[];
  outputs: number[];
  /** The builtin options table (read with the field numbers in schema.ts). */
  options: Table | undefined;
  /** A custom operator's options (a FlexBuffer). */
  customOptions: Uint8Array;
}

export interface TfliteModel {
  version: number;
  description: string;
  subgraphCount: number;
  tensors: TfliteTensor[];
  operators: TfliteOperator[];
  inputs: number[];
  outputs: number[];
}

/** Thrown for a file that is not a TFLite model or breaks its rules; the message names the part. */
export class TfliteFormatError extends Error {
  override name = 'TfliteFormatError';
}

function operatorName(code: Table): { name: string; custom: boolean } {
  // Builtin codes above 127 live in the int32 field 3; older files have only the byte field 0.
  const builtin = Math.max(
    code.int8(OperatorCodeField.deprecatedBuiltinCode),
    code.int32(OperatorCodeField.builtinCode),
  );
  if (builtin === 32) return { name: code.string(OperatorCodeField.customCode) ?? 'CUSTOM', custom: true };
  return { name: BUILTIN_OPERATORS[builtin] ?? `BUILTIN_${builtin}`, custom: false };
}

function quantization(table: Table | undefined): TfliteQuantization | undefined {
  if (table === undefined) return undefined;
  const scale = table.float32s(QuantizationField.scale);
  if (scale.length === 0) return undefined;
  const zeroPoint = table.int64s(QuantizationField.zeroPoint);
  if (zeroPoint.length !== scale.length) {
    throw new TfliteFormatError(`quantisation has ${scale.length} scales but ${zeroPoint.length} zero points`);
  }
  return { scale, zeroPoint, axis: table.int32(QuantizationField.quantizedDimension) };
}

function bufferData(bytes: Uint8Array, buffer: Table | undefined): Uint8Array | undefined {
  if (buffer === undefined) return undefined;
  const offset = Number(buffer.int32(BufferField.offset)); // files over 2 GB keep data after the flatbuffer
  if (offset > 1) {
    const size = buffer.int32(BufferField.size);
    if (offset + size > bytes.length)
      throw new TfliteFormatError(
        `a buffer at bytes ${offset}..${offset + size} lies past the end of the file (${bytes.length} bytes)`,
      );
    return bytes.subarray(offset, offset + size);
  }
  const data = buffer.bytesOf(BufferField.data);
  return data.length === 0 ? undefined : data;
}

/** Parses a .tflite file's bytes; throws TfliteFormatError (or a RangeError for a corrupt file). */
export function readTflite(bytes: Uint8Array): TfliteModel {
  const model = rootTable(bytes, 'TFLite model', 'TFL3');
  const codes = model.tables(ModelField.operatorCodes, 'operator codes').map(operatorName);
  const buffers = model.tables(ModelField.buffers, 'buffers');
  const subgraphs = model.tables(ModelField.subgraphs, 'subgraphs');
  if (subgraphs.length === 0) throw new TfliteFormatError('the TFLite model has no subgraph');
  const graph = subgraphs[0];

  const tensors = graph.tables(SubGraphField.tensors, 'tensors').map((t, index): TfliteTensor => {
    const typeCode = t.int8(TensorField.type);
    const type = TENSOR_TYPES[typeCode];
    if (type === undefined) throw new TfliteFormatError(`tensor ${index} has unknown type code ${typeCode}`);
    const bufferIndex = t.uint32(TensorField.buffer);
    if (bufferIndex >= buffers.length)
      throw new TfliteFormatError(`tensor ${index} refers to buffer ${bufferIndex} of ${buffers.length}`);
    return {
      index,
      name: t.string(TensorField.name) ?? `tensor_${index}`,
      shape: Array.from(t.int32s(TensorField.shape)),
      type,
      data: bufferIndex === 0 ? undefined : bufferData(bytes, buffers[bufferIndex]),
      quantization: quantization(t.table(TensorField.quantization, `tensor ${index} quantization`)),
    };
  });
  const tensorIndices = (values: Int32Array, what: string): number[] => {
    for (const v of values) {
      if (v < -1 || v >= tensors.length)
        throw new TfliteFormatError(`${what} refers to tensor ${v}; the graph has ${tensors.length}`);
    }
    return Array.from(values);
  };
  const operators = graph.tables(SubGraphField.operators, 'operators').map((op, index): TfliteOperator => {
    const opcode = op.uint32(OperatorField.opcodeIndex);
    if (opcode >= codes.length)
      throw new TfliteFormatError(`operator ${index} has opcode ${opcode}; the model lists ${codes.length}`);
    return {
      index,
      ...codes[opcode],
      inputs: tensorIndices(op.int32s(OperatorField.inputs), `operator ${index} (${codes[opcode].name}) input`),
      outputs: tensorIndices(op.int32s(OperatorField.outputs), `operator ${index} (${codes[opcode].name}) output`),
      options: op.table(OperatorField.builtinOptions, `operator ${index} options`),
      customOptions: op.bytesOf(OperatorField.customOptions),
    };
  });
  return {
    version: model.uint32(ModelField.version),
    description: model.string(ModelField.description) ?? '',
    subgraphCount: subgraphs.length,
    tensors,
    operators,
    inputs: tensorIndices(graph.int32s(SubGraphField.inputs), 'graph input'),
    outputs: tensorIndices(graph.int32s(SubGraphField.outputs), 'graph output'),
  };
}

/** The indices of the operators that the given tensors depend on (tensors with no producer are inputs or constants). */
export function neededOperators(model: TfliteModel, targets: number[]): Set<number> {
  const producer = new Map<number, TfliteOperator>();
  for (const op of model.operators) for (const t of op.outputs) producer.set(t, op);
  const needed = new Set<number>();
  const stack = [...targets];
  while (stack.length) {
    const op = producer.get(stack.pop()!);
    if (!op || needed.has(op.index)) continue;
    needed.add(op.index);
    stack.push(...op.inputs.filter((i) => i >= 0));
  }
  return needed;
}

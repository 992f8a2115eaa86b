/**
 * A small ONNX graph builder over onnx-proto: typed inputs and outputs (float32 unless said),
 * initializers from typed arrays (raw little-endian bytes, as onnx.numpy_helper writes them),
 * nodes with integer (and, where asked, float or string) attributes, then one ModelProto. Every name a node reads must exist already, so a wiring
 * mistake fails here with the node's name instead of inside onnxruntime.
 */
import { onnx, type OnnxSchema } from './proto.js';

/** A dimension: a size, or a symbolic name for a dynamic one (the batch, 'N'). */
export type Dim = number | string;

/** The ops we emit take integer attributes only (kernel_shape, pads, perm, axes, ...). */
export type IntAttributes = Readonly<Record<string, number | readonly number[]>>;
/** A float attribute (`{ float: 0.5 }`) or a string one, beside the integer ones. */
export type Attributes = Readonly<Record<string, number | readonly number[] | string | { float: number }>>;

/** Element types of the tensors the converters write, by ONNX TensorProto.DataType. */
export const ElementType = {
  float32: onnx.TensorProto.DataType.FLOAT,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  float16: onnx.TensorProto.DataType.FLOAT16,
  float64: onnx.TensorProto.DataType.DOUBLE,
} as const;
export type ElementTypeName = keyof typeof ElementType;

export interface ModelOptions {
  /** Version of the default ('ai.onnx') operator set. */
  opset: number;
  irVersion: number;
  producerName: string;
  /** metadata_props, in insertion order. */
  metadata?: Readonly<Record<string, string>>;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function rawFloats(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
}

function rawInt64s(values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return bytes;
}

function valueInfo(name: string, dims: readonly Dim[], elemType: number = FLOAT): OnnxSchema.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

function attribute(
  name: string,
  value: number | readonly number[] | string | { float: number },
): OnnxSchema.IAttributeProto {
  const { INT, INTS, FLOAT: FLOAT_ATTRIBUTE, STRING } = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'object' && 'float' in value) return { name, type: FLOAT_ATTRIBUTE, f: value.float };
  const values = typeof value === 'number' ? [value] : value;
  if (!values.every(Number.isInteger)) throw new RangeError(`attribute '${name}' must be integers, got ${value}`);
  return typeof value === 'number' ? { name, type: INT, i: value } : { name, type: INTS, ints: [...value] };
}

export class GraphBuilder {
  private readonly nodes: OnnxSchema.INodeProto[] = [];
  private readonly initializers: OnnxSchema.ITensorProto[] = [];
  private readonly inputs: OnnxSchema.IValueInfoProto[] = [];
  private readonly outputs: OnnxSchema.IValueInfoProto[] = [];
  /** Every tensor name defined so far. */
  private readonly defined = new Set<string>();

  constructor(private readonly name: string) {}

  private define(name: string): string {
    if (this.defined.has(name)) throw new Error(`ONNX graph '${this.name}': tensor '${name}' is defined twice`);
    this.defined.add(name);
    return name;
  }

  /** A graph input, float32 unless `type` says otherwise. */
  input(name: string, dims: readonly Dim[], type: ElementTypeName = 'float32'): string {
    this.inputs.push(valueInfo(this.define(name), dims, ElementType[type]));
    return name;
  }

  /** Declares an already produced tensor a graph output, float32 unless `type` says otherwise. */
  output(name: string, dims: readonly Dim[], type: ElementTypeName = 'float32'): void {
    if (!this.defined.has(name)) throw new Error(`ONNX graph '${this.name}': output '${name}' is produced by no node`);
    this.outputs.push(valueInfo(name, dims, ElementType[type]));
  }

  /** Whether a tensor of this name exists already. */
  has(name: string): boolean {
    return this.defined.has(name);
  }

  /** An initializer of any element type from its little-endian bytes; `dims` [] for a scalar. */
  raw(name: string, type: ElementTypeName, bytes: Uint8Array, dims: readonly number[]): string {
    const size = dims.reduce((n, d) => n * d, 1);
    const width = { float32: 4, uint8: 1, int8: 1, int32: 4, int64: 8, float16: 2, float64: 8 }[type];
    if (size * width !== bytes.length) {
      throw new RangeError(
        `initializer '${name}': ${bytes.length} bytes do not fill ${type}[${dims.join(', ')}] (${size * width})`,
      );
    }
    this.initializers.push({ name: this.define(name), dataType: ElementType[type], dims: [...dims], rawData: bytes });
    return name;
  }

  /** An int32 initializer. */
  int32s(name: string, values: Int32Array | readonly number[], dims: readonly number[]): string {
    const bytes = new Uint8Array(values.length * 4);
    const view = new DataView(bytes.buffer);
    Array.from(values).forEach((v, i) => view.setInt32(i * 4, v, true));
    return this.raw(name, 'int32', bytes, dims);
  }

  /** A float32 initializer; `dims` [] for a scalar. */
  floats(name: string, values: Float32Array, dims: readonly number[]): string {
    const size = dims.reduce((n, d) => n * d, 1);
    if (size !== values.length) {
      throw new RangeError(`initializer '${name}': ${values.length} values do not fill [${dims.join(', ')}] (${size})`);
    }
    this.initializers.push({ name: this.define(name), dataType: FLOAT, dims: [...dims], rawData: rawFloats(values) });
    return name;
  }

  /** A 1-D int64 initializer (shapes, axes). */
  int64s(name: string, values: readonly number[]): string {
    this.initializers.push({
      name: this.define(name),
      dataType: INT64,
      dims: [values.length],
      rawData: rawInt64s(values),
    });
    return name;
  }

  /** One node with one output, named `output` (also the node's name); returns that name. */
  node(
    opType: string,
    inputs: readonly string[],
    output: string,
    attributes: Attributes = {},
    domain?: string,
  ): string {
    for (const input of inputs) {
      // '' is ONNX's omitted optional input
      if (input !== '' && !this.defined.has(input))
        throw new Error(`ONNX graph '${this.name}': ${opType} '${output}' reads undefined '${input}'`);
    }
    this.nodes.push({
      name: output,
      opType,
      input: [...inputs],
      output: [this.define(output)],
      ...(domain ? { domain } : {}),
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return output;
  }

  /** The serialised ModelProto. */
  encode({ opset, irVersion, producerName, metadata = {} }: ModelOptions): Uint8Array {
    const bytes = onnx.ModelProto.encode({
      irVersion,
      producerName,
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    }).finish();
    // protobufjs returns a Node Buffer in Node: hand out a plain Uint8Array everywhere.
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

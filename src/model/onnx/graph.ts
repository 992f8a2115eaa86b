/**
 * A small ONNX graph builder over onnx-proto: float32 inputs and outputs, initializers from
 * typed arrays (raw little-endian bytes, as onnx.numpy_helper writes them), nodes with integer
 * attributes, then one ModelProto. Every name a node reads must exist already, so a wiring
 * mistake fails here with the node's name instead of inside onnxruntime.
 */
import { onnx, type OnnxSchema } from './proto.js';

/** A dimension: a size, or a symbolic name for a dynamic one (the batch, 'N'). */
export type Dim = number | string;

/** The ops we emit take integer attributes only (kernel_shape, pads, perm, axes, ...). */
export type IntAttributes = Readonly<Record<string, number | readonly number[]>>;

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

function floatValueInfo(name: string, dims: readonly Dim[]): OnnxSchema.IValueInfoProto {
  const dim = dims.map(d => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim } } } };
}

function attribute(name: string, value: number | readonly number[]): OnnxSchema.IAttributeProto {
  const { INT, INTS } = onnx.AttributeProto.AttributeType;
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

  /** A float32 graph input. */
  input(name: string, dims: readonly Dim[]): string {
    this.inputs.push(floatValueInfo(this.define(name), dims));
    return name;
  }

  /** Declares an already produced tensor a float32 graph output. */
  output(name: string, dims: readonly Dim[]): void {
    if (!this.defined.has(name)) throw new Error(`ONNX graph '${this.name}': output '${name}' is produced by no node`);
    this.outputs.push(floatValueInfo(name, dims));
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
    this.initializers.push({ name: this.define(name), dataType: INT64, dims: [values.length], rawData: rawInt64s(values) });
    return name;
  }

  /** One node with one output, named `output` (also the node's name); returns that name. */
  node(opType: string, inputs: readonly string[], output: string, attributes: IntAttributes = {}): string {
    for (const input of inputs) {
      if (!this.defined.has(input)) throw new Error(`ONNX graph '${this.name}': ${opType} '${output}' reads undefined '${input}'`);
    }
    this.nodes.push({
      name: output, opType, input: [...inputs], output: [this.define(output)],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return output;
  }

  /** The serialised ModelProto. */
  encode({ opset, irVersion, producerName, metadata = {} }: ModelOptions): Uint8Array {
    const bytes = onnx.ModelProto.encode({
      irVersion, producerName,
      opsetImport: [{ domain: '', version: opset }],
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    }).finish();
    // protobufjs returns a Node Buffer in Node: hand out a plain Uint8Array everywhere.
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

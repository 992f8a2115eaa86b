/**
 * A TFLite graph → an ONNX graph, operator by operator, up to the tensors the SSD heads produce.
 *
 * Layout: TFLite is NHWC, ONNX's Conv and pools are NCHW. The image is transposed once; 4-D
 * feature maps stay NCHW (`Value.nchw`) until an operator needs TFLite's memory order (RESHAPE,
 * a concatenation of rows), where they are transposed back.
 *
 * Arithmetic, per mode:
 * - 'exact' (quantised models): the integer arithmetic TensorFlow Lite runs (XNNPACK's kernels),
 *   so every uint8 tensor equals TFLite's: QLinearConv (int32 accumulation, f32 requantisation
 *   with round-half-even, as XNNPACK's fp32 requantisation), ADD as XNNPACK's fixed-point
 *   rescaling in int32 (int64 where the sums need it) ONNX arithmetic, LOGISTIC as TFLite's 256-entry table (Gather), uint8
 *   MaxPool, Reshape and Concat (with TFLite's rescaling where an input's quantisation differs).
 * - 'qdq': as 'exact', but each ADD is DequantizeLinear → Add → QuantizeLinear, which onnxruntime
 *   fuses into its QLinearAdd (float rescaling): fewer nodes, not bit-exact (listed as approximated).
 * - 'float': weights dequantised, float32 operators, and every quantised tensor's range kept as
 *   a Clip (in these graphs ReLU6 exists only as uint8 saturation; dropping it blows up).
 * Quantised operators without a bit-exact mapping here (AVERAGE_POOL_2D, MUL, HARD_SWISH,
 * RESIZE_BILINEAR) run in float between DequantizeLinear and QuantizeLinear; the report lists them.
 */
import { ElementType, GraphBuilder, type ElementTypeName } from '../../model/onnx/graph.js';
import {
  activationRange,
  concatRequantParams,
  logisticTable,
  xnnpackAddParams,
  type QuantParams,
} from './arithmetic.js';
import { constantFloats, typedData } from './constants.js';
import {
  neededOperators,
  TfliteFormatError,
  type TfliteModel,
  type TfliteOperator,
  type TfliteTensor,
} from './read.js';

export { constantFloats };
import {
  ActivationFunction,
  ConcatenationOptionsField,
  Conv2DOptionsField,
  DepthwiseOptionsField,
  ElementwiseOptionsField,
  Padding,
  Pool2DOptionsField,
  ResizeBilinearOptionsField,
} from './schema.js';

export type ArithmeticMode = 'exact' | 'qdq' | 'float';

/** The operators converted; any other is refused with its name and index. */
export const SUPPORTED_OPERATORS = [
  'CONV_2D',
  'DEPTHWISE_CONV_2D',
  'ADD',
  'MUL',
  'RESHAPE',
  'SQUEEZE',
  'CONCATENATION',
  'LOGISTIC',
  'RELU',
  'RELU6',
  'HARD_SWISH',
  'AVERAGE_POOL_2D',
  'MAX_POOL_2D',
  'PAD',
  'QUANTIZE',
  'DEQUANTIZE',
  'RESIZE_BILINEAR',
] as const;

/** A converted tensor. */
interface Value {
  name: string;
  /** TFLite's shape (NHWC for feature maps). */
  shape: number[];
  /** The ONNX tensor holds this 4-D NHWC tensor transposed to NCHW. */
  nchw: boolean;
  /** Per-tensor quantisation of an integer tensor; undefined for float32. */
  quant: (QuantParams & { type: 'uint8' | 'int8' }) | undefined;
}

export interface GraphConversion {
  graph: GraphBuilder;
  /** ONNX output names, in the order asked. */
  outputs: string[];
  /** Quantised operators computed in float (not bit-exact), as 'NAME #index'. */
  approximated: string[];
  /** ONNX node count. */
  operatorCount: number;
}

const toNchw = [0, 3, 1, 2];
const toNhwc = [0, 2, 3, 1];

function quantOf(tensor: TfliteTensor): QuantParams | undefined {
  const q = tensor.quantization;
  return q && q.scale.length === 1 ? { scale: q.scale[0], zeroPoint: q.zeroPoint[0] } : undefined;
}

/** TFLite's SAME/VALID padding as ONNX pads [top, left, bottom, right]. */
function pads(padding: string, input: number[], kernel: number[], strides: number[], dilations: number[]): number[] {
  if (padding === 'VALID') return [0, 0, 0, 0];
  const before: number[] = [],
    after: number[] = [];
  for (let d = 0; d < 2; d++) {
    const out = Math.ceil(input[d] / strides[d]);
    const total = Math.max((out - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - input[d], 0);
    before.push(Math.floor(total / 2));
    after.push(total - Math.floor(total / 2));
  }
  return [...before, ...after];
}

class Converter {
  readonly g = new GraphBuilder('tflite');
  private readonly values = new Map<number, Value>();
  readonly approximated: string[] = [];
  private nodes = 0;
  private op: TfliteOperator | undefined;

  constructor(
    private readonly model: TfliteModel,
    private readonly mode: ArithmeticMode,
  ) {}

  private node(
    type: string,
    inputs: string[],
    output: string,
    attributes: Parameters<GraphBuilder['node']>[3] = {},
  ): string {
    this.nodes++;
    return this.g.node(type, inputs, output, attributes);
  }

  private where(): string {
    return this.op ? `operator ${this.op.index} (${this.op.name})` : 'the graph';
  }

  private tensor(index: number): TfliteTensor {
    const tensor = this.model.tensors[index];
    if (!tensor) throw new TfliteFormatError(`${this.where()} refers to missing tensor ${index}`);
    return tensor;
  }

  private scalarF(name: string, value: number): string {
    return this.g.has(name) ? name : this.g.floats(name, new Float32Array([value]), []);
  }

  private scalarQ(name: string, type: 'uint8' | 'int8', value: number): string {
    return this.g.has(name) ? name : this.g.raw(name, type, new Uint8Array([value & 0xff]), []);
  }

  private int64(name: string, values: number[], dims: number[] = [values.length]): string {
    if (this.g.has(name)) return name;
    const bytes = new Uint8Array(values.length * 8);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true));
    return this.g.raw(name, 'int64', bytes, dims);
  }

  /** The ONNX value of tensor `index`: an activation converted earlier or a constant. */
  value(index: number): Value {
    const known = this.values.get(index);
    if (known) return known;
    const tensor = this.tensor(index);
    if (!tensor.data)
      throw new TfliteFormatError(
        `${this.where()} reads tensor ${index} '${tensor.name}', which no earlier operator produces`,
      );
    const value = this.constant(tensor);
    this.values.set(index, value);
    return value;
  }

  private constant(tensor: TfliteTensor): Value {
    const name = `const.${tensor.index}`;
    const q = quantOf(tensor);
    if (this.mode !== 'float' && q && (tensor.type === 'uint8' || tensor.type === 'int8')) {
      this.g.raw(name, tensor.type, typedData(tensor), tensor.shape);
      return { name, shape: tensor.shape, nchw: false, quant: { ...q, type: tensor.type } };
    }
    this.g.floats(name, constantFloats(tensor), tensor.shape);
    return { name, shape: tensor.shape, nchw: false, quant: undefined };
  }

  /** Defines the graph input. */
  input(index: number): Value {
    const tensor = this.tensor(index);
    if (tensor.shape.length !== 4 || tensor.shape[3] !== 3) {
      throw new TfliteFormatError(
        `the model's input '${tensor.name}' has shape [${tensor.shape}]; an image input [1, height, width, 3] was expected`,
      );
    }
    const q = quantOf(tensor);
    const integer = tensor.type === 'uint8' || tensor.type === 'int8';
    if (!integer && tensor.type !== 'float32')
      throw new TfliteFormatError(`the model's input has type ${tensor.type}; uint8, int8 or float32 expected`);
    const type: ElementTypeName = integer ? (tensor.type as 'uint8' | 'int8') : 'float32';
    const image = this.g.input('image', ['N', ...tensor.shape.slice(1)], type);
    let value: Value = {
      name: image,
      shape: tensor.shape,
      nchw: false,
      quant: integer && q ? { ...q, type: type as 'uint8' } : undefined,
    };
    if (integer && !q) throw new TfliteFormatError(`the model's ${type} input has no quantisation parameters`);
    if (value.quant && this.mode === 'float') value = this.dequantize(value, 'image');
    const nchw = this.node('Transpose', [value.name], 'image.nchw', { perm: toNchw });
    const converted = { ...value, name: nchw, nchw: true };
    this.values.set(index, converted);
    return converted;
  }

  /** The value as TFLite lays it out (NHWC for 4-D). */
  private plain(value: Value): Value {
    if (!value.nchw) return value;
    return {
      ...value,
      name: this.node('Transpose', [value.name], `${value.name}.nhwc`, { perm: toNhwc }),
      nchw: false,
    };
  }

  /** The value as NCHW (4-D only). */
  private nchw(value: Value): Value {
    if (value.nchw) return value;
    if (value.shape.length !== 4)
      throw new TfliteFormatError(`${this.where()} needs a 4-D input, got [${value.shape}]`);
    return { ...value, name: this.node('Transpose', [value.name], `${value.name}.nchw`, { perm: toNchw }), nchw: true };
  }

  private dequantize(value: Value, name: string): Value {
    const q = value.quant!;
    const out = this.node(
      'DequantizeLinear',
      [value.name, this.scalarF(`${name}.dq.scale`, q.scale), this.scalarQ(`${name}.dq.zero`, q.type, q.zeroPoint)],
      `${name}.dq`,
    );
    return { ...value, name: out, quant: undefined };
  }

  private quantize(value: Value, name: string, q: QuantParams & { type: 'uint8' | 'int8' }): Value {
    const out = this.node(
      'QuantizeLinear',
      [value.name, this.scalarF(`${name}.q.scale`, q.scale), this.scalarQ(`${name}.q.zero`, q.type, q.zeroPoint)],
      name,
    );
    return { ...value, name: out, quant: q };
  }

  /** The output's quantisation as the ONNX tensor must carry it in 'exact' mode. */
  private outputQuant(index: number): (QuantParams & { type: 'uint8' | 'int8' }) | undefined {
    const tensor = this.tensor(index);
    const q = quantOf(tensor);
    if (this.mode === 'float' || !q || (tensor.type !== 'uint8' && tensor.type !== 'int8')) return undefined;
    return { ...q, type: tensor.type };
  }

  /** In 'float' mode, the value clamped to the range its quantised TFLite tensor can hold. */
  private clampToRange(value: Value, index: number, activation = 'NONE'): Value {
    const tensor = this.tensor(index);
    const q = quantOf(tensor);
    let low = -Infinity,
      high = Infinity;
    if (q && (tensor.type === 'uint8' || tensor.type === 'int8')) {
      const [qmin, qmax] = tensor.type === 'uint8' ? [0, 255] : [-128, 127];
      [low, high] = activationRange(activation, q, qmin, qmax).map((v) => (v - q.zeroPoint) * q.scale);
    } else if (activation === 'RELU') low = 0;
    else if (activation === 'RELU6') [low, high] = [0, 6];
    else if (activation === 'RELU_N1_TO_1') [low, high] = [-1, 1];
    else if (activation !== 'NONE')
      throw new TfliteFormatError(`${this.where()}: fused activation ${activation} is not supported`);
    if (low === -Infinity && high === Infinity) return value;
    const name = this.node(
      'Clip',
      [
        value.name,
        low === -Infinity ? '' : this.scalarF(`${value.name}.low`, low),
        high === Infinity ? '' : this.scalarF(`${value.name}.high`, high),
      ],
      `${value.name}.clip`,
    );
    return { ...value, name };
  }

  /** In 'exact' mode, a fused activation as a Clip on the integer output. */
  private clampQuantized(value: Value, activation: string): Value {
    const q = value.quant!;
    const [qmin, qmax] = q.type === 'uint8' ? [0, 255] : [-128, 127];
    const [low, high] = activationRange(activation, q, qmin, qmax);
    if (low === qmin && high === qmax) return value;
    const name = this.node(
      'Clip',
      [value.name, this.scalarQ(`${value.name}.low`, q.type, low), this.scalarQ(`${value.name}.high`, q.type, high)],
      `${value.name}.act`,
    );
    return { ...value, name };
  }

  private define(index: number, value: Value): void {
    this.values.set(index, value);
  }

  private outName(op: TfliteOperator, k = 0): string {
    return `t${op.outputs[k]}`;
  }

  convert(op: TfliteOperator): void {
    this.op = op;
    switch (op.name) {
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D':
        return this.conv(op);
      case 'ADD':
        return this.add(op);
      case 'RESHAPE':
      case 'SQUEEZE':
        return this.reshape(op);
      case 'CONCATENATION':
        return this.concat(op);
      case 'LOGISTIC':
        return this.logistic(op);
      case 'MAX_POOL_2D':
      case 'AVERAGE_POOL_2D':
        return this.pool(op);
      case 'RELU':
      case 'RELU6':
        return this.relu(op);
      case 'PAD':
        return this.pad(op);
      case 'QUANTIZE':
      case 'DEQUANTIZE':
        return this.requantize(op);
      case 'MUL':
      case 'HARD_SWISH':
      case 'RESIZE_BILINEAR':
        return this.viaFloat(op);
      default:
        throw new TfliteFormatError(
          `unsupported operator ${op.name} at index ${op.index}: ssd-edge converts ${SUPPORTED_OPERATORS.join(', ')}`,
        );
    }
  }

  private activation(op: TfliteOperator, field: number): string {
    const code = op.options?.int8(field) ?? 0;
    const name = ActivationFunction[code];
    if (name === undefined) throw new TfliteFormatError(`${this.where()}: unknown fused activation ${code}`);
    return name;
  }

  private conv(op: TfliteOperator): void {
    const depthwise = op.name === 'DEPTHWISE_CONV_2D';
    const F = depthwise ? DepthwiseOptionsField : Conv2DOptionsField;
    const o = op.options;
    const padding = Padding[o?.int8(F.padding) ?? 0];
    const strides = [o?.int32(F.strideH, 1) ?? 1, o?.int32(F.strideW, 1) ?? 1];
    const dilations = [o?.int32(F.dilationH, 1) ?? 1, o?.int32(F.dilationW, 1) ?? 1];
    const activation = this.activation(op, F.activation);
    const x = this.nchw(this.value(op.inputs[0]));
    const filter = this.tensor(op.inputs[1]);
    const [, kh, kw] = filter.shape;
    const inChannels = x.shape[3];
    const outChannels = depthwise ? filter.shape[3] : filter.shape[0];
    const group = depthwise ? inChannels : 1;
    if (!depthwise && filter.shape[3] !== inChannels) {
      throw new TfliteFormatError(
        `${this.where()}: filter [${filter.shape}] does not match ${inChannels} input channels`,
      );
    }
    const attributes = {
      kernel_shape: [kh, kw],
      strides,
      dilations,
      group,
      pads: pads(padding, x.shape.slice(1, 3), [kh, kw], strides, dilations),
    };
    // TFLite filters: conv [O, kh, kw, I], depthwise [1, kh, kw, C·m]; ONNX wants [O, I/group, kh, kw]
    const perm = depthwise ? [3, 0, 1, 2] : [0, 3, 1, 2];
    const onnxShape = depthwise ? [outChannels, 1, kh, kw] : [outChannels, inChannels, kh, kw];
    const name = this.outName(op);
    const outQ = this.outputQuant(op.outputs[0]);
    const biasIndex = op.inputs[2] ?? -1;
    const wq = filter.quantization;
    if (this.mode !== 'float' && x.quant && outQ && wq && (filter.type === 'uint8' || filter.type === 'int8')) {
      const w = this.g.raw(`${name}.w`, filter.type, permute(typedData(filter), filter.shape, perm, 1), onnxShape);
      const perChannel = wq.scale.length > 1;
      const wScale = this.g.floats(`${name}.w.scale`, Float32Array.from(wq.scale), perChannel ? [wq.scale.length] : []);
      const wZero = this.g.raw(
        `${name}.w.zero`,
        filter.type,
        Uint8Array.from(wq.zeroPoint.map((z) => z & 0xff)),
        perChannel ? [wq.zeroPoint.length] : [],
      );
      const inputs = [
        x.name,
        this.scalarF(`${name}.x.scale`, x.quant.scale),
        this.scalarQ(`${name}.x.zero`, x.quant.type, x.quant.zeroPoint),
        w,
        wScale,
        wZero,
        this.scalarF(`${name}.y.scale`, outQ.scale),
        this.scalarQ(`${name}.y.zero`, outQ.type, outQ.zeroPoint),
      ];
      if (biasIndex >= 0) {
        const bias = this.tensor(biasIndex);
        if (bias.type !== 'int32')
          throw new TfliteFormatError(
            `${this.where()}: a quantised convolution's bias must be int32, got ${bias.type}`,
          );
        inputs.push(this.g.raw(`${name}.b`, 'int32', typedData(bias), [outChannels]));
      }
      const y = this.node('QLinearConv', inputs, `${name}.conv`, attributes);
      this.define(
        op.outputs[0],
        this.clampQuantized({ name: y, shape: this.tensor(op.outputs[0]).shape, nchw: true, quant: outQ }, activation),
      );
      return;
    }
    const xf = x.quant ? this.dequantize(x, `${name}.x`) : x;
    const weights = permuteFloats(constantFloats(filter), filter.shape, perm);
    const inputs = [xf.name, this.g.floats(`${name}.w`, weights, onnxShape)];
    if (biasIndex >= 0)
      inputs.push(this.g.floats(`${name}.b`, constantFloats(this.biasWithScale(biasIndex, x, filter)), [outChannels]));
    const y = this.node('Conv', inputs, `${name}.conv`, attributes);
    const out = this.clampToRange(
      { name: y, shape: this.tensor(op.outputs[0]).shape, nchw: true, quant: undefined },
      op.outputs[0],
      activation,
    );
    this.define(op.outputs[0], outQ ? this.quantize(out, name, outQ) : out);
  }

  /** An int32 bias whose file omits its scale gets input scale × filter scale (TFLite's rule). */
  private biasWithScale(index: number, x: Value, filter: TfliteTensor): TfliteTensor {
    const bias = this.tensor(index);
    if (bias.type !== 'int32' || bias.quantization) return bias;
    const xScale = x.quant?.scale ?? 1;
    const wq = filter.quantization;
    if (!wq) return bias;
    return {
      ...bias,
      quantization: {
        scale: Float32Array.from(wq.scale, (s) => Math.fround(s * xScale)),
        zeroPoint: wq.zeroPoint.map(() => 0),
        axis: 0,
      },
    };
  }

  private add(op: TfliteOperator): void {
    const activation = this.activation(op, ElementwiseOptionsField.activation);
    let a = this.value(op.inputs[0]),
      b = this.value(op.inputs[1]);
    if (a.nchw !== b.nchw) {
      a = this.plain(a);
      b = this.plain(b);
    }
    const name = this.outName(op);
    const outQ = this.outputQuant(op.outputs[0]);
    const shape = this.tensor(op.outputs[0]).shape;
    if (this.mode === 'exact' && a.quant && b.quant && outQ && outQ.type === 'uint8') {
      const p = xnnpackAddParams(a.quant, b.quant, outQ);
      const [low, high] = activationRange(activation, outQ);
      // floor((bias + a·ma + b·mb + 2^(s−1)) / 2^s): Div truncates, so the sum is first lifted by a
      // multiple of 2^s that makes its smallest value (a = b = 0) non-negative, and lowered after.
      // int32 when the lifted sum's largest value (a = b = 255) fits, else int64.
      const divisor = 2 ** p.shift;
      const smallest = p.bias + p.rounding;
      const lift = Math.max(0, Math.ceil(-smallest / divisor));
      const largest = smallest + lift * divisor + 255 * (p.aMultiplier + p.bMultiplier);
      const type = largest < 2 ** 31 ? 'int32' : 'int64';
      const constant = (tag: string, value: number) =>
        type === 'int32' ? this.g.int32s(`${name}.${tag}`, [value], []) : this.int64(`${name}.${tag}`, [value], []);
      const wide = (v: Value, tag: string) =>
        this.node('Cast', [v.name], `${name}.${tag}.wide`, { to: ElementType[type] });
      const sa = this.node('Mul', [wide(a, 'a'), constant('ma', p.aMultiplier)], `${name}.sa`);
      const sb = this.node('Mul', [wide(b, 'b'), constant('mb', p.bMultiplier)], `${name}.sb`);
      const sum = this.node(
        'Add',
        [this.node('Add', [sa, sb], `${name}.sum`), constant('offset', smallest + lift * divisor)],
        `${name}.lifted`,
      );
      const shifted = this.node('Div', [sum, constant('divisor', divisor)], `${name}.shifted`);
      const out = this.node('Add', [shifted, constant('zero', outQ.zeroPoint - lift)], `${name}.zeroed`);
      const clipped = this.node('Clip', [out, constant('low', low), constant('high', high)], `${name}.clipped`);
      const y = this.node('Cast', [clipped], name, { to: ElementType.uint8 });
      this.define(op.outputs[0], { name: y, shape, nchw: a.nchw, quant: outQ });
      return;
    }
    const af = a.quant ? this.dequantize(a, `${name}.a`) : a;
    const bf = b.quant ? this.dequantize(b, `${name}.b`) : b;
    const added = { ...af, name: this.node('Add', [af.name, bf.name], `${name}.add`), shape, quant: undefined };
    // 'qdq': QuantizeLinear saturates by itself, and a Clip between would stop onnxruntime's QLinearAdd fusion
    const sum =
      this.mode === 'qdq' && outQ && activation === 'NONE'
        ? added
        : this.clampToRange(added, op.outputs[0], activation);
    if (outQ) this.approximated.push(`ADD #${op.index}`);
    this.define(op.outputs[0], outQ ? this.quantize(sum, name, outQ) : sum);
  }

  private reshape(op: TfliteOperator): void {
    const x = this.plain(this.value(op.inputs[0]));
    const shape = this.tensor(op.outputs[0]).shape;
    if (shape.length === 0)
      throw new TfliteFormatError(`${this.where()}: output '${this.tensor(op.outputs[0]).name}' has no static shape`);
    const name = this.outName(op);
    // batch stays free: [-1, ...] with the other dimensions from TFLite's static output shape
    const target = this.int64(`${name}.shape`, [-1, ...shape.slice(1)]);
    this.define(op.outputs[0], { ...x, name: this.node('Reshape', [x.name, target], name), shape });
  }

  private concat(op: TfliteOperator): void {
    const outTensor = this.tensor(op.outputs[0]);
    const rank = outTensor.shape.length;
    let axis = op.options?.int32(ConcatenationOptionsField.axis) ?? 0;
    if (axis < 0) axis += rank;
    let inputs = op.inputs.map((i) => this.value(i));
    const allNchw = rank === 4 && inputs.every((v) => v.nchw);
    if (!allNchw) inputs = inputs.map((v) => this.plain(v));
    const name = this.outName(op);
    const outQ = this.outputQuant(op.outputs[0]);
    const activation = this.activation(op, ConcatenationOptionsField.activation);
    inputs = inputs.map((v, k) => this.matchQuant(v, outQ, `${name}.in${k}`, op.outputs[0]));
    const onnxAxis = allNchw ? [0, 2, 3, 1][axis] : axis;
    let y: Value = {
      name: this.node(
        'Concat',
        inputs.map((v) => v.name),
        name,
        { axis: onnxAxis },
      ),
      shape: outTensor.shape,
      nchw: allNchw,
      quant: outQ,
    };
    y = outQ ? this.clampQuantized(y, activation) : this.clampToRange(y, op.outputs[0], activation);
    this.define(op.outputs[0], y);
  }

  /** `v` in the output's quantisation (TFLite's concatenation rescaling) or in float. */
  private matchQuant(v: Value, outQ: Value['quant'], name: string, outIndex: number): Value {
    if (!outQ) return v.quant ? this.dequantize(v, name) : this.clampToRange(v, outIndex);
    if (!v.quant) return this.quantize(v, `${name}.q`, outQ);
    if (v.quant.scale === outQ.scale && v.quant.zeroPoint === outQ.zeroPoint && v.quant.type === outQ.type) return v;
    // round(q·scale + bias) half away from zero: sign · floor(|x| + 0.5), exact in float64 here
    const { scale, bias } = concatRequantParams(v.quant, outQ);
    const x = this.node('Cast', [v.name], `${name}.f`, { to: ElementType.float32 });
    const scaled = this.node(
      'Add',
      [this.node('Mul', [x, this.scalarF(`${name}.scale`, scale)], `${name}.mul`), this.scalarF(`${name}.bias`, bias)],
      `${name}.fma`,
    );
    const rounded = this.roundHalfAway(scaled, name);
    const shifted = this.node(
      'Add',
      [
        this.node('Cast', [rounded], `${name}.i`, { to: ElementType.int32 }),
        this.g.int32s(`${name}.zero`, [outQ.zeroPoint], []),
      ],
      `${name}.zeroed`,
    );
    const [qmin, qmax] = outQ.type === 'uint8' ? [0, 255] : [-128, 127];
    const clipped = this.node(
      'Clip',
      [shifted, this.g.int32s(`${name}.min`, [qmin], []), this.g.int32s(`${name}.max`, [qmax], [])],
      `${name}.clipped`,
    );
    return {
      ...v,
      name: this.node('Cast', [clipped], `${name}.requantized`, { to: ElementType[outQ.type] }),
      quant: outQ,
    };
  }

  /** std::round of a float32 tensor, in float64 so that |x| + 0.5 is exact. */
  private roundHalfAway(x: string, name: string): string {
    const wide = this.node('Cast', [x], `${name}.f64`, { to: ElementType.float64 });
    const half = this.g.has('half.f64')
      ? 'half.f64'
      : this.g.raw('half.f64', 'float64', new Uint8Array(new Float64Array([0.5]).buffer), []);
    const magnitude = this.node(
      'Floor',
      [this.node('Add', [this.node('Abs', [wide], `${name}.abs`), half], `${name}.abs+half`)],
      `${name}.floor`,
    );
    return this.node('Mul', [magnitude, this.node('Sign', [wide], `${name}.sign`)], `${name}.rounded`);
  }

  private logistic(op: TfliteOperator): void {
    const x = this.value(op.inputs[0]);
    const name = this.outName(op);
    const outQ = this.outputQuant(op.outputs[0]);
    if (this.mode !== 'float' && x.quant && outQ && x.quant.type === 'uint8' && outQ.type === 'uint8') {
      const table = this.g.raw(`${name}.table`, 'uint8', logisticTable(x.quant, outQ), [256]);
      const index = this.node('Cast', [x.name], `${name}.index`, { to: ElementType.int32 });
      this.define(op.outputs[0], { ...x, name: this.node('Gather', [table, index], name, { axis: 0 }), quant: outQ });
      return;
    }
    const xf = x.quant ? this.dequantize(x, `${name}.x`) : x;
    const y = this.clampToRange({ ...xf, name: this.node('Sigmoid', [xf.name], `${name}.sigmoid`) }, op.outputs[0]);
    if (outQ) this.approximated.push(`LOGISTIC #${op.index}`);
    this.define(op.outputs[0], outQ ? this.quantize(y, name, outQ) : y);
  }

  private pool(op: TfliteOperator): void {
    const F = Pool2DOptionsField;
    const o = op.options;
    const kernel = [o?.int32(F.filterHeight, 1) ?? 1, o?.int32(F.filterWidth, 1) ?? 1];
    const strides = [o?.int32(F.strideH, 1) ?? 1, o?.int32(F.strideW, 1) ?? 1];
    const padding = Padding[o?.int8(F.padding) ?? 0];
    const activation = this.activation(op, F.activation);
    const x = this.nchw(this.value(op.inputs[0]));
    const name = this.outName(op);
    const attributes = {
      kernel_shape: kernel,
      strides,
      pads: pads(padding, x.shape.slice(1, 3), kernel, strides, [1, 1]),
    };
    const shape = this.tensor(op.outputs[0]).shape;
    const outQ = this.outputQuant(op.outputs[0]);
    const sameQuant = x.quant && outQ && x.quant.scale === outQ.scale && x.quant.zeroPoint === outQ.zeroPoint;
    if (op.name === 'MAX_POOL_2D' && sameQuant) {
      // max commutes with a monotonic requantisation: exact on the integers (padding never wins)
      const y = this.node('MaxPool', [x.name], name, attributes);
      this.define(op.outputs[0], this.clampQuantized({ name: y, shape, nchw: true, quant: outQ }, activation));
      return;
    }
    const xf = x.quant ? this.dequantize(x, `${name}.x`) : x;
    // TFLite averages over the window's valid cells only
    const extra: Record<string, number> = op.name === 'AVERAGE_POOL_2D' ? { count_include_pad: 0 } : {};
    const y = this.clampToRange(
      {
        name: this.node(op.name === 'MAX_POOL_2D' ? 'MaxPool' : 'AveragePool', [xf.name], `${name}.pool`, {
          ...attributes,
          ...extra,
        }),
        shape,
        nchw: true,
        quant: undefined,
      },
      op.outputs[0],
      activation,
    );
    if (outQ) this.approximated.push(`${op.name} #${op.index}`);
    this.define(op.outputs[0], outQ ? this.quantize(y, name, outQ) : y);
  }

  private relu(op: TfliteOperator): void {
    const x = this.value(op.inputs[0]);
    const name = this.outName(op);
    const outQ = this.outputQuant(op.outputs[0]);
    if (x.quant && outQ && x.quant.scale === outQ.scale && x.quant.zeroPoint === outQ.zeroPoint) {
      this.define(op.outputs[0], this.clampQuantized({ ...x, quant: outQ }, op.name));
      return;
    }
    const xf = x.quant ? this.dequantize(x, `${name}.x`) : x;
    const y = this.clampToRange(xf, op.outputs[0], op.name);
    if (outQ) this.approximated.push(`${op.name} #${op.index}`);
    this.define(op.outputs[0], outQ ? this.quantize(y, name, outQ) : y);
  }

  private pad(op: TfliteOperator): void {
    const x = this.value(op.inputs[0]);
    const paddings = Array.from(constantFloats(this.tensor(op.inputs[1]))); // [rank, 2] (before, after)
    const rank = x.shape.length;
    let before = Array.from({ length: rank }, (_, d) => paddings[2 * d]);
    let after = Array.from({ length: rank }, (_, d) => paddings[2 * d + 1]);
    if (x.nchw) {
      before = toNchw.map((d) => before[d]);
      after = toNchw.map((d) => after[d]);
    }
    const name = this.outName(op);
    const fill = x.quant
      ? this.scalarQ(`${name}.fill`, x.quant.type, x.quant.zeroPoint)
      : this.scalarF(`${name}.fill`, 0);
    const y = this.node('Pad', [x.name, this.int64(`${name}.pads`, [...before, ...after]), fill], name, {
      mode: 'constant',
    });
    this.define(op.outputs[0], { ...x, name: y, shape: this.tensor(op.outputs[0]).shape });
  }

  private requantize(op: TfliteOperator): void {
    const x = this.value(op.inputs[0]);
    const name = this.outName(op);
    const outQ = this.outputQuant(op.outputs[0]);
    const xf = x.quant ? this.dequantize(x, `${name}.x`) : x;
    this.define(op.outputs[0], outQ ? this.quantize(xf, name, outQ) : xf);
  }

  /** MUL, HARD_SWISH, RESIZE_BILINEAR: float operators, between (de)quantisation when quantised. */
  private viaFloat(op: TfliteOperator): void {
    const name = this.outName(op);
    let inputs = op.inputs.filter((i) => i >= 0).map((i) => this.value(i));
    if (op.name === 'MUL' && inputs[0].nchw !== inputs[1].nchw) inputs = inputs.map((v) => this.plain(v));
    const floats = inputs.map((v, k) => (v.quant ? this.dequantize(v, `${name}.in${k}`) : v));
    const shape = this.tensor(op.outputs[0]).shape;
    let y: string;
    if (op.name === 'MUL') {
      y = this.node('Mul', [floats[0].name, floats[1].name], `${name}.mul`);
    } else if (op.name === 'HARD_SWISH') {
      y = this.node('HardSwish', [floats[0].name], `${name}.hardswish`);
    } else {
      const x = this.nchw(floats[0]);
      const align = op.options?.bool(ResizeBilinearOptionsField.alignCorners) ?? false;
      const half = op.options?.bool(ResizeBilinearOptionsField.halfPixelCenters) ?? false;
      const sizes = this.int64(`${name}.sizes`, [1, x.shape[3], shape[1], shape[2]]);
      y = this.node('Resize', [x.name, '', '', sizes], `${name}.resize`, {
        mode: 'linear',
        coordinate_transformation_mode: align ? 'align_corners' : half ? 'half_pixel' : 'asymmetric',
      });
      floats[0] = x;
    }
    const activation = op.name === 'MUL' ? this.activation(op, ElementwiseOptionsField.activation) : 'NONE';
    const out = this.clampToRange(
      { name: y, shape, nchw: floats[0].nchw, quant: undefined },
      op.outputs[0],
      activation,
    );
    const outQ = this.outputQuant(op.outputs[0]);
    if (outQ) this.approximated.push(`${op.name} #${op.index}`);
    this.define(op.outputs[0], outQ ? this.quantize(out, name, outQ) : out);
  }

  /** Declares `index` a float32 graph output named `name` (dequantised, TFLite layout). */
  output(index: number, name: string): void {
    let v = this.plain(this.value(index));
    if (v.quant) v = this.dequantize(v, name);
    this.node('Identity', [v.name], name);
    this.g.output(name, ['N', ...v.shape.slice(1)]);
  }

  get operatorCount(): number {
    return this.nodes;
  }
}

/** Permutes a row-major array of `shape` by `perm` (element size `width` bytes). */
function permute(data: Uint8Array, shape: number[], perm: number[], width: number): Uint8Array {
  const out = new Uint8Array(data.length);
  forEachPermuted(shape, perm, (from, to) => out.set(data.subarray(from * width, from * width + width), to * width));
  return out;
}

function permuteFloats(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const out = new Float32Array(data.length);
  forEachPermuted(shape, perm, (from, to) => {
    out[to] = data[from];
  });
  return out;
}

function forEachPermuted(shape: number[], perm: number[], visit: (from: number, to: number) => void): void {
  const outShape = perm.map((p) => shape[p]);
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((n, s) => n * s, 1));
  const count = shape.reduce((n, d) => n * d, 1);
  const index = new Array(outShape.length).fill(0);
  for (let to = 0; to < count; to++) {
    let from = 0;
    for (let d = 0; d < perm.length; d++) from += index[d] * strides[perm[d]];
    visit(from, to);
    for (let d = outShape.length - 1; d >= 0; d--) {
      if (++index[d] < outShape[d]) break;
      index[d] = 0;
    }
  }
}

/**
 * Converts the operators needed for `outputs` (tensor indices) into an ONNX graph whose input is
 * the model's image and whose outputs are those tensors, float32, in TFLite's layout.
 */
export function convertGraph(
  model: TfliteModel,
  outputs: { index: number; name: string }[],
  mode: ArithmeticMode,
): GraphConversion {
  if (model.inputs.length !== 1)
    throw new TfliteFormatError(`the model has ${model.inputs.length} inputs; an SSD has one image input`);
  const needed = neededOperators(
    model,
    outputs.map((o) => o.index),
  );
  const converter = new Converter(model, mode);
  converter.input(model.inputs[0]);
  for (const op of model.operators) if (needed.has(op.index)) converter.convert(op);
  for (const { index, name } of outputs) converter.output(index, name);
  return {
    graph: converter.g,
    outputs: outputs.map((o) => o.name),
    approximated: converter.approximated,
    operatorCount: converter.operatorCount,
  };
}

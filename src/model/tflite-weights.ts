/**
 * Weights of a TFLite SSD into a tfjs network, by layer name: each CONV_2D and DEPTHWISE_CONV_2D
 * of the TFLite graph names its layer in its output tensor (`<layer>/Relu6`, `<layer>/add_fold`,
 * `<layer>/BiasAdd`), and its filter and bias are dequantised (the converter's constantFloats:
 * (q − zero)·scale, per tensor or per channel) and laid out as tfjs wants them:
 *
 *   CONV_2D            [O, KH, KW, I] (OHWI)  →  [KH, KW, I, O] (HWIO)
 *   DEPTHWISE_CONV_2D  [1, KH, KW, C]         →  [KH, KW, C, 1] (the same memory order)
 *
 * TF Object Detection API models are exported with batch normalisation folded into these
 * (`Conv2D_Fold_bias`), so a network in folded form takes them as they are; one with explicit
 * batch normalisation gets an identity normalisation (mean 0, variance 1, gamma √(1 + eps), beta 0).
 *
 * It also returns the value range each quantised tensor can hold, by the same layer names (and
 * `<block>/add`, `loc`, `conf`): ReLU6 exists in these graphs only as uint8 saturation, so a float
 * forward pass that means to reproduce the quantised model clips to them (MobilenetForwardMode.ranges).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readTflite, TfliteFormatError, type TfliteModel, type TfliteTensor } from '../convert/tflite/read.js';
import { constantFloats } from '../convert/tflite/to-onnx.js';
import type { ConvLayer } from './layers.js';
import type { OnnxSchema } from './onnx/proto.js';
import { int64 } from './onnx/read.js';

/** A layer's weights in tfjs layout. */
export interface TfliteLayerWeights {
  /** HWIO (`[KH, KW, I, O]`), or `[KH, KW, C, 1]` for a depthwise layer. */
  filter: { values: Float32Array; shape: [number, number, number, number] };
  bias: Float32Array;
  depthwise: boolean;
}

export interface TfliteWeights {
  /** By layer name (`FeatureExtractor/MobilenetV2/expanded_conv_3/expand`, `BoxPredictor_0/ClassPredictor`, ...). */
  layers: Map<string, TfliteLayerWeights>;
  /** Real-valued range of each quantised output: layer names, ADD outputs by tensor name, and `loc`, `conf`. */
  ranges: Map<string, [number, number]>;
}

const LAYER_SUFFIX = /\/(Relu6|Relu|add_fold|BiasAdd|Conv2D|depthwise)$/;

function rangeOf(tensor: TfliteTensor): [number, number] | undefined {
  const q = tensor.quantization;
  if (!q || q.scale.length !== 1) return undefined;
  const [qmin, qmax] = tensor.type === 'uint8' ? [0, 255] : tensor.type === 'int8' ? [-128, 127] : [NaN, NaN];
  if (Number.isNaN(qmin)) return undefined;
  return [Math.fround((qmin - q.zeroPoint[0]) * q.scale[0]), Math.fround((qmax - q.zeroPoint[0]) * q.scale[0])];
}

/** Reads every convolution's weights and every quantised range of a TFLite model (its bytes, or readTflite's result). */
export function readTfliteWeights(source: Uint8Array | TfliteModel): TfliteWeights {
  const model = source instanceof Uint8Array ? readTflite(source) : source;
  const layers = new Map<string, TfliteLayerWeights>();
  const ranges = new Map<string, [number, number]>();
  for (const op of model.operators) {
    const out = model.tensors[op.outputs[0]];
    if (op.name === 'CONV_2D' || op.name === 'DEPTHWISE_CONV_2D') {
      const name = out.name.replace(LAYER_SUFFIX, '');
      if (layers.has(name)) throw new TfliteFormatError(`two convolutions are named '${name}' (operator ${op.index})`);
      const weight = model.tensors[op.inputs[1]],
        bias = op.inputs[2] >= 0 ? model.tensors[op.inputs[2]] : undefined;
      const values = constantFloats(weight);
      const [o, kh, kw, i] = weight.shape;
      const depthwise = op.name === 'DEPTHWISE_CONV_2D';
      let filter: TfliteLayerWeights['filter'];
      if (depthwise) {
        if (o !== 1)
          throw new TfliteFormatError(
            `'${name}': depthwise filter [${weight.shape}] has a depth multiplier; only 1 is supported`,
          );
        filter = { values, shape: [kh, kw, i, 1] };
      } else {
        const hwio = new Float32Array(values.length);
        for (let oo = 0; oo < o; oo++) {
          for (let k = 0; k < kh * kw * i; k++) hwio[k * o + oo] = values[oo * kh * kw * i + k];
        }
        filter = { values: hwio, shape: [kh, kw, i, o] };
      }
      const channels = depthwise ? i : o;
      layers.set(name, { filter, bias: bias ? constantFloats(bias) : new Float32Array(channels), depthwise });
      const range = rangeOf(out);
      if (range) ranges.set(name, range);
    } else if (op.name === 'ADD') {
      const range = rangeOf(out);
      if (range) ranges.set(out.name, range);
    } else if (op.custom && op.name === 'TFLite_Detection_PostProcess') {
      // boxes: the reshaped concatenation (one quantisation); scores: the LOGISTIC's input, the logits
      const boxes = model.tensors[op.inputs[0]],
        scores = model.tensors[op.inputs[1]];
      const logistic = model.operators.find((o) => o.name === 'LOGISTIC' && o.outputs[0] === scores.index);
      const boxRange = rangeOf(boxes),
        logitRange = logistic ? rangeOf(model.tensors[logistic.inputs[0]]) : undefined;
      if (boxRange) ranges.set('loc', boxRange);
      if (logitRange) ranges.set('conf', logitRange);
    }
  }
  return { layers, ranges };
}

export interface LoadTfliteOptions {
  /** Which layers to load; the others keep their values. Default: every layer. */
  include?: (layer: ConvLayer) => boolean;
}

/**
 * Sets every convolution of `convolutions` (the network's layers) whose name the TFLite weights
 * have, checked in full before anything changes: a layer the filter accepts but the file lacks, or
 * a shape mismatch, throws a RangeError naming it. Returns the names loaded.
 */
export function loadTfliteWeights(
  convolutions: readonly ConvLayer[],
  weights: TfliteWeights,
  options: LoadTfliteOptions = {},
): string[] {
  const chosen = convolutions.filter(options.include ?? (() => true));
  for (const layer of chosen) {
    const w = weights.layers.get(layer.name);
    if (!w)
      throw new RangeError(
        `the TFLite model has no layer '${layer.name}' (it has ${weights.layers.size} convolutions, e.g. '${[...weights.layers.keys()][0]}')`,
      );
    if (w.depthwise !== Boolean(layer.depthwise))
      throw new RangeError(`'${layer.name}' is ${w.depthwise ? '' : 'not '}depthwise in the TFLite model`);
    if (w.filter.shape.join() !== layer.filter.shape.join() || w.bias.length !== layer.bias.size) {
      throw new RangeError(
        `'${layer.name}': the TFLite filter is [${w.filter.shape.join(', ')}] (HWIO) with ${w.bias.length} biases; ` +
          `the network's is [${layer.filter.shape.join(', ')}]: was it built with another width or numClasses?`,
      );
    }
  }
  for (const layer of chosen) {
    const w = weights.layers.get(layer.name)!;
    tf.tidy(() => {
      layer.filter.assign(tf.tensor4d(w.filter.values, w.filter.shape));
      layer.bias.assign(tf.tensor1d(w.bias));
      const norm = layer.batchNorm;
      if (norm) {
        const channels = w.bias.length;
        norm.movingMean.assign(tf.zeros([channels]));
        norm.movingVariance.assign(tf.ones([channels]));
        norm.gamma.assign(tf.fill([channels], Math.sqrt(1 + norm.eps)));
        norm.beta.assign(tf.zeros([channels]));
      }
    });
  }
  return chosen.map((l) => l.name);
}

/** An ONNX initializer's values as float32 (float, uint8, int8, int32 raw or typed data). */
function initializerValues(t: {
  name?: string | null;
  dataType?: number | null;
  dims?: unknown[] | null;
  rawData?: Uint8Array | null;
  floatData?: number[] | null;
  int32Data?: number[] | null;
}): Float32Array {
  const count = (t.dims ?? []).reduce<number>((n, d) => n * int64(d as number), 1);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    switch (t.dataType) {
      case 1:
        out[i] = view ? view.getFloat32(4 * i, true) : t.floatData![i];
        break;
      case 2:
        out[i] = view ? view.getUint8(i) : t.int32Data![i];
        break;
      case 3:
        out[i] = view ? view.getInt8(i) : t.int32Data![i];
        break;
      case 6:
        out[i] = view ? view.getInt32(4 * i, true) : t.int32Data![i];
        break;
      default:
        throw new RangeError(
          `initializer '${t.name}' has ONNX data type ${t.dataType}; float, uint8, int8 or int32 expected`,
        );
    }
  }
  return out;
}

/**
 * The convolution weights of a TFLite SSD converted to ONNX by ssd-edge (`ssd-edge convert`, exact
 * or `--float`), dequantised and in tfjs layout, named `names[k]` for the k-th convolution of the
 * graph. The conversion keeps TFLite's operator order but not its tensor names, so the names come
 * from the network: its `convolutions` in forward order, heads last as (box, class) pairs per
 * source, which is the order a TF OD API export lists them in. Every shape is checked by
 * loadTfliteWeights; a different count of convolutions throws here. No ranges are recorded.
 */
export function readConvertedOnnxWeights(onnx: OnnxSchema.ModelProto, names: readonly string[]): TfliteWeights {
  const graph = onnx.graph;
  if (!graph) throw new RangeError('the ONNX model has no graph');
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const values = (name: string | undefined | null, what: string) => {
    const t = name ? initializers.get(name) : undefined;
    if (!t) throw new RangeError(`the ONNX convolution's ${what} '${name}' is not a constant`);
    return { values: initializerValues(t), dims: (t.dims ?? []).map((d) => int64(d)) };
  };
  const convs = (graph.node ?? []).filter((n) => n.opType === 'QLinearConv' || n.opType === 'Conv');
  if (convs.length !== names.length) {
    throw new RangeError(
      `the ONNX model has ${convs.length} convolutions; the network has ${names.length}: is it a conversion of this architecture?`,
    );
  }
  const layers = new Map<string, TfliteLayerWeights>();
  convs.forEach((node, k) => {
    const inputs = node.input ?? [];
    const group = int64((node.attribute ?? []).find((a) => a.name === 'group')?.i ?? 1);
    let w: { values: Float32Array; dims: number[] }, bias: Float32Array;
    if (node.opType === 'QLinearConv') {
      // x, x.scale, x.zero, w, w.scale, w.zero, y.scale, y.zero, b
      w = values(inputs[3], 'weight');
      const xScale = values(inputs[1], 'input scale').values[0];
      const wScale = values(inputs[4], 'weight scale').values,
        wZero = values(inputs[5], 'weight zero point').values;
      const o = w.dims[0],
        inner = w.values.length / o;
      for (let i = 0; i < w.values.length; i++) {
        const c = wScale.length === 1 ? 0 : Math.floor(i / inner);
        w.values[i] = Math.fround((w.values[i] - wZero[c]) * wScale[c]);
      }
      const b = inputs[8] ? values(inputs[8], 'bias').values : new Float32Array(o);
      bias = b.map((v, c) => Math.fround(v * Math.fround(xScale * wScale[wScale.length === 1 ? 0 : c])));
    } else {
      w = values(inputs[1], 'weight');
      bias = inputs[2] ? values(inputs[2], 'bias').values : new Float32Array(w.dims[0]);
    }
    const [o, i, kh, kw] = w.dims;
    const depthwise = group > 1;
    if (depthwise && (group !== o || i !== 1))
      throw new RangeError(
        `ONNX convolution ${node.name}: group ${group} with weight [${w.dims}] is not a depthwise convolution of multiplier 1`,
      );
    let filter: TfliteLayerWeights['filter'];
    if (depthwise) {
      // [C, 1, KH, KW] → [KH, KW, C, 1]
      const out = new Float32Array(w.values.length);
      for (let c = 0; c < o; c++) for (let k2 = 0; k2 < kh * kw; k2++) out[k2 * o + c] = w.values[c * kh * kw + k2];
      filter = { values: out, shape: [kh, kw, o, 1] };
    } else {
      // OIHW → HWIO
      const out = new Float32Array(w.values.length);
      for (let oo = 0; oo < o; oo++)
        for (let ii = 0; ii < i; ii++)
          for (let k2 = 0; k2 < kh * kw; k2++) out[(k2 * i + ii) * o + oo] = w.values[(oo * i + ii) * kh * kw + k2];
      filter = { values: out, shape: [kh, kw, i, o] };
    }
    layers.set(names[k], { filter, bias, depthwise });
  });
  return { layers, ranges: new Map() };
}

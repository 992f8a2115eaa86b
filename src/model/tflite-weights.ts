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
      const weight = model.tensors[op.inputs[1]], bias = op.inputs[2] >= 0 ? model.tensors[op.inputs[2]] : undefined;
      const values = constantFloats(weight);
      const [o, kh, kw, i] = weight.shape;
      const depthwise = op.name === 'DEPTHWISE_CONV_2D';
      let filter: TfliteLayerWeights['filter'];
      if (depthwise) {
        if (o !== 1) throw new TfliteFormatError(`'${name}': depthwise filter [${weight.shape}] has a depth multiplier; only 1 is supported`);
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
      const boxes = model.tensors[op.inputs[0]], scores = model.tensors[op.inputs[1]];
      const logistic = model.operators.find(o => o.name === 'LOGISTIC' && o.outputs[0] === scores.index);
      const boxRange = rangeOf(boxes), logitRange = logistic ? rangeOf(model.tensors[logistic.inputs[0]]) : undefined;
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
export function loadTfliteWeights(convolutions: readonly ConvLayer[], weights: TfliteWeights, options: LoadTfliteOptions = {}): string[] {
  const chosen = convolutions.filter(options.include ?? (() => true));
  for (const layer of chosen) {
    const w = weights.layers.get(layer.name);
    if (!w) throw new RangeError(`the TFLite model has no layer '${layer.name}' (it has ${weights.layers.size} convolutions, e.g. '${[...weights.layers.keys()][0]}')`);
    if (w.depthwise !== Boolean(layer.depthwise)) throw new RangeError(`'${layer.name}' is ${w.depthwise ? '' : 'not '}depthwise in the TFLite model`);
    if (w.filter.shape.join() !== layer.filter.shape.join() || w.bias.length !== layer.bias.size) {
      throw new RangeError(`'${layer.name}': the TFLite filter is [${w.filter.shape.join(', ')}] (HWIO) with ${w.bias.length} biases; ` +
                           `the network's is [${layer.filter.shape.join(', ')}]: was it built with another width or numClasses?`);
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
  return chosen.map(l => l.name);
}

/**
 * ONNX node sequences shared by the exporters (SSD300, mini SSD, MobileNet SSD): a convolution record with its
 * batch normalisation folded in, and a head's NCHW output turned into prior-ordered rows.
 */
import * as tf from '@tensorflow/tfjs-core';
import { foldedConv, type ConvLayer } from '../layers.js';
import type { GraphBuilder } from './graph.js';

/**
 * TensorFlow's SAME padding of a window on a `[height, width]` input as ONNX pads
 * [top, left, bottom, right]: ceil(size / stride) outputs, the odd cell at the bottom and right.
 * see: tensorflow/core/framework/kernel_shape_util.cc
 */
export function samePadding(
  [height, width]: readonly [number, number],
  kernel: number,
  stride: number,
): [number, number, number, number] {
  const axis = (size: number) => {
    const total = Math.max((Math.ceil(size / stride) - 1) * stride + kernel - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  };
  const [top, bottom] = axis(height),
    [left, right] = axis(width);
  return [top, left, bottom, right];
}

/** The `[height, width]` a convolution `layer` outputs from a `[height, width]` input. */
export function convOutputSize(layer: ConvLayer, [height, width]: readonly [number, number]): [number, number] {
  const pads =
    layer.pad === 'same'
      ? samePadding([height, width], layer.kernel, layer.stride)
      : [layer.pad, layer.pad, layer.pad, layer.pad];
  const extent = layer.dilation * (layer.kernel - 1) + 1;
  return [
    Math.floor((height + pads[0] + pads[2] - extent) / layer.stride) + 1,
    Math.floor((width + pads[1] + pads[3] - extent) / layer.stride) + 1,
  ];
}

/**
 * Conv (+ Relu, or Clip(0, 6) for ReLU6) of `layer` on `input`; the output is named `layer.name`.
 * A depthwise layer is a Conv with one group per channel. TensorFlow's SAME padding is written
 * as explicit (possibly asymmetric) pads, which needs the input's `[height, width]`.
 */
export function emitConv(
  g: GraphBuilder,
  input: string,
  layer: ConvLayer,
  inputSize?: readonly [number, number],
): string {
  const { name, kernel: k, pad: p, stride: s, dilation: d } = layer;
  if (p === 'same' && !inputSize) throw new RangeError(`${name}: SAME padding needs the input's size`);
  // Batch normalisation folded in (inference form); tfjs filters are HWIO, ONNX Conv wants OIHW
  // (a depthwise [k, k, C, 1] filter becomes [C, 1, k, k]).
  const folded = foldedConv(layer);
  const weight = tf.tidy(() => tf.transpose(folded.filter, layer.depthwise ? [2, 3, 0, 1] : [3, 2, 0, 1]));
  const [o, i] = [weight.shape[0], weight.shape[1]];
  const w = g.floats(`${name}.weight`, weight.dataSync() as Float32Array, [o, i, k, k]);
  const b = g.floats(`${name}.bias`, folded.bias.dataSync() as Float32Array, [o]);
  tf.dispose([weight, folded.filter, folded.bias]);
  const pads = p === 'same' ? samePadding(inputSize!, k, s) : [p, p, p, p];
  const attributes = {
    kernel_shape: [k, k],
    pads,
    strides: [s, s],
    dilations: [d, d],
    ...(layer.depthwise ? { group: o } : {}),
  };
  if (!layer.relu) return g.node('Conv', [input, w, b], name, attributes);
  const conv = g.node('Conv', [input, w, b], `${name}.conv`, attributes);
  if (!layer.relu6) return g.node('Relu', [conv], name);
  // Clip's bounds are inputs from opset 11; one pair of scalars serves the whole graph.
  const [lo, hi] = ['relu6.min', 'relu6.max'];
  if (!g.has(lo)) g.floats(lo, new Float32Array([0]), []);
  if (!g.has(hi)) g.floats(hi, new Float32Array([6]), []);
  return g.node('Clip', [conv, lo, hi], name);
}

/**
 * ParseNet's L2 normalisation over the channels of NCHW `input`, with a per-channel `scale`:
 * x / (√(Σ_c x² + guard) + eps) · scale (ReduceSumSquare, Add, Sqrt, Add, Div, Mul; the guard is an
 * Add, not a Max: the WebGPU provider has no binary Max). Named `name`.
 */
export function emitL2Norm(
  g: GraphBuilder,
  input: string,
  name: string,
  scale: Float32Array,
  guard: number,
  eps: number,
): string {
  const scalar = (suffix: string, value: number) => g.floats(`${name}.${suffix}`, new Float32Array([value]), []);
  const sumSquares = g.node('ReduceSumSquare', [input], `${name}.sumSquares`, { axes: [1], keepdims: 1 });
  const root = g.node('Sqrt', [g.node('Add', [sumSquares, scalar('guard', guard)], `${name}.guarded`)], `${name}.sqrt`);
  const norm = g.node('Add', [root, scalar('eps', eps)], `${name}.norm`);
  const normalised = g.node('Div', [input, norm], `${name}.normalised`);
  return g.node('Mul', [normalised, g.floats(`${name}.scale`, scale, [1, scale.length, 1, 1])], name);
}

/**
 * NCHW → NHWC → `shape` (an int64 initializer such as [0, −1, k]): rows in (row, column, channel
 * group) order, the order of the priors. Named `${name}.rows`.
 */
export function emitRows(g: GraphBuilder, input: string, name: string, shape: string): string {
  const nhwc = g.node('Transpose', [input], `${name}.nhwc`, { perm: [0, 2, 3, 1] });
  return g.node('Reshape', [nhwc, shape], `${name}.rows`);
}

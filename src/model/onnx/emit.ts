/**
 * ONNX node sequences shared by the exporters (SSD300, mini SSD): a convolution record with its
 * batch normalisation folded in, and a head's NCHW output turned into prior-ordered rows.
 */
import * as tf from '@tensorflow/tfjs-core';
import { foldedConv, type ConvLayer } from '../layers.js';
import type { GraphBuilder } from './graph.js';

/** Conv (+ Relu) of `layer` on `input`; the output is named `layer.name`. */
export function emitConv(g: GraphBuilder, input: string, layer: ConvLayer): string {
  const { name, kernel: k, pad: p, stride: s, dilation: d } = layer;
  if (p === 'same' || layer.depthwise || layer.relu6) {
    throw new RangeError(`${name}: SAME padding, depthwise convolutions and ReLU6 (MobileNet layers) have no ONNX export yet`);
  }
  // Batch normalisation folded in (inference form); tfjs filters are HWIO, ONNX Conv wants OIHW.
  const folded = foldedConv(layer);
  const weight = tf.tidy(() => tf.transpose(folded.filter, [3, 2, 0, 1]));
  const [o, i] = [weight.shape[0], weight.shape[1]];
  const w = g.floats(`${name}.weight`, weight.dataSync() as Float32Array, [o, i, k, k]);
  const b = g.floats(`${name}.bias`, folded.bias.dataSync() as Float32Array, [o]);
  tf.dispose([weight, folded.filter, folded.bias]);
  const attributes = { kernel_shape: [k, k], pads: [p, p, p, p], strides: [s, s], dilations: [d, d] };
  if (!layer.relu) return g.node('Conv', [input, w, b], name, attributes);
  return g.node('Relu', [g.node('Conv', [input, w, b], `${name}.conv`, attributes)], name);
}

/**
 * ParseNet's L2 normalisation over the channels of NCHW `input`, with a per-channel `scale`:
 * x / (√(Σ_c x² + guard) + eps) · scale (ReduceSumSquare, Add, Sqrt, Add, Div, Mul; the guard is an
 * Add, not a Max: the WebGPU provider has no binary Max). Named `name`.
 */
export function emitL2Norm(g: GraphBuilder, input: string, name: string, scale: Float32Array, guard: number, eps: number): string {
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

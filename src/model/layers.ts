/**
 * The structural description of an SSD network: layer records that hold their tfjs variables,
 * the tfjs ops that apply each record (NHWC), and the record of which layers feed the heads.
 * The forward pass and the ONNX exporter walk the same records, so they cannot disagree about
 * the architecture.
 */
import * as tf from '@tensorflow/tfjs-core';

/** A 2-D convolution with PyTorch's symmetric zero padding. */
export interface ConvLayer {
  kind: 'conv';
  name: string;
  /** `[kernel, kernel, inChannels, outChannels]` (tfjs HWIO; ONNX wants OIHW). */
  filter: tf.Variable<tf.Rank.R4>;
  /** `[outChannels]`. */
  bias: tf.Variable<tf.Rank.R1>;
  kernel: number;
  stride: number;
  /** Zero padding on every side, in cells. */
  pad: number;
  dilation: number;
  /** A ReLU follows. */
  relu: boolean;
}

/**
 * Max pooling. Padding is −∞ (never selected), as in PyTorch and ONNX; a PyTorch ceil-mode pool
 * is this with the extra row and column it reads added to the bottom and right padding.
 */
export interface MaxPoolLayer {
  kind: 'maxPool';
  name: string;
  size: number;
  stride: number;
  /** In ONNX order. */
  pads: readonly [top: number, left: number, bottom: number, right: number];
}

/**
 * ParseNet's L2 normalisation with a learnable per-channel scale:
 * `x / (√(Σ_c x² + guard) + eps) · scale`.
 * see: ssd.pytorch layers/modules/l2norm.py (which has no `guard`: see SQRT_GUARD).
 */
export interface L2NormLayer {
  kind: 'l2norm';
  name: string;
  /** `[channels]`, initialised to 20. */
  scale: tf.Variable<tf.Rank.R1>;
  eps: number;
  guard: number;
}

export type TrunkLayer = ConvLayer | MaxPoolLayer;

/** One prediction source: a trunk output, optionally normalised, and its two 3×3 heads. */
export interface SourceLayers {
  /** Name of the trunk layer whose output (after its ReLU) this source reads. */
  from: string;
  norm?: L2NormLayer;
  /** Outputs `boxesPerLocation × 4` channels: offsets per box, box-major. */
  loc: ConvLayer;
  /** Outputs `boxesPerLocation × numClasses` channels: logits per box, box-major. */
  conf: ConvLayer;
  boxesPerLocation: number;
  /** Cells per side of this source's feature map for a 300 × 300 input. */
  featureMap: number;
}

export interface NetworkLayers {
  /** Applied in order; sources tap some of the outputs. */
  trunk: readonly TrunkLayer[];
  /** In prior order: source k's rows precede source k + 1's. */
  sources: readonly SourceLayers[];
}

/**
 * √0 has an infinite derivative, so a location where every channel is 0 after ReLU (common in a
 * narrow network) would make the L2Norm gradient NaN. Adding eps² under the root keeps it
 * finite; in float32 the sum only changes when Σx² < 2e-13 (every |x| below about 4e-7).
 */
export const SQRT_GUARD = 1e-20;

/**
 * tf.conv2d's gradient rejects dilations > 1, so a dilated convolution runs as TensorFlow's
 * atrous convolution does: space-to-batch (which also applies the zero padding), a plain
 * valid convolution, batch-to-space, then a crop of the rows and columns the block rounding added.
 * Every step has a gradient, and the result equals the dilated convolution exactly.
 */
function atrousConv(x: tf.Tensor4D, layer: ConvLayer): tf.Tensor4D {
  const { dilation: d, pad: p } = layer;
  if (layer.stride !== 1) throw new RangeError(`${layer.name}: a dilated convolution needs stride 1, got ${layer.stride}`);
  const extra = (size: number) => (d - ((size + 2 * p) % d)) % d;
  const [extraH, extraW] = [extra(x.shape[1]), extra(x.shape[2])];
  const blocks = tf.spaceToBatchND(x, [d, d], [[p, p + extraH], [p, p + extraW]]);
  const y = tf.fused.conv2d({ x: blocks, filter: layer.filter, bias: layer.bias, strides: 1, pad: 'valid',
                              activation: layer.relu ? 'relu' : 'linear' });
  return tf.batchToSpaceND(y, [d, d], [[0, extraH], [0, extraW]]);
}

export function applyConv(x: tf.Tensor4D, layer: ConvLayer): tf.Tensor4D {
  if (layer.dilation !== 1) return atrousConv(x, layer);
  // fused.conv2d falls back to separate ops when a gradient is recorded, so training still works.
  return tf.fused.conv2d({ x, filter: layer.filter, bias: layer.bias, strides: layer.stride, pad: layer.pad,
                           activation: layer.relu ? 'relu' : 'linear' });
}

export function applyMaxPool(x: tf.Tensor4D, layer: MaxPoolLayer): tf.Tensor4D {
  const [top, left, bottom, right] = layer.pads;
  // Explicit padding: tfjs's cpu and wasm pools skip padded cells, i.e. treat them as −∞.
  return tf.maxPool(x, layer.size, layer.stride, [[0, 0], [top, bottom], [left, right], [0, 0]]);
}

export function applyL2Norm(x: tf.Tensor4D, layer: L2NormLayer): tf.Tensor4D {
  const sumSquares = tf.sum(tf.square(x), -1, true);
  const norm = tf.add(tf.sqrt(tf.add(sumSquares, layer.guard)), layer.eps);
  return tf.mul(tf.div(x, norm), layer.scale);
}

export function applyTrunkLayer(x: tf.Tensor4D, layer: TrunkLayer): tf.Tensor4D {
  return layer.kind === 'conv' ? applyConv(x, layer) : applyMaxPool(x, layer);
}

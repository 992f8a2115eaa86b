/**
 * The structural description of an SSD network: layer records that hold their tfjs variables,
 * the tfjs ops that apply each record (NHWC), and the record of which layers feed the heads.
 * The forward pass and the ONNX exporter walk the same records, so they cannot disagree about
 * the architecture.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * A 2-D convolution with PyTorch's symmetric zero padding, or TensorFlow's SAME padding; a
 * depthwise one (MobileNet) with `depthwise`.
 */
export interface ConvLayer {
  kind: 'conv';
  name: string;
  /**
   * `[kernel, kernel, inChannels, outChannels]` (tfjs HWIO; ONNX wants OIHW); depthwise:
   * `[kernel, kernel, channels, 1]` (depth multiplier 1, TensorFlow's layout).
   */
  filter: tf.Variable<tf.Rank.R4>;
  /** `[outChannels]`. */
  bias: tf.Variable<tf.Rank.R1>;
  kernel: number;
  stride: number;
  /**
   * Zero padding on every side, in cells; or 'same', TensorFlow's SAME: ceil(size / stride)
   * outputs, total padding max((out − 1)·stride + kernel − size, 0), the odd cell at the
   * bottom and right (a stride-2 3×3 on an even size pads 0 before, 1 after).
   */
  pad: number | 'same';
  dilation: number;
  /** A ReLU follows (after the batch normalisation, when there is one). */
  relu: boolean;
  /** The ReLU is ReLU6, min(max(x, 0), 6) (MobileNet's). Default false. */
  relu6?: boolean;
  /** A depthwise convolution: each channel convolved with its own filter (tf.depthwiseConv2d). */
  depthwise?: boolean;
  /** Batch normalisation between the convolution and the ReLU (ssd.pytorch `vgg(..., batch_norm=True)`). */
  batchNorm?: BatchNormLayer;
}

/**
 * Batch normalisation over N, H and W per channel, as torch.nn.BatchNorm2d computes it:
 * training uses the batch's mean and (biased) variance and updates the moving statistics with
 * the unbiased variance; inference uses the moving statistics. The ONNX export folds it into the
 * convolution before it, so exported graphs and the runtime never see it.
 */
export interface BatchNormLayer {
  /** `[channels]`, trainable, initialised to 1. */
  gamma: tf.Variable<tf.Rank.R1>;
  /** `[channels]`, trainable, initialised to 0. */
  beta: tf.Variable<tf.Rank.R1>;
  /** `[channels]`, not trainable: updated by `updateBatchNorm` after each training step. */
  movingMean: tf.Variable<tf.Rank.R1>;
  movingVariance: tf.Variable<tf.Rank.R1>;
  /** Added to the variance under the root. see: torch.nn.BatchNorm2d eps = 1e-5 */
  eps: number;
  /** Weight of the new batch in the moving statistics. see: torch.nn.BatchNorm2d momentum = 0.1 */
  momentum: number;
}

/**
 * How a forward pass treats batch normalisation. Inference (the default) uses the moving
 * statistics; training uses each batch's and appends them to `batchStats` (kept out of any tidy:
 * the caller hands them to updateBatchNorm, which disposes them).
 */
export interface ForwardMode {
  training?: boolean;
  batchStats?: BatchStats[];
}

export interface BatchStats {
  layer: BatchNormLayer;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** Values per channel that the statistics were taken over (N·H·W), for the unbiased variance. */
  count: number;
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
function atrousConv(x: tf.Tensor4D, layer: ConvLayer, relu: boolean): tf.Tensor4D {
  const { dilation: d, pad: p } = layer;
  if (layer.stride !== 1)
    throw new RangeError(`${layer.name}: a dilated convolution needs stride 1, got ${layer.stride}`);
  if (p === 'same' || layer.depthwise)
    throw new RangeError(`${layer.name}: a dilated convolution needs numeric padding and a full filter`);
  const extra = (size: number) => (d - ((size + 2 * p) % d)) % d;
  const [extraH, extraW] = [extra(x.shape[1]), extra(x.shape[2])];
  const blocks = tf.spaceToBatchND(
    x,
    [d, d],
    [
      [p, p + extraH],
      [p, p + extraW],
    ],
  );
  const y = tf.fused.conv2d({
    x: blocks,
    filter: layer.filter,
    bias: layer.bias,
    strides: 1,
    pad: 'valid',
    activation: relu ? 'relu' : 'linear',
  });
  return tf.batchToSpaceND(
    y,
    [d, d],
    [
      [0, extraH],
      [0, extraW],
    ],
  );
}

/**
 * How convolutions and pools pass their padding to tfjs:
 * - 'any' (default): as numbers or explicit pads, which the cpu and wasm backends take;
 * - 'sameOrValid': only 'same' and 'valid', the only paddings tfjs-node's (TensorFlow's) kernels
 *   accept: 'same' where TensorFlow's SAME pads exactly as the layer does, 'valid' where it has
 *   none, otherwise an explicit tf.pad (zeros; −∞ before a max pool) and then 'valid'.
 * Both compute the same values. initTraining sets 'sameOrValid' for the node and node-gpu backends.
 */
export type PaddingRule = 'any' | 'sameOrValid';
let paddingRule: PaddingRule = 'any';

export function setPaddingRule(rule: PaddingRule): void {
  if (rule !== 'any' && rule !== 'sameOrValid')
    throw new RangeError(`padding rule '${String(rule)}' is not one of any, sameOrValid`);
  paddingRule = rule;
}

export function getPaddingRule(): PaddingRule {
  return paddingRule;
}

/** TensorFlow's SAME along one axis: [before, after]. see: tensorflow/core/framework/kernel_shape_util.cc */
function samePads(size: number, kernel: number, stride: number): [number, number] {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * Explicit pads [top, left, bottom, right] of a window (effective size `kernel`) as 'valid',
 * 'same', or pads that must be applied first (tf.pad) before a 'valid' op. Equal to SAME when
 * both give the same outputs from the same cells: the same output count and the same leading pad
 * (trailing pad cells no window reaches do not matter).
 */
export function sameOrValid(
  [height, width]: [number, number],
  kernel: number,
  stride: number,
  pads: readonly [number, number, number, number],
): 'valid' | 'same' | [[number, number], [number, number]] {
  const [top, left, bottom, right] = pads;
  if (top === 0 && left === 0 && bottom === 0 && right === 0) return 'valid';
  const outputs = (size: number, a: number, b: number) => Math.floor((size + a + b - kernel) / stride) + 1;
  const axisSame = (size: number, a: number, b: number) =>
    outputs(size, a, b) === Math.ceil(size / stride) && samePads(size, kernel, stride)[0] === a;
  if (axisSame(height, top, bottom) && axisSame(width, left, right)) return 'same';
  return [
    [top, bottom],
    [left, right],
  ];
}

/** `x` padded for a 'valid' op under the 'sameOrValid' rule, and the pad to give the op. */
function expressPadding(
  x: tf.Tensor4D,
  kernel: number,
  stride: number,
  pads: readonly [number, number, number, number],
  fill: number,
): { x: tf.Tensor4D; pad: 'valid' | 'same' } {
  const how = sameOrValid([x.shape[1], x.shape[2]], kernel, stride, pads);
  if (typeof how === 'string') return { x, pad: how };
  return { x: tf.pad(x, [[0, 0], how[0], how[1], [0, 0]], fill), pad: 'valid' };
}

function convolve(input: tf.Tensor4D, layer: ConvLayer, relu: boolean): tf.Tensor4D {
  if (layer.dilation !== 1) return atrousConv(input, layer, relu);
  const activation = !relu ? 'linear' : layer.relu6 ? 'relu6' : 'relu';
  let x = input,
    pad: number | 'same' | 'valid' = layer.pad;
  if (paddingRule === 'sameOrValid' && typeof pad === 'number')
    ({ x, pad } = expressPadding(x, layer.kernel, layer.stride, [pad, pad, pad, pad], 0));
  // The fused ops fall back to separate ops when a gradient is recorded, so training still works.
  if (layer.depthwise) {
    return tf.fused.depthwiseConv2d({
      x,
      filter: layer.filter,
      bias: layer.bias,
      strides: layer.stride,
      pad,
      activation,
    });
  }
  return tf.fused.conv2d({ x, filter: layer.filter, bias: layer.bias, strides: layer.stride, pad, activation });
}

/**
 * Per-channel mean and biased variance of NHWC `x` as two matrix products, ones[1, NHW] · X and
 * ones · X², with var = E[x²] − E[x]² (clamped at 0). tf.moments reduces over N, H, W by
 * transposing the whole activation first, which made a training step ~3× slower on tfjs-wasm;
 * matMul and its gradient stay on the backend's fast GEMM.
 */
function channelMoments(x: tf.Tensor4D): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const [n, h, w, c] = x.shape;
  const count = n * h * w;
  const rows = tf.reshape(x, [count, c]);
  const average = tf.fill([1, count], 1 / count);
  const mean = tf.reshape(tf.matMul(average, rows), [c]) as tf.Tensor1D;
  const meanSquare = tf.reshape(tf.matMul(average, tf.square(rows)), [c]);
  const variance = tf.relu(tf.sub(meanSquare, tf.square(mean))) as tf.Tensor1D;
  return { mean, variance };
}

function applyBatchNorm(x: tf.Tensor4D, norm: BatchNormLayer, mode: ForwardMode): tf.Tensor4D {
  if (!mode.training) {
    const scale = tf.div(norm.gamma, tf.sqrt(tf.add(norm.movingVariance, norm.eps)));
    return tf.add(tf.mul(x, scale), tf.sub(norm.beta, tf.mul(norm.movingMean, scale)));
  }
  const { mean, variance } = channelMoments(x);
  mode.batchStats?.push({
    layer: norm,
    mean: tf.keep(mean) as tf.Tensor1D,
    variance: tf.keep(variance) as tf.Tensor1D,
    count: x.shape[0] * x.shape[1] * x.shape[2],
  });
  // (x − mean)/√(var + eps)·gamma + beta as x·scale + shift: the [C] vectors carry the algebra
  // (and its gradient), so only two ops touch the whole activation.
  const scale = tf.div(norm.gamma, tf.sqrt(tf.add(variance, norm.eps)));
  const shift = tf.sub(norm.beta, tf.mul(mean, scale));
  return tf.add(tf.mul(x, scale), shift);
}

export function applyConv(x: tf.Tensor4D, layer: ConvLayer, mode: ForwardMode = {}): tf.Tensor4D {
  if (!layer.batchNorm) return convolve(x, layer, layer.relu);
  const y = applyBatchNorm(convolve(x, layer, false), layer.batchNorm, mode);
  return !layer.relu ? y : layer.relu6 ? tf.relu6(y) : tf.relu(y);
}

/**
 * Moves each layer's moving statistics toward the batch's (torch's rule: moving = (1 − m)·moving
 * + m·batch, the variance unbiased by count / (count − 1)) and disposes the batch statistics.
 */
export function updateBatchNorm(batchStats: readonly BatchStats[]): void {
  for (const { layer, mean, variance, count } of batchStats) {
    tf.tidy(() => {
      const m = layer.momentum,
        unbiased = count > 1 ? count / (count - 1) : 1;
      layer.movingMean.assign(tf.add(tf.mul(layer.movingMean, 1 - m), tf.mul(mean, m)));
      layer.movingVariance.assign(tf.add(tf.mul(layer.movingVariance, 1 - m), tf.mul(variance, m * unbiased)));
    });
    mean.dispose();
    variance.dispose();
  }
}

/**
 * The convolution with its batch normalisation folded in, as inference computes it:
 * filter'[..., o] = filter[..., o] · s_o and bias'_o = (bias_o − mean_o) · s_o + beta_o, with
 * s_o = gamma_o / √(var_o + eps) (a depthwise filter's output channel is its third axis). The
 * exporter writes these; the caller disposes both tensors.
 */
export function foldedConv(layer: ConvLayer): { filter: tf.Tensor4D; bias: tf.Tensor1D } {
  const norm = layer.batchNorm;
  if (!norm) return { filter: tf.clone(layer.filter), bias: tf.clone(layer.bias) };
  return tf.tidy(() => {
    const scale = tf.div(norm.gamma, tf.sqrt(tf.add(norm.movingVariance, norm.eps)));
    // A depthwise filter [k, k, C, 1] holds output channel o on its third axis.
    const perOutput = layer.depthwise ? tf.reshape(scale, [-1, 1]) : scale;
    return {
      filter: tf.mul(layer.filter, perOutput) as tf.Tensor4D,
      bias: tf.add(tf.mul(tf.sub(layer.bias, norm.movingMean), scale), norm.beta) as tf.Tensor1D,
    };
  });
}

export function applyMaxPool(x: tf.Tensor4D, layer: MaxPoolLayer): tf.Tensor4D {
  const [top, left, bottom, right] = layer.pads;
  if (paddingRule === 'sameOrValid') {
    // −∞ padding is never selected, as the explicit pads' skipped cells
    const expressed = expressPadding(x, layer.size, layer.stride, [top, left, bottom, right], -Infinity);
    return tf.maxPool(expressed.x, layer.size, layer.stride, expressed.pad);
  }
  // Explicit padding: tfjs's cpu and wasm pools skip padded cells, i.e. treat them as −∞.
  return tf.maxPool(x, layer.size, layer.stride, [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ]);
}

export function applyL2Norm(x: tf.Tensor4D, layer: L2NormLayer): tf.Tensor4D {
  const sumSquares = tf.sum(tf.square(x), -1, true);
  const norm = tf.add(tf.sqrt(tf.add(sumSquares, layer.guard)), layer.eps);
  return tf.mul(tf.div(x, norm), layer.scale);
}

export function applyTrunkLayer(x: tf.Tensor4D, layer: TrunkLayer, mode: ForwardMode = {}): tf.Tensor4D {
  return layer.kind === 'conv' ? applyConv(x, layer, mode) : applyMaxPool(x, layer);
}

/**
 * SSD300 (VGG16 base) in tfjs-core ops with explicit variables, built exactly as the SSD paper
 * and ssd.pytorch build it; a width multiplier scales every channel count for small devices.
 * see: ssd.pytorch ssd.py (`vgg`, `add_extras`, `multibox`, `SSD.forward`)
 *
 * Layout inside: NHWC. Outputs: `loc [N, 8732, 4]` and `conf [N, 8732, numClasses]`, each source's
 * head output flattened channel-last (row, column, box) and the sources concatenated in order,
 * so row i lines up with prior i of `generatePriors(presets.ssd300Voc.priors)`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NetworkBuilder, VariableNetwork, type Network } from './builder.js';
import type { FilterInit } from './init.js';
import {
  applyConv,
  applyL2Norm,
  applyTrunkLayer,
  type ForwardMode,
  type NetworkLayers,
  type SourceLayers,
  type TrunkLayer,
} from './layers.js';

export const SSD300_INPUT_SIZE = 300;

/** VGG16 (configuration D) to conv5_3; 'M' a 2×2/2 max pool, 'C' the same in ceil mode (75 → 38). see: ssd.pytorch ssd.py base['300'] */
const VGG_BASE = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'C', 512, 512, 512, 'M', 512, 512, 512] as const;
/** 'S': the next layer is a 3×3 stride-2 pad-1 conv. see: ssd.pytorch ssd.py extras['300'] */
const EXTRAS = [256, 'S', 512, 128, 'S', 256, 128, 256, 128, 256] as const;
/** see: ssd.pytorch ssd.py mbox['300'] */
const BOXES_PER_LOCATION = [4, 6, 6, 6, 4, 4] as const;
/** ParseNet's initial scale for conv4_3. see: ssd.pytorch ssd.py `L2Norm(512, 20)` */
const L2NORM_INIT_SCALE = 20;
const FC_CHANNELS = 1024;

export interface Ssd300Options {
  /** Classes including the background (class 0). An integer ≥ 2. */
  numClasses: number;
  /** Multiplies every trunk channel count (max(1, round(c · width))); in (0, 1]. Default 1. */
  width?: number;
  /** Seed of the weight initialisation. Default 0. */
  seed?: number;
  /**
   * Batch normalisation after every trunk convolution (the VGG base, as ssd.pytorch's
   * `batch_norm=True`, and also conv6, conv7 and the extras; not the heads). It lets a narrow
   * network train from scratch; the ONNX export folds it into the convolutions. Default false.
   */
  batchNorm?: boolean;
  /**
   * RetinaNet's head initialisation (arXiv:1708.02002 §3.3, §4.1) with this background
   * probability: the loc and conf heads' weights start with σ = 0.01 and the conf heads'
   * background bias at ln(p·(C − 1) / (1 − p)) (the other biases 0), so every prior starts as
   * background with probability p and the first steps are not spent unlearning large random
   * logits. In (0, 1). Default: none (Xavier heads, biases 0, as ssd.pytorch).
   */
  backgroundPrior?: number;
}

export interface Ssd300Output {
  /** `[N, numPriors, 4]` box offsets (cx, cy, w, h), prior order. */
  loc: tf.Tensor3D;
  /** `[N, numPriors, numClasses]` logits, prior order. */
  conf: tf.Tensor3D;
}

/**
 * SSD300 in tfjs. `variables`: `conv1_1.filter`, `conv1_1.bias`, ..., `conv4_3_norm.scale`,
 * `loc0.filter`, ..., `conf5.bias` (trunk, L2Norm, loc heads, conf heads), and `<conv>.bn.*` with batchNorm.
 */
export interface Ssd300 extends Network {
  readonly numClasses: number;
  readonly batchNorm: boolean;
  /** Rows of `loc` and `conf`: 8732. */
  readonly numPriors: number;
  /** The architecture with its variables, in forward order; the exporter walks it. */
  readonly layers: NetworkLayers;
  /**
   * `images`: `[N, 300, 300, 3]` (NHWC), pre-processed. The caller disposes the outputs.
   * `mode.training` makes batch normalisation use the batch's statistics (see ForwardMode).
   */
  apply(images: tf.Tensor4D, mode?: ForwardMode): Ssd300Output;
}

/** Numbers each instance's variable prefix (tfjs variable names are global to the engine). */
let instances = 0;

function validateOptions({
  numClasses,
  width = 1,
  seed = 0,
  batchNorm = false,
  backgroundPrior,
}: Ssd300Options): Required<Omit<Ssd300Options, 'backgroundPrior'>> & Pick<Ssd300Options, 'backgroundPrior'> {
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new RangeError(`numClasses ${numClasses} must be an integer ≥ 2 (the classes including the background)`);
  }
  if (!(typeof width === 'number' && width > 0 && width <= 1)) {
    throw new RangeError(`width ${width} must be in (0, 1]: it multiplies every channel count of SSD300`);
  }
  if (!Number.isInteger(seed)) throw new RangeError(`seed ${seed} must be an integer`);
  if (typeof batchNorm !== 'boolean') throw new TypeError(`batchNorm ${String(batchNorm)} must be a boolean`);
  if (
    backgroundPrior !== undefined &&
    !(typeof backgroundPrior === 'number' && backgroundPrior > 0 && backgroundPrior < 1)
  ) {
    throw new RangeError(`backgroundPrior ${backgroundPrior} must be a probability in (0, 1)`);
  }
  return { numClasses, width, seed, batchNorm, backgroundPrior };
}

/** Output size of a conv or pool along one axis, as PyTorch computes it. */
function outputSize(size: number, kernel: number, stride: number, pad: number, dilation = 1, ceil = false): number {
  const span = size + 2 * pad - dilation * (kernel - 1) - 1;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // PyTorch drops a ceil-mode window that would start in the end padding.
  if (ceil && (out - 1) * stride >= size + pad) out--;
  return out;
}

class Ssd300Network extends VariableNetwork implements Ssd300 {
  readonly numPriors: number;

  constructor(
    readonly numClasses: number,
    readonly width: number,
    readonly batchNorm: boolean,
    readonly layers: NetworkLayers,
    variables: ReadonlyMap<string, tf.Variable>,
  ) {
    super('SSD300', variables);
    this.numPriors = layers.sources.reduce((n, s) => n + s.featureMap ** 2 * s.boxesPerLocation, 0);
  }

  apply(images: tf.Tensor4D, mode: ForwardMode = {}): Ssd300Output {
    this.checkLive();
    const [n, h, w, c] = images.shape;
    if (images.rank !== 4 || h !== SSD300_INPUT_SIZE || w !== SSD300_INPUT_SIZE || c !== 3) {
      throw new RangeError(`images has shape [${images.shape.join(', ')}]; SSD300 needs [N, 300, 300, 3] (NHWC)`);
    }
    const { trunk, sources } = this.layers;
    const tapped = new Set(sources.map((s) => s.from));
    return tf.tidy(() => {
      const taps = new Map<string, tf.Tensor4D>();
      let x = images;
      for (const layer of trunk) {
        x = applyTrunkLayer(x, layer, mode);
        if (tapped.has(layer.name)) taps.set(layer.name, x);
      }
      const loc: tf.Tensor3D[] = [],
        conf: tf.Tensor3D[] = [];
      for (const source of sources) {
        const tap = taps.get(source.from)!;
        const features = source.norm ? applyL2Norm(tap, source.norm) : tap;
        // NHWC reshaped to [N, H·W·boxes, k]: row (i·W + j)·boxes + b, the prior order.
        loc.push(tf.reshape(applyConv(features, source.loc), [n, -1, 4]));
        conf.push(tf.reshape(applyConv(features, source.conf), [n, -1, this.numClasses]));
      }
      return { loc: tf.concat(loc, 1), conf: tf.concat(conf, 1) };
    });
  }
}

/** Builds SSD300 with freshly initialised weights (He for the VGG base, Xavier elsewhere, biases 0). */
export function createSsd300(options: Ssd300Options): Ssd300 {
  const { numClasses, width, seed, batchNorm, backgroundPrior } = validateOptions(options);
  const scaled = (c: number) => Math.max(1, Math.round(c * width));
  const b = new NetworkBuilder(`ssd300_${++instances}/`, seed);
  const trunk: TrunkLayer[] = [];
  /** Feature-map size and channels after each trunk layer. */
  const outputs = new Map<string, { size: number; channels: number }>();
  let size = SSD300_INPUT_SIZE,
    channels = 3;
  const addConv = (
    name: string,
    init: FilterInit,
    outChannels: number,
    opts: { kernel?: number; stride?: number; pad?: number; dilation?: number } = {},
  ) => {
    const layer = b.conv(name, init, channels, outChannels, { ...opts, batchNorm });
    trunk.push(layer);
    size = outputSize(size, layer.kernel, layer.stride, opts.pad ?? 0, layer.dilation);
    channels = outChannels;
    outputs.set(name, { size, channels });
  };
  const addPool = (name: string, kernel: number, stride: number, pad: number, ceil = false) => {
    const out = outputSize(size, kernel, stride, pad, 1, ceil);
    const end = pad + Math.max(0, (out - 1) * stride + kernel - (size + 2 * pad));
    trunk.push({ kind: 'maxPool', name, size: kernel, stride, pads: [pad, pad, end, end] });
    size = out;
    outputs.set(name, { size, channels });
  };

  // see: ssd.pytorch ssd.py vgg()
  let block = 1,
    index = 1;
  for (const v of VGG_BASE) {
    if (v === 'M' || v === 'C') {
      addPool(`pool${block++}`, 2, 2, 0, v === 'C');
      index = 1;
    } else {
      addConv(`conv${block}_${index++}`, 'he', scaled(v), { pad: 1 });
    }
  }
  addPool('pool5', 3, 1, 1);
  addConv('conv6', 'he', scaled(FC_CHANNELS), { pad: 6, dilation: 6 });
  addConv('conv7', 'he', scaled(FC_CHANNELS), { kernel: 1 });

  // see: ssd.pytorch ssd.py add_extras(): 1×1 and 3×3 convs alternate; 'S' makes the 3×3 stride 2, pad 1.
  const sourceNames = ['conv4_3', 'conv7'];
  let previous: number | 'S' = FC_CHANNELS,
    threeByThree = false,
    extra = 0;
  EXTRAS.forEach((v, k) => {
    if (previous !== 'S') {
      const name = `conv${8 + (extra >> 1)}_${(extra & 1) + 1}`;
      const kernel = threeByThree ? 3 : 1;
      if (v === 'S') addConv(name, 'xavier', scaled(EXTRAS[k + 1] as number), { kernel, stride: 2, pad: 1 });
      else addConv(name, 'xavier', scaled(v), { kernel });
      // see: ssd.pytorch ssd.py multibox(): every second extra layer is a source.
      if (extra & 1) sourceNames.push(name);
      extra++;
      threeByThree = !threeByThree;
    }
    previous = v;
  });

  const norm = b.l2norm('conv4_3_norm', outputs.get('conv4_3')!.channels, L2NORM_INIT_SCALE);
  const head = (kind: 'loc' | 'conf', perBox: number, boxBias?: Float32Array) =>
    sourceNames.map((from, k) => {
      const boxes = BOXES_PER_LOCATION[k];
      const bias = boxBias && Float32Array.from({ length: boxes * perBox }, (_, i) => boxBias[i % perBox]);
      const init = backgroundPrior === undefined ? 'xavier' : 'small';
      return b.conv(`${kind}${k}`, init, outputs.get(from)!.channels, boxes * perBox, { pad: 1, relu: false, bias });
    });
  // Softmax of (b, 0, ..., 0) gives the background e^b / (e^b + C − 1) = p.
  const confBias =
    backgroundPrior === undefined
      ? undefined
      : Float32Array.from({ length: numClasses }, (_, c) =>
          c === 0 ? Math.log((backgroundPrior * (numClasses - 1)) / (1 - backgroundPrior)) : 0,
        );
  const loc = head('loc', 4),
    conf = head('conf', numClasses, confBias);
  const sources: SourceLayers[] = sourceNames.map((from, k) => ({
    from,
    norm: k === 0 ? norm : undefined,
    loc: loc[k],
    conf: conf[k],
    boxesPerLocation: BOXES_PER_LOCATION[k],
    featureMap: outputs.get(from)!.size,
  }));
  return new Ssd300Network(numClasses, width, batchNorm, { trunk, sources }, b.variables);
}

/**
 * SSD MobileNet V2 at 300×300 (or any size of mobilenet-input-size.ts's rule: 320, 192, …; SSDLite too) in tfjs, laid out as the TensorFlow Object Detection API's
 * `ssd_mobilenet_v2` (the COCO model in models/ is its quantised TFLite export): the MobileNet V2
 * base (inverted residual blocks, ReLU6, TensorFlow SAME padding), four extra layers, and a box
 * predictor on six feature maps with the multiple-grid anchors (the core's `tfGrid` family) and
 * TF box coding. Batch normalisation is in folded form (a bias per convolution, as the exported
 * model holds it), or optional explicit batch normalisation for training from scratch.
 *
 * see: tensorflow/models research/slim/nets/mobilenet/mobilenet_v2.py (V2_DEF),
 *      conv_blocks.py (expanded_conv), mobilenet.py (depth_multiplier, _make_divisible),
 *      research/object_detection/models/ssd_mobilenet_v2_feature_extractor.py (feature_map_layout),
 *      feature_map_generators.py (multi_resolution_feature_maps: the extra layers' names),
 *      samples/configs/ssd_mobilenet_v2_quantized_300x300_coco.config (1×1 box predictor, anchors)
 *
 * Layer names are the TF graph's: `FeatureExtractor/MobilenetV2/Conv`,
 * `FeatureExtractor/MobilenetV2/expanded_conv_3/expand`, `…/depthwise`, `…/project`,
 * `FeatureExtractor/MobilenetV2/Conv_1`, `FeatureExtractor/MobilenetV2/layer_19_2_Conv2d_2_3x3_s2_512`,
 * `BoxPredictor_0/BoxEncodingPredictor`, `BoxPredictor_0/ClassPredictor`; variables add
 * `.filter` and `.bias` (and `.bn.*`). Layout inside: NHWC.
 *
 * Outputs (at 300): `loc [N, 1917, 4]` box encodings in TF's order (ty, tx, th, tw), and
 * `conf [N, 1917, numClasses]` logits (sigmoid scores; column 0 the background), each head's
 * output flattened (row, column, box) and the six sources concatenated, so row i lines up with
 * anchor i of MOBILENET_SSD_PRIORS.
 *
 * Variants: `version: 1` builds SSD MobileNet V1 (`ssd_mobilenet_v1`: the MobileNet V1 base,
 * `FeatureExtractor/MobilenetV1/Conv2d_0`, then 13 depthwise-separable blocks `Conv2d_k_depthwise`
 * and `Conv2d_k_pointwise`, every layer ReLU6; sources `Conv2d_11_pointwise` (19×19, 512) and
 * `Conv2d_13_pointwise` (10×10, 1024), then the same four extra layers, named after
 * `Conv2d_13_pointwise`, e.g. `…/Conv2d_13_pointwise_2_Conv2d_2_3x3_s2_512`), with the same 1×1
 * box predictor, anchors and box coding.
 * see: research/slim/nets/mobilenet_v1.py (MOBILENETV1_CONV_DEFS, depth = max(d · multiplier, min_depth)),
 *      research/object_detection/models/ssd_mobilenet_v1_feature_extractor.py,
 *      samples/configs/ssd_mobilenet_v1_coco.config
 * `lite` builds SSDLite MobileNet V2 (`ssdlite_mobilenet_v2`: the extra layers' 3×3
 * and the box predictors depthwise-separable, see MobilenetSsdOptions.lite); `inputSize` 320
 * gives maps 20, 10, 5, 3, 2, 1 and 2034 rows (mobilenetSsdPriors(320)), 192 maps 12, 6, 3, 2, 1, 1
 * and 738 rows: the layers are the same at every size, only the maps and anchors change.
 * see: convolutional_box_predictor.py (use_depthwise), samples/configs/ssdlite_mobilenet_v2_coco.config
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PostprocessConfig, TfGridPriorConfig } from '../core/types.js';
import { NetworkBuilder, VariableNetwork, type Network } from './builder.js';
import { applyConv, type ConvLayer, type ForwardMode, type SourceLayers } from './layers.js';
import {
  checkMobilenetSsdInputSize,
  MOBILENET_SSD_INPUT_SIZE,
  mobilenetSsdFeatureMaps,
} from './mobilenet-input-size.js';

export {
  isMobilenetSsdInputSize,
  MOBILENET_SSD_INPUT_SIZE,
  MOBILENET_SSD_INPUT_SIZE_RULE,
  MOBILENET_SSD_INPUT_SIZES,
  mobilenetSsdFeatureMaps,
} from './mobilenet-input-size.js';
/** An input height and width of mobilenet-input-size.ts's rule (300, or a multiple of 32 from 128 to 640). */
export type MobilenetSsdInputSize = number;
const FEATURE_EXTRACTOR = 'FeatureExtractor/MobilenetV2';
const FEATURE_EXTRACTOR_V1 = 'FeatureExtractor/MobilenetV1';
/** MobileNet V1's 13 depthwise-separable blocks after Conv2d_0 (32, stride 2): (stride, pointwise channels). see: mobilenet_v1.py MOBILENETV1_CONV_DEFS */
const V1_BLOCKS = [
  [1, 64],
  [2, 128],
  [1, 128],
  [2, 256],
  [1, 256],
  [2, 512],
  [1, 512],
  [1, 512],
  [1, 512],
  [1, 512],
  [1, 512],
  [2, 1024],
  [1, 1024],
] as const;
/** V1's first source: block 11's pointwise output (stride 16). see: ssd_mobilenet_v1_feature_extractor.py feature_map_layout */
const V1_FIRST_SOURCE = `${FEATURE_EXTRACTOR_V1}/Conv2d_11_pointwise`;

/** (expansion t, channels c, repeats n, first stride s) per stage. see: mobilenet_v2.py V2_DEF */
const STAGES = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
] as const;
const STEM_CHANNELS = 32;
const LAST_CHANNELS = 1280;
/** The extra layers' 3×3 depths (their 1×1 layers have half). see: ssd_mobilenet_v2_feature_extractor.py layer_depth */
const EXTRA_DEPTHS = [512, 256, 256, 128] as const;
/** Source 0 reads block 13's expansion (`layer_15/expansion_output`), source 1 Conv_1, then the extras. */
const FIRST_SOURCE = `${FEATURE_EXTRACTOR}/expanded_conv_13/expand`;
/** Anchors per location: 3 on the 19×19 map (reduce_boxes_in_lowest_layer), 6 elsewhere. */
const BOXES_PER_LOCATION = [3, 6, 6, 6, 6, 6] as const;
/** see: mobilenet.py depth_multiplier: channel counts are multiples of 8 */
const DIVISIBLE_BY = 8;
/** see: ssd_mobilenet_v2 configs, feature_extractor { min_depth: 16 } */
const MIN_DEPTH = 16;

/**
 * The COCO model's anchors: TF OD API `ssd_anchor_generator` with 6 layers, scales 0.2..0.95,
 * aspect ratios 1, 2, 0.5, 3, 0.3333, the lowest layer reduced to 3 boxes. 1917 anchors.
 */
export const MOBILENET_SSD_PRIORS: TfGridPriorConfig = Object.freeze({
  family: 'tfGrid',
  featureMaps: [19, 10, 5, 3, 2, 1],
  minScale: 0.2,
  maxScale: 0.95,
  aspectRatios: [1.0, 2.0, 0.5, 3.0, 0.3333],
  reduceBoxesInLowestLayer: true,
}) as TfGridPriorConfig;

/**
 * The anchors of a network with a `inputSize` × `inputSize` input: MOBILENET_SSD_PRIORS on the
 * feature maps that size gives (mobilenetSsdFeatureMaps: 300: 19, 10, 5, 3, 2, 1; 320: 20, 10, 5,
 * 3, 2, 1; 192: 12, 6, 3, 2, 1, 1). On a square input TF's MultipleGridAnchorGenerator depends on
 * the maps only (strides 1/map, offsets half a stride, base anchor 1 × 1), so these are its anchors.
 */
export function mobilenetSsdPriors(inputSize: number = MOBILENET_SSD_INPUT_SIZE): TfGridPriorConfig {
  checkMobilenetSsdInputSize(inputSize);
  if (inputSize === MOBILENET_SSD_INPUT_SIZE) return MOBILENET_SSD_PRIORS;
  return Object.freeze({
    ...MOBILENET_SSD_PRIORS,
    featureMaps: mobilenetSsdFeatureMaps(inputSize),
  }) as TfGridPriorConfig;
}

/** TF box coding: scale factors 10, 10, 5, 5 on (y, x, h, w). see: faster_rcnn_box_coder.py */
export const MOBILENET_SSD_BOX_CODING = Object.freeze({ scaleFactors: [10, 10, 5, 5], order: 'yxhw' }) as {
  scaleFactors: [number, number, number, number];
  order: 'yxhw';
};

/** TensorFlow's _make_divisible: the nearest multiple of `divisor` ≥ minValue, never below 90% of v. see: mobilenet.py */
export function makeDivisible(v: number, divisor = DIVISIBLE_BY, minValue = divisor): number {
  let rounded = Math.max(minValue, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

export interface MobilenetSsdOptions {
  /** Score columns including the background (column 0); the COCO model has 91. An integer ≥ 2. */
  numClasses: number;
  /** The MobileNet base: 2 (default, `ssd_mobilenet_v2`) or 1 (`ssd_mobilenet_v1`; not with `lite`). */
  version?: 1 | 2;
  /**
   * MobileNet's depth multiplier: every channel count c becomes makeDivisible(c · width) (V2; V1:
   * max(⌊c · width⌋, 16)), the extras max(⌊c · width⌋, 16). In (0, 1.4]. Default 1.
   */
  width?: number;
  /** Seed of the weight initialisation. Default 0. */
  seed?: number;
  /** Explicit batch normalisation after every feature-extractor convolution (not the heads). Default false (folded form). */
  batchNorm?: boolean;
  /** Box predictor kernel: 1 (the COCO quantised model) or 3. Default 1 (3 for `lite`). */
  headKernel?: 1 | 3;
  /**
   * SSDLite (TF OD API `ssdlite_mobilenet_v2`): every 3×3 convolution after the base is
   * depthwise-separable. Each extra layer's 3×3 stride-2 convolution becomes
   * `<layer>_depthwise` (3×3 depthwise, stride 2, ReLU6) then `<layer>` (1×1, ReLU6), and each box
   * predictor `BoxPredictor_k/BoxEncodingPredictor_depthwise` / `ClassPredictor_depthwise` (3×3
   * depthwise, ReLU6; batch normalisation with `batchNorm`) then the 1×1 `BoxEncodingPredictor` /
   * `ClassPredictor`. Default false (SSD: full convolutions).
   */
  lite?: boolean;
  /** Input height and width: 300, or a multiple of 32 from 128 to 640 (mobilenet-input-size.ts). Default 300. */
  inputSize?: MobilenetSsdInputSize;
  /**
   * As Ssd300Options.backgroundPrior (for training with MultiBoxLoss's softmax): the heads' weights
   * start with σ = 0.01 and the class heads' background bias at ln(p·(C − 1) / (1 − p)), so every
   * anchor starts as background with probability p. In (0, 1). Default: Xavier heads, biases 0.
   */
  backgroundPrior?: number;
}

/**
 * One inverted residual block: 1×1 expansion (absent in the first block), 3×3 depthwise, 1×1 linear
 * projection. MobileNet V1's depthwise-separable block is one too: no expansion, no residual,
 * `project` its ReLU6 pointwise layer.
 */
export interface InvertedResidualBlock {
  /** `FeatureExtractor/MobilenetV2/expanded_conv_k` (V1: `FeatureExtractor/MobilenetV1/Conv2d_k`). */
  name: string;
  expand?: ConvLayer;
  depthwise: ConvLayer;
  project: ConvLayer;
  /** The block's input is added to its output (stride 1, equal channels). */
  residual: boolean;
}

/** A prediction source; SSDLite adds the 3×3 depthwise layer before each 1×1 head. */
export interface MobilenetSource extends SourceLayers {
  locDepthwise?: ConvLayer;
  confDepthwise?: ConvLayer;
}

export interface MobilenetSsdLayers {
  stem: ConvLayer;
  blocks: readonly InvertedResidualBlock[];
  /** `Conv_1`, the 1×1 to 1280 channels (V2 only). */
  last?: ConvLayer;
  /** 1×1 then 3×3 stride 2, four times (SSDLite: 1×1, 3×3 depthwise stride 2, 1×1), applied in order. */
  extras: readonly ConvLayer[];
  /** In anchor order; `from` names the layer whose output (after its activation) a source reads. */
  sources: readonly MobilenetSource[];
}

/**
 * A forward pass's options: ForwardMode's batch normalisation handling, and optionally the value
 * ranges of a quantised model's tensors (loadTfliteWeights returns them), keyed by layer name,
 * `<block>/add`, `loc` and `conf`: each output is clipped to its range as TFLite's uint8 tensors
 * (and the converter's `--float` models) clip it. Only for reproducing a quantised model in float.
 */
export interface MobilenetForwardMode extends ForwardMode {
  ranges?: ReadonlyMap<string, readonly [number, number]>;
}

export interface MobilenetSsdOutput {
  /** `[N, 1917, 4]` box encodings (ty, tx, th, tw), anchor order. */
  loc: tf.Tensor3D;
  /** `[N, 1917, numClasses]` logits, anchor order. */
  conf: tf.Tensor3D;
}

export interface MobilenetSsd extends Network {
  readonly numClasses: number;
  /** The MobileNet base: 1 (SSD MobileNet V1) or 2. */
  readonly version: 1 | 2;
  readonly batchNorm: boolean;
  /** SSDLite (depthwise-separable extras and heads). */
  readonly lite: boolean;
  /** Input height and width (mobilenet-input-size.ts's rule). */
  readonly inputSize: MobilenetSsdInputSize;
  /** The anchors its rows line up with (mobilenetSsdPriors(inputSize)). */
  readonly priors: TfGridPriorConfig;
  /** Rows of `loc` and `conf`: 1917 (2034 at 320, 738 at 192). */
  readonly numPriors: number;
  readonly layers: MobilenetSsdLayers;
  /** Every convolution, in forward order (heads last, per source: box then class, each depthwise layer before its 1×1). */
  readonly convolutions: readonly ConvLayer[];
  /**
   * The feature extractor's MobileNet base (`FeatureExtractor/MobilenetV2/Conv` … `Conv_1`; V1:
   * `FeatureExtractor/MobilenetV1/Conv2d_0` … `Conv2d_13_pointwise`),
   * without the extra layers: the convolutions `--freeze-backbone-steps` holds.
   */
  readonly backbone: readonly ConvLayer[];
  /** `images`: `[N, inputSize, inputSize, 3]` (NHWC) in [−1, 1]. The caller disposes the outputs. */
  apply(images: tf.Tensor4D, mode?: MobilenetForwardMode): MobilenetSsdOutput;
}

export interface MobilenetPostprocessOptions {
  /** Default 300. */
  inputSize?: number;
  /**
   * 'sigmoid' (default): the TF OD API models' (sigmoid focal / weighted sigmoid loss); 'softmax':
   * a network trained here, whose class heads learn MultiBoxLoss's softmax cross-entropy.
   */
  scoreActivation?: 'sigmoid' | 'softmax';
}

/** The post-processing of a MobileNet SSD with `numClasses` score columns (the COCO model's settings). */
export function mobilenetSsdPostprocess(
  numClasses: number,
  labels?: readonly string[],
  { inputSize = MOBILENET_SSD_INPUT_SIZE, scoreActivation = 'sigmoid' }: MobilenetPostprocessOptions = {},
): PostprocessConfig {
  return {
    priors: mobilenetSsdPriors(inputSize),
    numClasses,
    backgroundClass: 0,
    boxCoding: MOBILENET_SSD_BOX_CODING,
    scoreActivation,
    scoreThreshold: 0.5,
    nmsThreshold: 0.6,
    topK: 100,
    keepTopK: 100,
    ...(labels ? { labels: [...labels] } : {}),
  };
}

let instances = 0;

class MobilenetSsdNetwork extends VariableNetwork implements MobilenetSsd {
  readonly numPriors: number;
  readonly convolutions: readonly ConvLayer[];
  readonly backbone: readonly ConvLayer[];
  readonly priors: TfGridPriorConfig;

  constructor(
    readonly version: 1 | 2,
    readonly numClasses: number,
    readonly width: number,
    readonly batchNorm: boolean,
    readonly lite: boolean,
    readonly inputSize: MobilenetSsdInputSize,
    readonly layers: MobilenetSsdLayers,
    variables: ReadonlyMap<string, tf.Variable>,
  ) {
    super(lite ? 'SSDLite MobileNet V2' : `SSD MobileNet V${version}`, variables);
    this.numPriors = layers.sources.reduce((n, s) => n + s.featureMap ** 2 * s.boxesPerLocation, 0);
    this.priors = mobilenetSsdPriors(inputSize);
    const { stem, blocks, last, extras, sources } = layers;
    this.backbone = [
      stem,
      ...blocks.flatMap((b) => [...(b.expand ? [b.expand] : []), b.depthwise, b.project]),
      ...(last ? [last] : []),
    ];
    this.convolutions = [
      ...this.backbone,
      ...extras,
      ...sources.flatMap((s) => [
        ...(s.locDepthwise ? [s.locDepthwise] : []),
        s.loc,
        ...(s.confDepthwise ? [s.confDepthwise] : []),
        s.conf,
      ]),
    ];
  }

  apply(images: tf.Tensor4D, mode: MobilenetForwardMode = {}): MobilenetSsdOutput {
    this.checkLive();
    const [n, h, w, c] = images.shape;
    const size = this.inputSize;
    if (images.rank !== 4 || h !== size || w !== size || c !== 3) {
      throw new RangeError(
        `images has shape [${images.shape.join(', ')}]; this ${this.lite ? 'SSDLite MobileNet V2' : `SSD MobileNet V${this.version}`} needs [N, ${size}, ${size}, 3] (NHWC)`,
      );
    }
    const { stem, blocks, last, extras, sources } = this.layers;
    const tapped = new Set(sources.map((s) => s.from));
    const ranges = mode.ranges;
    return tf.tidy(() => {
      const taps = new Map<string, tf.Tensor4D>();
      const clip = <T extends tf.Tensor>(name: string, y: T): T => {
        const range = ranges?.get(name);
        return range ? tf.clipByValue(y, range[0], range[1]) : y;
      };
      const conv = (x: tf.Tensor4D, layer: ConvLayer) => {
        const y = clip(layer.name, applyConv(x, layer, mode));
        if (tapped.has(layer.name)) taps.set(layer.name, y);
        return y;
      };
      let x = conv(images, stem);
      for (const block of blocks) {
        const input = x;
        if (block.expand) x = conv(x, block.expand);
        x = conv(conv(x, block.depthwise), block.project);
        if (block.residual) x = clip(`${block.name}/add`, tf.add(x, input));
      }
      if (last) x = conv(x, last);
      for (const extra of extras) x = conv(x, extra);
      const loc: tf.Tensor3D[] = [],
        conf: tf.Tensor3D[] = [];
      for (const source of sources) {
        const features = taps.get(source.from)!;
        const head = (x: tf.Tensor4D, depthwise: ConvLayer | undefined, layer: ConvLayer) =>
          clip(layer.name, applyConv(depthwise ? applyConv(x, depthwise, mode) : x, layer, mode));
        // NHWC reshaped to [N, H·W·boxes, k]: row (i·W + j)·boxes + b, the anchor order.
        loc.push(tf.reshape(head(features, source.locDepthwise, source.loc), [n, -1, 4]));
        conf.push(tf.reshape(head(features, source.confDepthwise, source.conf), [n, -1, this.numClasses]));
      }
      return { loc: clip('loc', tf.concat(loc, 1)), conf: clip('conf', tf.concat(conf, 1)) };
    });
  }
}

function validateOptions(
  options: MobilenetSsdOptions,
): Required<Omit<MobilenetSsdOptions, 'backgroundPrior'>> & Pick<MobilenetSsdOptions, 'backgroundPrior'> {
  const {
    numClasses,
    version = 2,
    width = 1,
    seed = 0,
    batchNorm = false,
    lite = false,
    headKernel = lite ? 3 : 1,
    inputSize = MOBILENET_SSD_INPUT_SIZE,
    backgroundPrior,
  } = options;
  if (version !== 1 && version !== 2)
    throw new RangeError(`version ${String(version)} must be 1 (SSD MobileNet V1) or 2 (SSD MobileNet V2)`);
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new RangeError(
      `numClasses ${numClasses} must be an integer ≥ 2 (the score columns including the background)`,
    );
  }
  if (!(typeof width === 'number' && width > 0 && width <= 1.4)) {
    throw new RangeError(`width ${width} must be in (0, 1.4]: it is MobileNet V2's depth multiplier`);
  }
  if (!Number.isInteger(seed)) throw new RangeError(`seed ${seed} must be an integer`);
  if (typeof batchNorm !== 'boolean') throw new TypeError(`batchNorm ${String(batchNorm)} must be a boolean`);
  if (headKernel !== 1 && headKernel !== 3) throw new RangeError(`headKernel ${headKernel} must be 1 or 3`);
  if (typeof lite !== 'boolean') throw new TypeError(`lite ${String(lite)} must be a boolean`);
  if (lite && version === 1)
    throw new RangeError('lite builds SSDLite MobileNet V2; version 1 has no SSDLite layout here (use version 2)');
  if (lite && headKernel !== 3)
    throw new RangeError('an SSDLite head is a 3×3 depthwise then a 1×1 convolution: headKernel must be 3');
  checkMobilenetSsdInputSize(inputSize);
  if (
    backgroundPrior !== undefined &&
    !(typeof backgroundPrior === 'number' && backgroundPrior > 0 && backgroundPrior < 1)
  ) {
    throw new RangeError(`backgroundPrior ${backgroundPrior} must be a probability in (0, 1)`);
  }
  return { numClasses, version, width, seed, batchNorm, headKernel, lite, inputSize, backgroundPrior };
}

/** Builds SSD (or SSDLite) MobileNet V2, or SSD MobileNet V1, with freshly initialised weights (He for the feature extractor, biases 0). */
export function createMobilenetSsd(options: MobilenetSsdOptions): MobilenetSsd {
  const { numClasses, version, width, seed, batchNorm, headKernel, lite, inputSize, backgroundPrior } =
    validateOptions(options);
  const b = new NetworkBuilder(`mobilenet_ssd_${++instances}/`, seed);
  const depth = (c: number) => makeDivisible(c * width);
  const sizeAfter = (size: number, stride: number) => Math.ceil(size / stride); // SAME padding
  /** Channels and map size of each layer's output. */
  const outputs = new Map<string, { channels: number; size: number }>();
  let channels = 3,
    size: number = inputSize;
  const depthwise = (name: string, stride: number, relu6: boolean, norm: boolean): ConvLayer => {
    const layer = b.depthwise(name, 'he', channels, {
      kernel: 3,
      stride,
      pad: 'same',
      relu: relu6,
      relu6,
      batchNorm: norm,
    });
    size = sizeAfter(size, stride);
    outputs.set(name, { channels, size });
    return layer;
  };
  const conv = (name: string, out: number, kernel: number, stride: number, relu6: boolean): ConvLayer => {
    const layer = b.conv(name, 'he', channels, out, { kernel, stride, pad: 'same', relu: relu6, relu6, batchNorm });
    [channels, size] = [out, sizeAfter(size, stride)];
    outputs.set(name, { channels, size });
    return layer;
  };

  const blocks: InvertedResidualBlock[] = [];
  let stem: ConvLayer, last: ConvLayer | undefined, sourceNames: string[], extrasBase: string;
  if (version === 1) {
    // see: mobilenet_v1.py: depth(d) = max(int(d · depth_multiplier), min_depth); SSD passes min_depth 16
    const depthV1 = (c: number) => Math.max(Math.floor(c * width), MIN_DEPTH);
    stem = conv(`${FEATURE_EXTRACTOR_V1}/Conv2d_0`, depthV1(STEM_CHANNELS), 3, 2, true);
    V1_BLOCKS.forEach(([stride, c], i) => {
      const name = `${FEATURE_EXTRACTOR_V1}/Conv2d_${i + 1}`;
      const dw = depthwise(`${name}_depthwise`, stride, true, batchNorm);
      blocks.push({ name, depthwise: dw, project: conv(`${name}_pointwise`, depthV1(c), 1, 1, true), residual: false });
    });
    sourceNames = [V1_FIRST_SOURCE, blocks[blocks.length - 1].project.name];
    extrasBase = `${FEATURE_EXTRACTOR_V1}/Conv2d_13_pointwise`;
  } else {
    stem = conv(`${FEATURE_EXTRACTOR}/Conv`, depth(STEM_CHANNELS), 3, 2, true);
    for (const [expansion, c, repeats, firstStride] of STAGES) {
      for (let r = 0; r < repeats; r++) {
        const name = `${FEATURE_EXTRACTOR}/expanded_conv${blocks.length === 0 ? '' : `_${blocks.length}`}`;
        const input = channels,
          stride = r === 0 ? firstStride : 1;
        // see: mobilenet_v2.py expand_input_by_factor; conv_blocks.py: expand only when it widens
        const inner = expansion === 1 ? input : makeDivisible(input * expansion);
        const expand = inner > input ? conv(`${name}/expand`, inner, 1, 1, true) : undefined;
        const dw = depthwise(`${name}/depthwise`, stride, true, batchNorm);
        const project = conv(`${name}/project`, depth(c), 1, 1, false);
        blocks.push({
          name,
          ...(expand ? { expand } : {}),
          depthwise: dw,
          project,
          residual: stride === 1 && input === channels,
        });
      }
    }
    last = conv(`${FEATURE_EXTRACTOR}/Conv_1`, depth(LAST_CHANNELS), 1, 1, true);
    sourceNames = [FIRST_SOURCE, last.name];
    extrasBase = `${FEATURE_EXTRACTOR}/layer_19`;
  }

  // see: feature_map_generators.py multi_resolution_feature_maps: names carry the depths built
  const extras: ConvLayer[] = [];
  const extraDepth = (d: number) => Math.max(Math.floor(d * width), MIN_DEPTH);
  EXTRA_DEPTHS.forEach((d, k) => {
    const inner = extraDepth(d / 2),
      outer = extraDepth(d);
    extras.push(conv(`${extrasBase}_1_Conv2d_${k + 2}_1x1_${inner}`, inner, 1, 1, true));
    const name = `${extrasBase}_2_Conv2d_${k + 2}_3x3_s2_${outer}`;
    // see: feature_map_generators.py: use_depthwise → separable_conv2d '<name>_depthwise', then a 1×1 '<name>'
    if (lite) extras.push(depthwise(`${name}_depthwise`, 2, true, batchNorm), conv(name, outer, 1, 1, true));
    else extras.push(conv(name, outer, 3, 2, true));
    sourceNames.push(extras[extras.length - 1].name);
  });

  // Softmax of (b, 0, ..., 0) gives the background e^b / (e^b + C − 1) = p.
  const classBias =
    backgroundPrior === undefined
      ? undefined
      : Float32Array.from({ length: numClasses }, (_, c) =>
          c === 0 ? Math.log((backgroundPrior * (numClasses - 1)) / (1 - backgroundPrior)) : 0,
        );
  const sources: MobilenetSource[] = sourceNames.map((from, k) => {
    const boxes = BOXES_PER_LOCATION[k],
      input = outputs.get(from)!;
    const init = backgroundPrior === undefined ? 'xavier' : 'small';
    const head = (kind: string, perBox: number, bias?: Float32Array) =>
      b.conv(`BoxPredictor_${k}/${kind}`, init, input.channels, boxes * perBox, {
        kernel: lite ? 1 : headKernel,
        pad: 'same',
        relu: false,
        bias: bias && Float32Array.from({ length: boxes * perBox }, (_, i) => bias[i % perBox]),
      });
    // see: convolutional_box_predictor.py use_depthwise: separable_conv2d '<kind>_depthwise' (conv_hyperparams: BN, ReLU6), then the 1×1
    const separable = (kind: string) =>
      lite
        ? {
            [`${kind === 'BoxEncodingPredictor' ? 'loc' : 'conf'}Depthwise`]: b.depthwise(
              `BoxPredictor_${k}/${kind}_depthwise`,
              'he',
              input.channels,
              { kernel: 3, stride: 1, pad: 'same', relu: true, relu6: true, batchNorm },
            ),
          }
        : {};
    const locDepthwise = separable('BoxEncodingPredictor');
    const loc = head('BoxEncodingPredictor', 4);
    const confDepthwise = separable('ClassPredictor');
    const conf = head('ClassPredictor', numClasses, classBias);
    return { from, ...locDepthwise, loc, ...confDepthwise, conf, boxesPerLocation: boxes, featureMap: input.size };
  });
  return new MobilenetSsdNetwork(
    version,
    numClasses,
    width,
    batchNorm,
    lite,
    inputSize,
    { stem, blocks, ...(last ? { last } : {}), extras, sources },
    b.variables,
  );
}

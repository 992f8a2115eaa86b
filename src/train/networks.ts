/**
 * The architectures the training loop trains, behind one interface: the network, the input it
 * takes, the classes it learns, and the loss of a batch. `ssd300`: SSD300 with MultiBoxLoss on
 * targets from the core's matcher; `mini`: the mini SSD (one class) with its grid loss;
 * `mobilenet-v2`: SSD MobileNet V2 (TF OD API layout) with MultiBoxLoss on targets matched to its
 * tfGrid anchors and encoded with TF box coding, optionally started from a converted COCO model;
 * `ssdlite-mobilenet-v2`: the same with SSDLite's depthwise-separable extras and heads (from the
 * COCO SSD model only the MobileNet base and the extras' 1×1 layers can be loaded);
 * `ssd-mobilenet-v1`: SSD MobileNet V1 (TF OD API layout), trained the same way (no pretrained
 * V1 model here: from scratch).
 */
import { readFile } from 'node:fs/promises';
import type * as tf from '@tensorflow/tfjs-core';
import { createMatcher } from '../core/matcher.js';
import { presetByName } from '../core/presets.js';
import type { BatchNormLayer, ConvLayer, ForwardMode, TrunkLayer } from '../model/layers.js';
import { createMiniSsd, type MiniSsd } from '../model/mini.js';
import {
  createMobilenetSsd,
  mobilenetSsdPostprocess,
  MOBILENET_SSD_INPUT_SIZE,
  type MobilenetSsd,
} from '../model/mobilenet-ssd.js';
import { decodeOnnxModel } from '../model/onnx/read.js';
import { loadTfliteWeights, readConvertedOnnxWeights, readTfliteWeights } from '../model/tflite-weights.js';
import { MINI_PREPROCESS } from '../model/onnx/export-mini.js';
import { createSsd300, type Ssd300 } from '../model/ssd300.js';
import { inputPresets } from '../runtime/input-presets.js';
import type { PreprocessSpec } from '../runtime/types.js';
import { multiBoxLoss } from './loss.js';
import { buildMiniTargets, miniLoss } from './mini-loss.js';
import { buildTargets, type BoxAnnotation } from './targets.js';

export { isMobilenetArch, MOBILENET_ARCHS, TRAINING_ARCHS, type TrainingArch } from './arch-names.js';
import { isMobilenetArch, mobilenetVariant, type MobilenetArch, type TrainingArch } from './arch-names.js';

export interface NetworkOptions {
  arch: TrainingArch;
  width: number;
  seed: number;
  batchNorm: boolean;
  backgroundPrior?: number;
  /** R, G, B divisors after the mean subtraction. */
  inputStd: readonly number[];
  /** The dataset's class names, background first. */
  datasetClasses: readonly string[];
  /** mini only: the one class to detect; default every object ('object'). */
  className?: string;
  /**
   * mobilenet-v2 / ssdlite-mobilenet-v2 only: a TF OD API SSD MobileNet V2 to start from
   * (`.tflite`, or its ssd-edge ONNX conversion): see initMobilenetFrom.
   */
  initFrom?: string;
  /** mobilenet-v2 / ssdlite-mobilenet-v2 only: 300 (default) or 320. */
  inputSize?: number;
}

export interface LossValue {
  total: tf.Scalar;
  loc: tf.Scalar;
  conf: tf.Scalar;
  numPositive: number;
}

export interface TrainingNetwork {
  arch: TrainingArch;
  model: Ssd300 | MiniSsd | MobilenetSsd;
  /**
   * The names of the trainable variables `freezeBackboneSteps` holds (the MobileNet base's;
   * empty for the other architectures).
   */
  backboneVariables: ReadonlySet<string>;
  /** The classes the network outputs, background first (what the checkpoint records). */
  classes: string[];
  /** The network's input (NCHW as exported; the loop feeds NHWC). */
  input: PreprocessSpec;
  /** The dataset's annotation as this network learns it (the mini keeps only its class). */
  annotation(boxes: Float32Array, labels: Int32Array): { boxes: Float32Array; labels: Int32Array };
  /** The batch normalisation layers in the order a training forward pass meets them (none without it). */
  batchNormLayers: BatchNormLayer[];
  /** The batch's loss; inside a gradient tape. */
  loss(images: tf.Tensor4D, annotations: readonly BoxAnnotation[], mode: ForwardMode): LossValue;
  dispose(): void;
}

/** ssd.pytorch's input (RGB minus 123, 117, 104, NCHW, 300 × 300), divided by `std`. */
export function trainingInput(std: readonly number[]): PreprocessSpec {
  return { ...inputPresets.ssd300Voc, std: [std[0], std[1], std[2]] };
}

function batchNormLayersOf(trunk: readonly TrunkLayer[]): BatchNormLayer[] {
  return trunk.flatMap((l) => (l.kind === 'conv' && (l as ConvLayer).batchNorm ? [(l as ConvLayer).batchNorm!] : []));
}

export async function createTrainingNetwork(o: NetworkOptions): Promise<TrainingNetwork> {
  return o.arch === 'mini' ? miniNetwork(o) : isMobilenetArch(o.arch) ? mobilenetNetwork(o) : ssd300Network(o);
}

/** The trainable variables of `layers` (filters, biases, batch normalisation's gamma and beta). */
function variablesOf(
  model: { trainableVariables: ReadonlyMap<string, tf.Variable> },
  layers: readonly ConvLayer[],
): Set<string> {
  const prefixes = layers.map((l) => `${l.name}.`);
  return new Set(
    [...model.trainableVariables.keys()].filter((name) =>
      prefixes.some((p) => name.startsWith(p) && !name.slice(p.length).includes('/')),
    ),
  );
}

/**
 * Loads a pretrained SSD MobileNet V2 (TF OD API, full-convolution heads: the COCO model) into
 * `model`; returns the layers loaded. SSD: the feature extractor and the box heads (new class
 * heads). SSDLite: the MobileNet base and the extras' 1×1 layers, the layers it shares with the SSD
 * model (its extras' separable 3×3 layers and its depthwise-separable heads stay new). `.tflite`
 * by layer name; an ssd-edge ONNX conversion by position (it keeps TFLite's operator order, not
 * its names, so the SSD layout's names are given), every shape checked.
 */
export async function initMobilenetFrom(model: MobilenetSsd, file: string): Promise<string[]> {
  const bytes = new Uint8Array(await readFile(file));
  const lower = file.toLowerCase();
  if (!lower.endsWith('.tflite') && !lower.endsWith('.onnx')) {
    throw new RangeError(`train: --init-from '${file}' is neither a .tflite nor an .onnx file`);
  }
  let names = model.convolutions.map((l) => l.name);
  if (model.lite) {
    const ssd = createMobilenetSsd({ numClasses: 2, width: model.width });
    names = ssd.convolutions.map((l) => l.name);
    ssd.dispose();
  }
  const weights = lower.endsWith('.tflite')
    ? readTfliteWeights(bytes)
    : readConvertedOnnxWeights(decodeOnnxModel(bytes), names);
  const shared = new Set([
    ...model.backbone.map((l) => l.name),
    ...model.layers.extras.filter((l) => l.name.includes('/layer_19_1_')).map((l) => l.name),
  ]);
  return loadTfliteWeights(model.convolutions, weights, {
    include: model.lite ? (l) => shared.has(l.name) : (l) => !l.name.endsWith('/ClassPredictor'),
  });
}

async function mobilenetNetwork(o: NetworkOptions): Promise<TrainingNetwork> {
  const classes = [...o.datasetClasses];
  const numClasses = classes.length;
  const inputSize = o.inputSize ?? MOBILENET_SSD_INPUT_SIZE;
  const matcher = await createMatcher(mobilenetSsdPostprocess(numClasses, classes, { inputSize }));
  const model = createMobilenetSsd({
    numClasses,
    width: o.width,
    seed: o.seed,
    batchNorm: o.batchNorm,
    backgroundPrior: o.backgroundPrior,
    ...mobilenetVariant(o.arch as MobilenetArch),
    inputSize,
  });
  try {
    if (o.initFrom !== undefined && model.version === 1)
      throw new RangeError('train: initFrom loads a pretrained SSD MobileNet V2; ssd-mobilenet-v1 trains from scratch');
    if (o.initFrom !== undefined) await initMobilenetFrom(model, o.initFrom);
  } catch (error) {
    model.dispose();
    matcher.dispose();
    throw error;
  }
  const size = inputSize;
  return {
    arch: o.arch,
    model,
    classes,
    batchNormLayers: model.convolutions.flatMap((l) => (l.batchNorm ? [l.batchNorm] : [])),
    backboneVariables: variablesOf(model, model.backbone),
    // TF OD API MobileNets take RGB in [−1, 1]: (x − 127.5) / 127.5
    input: {
      size: [size, size],
      channels: 'rgb',
      mean: [127.5, 127.5, 127.5],
      std: [o.inputStd[0], o.inputStd[1], o.inputStd[2]],
      layout: 'nchw',
    },
    annotation: (boxes, labels) => ({ boxes, labels }),
    loss(images, annotations, mode) {
      const targets = buildTargets(matcher, annotations);
      return multiBoxLoss(model.apply(images, mode), targets);
    },
    dispose() {
      model.dispose();
      matcher.dispose();
    },
  };
}

async function ssd300Network(o: NetworkOptions): Promise<TrainingNetwork> {
  const classes = [...o.datasetClasses];
  const numClasses = classes.length;
  const matcher = await createMatcher({ ...presetByName('ssd300Voc'), numClasses, labels: classes });
  const model = createSsd300({
    numClasses,
    width: o.width,
    seed: o.seed,
    batchNorm: o.batchNorm,
    backgroundPrior: o.backgroundPrior,
  });
  return {
    arch: 'ssd300',
    model,
    classes,
    input: trainingInput(o.inputStd),
    batchNormLayers: batchNormLayersOf(model.layers.trunk),
    backboneVariables: new Set(),
    annotation: (boxes, labels) => ({ boxes, labels }),
    loss(images, annotations, mode) {
      const targets = buildTargets(matcher, annotations);
      return multiBoxLoss(model.apply(images, mode), targets);
    },
    dispose() {
      model.dispose();
      matcher.dispose();
    },
  };
}

async function miniNetwork(o: NetworkOptions): Promise<TrainingNetwork> {
  const { className } = o;
  const classIndex = className === undefined ? -1 : o.datasetClasses.indexOf(className);
  if (className !== undefined && classIndex < 1) {
    throw new RangeError(
      `train: --class '${className}' is not a class of the dataset (${o.datasetClasses.slice(1).join(', ')})`,
    );
  }
  const model = createMiniSsd({ width: o.width, seed: o.seed });
  return {
    arch: 'mini',
    model,
    classes: ['background', className ?? 'object'],
    batchNormLayers: batchNormLayersOf(model.trunk),
    backboneVariables: new Set(),
    input: { ...MINI_PREPROCESS, std: [o.inputStd[0], o.inputStd[1], o.inputStd[2]] },
    annotation(boxes, labels) {
      if (classIndex < 0) return { boxes, labels: new Int32Array(labels.length).fill(1) };
      const keep = [...labels.keys()].filter((i) => labels[i] === classIndex);
      return {
        boxes: Float32Array.from(keep.flatMap((i) => [...boxes.subarray(4 * i, 4 * i + 4)])),
        labels: new Int32Array(keep.length).fill(1),
      };
    },
    loss(images, annotations, mode) {
      // The targets are tensors of the caller's tidy, as the SSD300 targets are.
      return miniLoss(model.apply(images, mode), buildMiniTargets(annotations));
    },
    dispose: () => model.dispose(),
  };
}

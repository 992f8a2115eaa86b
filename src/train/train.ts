/**
 * The SSD training loop: SGD with momentum and weight decay, linear warm-up then a step schedule,
 * batches from a PASCAL VOC dataset, targets from the core's matcher, MultiBoxLoss, checkpoints
 * and an exact resume.
 *
 * - Optimiser: torch.optim.SGD's semantics (what ssd.pytorch trains with), weight decay on every
 *   variable: d = g + wd·w;  v = μ·v + d;  w −= lr·v. The momentum buffers are tf.Variables.
 * - Learning rate at step s (0-based): lr · min(1, (s + 1) / warmupSteps) · 0.1^(milestones ≤ s),
 *   milestones being `steps` (global step numbers, as ssd.pytorch's `lr_steps`).
 * - Data: split `trainval` (by default), difficult objects dropped (ssd.pytorch's
 *   keep_difficult=False). Each epoch visits the images in an order shuffled by
 *   mulberry32(seed, epoch), in floor(images / batch) batches (the remainder is left out, as
 *   drop_last). Augmentation (`augment`): 'flip', a horizontal flip at p = `flip`, drawn from the
 *   same per-epoch stream; or 'ssd', the SSD augmentation (data/augment.ts: photometric distortion,
 *   zoom-out, min-IoU crop, flip at p = `flip`), each image with its own stream seeded from it.
 * - Cores: with `workers` > 1 each batch is split between this thread and worker threads
 *   (gradient-workers.ts), and their losses and gradients combined exactly (gradients.ts).
 * - Resume: everything random is a function of (seed, epoch), so a run resumed from a checkpoint
 *   (weights, momentum, step) draws the same batches and computes the same losses as one that
 *   was never interrupted.
 */
import { access, readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { updateBatchNorm, type BatchNormLayer } from '../model/layers.js';
import type { Ssd300 } from '../model/ssd300.js';
import { decodeImage } from '../runtime/image-node.js';
import { createWasmPreprocessor, type WasmPreprocessor } from '../runtime/preprocess-wasm.js';
import type { PreprocessSpec } from '../runtime/types.js';
import { mulberry32 } from '../util/random.js';
import { augmentSsd } from './data/augment.js';
import { startGradientWorkers, type GradientWorkers } from './gradient-workers.js';
import { combineParts, computePartGradients, type PartGradients } from './gradients.js';
import { readVocDataset, type VocItem } from './data/index.js';
import { initFromPytorch } from './init-from.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type CheckpointMeta } from './checkpoint.js';
import { createTrainingNetwork, isMobilenetArch, TRAINING_ARCHS, type NetworkOptions, type TrainingArch, type TrainingNetwork } from './networks.js';
import type { BoxAnnotation } from './targets.js';
import { initTraining, TRAINING_BACKENDS, type TrainingBackendName } from './tfjs.js';

export interface TrainOptions {
  /** The VOC dataset directory (Annotations, JPEGImages, ImageSets/Main). */
  data: string;
  /** Image set to train on. Default 'trainval'. */
  split?: string;
  /**
   * 'ssd300' (default), 'mini' (the mini SSD: one class, a 4 × 3 grid), 'mobilenet-v2' (SSD
   * MobileNet V2, TF OD API layout), 'ssdlite-mobilenet-v2' (SSDLite: depthwise-separable extras and
   * heads) or 'ssd-mobilenet-v1' (SSD MobileNet V1, TF OD API layout; no initFrom).
   */
  arch?: TrainingArch;
  /** mobilenet-v2 / ssdlite-mobilenet-v2: the input's height and width, 300 (default) or 320. */
  inputSize?: number;
  /**
   * mobilenet-v2 / ssdlite-mobilenet-v2: for the first this many steps the MobileNet base
   * (`FeatureExtractor/MobilenetV2/Conv` … `Conv_1`) is held: its weights, momentum and batch-norm
   * statistics do not change, and its gradients are not computed. Default 0.
   */
  freezeBackboneSteps?: number;
  /**
   * Pretrained weights to start from; ignored on a resume (the checkpoint has the weights).
   * - mobilenet-v2: a pretrained SSD MobileNet V2 (`.tflite`, or its ssd-edge ONNX conversion such
   *   as models/ssd-mobilenet-v2-coco.onnx): the feature extractor and box heads loaded, new class
   *   heads for the dataset's classes. The network must have the file's shapes (width 1 for the
   *   COCO model) (a mismatch names the layer).
   * - ssdlite-mobilenet-v2: the same file's MobileNet base and extra 1×1 layers (networks.ts initMobilenetFrom).
   * - ssd300: a PyTorch checkpoint (`.pth`) whose VGG16 weights start conv1_1 … conv7 (ssd.pytorch's
   *   `vgg16_reducedfc.pth`, or an ssd.pytorch SSD checkpoint's `vgg.N` keys; see init-from.ts). Width 1.
   */
  initFrom?: string;
  /** mini only: the dataset class to detect. Default: every object, as one class 'object'. */
  className?: string;
  /** SSD300 width multiplier, in (0, 1]. Default 1. */
  width?: number;
  /** Batch normalisation after every trunk convolution (Ssd300Options.batchNorm). Default false. */
  batchNorm?: boolean;
  /** The conf heads' initial background probability (Ssd300Options.backgroundPrior). Default: none. */
  backgroundPrior?: number;
  /**
   * Per-channel divisor (R, G, B) after the mean subtraction: [1, 1, 1] is ssd.pytorch's input;
   * about [58, 57, 57] gives unit-variance pixels, which a network trained from scratch wants.
   * The checkpoint and the export record the resulting pre-processing. Default [1, 1, 1] for
   * ssd300, [58, 57, 57] for mini.
   */
  inputStd?: number[];
  /** Passes over the data. Default 1. */
  epochs?: number;
  /** Images per step. Default 8. */
  batch?: number;
  /** Base learning rate. Default 1e-3 (ssd.pytorch). */
  lr?: number;
  /** Default 0.9. */
  momentum?: number;
  /** Default 5e-4. */
  weightDecay?: number;
  /**
   * Scales the gradients down when their global L2 norm (over every variable) exceeds this, so
   * one bad batch cannot throw a from-scratch network off. Default: no clipping.
   */
  clipGradNorm?: number;
  /** Linear warm-up over this many steps. Default 0. */
  warmupSteps?: number;
  /** Global step numbers (increasing) at which the learning rate is multiplied by 0.1. Default none. */
  steps?: number[];
  /** Stop after this many steps in all (a checkpoint is written there). Default: epochs × steps per epoch. */
  maxSteps?: number;
  /** Train on the first `limit` images of the split only (tests, overfitting checks). */
  limit?: number;
  /** Horizontal flip probability. Default 0.5. */
  flip?: number;
  /** 'flip' (default): only the horizontal flip; 'ssd': the full SSD augmentation (see the module comment). */
  augment?: 'flip' | 'ssd';
  /**
   * Threads that share each batch (data parallel: this one plus workers − 1 worker threads, each
   * with its own tfjs; see gradient-workers.ts). tfjs-wasm uses one core per thread. Default 1.
   */
  workers?: number;
  /** 'auto' (default), or one of TRAINING_BACKENDS. */
  backend?: TrainingBackendName | 'auto';
  /** Where checkpoints go (required). */
  checkpointDir: string;
  /** Save every this many steps (and always at the end). Default 1000; 0: only at the end. */
  checkpointEvery?: number;
  /**
   * Continue from the checkpoint in checkpointDir (which must exist). Default false. A different
   * data directory, split or anything that changes the data order or the network is refused; a
   * different lr, momentum, weight decay, warm-up, lr steps or clipping is reported through `log`.
   */
  resume?: boolean;
  /** Without `resume`, replace a checkpoint already in checkpointDir (refused otherwise). Default false. */
  force?: boolean;
  /** Leave out (and report) invalid boxes, images and repeated ids instead of refusing the dataset (ReadVocOptions.skipInvalid). Default false. */
  skipInvalid?: boolean;
  /** Seeds the initial weights, the shuffling and the augmentation. Default 1. */
  seed?: number;
  onProgress?: (progress: TrainProgress) => void;
  /** Receives status lines (the chosen backend, resumes, checkpoints). Default: nothing. */
  log?: (line: string) => void;
}

export interface TrainProgress {
  /** 0-based epoch of this step. */
  epoch: number;
  /** Completed steps, this one included (1-based). */
  step: number;
  totalSteps: number;
  stepsPerEpoch: number;
  loss: { total: number; loc: number; conf: number };
  numPositive: number;
  /** The learning rate this step used. */
  lr: number;
  /** The gradients' global L2 norm before clipping (only computed with clipGradNorm). */
  gradNorm?: number;
  /** This step's images over its wall time (data loading included). */
  imagesPerSecond: number;
}

export interface TrainResult {
  backend: TrainingBackendName;
  /** The final checkpoint's checkpoint.json. */
  checkpoint: string;
  /** Completed steps (including those before a resume). */
  steps: number;
  /** The step this run started from (0, or the resumed checkpoint's). */
  startStep: number;
  /** Losses of the steps this run made, in order. */
  losses: number[];
  /** Mean images/s over this run's steps. */
  imagesPerSecond: number;
  seconds: number;
}

type Resolved = Required<Omit<TrainOptions, 'onProgress' | 'log' | 'maxSteps' | 'limit' | 'backgroundPrior' | 'clipGradNorm' | 'className'>> &
  { maxSteps?: number; limit?: number; backgroundPrior?: number; clipGradNorm?: number; className?: string; initFrom?: string };
const MOBILENET_INPUT_SIZES = [300, 320];

const positiveInteger = (name: string, value: number) => {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`train: ${name} is ${value}; it must be an integer ≥ 1`);
};

/** Checks and completes the options; throws a RangeError/Error naming the bad one. */
export function resolveTrainOptions(options: TrainOptions): Resolved {
  const o: Resolved = {
    split: 'trainval', arch: 'ssd300', width: 1, batchNorm: false, inputStd: options.arch === 'mini' ? [58, 57, 57] : isMobilenetArch(options.arch ?? '') ? [127.5, 127.5, 127.5] : [1, 1, 1], inputSize: 300, freezeBackboneSteps: 0, epochs: 1, batch: 8, lr: 1e-3, momentum: 0.9, weightDecay: 5e-4,
    warmupSteps: 0, steps: [], flip: 0.5, augment: 'flip', workers: 1, backend: 'auto', checkpointEvery: 1000, resume: false, force: false, skipInvalid: false, seed: 1,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as unknown as Resolved;
  if (typeof o.data !== 'string' || o.data === '') throw new Error('train: data (the VOC dataset directory) is required');
  if (typeof o.checkpointDir !== 'string' || o.checkpointDir === '') throw new Error('train: checkpointDir is required');
  if (!TRAINING_ARCHS.includes(o.arch)) throw new RangeError(`train: arch '${String(o.arch)}' is not one of ${TRAINING_ARCHS.join(', ')}`);
  if (o.className !== undefined && o.arch !== 'mini') throw new RangeError('train: className picks the one class of a mini SSD; ssd300 learns every class');
  if (!(typeof o.width === 'number' && o.width > 0 && o.width <= 1)) throw new RangeError(`train: width is ${o.width}; it must be in (0, 1]`);
  if (o.initFrom !== undefined) {
    const pytorch = /\.(pth|pt)$/i.test(o.initFrom);
    if (pytorch ? o.arch !== 'ssd300' : !isMobilenetArch(o.arch)) {
      throw new RangeError(pytorch ? `train: initFrom loads VGG16 weights into ssd300; arch is '${o.arch}'`
        : `train: initFrom loads a pretrained SSD MobileNet V2; it needs arch mobilenet-v2 or ssdlite-mobilenet-v2, not ${o.arch}`);
    }
  }
  if (!MOBILENET_INPUT_SIZES.includes(o.inputSize)) throw new RangeError(`train: inputSize is ${o.inputSize}; use ${MOBILENET_INPUT_SIZES.join(' or ')}`);
  if (o.inputSize !== 300 && !isMobilenetArch(o.arch)) throw new RangeError(`train: inputSize ${o.inputSize} is for mobilenet-v2 and ssdlite-mobilenet-v2; ${o.arch} has its own`);
  if (!Number.isInteger(o.freezeBackboneSteps) || o.freezeBackboneSteps < 0) {
    throw new RangeError(`train: freezeBackboneSteps is ${o.freezeBackboneSteps}; it must be an integer ≥ 0`);
  }
  if (o.freezeBackboneSteps > 0 && !isMobilenetArch(o.arch)) {
    throw new RangeError(`train: freezeBackboneSteps holds a MobileNet base; arch ${o.arch} has none (use mobilenet-v2 or ssdlite-mobilenet-v2)`);
  }
  if (typeof o.batchNorm !== 'boolean') throw new TypeError(`train: batchNorm is ${String(o.batchNorm)}; it must be a boolean`);
  for (const name of ['resume', 'force', 'skipInvalid'] as const) {
    if (typeof o[name] !== 'boolean') throw new TypeError(`train: ${name} is ${String(o[name])}; it must be a boolean`);
  }
  if (o.backgroundPrior !== undefined && !(o.backgroundPrior > 0 && o.backgroundPrior < 1)) {
    throw new RangeError(`train: backgroundPrior is ${o.backgroundPrior}; it must be in (0, 1)`);
  }
  if (!Array.isArray(o.inputStd) || o.inputStd.length !== 3 || !o.inputStd.every(v => Number.isFinite(v) && v > 0)) {
    throw new RangeError(`train: inputStd is [${String(o.inputStd)}]; it must be three numbers > 0 (R, G, B)`);
  }
  positiveInteger('epochs', o.epochs);
  positiveInteger('workers', o.workers);
  positiveInteger('batch', o.batch);
  if (!(Number.isFinite(o.lr) && o.lr > 0)) throw new RangeError(`train: lr is ${o.lr}; it must be a number > 0`);
  if (!(o.momentum >= 0 && o.momentum < 1)) throw new RangeError(`train: momentum is ${o.momentum}; it must be in [0, 1)`);
  if (!(Number.isFinite(o.weightDecay) && o.weightDecay >= 0)) throw new RangeError(`train: weightDecay is ${o.weightDecay}; it must be ≥ 0`);
  if (o.clipGradNorm !== undefined && !(Number.isFinite(o.clipGradNorm) && o.clipGradNorm > 0)) {
    throw new RangeError(`train: clipGradNorm is ${o.clipGradNorm}; it must be a number > 0`);
  }
  if (!Number.isInteger(o.warmupSteps) || o.warmupSteps < 0) throw new RangeError(`train: warmupSteps is ${o.warmupSteps}; it must be an integer ≥ 0`);
  if (!Array.isArray(o.steps) || o.steps.some((s, i) => !Number.isInteger(s) || s < 1 || (i > 0 && s <= o.steps[i - 1]))) {
    throw new RangeError(`train: steps is [${String(o.steps)}]; it must list increasing integers ≥ 1`);
  }
  if (o.maxSteps !== undefined) positiveInteger('maxSteps', o.maxSteps);
  if (o.limit !== undefined) positiveInteger('limit', o.limit);
  if (!(o.flip >= 0 && o.flip <= 1)) throw new RangeError(`train: flip is ${o.flip}; it must be in [0, 1]`);
  if (o.augment !== 'flip' && o.augment !== 'ssd') throw new RangeError(`train: augment is '${String(o.augment)}'; use flip or ssd`);
  if (!Number.isInteger(o.checkpointEvery) || o.checkpointEvery < 0) throw new RangeError(`train: checkpointEvery is ${o.checkpointEvery}; it must be an integer ≥ 0`);
  if (!Number.isInteger(o.seed)) throw new RangeError(`train: seed is ${o.seed}; it must be an integer`);
  if (o.backend !== 'auto' && !TRAINING_BACKENDS.includes(o.backend)) {
    throw new RangeError(`train: backend '${o.backend}' is not one of auto, ${TRAINING_BACKENDS.join(', ')}`);
  }
  return o;
}

/** The learning rate of 0-based step `step`: linear warm-up, then ×0.1 at each milestone passed. */
export function learningRate(step: number, { lr, warmupSteps = 0, steps = [] }: { lr: number; warmupSteps?: number; steps?: readonly number[] }): number {
  const warm = warmupSteps > 0 && step < warmupSteps ? (step + 1) / warmupSteps : 1;
  const decays = steps.filter(s => step >= s).length;
  return lr * warm * 0.1 ** decays;
}

/**
 * One epoch's plan, from (seed, epoch): the image order, which of those images are flipped
 * (augment 'flip'), and each position's augmentation seed (augment 'ssd').
 */
export function epochPlan(seed: number, epoch: number, numImages: number, flip: number): { order: number[]; flipped: boolean[]; seeds: number[] } {
  const random = mulberry32((Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  const order = Array.from({ length: numImages }, (_, i) => i);
  for (let i = numImages - 1; i > 0; i--) { // Fisher–Yates
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const flipped = order.map(() => random() < flip);
  const seeds = order.map(() => Math.floor(random() * 2 ** 32));
  return { order, flipped, seeds };
}

/** The global L2 norm of `grads` and the factor min(1, maxNorm / norm) that clips it (torch.nn.utils.clip_grad_norm_). */
function clipScale(grads: readonly tf.Tensor[], maxNorm: number): { norm: number; scale: number } {
  const norm = Math.sqrt(tf.tidy(() => tf.addN(grads.map(g => tf.sum(tf.square(g)))).dataSync()[0]));
  return { norm, scale: norm > maxNorm ? maxNorm / norm : 1 };
}

/** Moves batch normalisation's moving statistics toward a batch's (stats in `layers`' order). */
function applyBatchNorm(layers: readonly BatchNormLayer[], stats: PartGradients['stats']): void {
  if (stats.length !== layers.length) throw new Error(`train: ${stats.length} batch-norm statistics for ${layers.length} layers`);
  updateBatchNorm(layers.map((layer, k) => ({
    layer, mean: tf.tensor1d(stats[k].mean), variance: tf.tensor1d(stats[k].variance), count: stats[k].count,
  })));
}

/** ssd.pytorch's RandomMirror on normalised boxes: xmin' = 1 − xmax, xmax' = 1 − xmin. */
function flipBoxes(boxes: Float32Array): Float32Array {
  const out = boxes.slice();
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = 1 - boxes[i + 2];
    out[i + 2] = 1 - boxes[i];
  }
  return out;
}

/** Mirrors image `index` of an NHWC [*, height, width, 3] buffer in place. */
function flipNhwc(data: Float32Array, index: number, width: number, height: number): void {
  const rowLength = width * 3;
  for (let y = 0; y < height; y++) {
    const row = (index * height + y) * rowLength;
    for (let a = 0, b = width - 1; a < b; a++, b--) {
      for (let c = 0; c < 3; c++) {
        const i = row + a * 3 + c, j = row + b * 3 + c;
        const t = data[i]; data[i] = data[j]; data[j] = t;
      }
    }
  }
}

/** Keeps the non-difficult objects (ssd.pytorch keep_difficult=False), as the network learns them. */
function annotationOf(item: VocItem, annotate: TrainingNetwork['annotation']): { boxes: Float32Array; labels: Int32Array } {
  const keep = [...item.difficult.keys()].filter(i => item.difficult[i] === 0);
  return annotate(Float32Array.from(keep.flatMap(i => [...item.boxes.subarray(4 * i, 4 * i + 4)])),
                  Int32Array.from(keep.map(i => item.labels[i])));
}

interface Batch { images: Float32Array; annotations: BoxAnnotation[] }

interface BatchPlan { flips: readonly boolean[]; seeds: readonly number[]; augment: 'flip' | 'ssd'; flip: number }

async function loadBatch(items: readonly VocItem[], plan: BatchPlan, pre: WasmPreprocessor, spec: PreprocessSpec,
                         annotate: TrainingNetwork['annotation']): Promise<Batch> {
  const [width, height] = spec.size;
  const images = new Float32Array(items.length * width * height * 3);
  const decoded = await Promise.all(items.map(item => decodeImage(item.imagePath)));
  const flips = plan.flips;
  const annotations = items.map((item, i) => {
    const { boxes, labels } = annotationOf(item, annotate);
    if (plan.augment === 'ssd') {
      const mean = spec.channels === 'rgb' ? spec.mean : [spec.mean[2], spec.mean[1], spec.mean[0]] as const;
      // Augmented at the source's size (a square), then resized to the input by the pre-processing.
      const size = Math.max(decoded[i].width, decoded[i].height);
      const out = augmentSsd(decoded[i], boxes, labels, mulberry32(plan.seeds[i]), { size, mean, flip: plan.flip });
      pre.run(out.image, spec, images, i);
      return { boxes: out.boxes, labels: out.labels };
    }
    pre.run(decoded[i], spec, images, i);
    if (!flips[i]) return { boxes, labels };
    flipNhwc(images, i, width, height);
    return { boxes: flipBoxes(boxes), labels };
  });
  return { images, annotations };
}

/** 'a NaN gradient of <variable>' (or of a batch-norm statistic) when one holds NaN or ±Infinity. */
function nonFiniteGradients(names: readonly string[], result: PartGradients): string | undefined {
  const first = (values: Float32Array) => values.find(v => !Number.isFinite(v));
  for (const [i, grad] of result.grads.entries()) {
    const v = first(grad);
    if (v !== undefined) return `a gradient of ${names[i]} is ${v}`;
  }
  for (const [k, { mean, variance }] of result.stats.entries()) {
    const v = first(mean) ?? first(variance);
    if (v !== undefined) return `a batch-norm statistic of layer ${k + 1} is ${v}`;
  }
  return undefined;
}

/** The options a checkpoint records (and a resume checks). */
function recordedOptions(o: Resolved): Record<string, unknown> {
  const { data, split, arch, width, batchNorm, backgroundPrior, inputStd, epochs, batch, lr, momentum, weightDecay, warmupSteps, steps, flip, augment, seed, limit, maxSteps, clipGradNorm, className, initFrom,
          inputSize, freezeBackboneSteps } = o;
  return { data: resolvePath(data), split, arch, width, batchNorm, backgroundPrior: backgroundPrior ?? null, inputStd, epochs, batch, lr, momentum, weightDecay,
           inputSize, freezeBackboneSteps,
           initFrom: initFrom === undefined ? null : resolvePath(initFrom),
           warmupSteps, clipGradNorm: clipGradNorm ?? null, className: className ?? null, steps, flip, augment, seed, limit: limit ?? null, maxSteps: maxSteps ?? null };
}

/**
 * Trains SSD300 on a VOC dataset. Initialises tfjs for training (initTraining: gradients and the
 * backend), then runs the steps, calling `onProgress` after each, saving a checkpoint every
 * `checkpointEvery` steps and at the end. See the module comment for the optimiser, schedule,
 * data order and augmentation.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const o = resolveTrainOptions(options);
  const log = options.log ?? (() => {});
  try {
    await access(o.data);
  } catch {
    throw new Error(`train: data directory '${o.data}' does not exist`);
  }
  if (!o.resume && !o.force && await hasCheckpoint(o.checkpointDir)) {
    throw new Error(`train: '${o.checkpointDir}' already holds a checkpoint; pass --resume to continue it, --force to replace it, ` +
      'or give another --checkpoints folder');
  }
  const dataset = await readVocDataset(o.data, { split: o.split, skipInvalid: o.skipInvalid });
  const { skipped } = dataset;
  if (skipped.messages.length > 0) {
    log(`left out of '${o.data}' (${o.split}): ${skipped.boxes} box${skipped.boxes === 1 ? '' : 'es'}, ${skipped.images} image${skipped.images === 1 ? '' : 's'}; ` +
      `first: ${skipped.messages[0]}`);
  }
  const items = o.limit === undefined ? dataset.items : dataset.items.slice(0, o.limit);
  if (items.length < o.batch) {
    throw new RangeError(`train: batch ${o.batch} is larger than the ${items.length} images of split '${o.split}' in '${o.data}'`);
  }
  const stepsPerEpoch = Math.floor(items.length / o.batch);
  const totalSteps = Math.min(o.epochs * stepsPerEpoch, o.maxSteps ?? Infinity);

  let resumed: Awaited<ReturnType<typeof loadCheckpoint>> | undefined;
  if (o.resume) {
    if (!(await hasCheckpoint(o.checkpointDir))) throw new Error(`train: --resume, but there is no checkpoint in '${o.checkpointDir}'`);
    resumed = await loadCheckpoint(o.checkpointDir);
    const m = resumed.meta, rec = m.options;
    const expect: [string, unknown, unknown][] = [
      ['arch', m.arch, o.arch], ['width', m.width, o.width], ['batchNorm', m.batchNorm ?? false, o.batchNorm],
      ['className', rec.className ?? null, o.className ?? null], ['inputStd', String(m.preprocess?.std ?? [1, 1, 1]), String(o.inputStd)],
      ['inputSize', isMobilenetArch(m.arch) ? m.preprocess?.size[0] ?? 300 : 300, o.inputSize],
      ['data', resolvePath(String(rec.data)), resolvePath(o.data)], ['split', rec.split, o.split],
      ['batch', rec.batch, o.batch], ['seed', rec.seed, o.seed], ['flip', rec.flip, o.flip], ['augment', rec.augment ?? 'flip', o.augment], ['limit', rec.limit, o.limit ?? null],
    ];
    for (const [name, saved, now] of expect) {
      if (saved !== now) throw new Error(`train: cannot resume: the checkpoint in '${o.checkpointDir}' has ${name} ${String(saved)}, this run ${String(now)}`);
    }
    const changed = ([['lr', rec.lr, o.lr], ['momentum', rec.momentum, o.momentum], ['weightDecay', rec.weightDecay, o.weightDecay],
      ['warmupSteps', rec.warmupSteps, o.warmupSteps], ['steps', String(rec.steps), String(o.steps)],
      ['clipGradNorm', rec.clipGradNorm ?? null, o.clipGradNorm ?? null]] as [string, unknown, unknown][])
      .filter(([, saved, now]) => saved !== undefined && saved !== now)
      .map(([name, saved, now]) => `${name} ${String(now)} (the checkpoint was trained with ${String(saved)})`);
    if (changed.length > 0) log(`resuming with a different ${changed.join(', ')}`);
  }

  const backend = await initTraining({ backend: o.backend, log });
  const pre = await createWasmPreprocessor();
  const networkOptions: NetworkOptions = {
    arch: o.arch, width: o.width, seed: o.seed, batchNorm: o.batchNorm, backgroundPrior: o.backgroundPrior, inputStd: o.inputStd,
    ...(isMobilenetArch(o.arch) ? { inputSize: o.inputSize } : {}),
    datasetClasses: dataset.classes, className: o.className,
    ...(o.initFrom !== undefined && !resumed && isMobilenetArch(o.arch) ? { initFrom: resolvePath(o.initFrom) } : {}),
  };
  const network = await createTrainingNetwork(networkOptions);
  const { model, input } = network;
  const numClasses = network.classes.length;
  if (resumed && resumed.meta.numClasses !== numClasses) {
    network.dispose();
    throw new Error(`train: cannot resume: the checkpoint in '${o.checkpointDir}' has numClasses ${resumed.meta.numClasses}, this run ${numClasses}`);
  }
  const spec: PreprocessSpec = { ...input, layout: 'nhwc' };
  const [inputWidth, inputHeight] = spec.size;
  const names = [...model.trainableVariables.keys()];
  const variables = [...model.trainableVariables.values()];
  const momentum = variables.map(v => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  let step = 0;
  let workers: GradientWorkers | undefined;
  try {
    if (resumed) {
      model.loadWeights(resumed.weights);
      names.forEach((name, i) => {
        const buffer = resumed!.momentum[name];
        if (!buffer || buffer.length !== variables[i].size) throw new Error(`train: the checkpoint in '${o.checkpointDir}' has no momentum buffer for ${name}`);
        tf.tidy(() => momentum[i].assign(tf.tensor(buffer, variables[i].shape)));
      });
      step = resumed.meta.step;
      log(`resumed from ${o.checkpointDir} at step ${step} (epoch ${resumed.meta.epoch})`);
      if (o.initFrom !== undefined) log(`--init-from ${o.initFrom} ignored: resumed weights`);
    } else if (o.initFrom !== undefined && o.arch === 'ssd300') {
      const loaded = initFromPytorch(model as Ssd300, new Uint8Array(await readFile(o.initFrom)));
      log(`initialised ${loaded.layers[0]} … ${loaded.layers.at(-1)} (${loaded.layers.length} layers, ${(loaded.parameters / 1e6).toFixed(2)} M parameters) ` +
        `from ${o.initFrom}${loaded.ignored ? ` (${loaded.ignored} other tensors of the checkpoint left unused)` : ''}`);
    }
    const startStep = step;
    const shapes = Object.fromEntries(names.map((name, i) => [name, variables[i].shape]));
    let lastLoss: CheckpointMeta['lastLoss'];
    const save = async () => {
      const momentumValues = Object.fromEntries(await Promise.all(names.map(async (name, i) => [name, await momentum[i].data() as Float32Array] as const)));
      return saveCheckpoint(o.checkpointDir, {
        arch: o.arch, numClasses, width: o.width, batchNorm: o.batchNorm, preprocess: input, classes: network.classes, step, epoch: Math.floor(step / stepsPerEpoch),
        options: recordedOptions(o), lastLoss,
      }, await model.saveWeights(), momentumValues, shapes);
    };

    /** Saves the current (last good) weights and stops with what went wrong and where they are. */
    const stopNonFinite = async (what: string): Promise<never> => {
      const saved = await save();
      throw new Error(`train: ${what}: stopped. The last good weights (step ${step}) are saved in ${saved}; ` +
        'try a lower --lr, a warm-up (--warmup) or --clip-grad-norm');
    };

    // Parts of each batch: the first on this thread, one more per worker (o.workers − 1 of them).
    workers = o.workers > 1 ? await startGradientWorkers(o.workers - 1, { backend: backend.name, network: networkOptions }) : undefined;
    if (workers) log(`data-parallel: ${o.workers} parts per batch (this thread and ${workers.size} worker${workers.size > 1 ? 's' : ''})`);
    // --freeze-backbone-steps: the MobileNet base's variables (by index) and batch-norm layers
    const backboneIndex = names.map(name => network.backboneVariables.has(name));
    const backboneNorms = new Set('backbone' in model ? model.backbone.flatMap(l => (l.batchNorm ? [l.batchNorm] : [])) : []);
    if (o.freezeBackboneSteps > 0 && step < o.freezeBackboneSteps) {
      log(`backbone frozen for steps 1 … ${o.freezeBackboneSteps}: ${backboneIndex.filter(Boolean).length} of ${names.length} variables held`);
    }
    const batchGradients = async (batch: Batch, n: number, frozen?: readonly boolean[]): Promise<PartGradients> => {
      const pixels = inputHeight * inputWidth * 3;
      const count = workers ? Math.min(o.workers, n) : 1;
      const parts = Array.from({ length: count }, (_, k) => {
        const from = Math.floor((k * n) / count), to = Math.floor(((k + 1) * n) / count);
        return { images: batch.images.subarray(from * pixels, to * pixels), shape: [to - from, inputHeight, inputWidth, 3] as [number, number, number, number],
                 annotations: batch.annotations.slice(from, to) };
      });
      const remote = workers && count > 1 ? workers.run(variables.map(v => v.dataSync() as Float32Array), parts.slice(1), frozen) : Promise.resolve([]);
      const local = computePartGradients(network, parts[0].images, parts[0].shape, parts[0].annotations, frozen);
      return combineParts([local, ...(await remote)]);
    };
    const losses: number[] = [];
    const started = performance.now();
    let plan: { epoch: number; order: number[]; flipped: boolean[]; seeds: number[] } | undefined;
    while (step < totalSteps) {
      const stepStart = performance.now();
      const epoch = Math.floor(step / stepsPerEpoch);
      if (plan?.epoch !== epoch) plan = { epoch, ...epochPlan(o.seed, epoch, items.length, o.flip) };
      const first = (step % stepsPerEpoch) * o.batch;
      const picks = plan.order.slice(first, first + o.batch);
      const batch = await loadBatch(picks.map(i => items[i]), {
        flips: plan.flipped.slice(first, first + o.batch), seeds: plan.seeds.slice(first, first + o.batch), augment: o.augment, flip: o.flip,
      }, pre, spec, network.annotation);
      const lr = learningRate(step, o);
      let gradNorm: number | undefined;
      const frozen = step < o.freezeBackboneSteps ? backboneIndex : undefined;
      const result = await batchGradients(batch, picks.length, frozen);
      const { loss: { total, loc, conf }, numPositive } = result;
      const at = `at step ${step + 1} (lr ${lr})`;
      const bad = !Number.isFinite(total) ? `the loss is ${total}` : nonFiniteGradients(names, result);
      if (bad) await stopNonFinite(`${bad} ${at}`);
      // frozen variables (no gradient) keep their weights and momentum
      const live = variables.map((_, i) => i).filter(i => !frozen?.[i]);
      const updated = tf.tidy(() => {
        const grads = live.map(i => tf.tensor(result.grads[i], variables[i].shape));
        const lrScalar = tf.scalar(lr), mu = tf.scalar(o.momentum), wd = tf.scalar(o.weightDecay);
        const clip = o.clipGradNorm === undefined ? undefined : clipScale(grads, o.clipGradNorm);
        if (clip) gradNorm = clip.norm;
        const next = live.map((i, k) => {
          const w = variables[i];
          const g = clip && clip.scale < 1 ? tf.mul(grads[k], clip.scale) : grads[k];
          const d = o.weightDecay > 0 ? tf.add(g, tf.mul(w, wd)) : g;
          const v = tf.add(tf.mul(momentum[i], mu), d);
          return { v, w: tf.sub(w, tf.mul(v, lrScalar)) };
        });
        // the new weights are checked before any is assigned, so a failed step changes nothing
        if (!Number.isFinite(tf.addN(next.map(n => tf.sum(n.w))).dataSync()[0])) return false;
        next.forEach((n, k) => { momentum[live[k]].assign(n.v); variables[live[k]].assign(n.w); });
        return true;
      });
      if (!updated) await stopNonFinite(`the update makes the weights non-finite ${at}`);
      // a frozen base's batch normalisation keeps its moving statistics too
      const keep = network.batchNormLayers.map(layer => !(frozen && backboneNorms.has(layer)));
      applyBatchNorm(network.batchNormLayers.filter((_, k) => keep[k]), result.stats.filter((_, k) => keep[k]));
      step++;
      losses.push(total);
      lastLoss = { total, loc, conf };
      const seconds = (performance.now() - stepStart) / 1000;
      options.onProgress?.({
        epoch, step, totalSteps, stepsPerEpoch, loss: { total, loc, conf }, numPositive, lr, gradNorm,
        imagesPerSecond: picks.length / seconds,
      });
      if (o.checkpointEvery > 0 && step % o.checkpointEvery === 0 && step < totalSteps) {
        log(`checkpoint at step ${step}: ${await save()}`);
      }
    }
    const checkpoint = await save();
    const seconds = (performance.now() - started) / 1000;
    return {
      backend: backend.name, checkpoint, steps: step, startStep, losses,
      imagesPerSecond: seconds > 0 ? ((step - startStep) * o.batch) / seconds : 0, seconds,
    };
  } finally {
    await workers?.close();
    network.dispose();
    momentum.forEach(v => v.dispose());
  }
}

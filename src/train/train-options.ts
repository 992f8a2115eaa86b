/**
 * The training options: their defaults and checks (resolveTrainOptions), what a checkpoint
 * records of them, and the checks a resume makes against the checkpoint it continues.
 */
import { resolve as resolvePath } from 'node:path';
import { checkMobilenetSsdInputSize, MOBILENET_SSD_INPUT_SIZE } from '../model/mobilenet-input-size.js';
import { hasCheckpoint, loadCheckpoint } from './checkpoint.js';
import { isMobilenetArch, TRAINING_ARCHS, type TrainingArch } from './networks.js';
import { TRAINING_BACKENDS, type TrainingBackendName } from './tfjs.js';

/** A checkpoint as loadCheckpoint reads it. */
export type Checkpoint = Awaited<ReturnType<typeof loadCheckpoint>>;

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
  /**
   * MobileNet architectures: the input's height and width, 300 (default) or a multiple of 32 from
   * 128 to 640 (mobilenet-input-size.ts); with initFrom too (the COCO model's layers fit any size).
   */
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

export type Resolved = Required<
  Omit<TrainOptions, 'onProgress' | 'log' | 'maxSteps' | 'limit' | 'backgroundPrior' | 'clipGradNorm' | 'className'>
> & {
  maxSteps?: number;
  limit?: number;
  backgroundPrior?: number;
  clipGradNorm?: number;
  className?: string;
  initFrom?: string;
};

const positiveInteger = (name: string, value: number) => {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`train: ${name} is ${value}; it must be an integer ≥ 1`);
};

/** Checks and completes the options; throws a RangeError/Error naming the bad one. */
export function resolveTrainOptions(options: TrainOptions): Resolved {
  const o: Resolved = {
    split: 'trainval',
    arch: 'ssd300',
    width: 1,
    batchNorm: false,
    inputStd:
      options.arch === 'mini' ? [58, 57, 57] : isMobilenetArch(options.arch ?? '') ? [127.5, 127.5, 127.5] : [1, 1, 1],
    inputSize: MOBILENET_SSD_INPUT_SIZE,
    freezeBackboneSteps: 0,
    epochs: 1,
    batch: 8,
    lr: 1e-3,
    momentum: 0.9,
    weightDecay: 5e-4,
    warmupSteps: 0,
    steps: [],
    flip: 0.5,
    augment: 'flip',
    workers: 1,
    backend: 'auto',
    checkpointEvery: 1000,
    resume: false,
    force: false,
    skipInvalid: false,
    seed: 1,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as unknown as Resolved;
  if (typeof o.data !== 'string' || o.data === '')
    throw new Error('train: data (the VOC dataset directory) is required');
  if (typeof o.checkpointDir !== 'string' || o.checkpointDir === '')
    throw new Error('train: checkpointDir is required');
  if (!TRAINING_ARCHS.includes(o.arch))
    throw new RangeError(`train: arch '${String(o.arch)}' is not one of ${TRAINING_ARCHS.join(', ')}`);
  if (o.className !== undefined && o.arch !== 'mini')
    throw new RangeError('train: className picks the one class of a mini SSD; ssd300 learns every class');
  if (!(typeof o.width === 'number' && o.width > 0 && o.width <= 1))
    throw new RangeError(`train: width is ${o.width}; it must be in (0, 1]`);
  if (o.initFrom !== undefined) {
    const pytorch = /\.(pth|pt)$/i.test(o.initFrom);
    if (pytorch ? o.arch !== 'ssd300' : !isMobilenetArch(o.arch)) {
      throw new RangeError(
        pytorch
          ? `train: initFrom loads VGG16 weights into ssd300; arch is '${o.arch}'`
          : `train: initFrom loads a pretrained SSD MobileNet V2; it needs arch mobilenet-v2 or ssdlite-mobilenet-v2, not ${o.arch}`,
      );
    }
  }
  if (o.inputSize !== MOBILENET_SSD_INPUT_SIZE && !isMobilenetArch(o.arch))
    throw new RangeError(
      `train: inputSize ${o.inputSize} is for mobilenet-v2, ssdlite-mobilenet-v2 and ssd-mobilenet-v1; ${o.arch} has its own`,
    );
  checkMobilenetSsdInputSize(o.inputSize, 'train: inputSize');
  if (!Number.isInteger(o.freezeBackboneSteps) || o.freezeBackboneSteps < 0) {
    throw new RangeError(`train: freezeBackboneSteps is ${o.freezeBackboneSteps}; it must be an integer ≥ 0`);
  }
  if (o.freezeBackboneSteps > 0 && !isMobilenetArch(o.arch)) {
    throw new RangeError(
      `train: freezeBackboneSteps holds a MobileNet base; arch ${o.arch} has none (use mobilenet-v2 or ssdlite-mobilenet-v2)`,
    );
  }
  if (typeof o.batchNorm !== 'boolean')
    throw new TypeError(`train: batchNorm is ${String(o.batchNorm)}; it must be a boolean`);
  for (const name of ['resume', 'force', 'skipInvalid'] as const) {
    if (typeof o[name] !== 'boolean') throw new TypeError(`train: ${name} is ${String(o[name])}; it must be a boolean`);
  }
  if (o.backgroundPrior !== undefined && !(o.backgroundPrior > 0 && o.backgroundPrior < 1)) {
    throw new RangeError(`train: backgroundPrior is ${o.backgroundPrior}; it must be in (0, 1)`);
  }
  if (!Array.isArray(o.inputStd) || o.inputStd.length !== 3 || !o.inputStd.every((v) => Number.isFinite(v) && v > 0)) {
    throw new RangeError(`train: inputStd is [${String(o.inputStd)}]; it must be three numbers > 0 (R, G, B)`);
  }
  positiveInteger('epochs', o.epochs);
  positiveInteger('workers', o.workers);
  positiveInteger('batch', o.batch);
  if (!(Number.isFinite(o.lr) && o.lr > 0)) throw new RangeError(`train: lr is ${o.lr}; it must be a number > 0`);
  if (!(o.momentum >= 0 && o.momentum < 1))
    throw new RangeError(`train: momentum is ${o.momentum}; it must be in [0, 1)`);
  if (!(Number.isFinite(o.weightDecay) && o.weightDecay >= 0))
    throw new RangeError(`train: weightDecay is ${o.weightDecay}; it must be ≥ 0`);
  if (o.clipGradNorm !== undefined && !(Number.isFinite(o.clipGradNorm) && o.clipGradNorm > 0)) {
    throw new RangeError(`train: clipGradNorm is ${o.clipGradNorm}; it must be a number > 0`);
  }
  if (!Number.isInteger(o.warmupSteps) || o.warmupSteps < 0)
    throw new RangeError(`train: warmupSteps is ${o.warmupSteps}; it must be an integer ≥ 0`);
  if (
    !Array.isArray(o.steps) ||
    o.steps.some((s, i) => !Number.isInteger(s) || s < 1 || (i > 0 && s <= o.steps[i - 1]))
  ) {
    throw new RangeError(`train: steps is [${String(o.steps)}]; it must list increasing integers ≥ 1`);
  }
  if (o.maxSteps !== undefined) positiveInteger('maxSteps', o.maxSteps);
  if (o.limit !== undefined) positiveInteger('limit', o.limit);
  if (!(o.flip >= 0 && o.flip <= 1)) throw new RangeError(`train: flip is ${o.flip}; it must be in [0, 1]`);
  if (o.augment !== 'flip' && o.augment !== 'ssd')
    throw new RangeError(`train: augment is '${String(o.augment)}'; use flip or ssd`);
  if (!Number.isInteger(o.checkpointEvery) || o.checkpointEvery < 0)
    throw new RangeError(`train: checkpointEvery is ${o.checkpointEvery}; it must be an integer ≥ 0`);
  if (!Number.isInteger(o.seed)) throw new RangeError(`train: seed is ${o.seed}; it must be an integer`);
  if (o.backend !== 'auto' && !TRAINING_BACKENDS.includes(o.backend)) {
    throw new RangeError(`train: backend '${o.backend}' is not one of auto, ${TRAINING_BACKENDS.join(', ')}`);
  }
  return o;
}

/** The options a checkpoint records (and a resume checks). */
export function recordedOptions(o: Resolved): Record<string, unknown> {
  const {
    data,
    split,
    arch,
    width,
    batchNorm,
    backgroundPrior,
    inputStd,
    epochs,
    batch,
    lr,
    momentum,
    weightDecay,
    warmupSteps,
    steps,
    flip,
    augment,
    seed,
    limit,
    maxSteps,
    clipGradNorm,
    className,
    initFrom,
    inputSize,
    freezeBackboneSteps,
  } = o;
  return {
    data: resolvePath(data),
    split,
    arch,
    width,
    batchNorm,
    backgroundPrior: backgroundPrior ?? null,
    inputStd,
    epochs,
    batch,
    lr,
    momentum,
    weightDecay,
    inputSize,
    freezeBackboneSteps,
    initFrom: initFrom === undefined ? null : resolvePath(initFrom),
    warmupSteps,
    clipGradNorm: clipGradNorm ?? null,
    className: className ?? null,
    steps,
    flip,
    augment,
    seed,
    limit: limit ?? null,
    maxSteps: maxSteps ?? null,
  };
}

/**
 * Loads the checkpoint a resume continues and checks it against this run: a different dataset,
 * split, network or data order is refused (the steps would not continue the same run); a
 * different learning rate, momentum, weight decay, schedule or clipping is allowed and said.
 */
export async function loadResumeCheckpoint(o: Resolved, log: (line: string) => void): Promise<Checkpoint> {
  if (!(await hasCheckpoint(o.checkpointDir)))
    throw new Error(`train: --resume, but there is no checkpoint in '${o.checkpointDir}'`);
  const resumed = await loadCheckpoint(o.checkpointDir);
  const m = resumed.meta,
    rec = m.options;
  const expect: [string, unknown, unknown][] = [
    ['arch', m.arch, o.arch],
    ['width', m.width, o.width],
    ['batchNorm', m.batchNorm ?? false, o.batchNorm],
    ['className', rec.className ?? null, o.className ?? null],
    ['inputStd', String(m.preprocess?.std ?? [1, 1, 1]), String(o.inputStd)],
    ['inputSize', isMobilenetArch(m.arch) ? (m.preprocess?.size[0] ?? 300) : 300, o.inputSize],
    ['data', resolvePath(String(rec.data)), resolvePath(o.data)],
    ['split', rec.split, o.split],
    ['batch', rec.batch, o.batch],
    ['seed', rec.seed, o.seed],
    ['flip', rec.flip, o.flip],
    ['augment', rec.augment ?? 'flip', o.augment],
    ['limit', rec.limit, o.limit ?? null],
  ];
  for (const [name, saved, now] of expect) {
    if (saved !== now)
      throw new Error(
        `train: cannot resume: the checkpoint in '${o.checkpointDir}' has ${name} ${String(saved)}, this run ${String(now)}`,
      );
  }
  const changed = (
    [
      ['lr', rec.lr, o.lr],
      ['momentum', rec.momentum, o.momentum],
      ['weightDecay', rec.weightDecay, o.weightDecay],
      ['warmupSteps', rec.warmupSteps, o.warmupSteps],
      ['steps', String(rec.steps), String(o.steps)],
      ['clipGradNorm', rec.clipGradNorm ?? null, o.clipGradNorm ?? null],
    ] as [string, unknown, unknown][]
  )
    .filter(([, saved, now]) => saved !== undefined && saved !== now)
    .map(([name, saved, now]) => `${name} ${String(now)} (the checkpoint was trained with ${String(saved)})`);
  if (changed.length > 0) log(`resuming with a different ${changed.join(', ')}`);
  return resumed;
}

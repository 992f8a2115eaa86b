/**
 * `ssd-edge train --data <voc dir>`: trains SSD300 (src/train/train.ts) and keeps checkpoints.
 * Prints the tfjs backend it trains on, a progress line per step (redrawn in place on a
 * terminal: loss terms, lr, images/s; a plain line every --log-every steps otherwise), and at
 * the end where the final checkpoint is (loadable with `loadCheckpoint(dir)`).
 */
import { TRAINING_ARCHS, type TrainingArch } from '../train/arch-names.js';
import { TRAINING_BACKENDS, type TrainingBackendName } from '../train/backend-names.js';
import type { TrainProgress } from '../train/train.js';
import { describeOptions, integerOption, numberOption, parseArgs, type OptionSpec, type ParsedArgs } from './args.js';

const OPTIONS: Record<string, OptionSpec> = {
  data: { type: 'string', description: 'the PASCAL VOC dataset directory (required)' },
  split: { type: 'string', description: 'image set to train on (default trainval)' },
  arch: {
    type: 'string',
    description:
      'ssd300 (default), mini (one class, a 4×3 grid, 128×96 input), mobilenet-v2 (SSD MobileNet V2, TF OD API layout), ssdlite-mobilenet-v2 (SSDLite: depthwise-separable extras and heads) or ssd-mobilenet-v1 (SSD MobileNet V1, TF OD API layout; from scratch)',
  },
  'init-from': {
    type: 'string',
    description:
      "pretrained weights: a .tflite or converted .onnx SSD MobileNet V2 (e.g. models/ssd-mobilenet-v2-coco.onnx; implies --arch mobilenet-v2: backbone and box heads, new class heads; with --arch ssdlite-mobilenet-v2 the MobileNet base and the extras' 1×1 layers), or a PyTorch .pth (ssd300's VGG16: ssd.pytorch's vgg16_reducedfc.pth)",
  },
  'input-size': {
    type: 'string',
    description:
      'mobilenet-v2 / ssdlite-mobilenet-v2 / ssd-mobilenet-v1: input height and width, 300 (default), or a multiple of 32 from 128 to 640 (smaller is faster; --init-from works at any of them)',
  },
  'freeze-backbone-steps': {
    type: 'string',
    description:
      'mobilenet-v2 / ssdlite-mobilenet-v2: hold the MobileNet base (not the extras and heads) for the first n steps (default 0)',
  },
  class: { type: 'string', description: 'mini only: the dataset class to detect (default: every object as one class)' },
  width: { type: 'string', description: 'width multiplier in (0, 1] (default 1)' },
  augment: {
    type: 'string',
    description: 'flip (default: horizontal flip only) or ssd (photometric, zoom-out, min-IoU crop, flip)',
  },
  'batch-norm': {
    type: 'boolean',
    description: 'batch normalisation after every trunk convolution (folded away on export)',
  },
  'background-prior': {
    type: 'string',
    description: 'initial background probability of the conf heads, in (0, 1) (default: biases 0)',
  },
  'input-std': {
    type: 'string',
    description: 'R,G,B divisors after the mean subtraction (default 1,1,1; 58,57,57: unit variance)',
  },
  epochs: { type: 'string', description: 'passes over the data (default 1)' },
  batch: { type: 'string', description: 'images per step (default 8)' },
  lr: { type: 'string', description: 'base learning rate (default 0.001)' },
  momentum: { type: 'string', description: 'SGD momentum (default 0.9)' },
  'weight-decay': { type: 'string', description: 'weight decay (default 0.0005)' },
  'clip-grad-norm': { type: 'string', description: 'clip the gradients to this global L2 norm (default: no clipping)' },
  warmup: { type: 'string', description: 'linear warm-up steps (default 0)' },
  'lr-steps': { type: 'string', description: 'comma-separated steps where lr is multiplied by 0.1' },
  'max-steps': { type: 'string', description: 'stop after this many steps in all' },
  limit: { type: 'string', description: 'use only the first n images of the split' },
  'skip-invalid': {
    type: 'boolean',
    description: 'leave out (and count) zero-size or out-of-size boxes, mis-sized images, repeated ids',
  },
  backend: { type: 'string', description: `auto (default), ${TRAINING_BACKENDS.join(', ')}` },
  workers: {
    type: 'string',
    description: 'threads sharing each batch (data parallel; one core each on wasm) (default 1)',
  },
  checkpoints: { type: 'string', description: 'checkpoint directory (default ./checkpoints)' },
  'save-every': { type: 'string', description: 'checkpoint every n steps, 0: only at the end (default 1000)' },
  resume: { type: 'boolean', description: 'continue from the checkpoint in --checkpoints' },
  force: { type: 'boolean', description: 'without --resume, replace a checkpoint already in --checkpoints' },
  seed: { type: 'string', description: 'seed of the weights, order and augmentation (default 1)' },
  'log-every': { type: 'string', description: 'when not on a terminal, a line every n steps (default 10)' },
};

export const TRAIN_USAGE = `ssd-edge train --data <voc dir> [options]\n${describeOptions(OPTIONS)}`;

/** An integer option up to the largest int32 (seeds, counts, steps). */
const integer = (options: ParsedArgs['options'], name: string, min: number, max = 2 ** 31 - 1) =>
  integerOption(options, name, min, max);

/** One progress line: step, epoch, loss terms, positives, lr, images/s. */
export function formatProgress(p: TrainProgress): string {
  return (
    `step ${p.step}/${p.totalSteps} epoch ${p.epoch + 1} loss ${p.loss.total.toFixed(4)} ` +
    `(loc ${p.loss.loc.toFixed(4)} conf ${p.loss.conf.toFixed(4)}) pos ${p.numPositive} lr ${p.lr.toPrecision(3)} ` +
    `${p.gradNorm === undefined ? '' : `|g| ${p.gradNorm.toPrecision(3)} `}${p.imagesPerSecond.toFixed(1)} images/s`
  );
}

export async function runTrain(argv: string[], stream: NodeJS.WriteStream = process.stderr): Promise<void> {
  const { positionals, options } = parseArgs(argv, OPTIONS, 'train');
  if (positionals.length > 0) throw new Error(`train: unexpected '${positionals[0]}'\n\nusage: ${TRAIN_USAGE}`);
  const data = options.data as string | undefined;
  if (!data) throw new Error(`train: --data is required\n\nusage: ${TRAIN_USAGE}`);
  const arch = (options.arch as string | undefined) ?? 'ssd300';
  if (!(TRAINING_ARCHS as readonly string[]).includes(arch))
    throw new RangeError(`train: --arch '${arch}' is not one of ${TRAINING_ARCHS.join(', ')}`);
  const initFrom = options['init-from'] as string | undefined;
  if (initFrom !== undefined && !/\.(tflite|onnx|pth|pt)$/i.test(initFrom)) {
    throw new RangeError(`train: --init-from '${initFrom}' is neither a .tflite, an .onnx nor a PyTorch .pth file`);
  }
  const backend = (options.backend as string | undefined) ?? 'auto';
  if (backend !== 'auto' && !(TRAINING_BACKENDS as readonly string[]).includes(backend)) {
    throw new RangeError(`train: --backend '${backend}' is not one of auto, ${TRAINING_BACKENDS.join(', ')}`);
  }
  const lrSteps =
    options['lr-steps'] === undefined
      ? undefined
      : String(options['lr-steps'])
          .split(',')
          .map((s) => Number(s.trim()));
  const logEvery = integer(options, 'log-every', 1) ?? 10;
  const checkpointDir = (options.checkpoints as string | undefined) ?? 'checkpoints';
  const started = Date.now();
  const { train } = await import('../train/train.js'); // tfjs: loaded only to train
  const result = await train({
    // a .tflite/.onnx --init-from implies the one architecture it can start
    data,
    arch: (initFrom !== undefined && options.arch === undefined && /\.(tflite|onnx)$/i.test(initFrom)
      ? 'mobilenet-v2'
      : arch) as TrainingArch,
    checkpointDir,
    className: options.class as string | undefined,
    inputSize: integer(options, 'input-size', 1),
    freezeBackboneSteps: integer(options, 'freeze-backbone-steps', 0),
    initFrom,
    split: options.split as string | undefined,
    width: numberOption(options, 'width', Number.MIN_VALUE, 1),
    batchNorm: options['batch-norm'] === true,
    augment: options.augment as 'flip' | 'ssd' | undefined,
    backgroundPrior: numberOption(options, 'background-prior', Number.MIN_VALUE, 1),
    inputStd:
      options['input-std'] === undefined
        ? undefined
        : String(options['input-std'])
            .split(',')
            .map((s) => Number(s.trim())),
    epochs: integer(options, 'epochs', 1),
    batch: integer(options, 'batch', 1),
    lr: numberOption(options, 'lr', Number.MIN_VALUE),
    momentum: numberOption(options, 'momentum', 0, 1),
    weightDecay: numberOption(options, 'weight-decay', 0),
    warmupSteps: integer(options, 'warmup', 0),
    clipGradNorm: numberOption(options, 'clip-grad-norm', Number.MIN_VALUE),
    steps: lrSteps,
    maxSteps: integer(options, 'max-steps', 1),
    limit: integer(options, 'limit', 1),
    backend: backend as TrainingBackendName | 'auto',
    workers: integer(options, 'workers', 1, 64),
    checkpointEvery: integer(options, 'save-every', 0),
    resume: options.resume === true,
    force: options.force === true,
    skipInvalid: options['skip-invalid'] === true,
    seed: integer(options, 'seed', -(2 ** 31)),
    log: (line) => console.log(line),
    onProgress: (p) => {
      const line = formatProgress(p);
      if (stream.isTTY) {
        const barWidth = 20,
          filled = Math.round((barWidth * p.step) / p.totalSteps);
        const columns = stream.columns || 120;
        stream.write(
          `\r[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${line}`
            .slice(0, columns)
            .padEnd(Math.min(columns, 160)),
        );
        if (p.step === p.totalSteps) stream.write('\n');
      } else if (p.step === 1 || p.step % logEvery === 0 || p.step === p.totalSteps) {
        stream.write(`train: ${line}\n`);
      }
    },
  });
  const ran = result.steps - result.startStep;
  console.log(
    `trained ${ran} step${ran === 1 ? '' : 's'} (to step ${result.steps}) on ${result.backend} in ` +
      `${((Date.now() - started) / 1000).toFixed(1)} s, ${result.imagesPerSecond.toFixed(1)} images/s`,
  );
  console.log(`saved final checkpoint: ${result.checkpoint}`);
}

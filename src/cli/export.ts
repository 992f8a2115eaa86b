/**
 * `ssd-edge export --out m.onnx`: builds SSD300 (or the mini SSD, SSD / SSDLite MobileNet V2, SSD MobileNet V1) in tfjs and writes it to ONNX with ssd-edge's
 * metadata: a training checkpoint's weights (`--weights`, from `ssd-edge train`), or random
 * weights for trying the pipeline and measuring speed (the command says so).
 */
import { stat } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-write.js';
import { describeOptions, integerOption, numberOption, parseArgs, type OptionSpec } from './args.js';
import { loadModelBuilder } from './model-builder.js';
import type { MiniSsd } from '../model/mini.js';
import type { MobilenetSsd } from '../model/mobilenet-ssd.js';
import type { Ssd300 } from '../model/ssd300.js';
import type { PreprocessSpec } from '../runtime/types.js';
import { isMobilenetArch, mobilenetVariant, TRAINING_ARCHS, type MobilenetArch } from '../train/arch-names.js';

const OPTIONS: Record<string, OptionSpec> = {
  out: { type: 'string', description: 'the .onnx file to write (required)' },
  arch: {
    type: 'string',
    description: 'ssd300 (default), mini, mobilenet-v2, ssdlite-mobilenet-v2 or ssd-mobilenet-v1, for random weights',
  },
  'input-size': {
    type: 'string',
    description:
      'mobilenet-v2 / ssdlite-mobilenet-v2 / ssd-mobilenet-v1 with random weights: input height and width, 300 (default), or a multiple of 32 from 128 to 640',
  },
  width: { type: 'string', description: 'channel width multiplier in (0, 1] (default 1: full SSD300)' },
  classes: { type: 'string', description: 'classes including background (default 21, VOC)' },
  seed: { type: 'string', description: 'seed of the random initialisation (default 0)' },
  weights: {
    type: 'string',
    description: 'a training checkpoint directory (ssd-edge train) to export instead of random weights',
  },
  force: { type: 'boolean', description: 'replace an existing --out file' },
};

export const EXPORT_USAGE = `ssd-edge export --out m.onnx [options]\n${describeOptions(OPTIONS)}`;

export async function runExport(argv: string[]): Promise<void> {
  const { positionals, options } = parseArgs(argv, OPTIONS, 'export');
  if (positionals.length > 0) throw new Error(`export: unexpected '${positionals[0]}'\n\nusage: ${EXPORT_USAGE}`);
  const out = options.out as string | undefined;
  if (!out) throw new Error(`export: --out is required\n\nusage: ${EXPORT_USAGE}`);
  const checkpoint = options.weights as string | undefined;
  if (
    checkpoint &&
    (options.width !== undefined ||
      options.classes !== undefined ||
      options.seed !== undefined ||
      options['input-size'] !== undefined)
  ) {
    throw new Error(
      "export: --weights takes width and classes from the checkpoint (and a MobileNet's input size); drop --width, --classes, --input-size and --seed",
    );
  }
  const width = numberOption(options, 'width', Number.MIN_VALUE, 1) ?? 1;
  const numClasses = integerOption(options, 'classes', 2, 100000) ?? 21;
  const seed = numberOption(options, 'seed') ?? 0;
  const arch = (options.arch as string | undefined) ?? 'ssd300';
  const archs: readonly string[] = TRAINING_ARCHS;
  if (!archs.includes(arch)) throw new RangeError(`export: --arch '${arch}' is not one of ${archs.join(', ')}`);
  if (checkpoint && options.arch !== undefined)
    throw new Error('export: --weights takes the architecture from the checkpoint; drop --arch');
  const mobilenet = isMobilenetArch(arch);
  const inputSize = numberOption(options, 'input-size') ?? 300;
  if (options['input-size'] !== undefined && !mobilenet)
    throw new Error('export: --input-size is for mobilenet-v2, ssdlite-mobilenet-v2 and ssd-mobilenet-v1');
  if (mobilenet) {
    // the rule's module is loaded only here: --help stays free of model code
    const { checkMobilenetSsdInputSize } = await import('../model/mobilenet-input-size.js');
    checkMobilenetSsdInputSize(inputSize, 'export: --input-size');
  }
  // a model the user already has is never replaced silently, and a failed write leaves nothing half-written
  const existing = await stat(out).catch(() => undefined);
  if (existing?.isDirectory()) throw new Error(`export: --out ${out} is a folder; give a file name`);
  if (existing && !options.force) throw new Error(`export: ${out} exists; pass --force to replace it`);
  const { createMiniSsd, createMobilenetSsd, createSsd300, exportMiniSsd, exportMobilenetSsd, exportSsd300 } =
    await loadModelBuilder();
  const started = Date.now();
  let network:
    { arch: 'ssd300'; model: Ssd300 } | { arch: 'mini'; model: MiniSsd } | { arch: MobilenetArch; model: MobilenetSsd };
  let labels: readonly string[] | undefined, preprocess: PreprocessSpec | undefined, training: string;
  if (checkpoint) {
    const { loadCheckpointModel } = await import('../train/checkpoint.js');
    const loaded = await loadCheckpointModel(checkpoint);
    network = loaded;
    labels = loaded.meta.classes;
    preprocess = loaded.meta.preprocess;
    training = `ssd-edge train: ${loaded.meta.step} steps, last loss ${loaded.meta.lastLoss?.total.toFixed(4) ?? 'n/a'}`;
  } else {
    network =
      arch === 'mini'
        ? { arch, model: createMiniSsd({ width, seed }) }
        : mobilenet
          ? {
              arch,
              model: createMobilenetSsd({
                numClasses,
                width,
                seed,
                ...mobilenetVariant(arch),
                inputSize,
              }),
            }
          : { arch: 'ssd300', model: createSsd300({ numClasses, width, seed }) };
    training = 'none: random weights (ssd-edge export)';
  }
  const { model } = network;
  try {
    const metadata = { training };
    const bytes =
      network.arch === 'mini'
        ? exportMiniSsd(network.model, { label: labels?.[1], preprocess, metadata })
        : network.arch === 'ssd300'
          ? exportSsd300(network.model, { labels, preprocess, metadata })
          : exportMobilenetSsd(network.model, { labels, preprocess, metadata });
    await writeFileAtomic(out, bytes);
    const what =
      network.arch === 'mini'
        ? `mini SSD, width ${model.width}, class '${labels?.[1] ?? 'object'}'`
        : network.arch === 'ssd300'
          ? `SSD300, width ${model.width}, ${network.model.numClasses} classes`
          : `${network.model.lite ? 'SSDLite' : 'SSD'} MobileNet V${network.model.version} ${network.model.inputSize}×${network.model.inputSize}, width ${model.width}, ` +
            `${network.model.numClasses} classes`;
    console.log(
      `wrote ${out}: ${what}, ${model.numParameters.toLocaleString('en')} parameters, ` +
        `${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    console.log(
      checkpoint
        ? `weights from the checkpoint in ${checkpoint} (${training})`
        : 'note: the weights are random (untrained); detections from this model are meaningless.',
    );
  } finally {
    model.dispose();
  }
}

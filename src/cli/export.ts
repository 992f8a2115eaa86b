/**
 * `ssd-edge export --out m.onnx`: builds SSD300 (or the mini SSD) in tfjs and writes it to ONNX with ssd-edge's
 * metadata: a training checkpoint's weights (`--weights`, from `ssd-edge train`), or random
 * weights for trying the pipeline and measuring speed (the command says so).
 */
import { writeFile } from 'node:fs/promises';
import { describeOptions, numberOption, parseArgs, type OptionSpec } from './args.js';
import { loadModelBuilder } from './model-builder.js';
import type { MiniSsd } from '../model/mini.js';
import type { Ssd300 } from '../model/ssd300.js';
import type { PreprocessSpec } from '../runtime/types.js';

const OPTIONS: Record<string, OptionSpec> = {
  out: { type: 'string', description: 'the .onnx file to write (required)' },
  arch: { type: 'string', description: 'ssd300 (default) or mini, for random weights' },
  width: { type: 'string', description: 'channel width multiplier in (0, 1] (default 1: full SSD300)' },
  classes: { type: 'string', description: 'classes including background (default 21, VOC)' },
  seed: { type: 'string', description: 'seed of the random initialisation (default 0)' },
  weights: { type: 'string', description: 'a training checkpoint directory (ssd-edge train) to export instead of random weights' },
};

export const EXPORT_USAGE = `ssd-edge export --out m.onnx [options]\n${describeOptions(OPTIONS)}`;

export async function runExport(argv: string[]): Promise<void> {
  const { positionals, options } = parseArgs(argv, OPTIONS, 'export');
  if (positionals.length > 0) throw new Error(`export: unexpected '${positionals[0]}'\n\nusage: ${EXPORT_USAGE}`);
  const out = options.out as string | undefined;
  if (!out) throw new Error(`export: --out is required\n\nusage: ${EXPORT_USAGE}`);
  const checkpoint = options.weights as string | undefined;
  if (checkpoint && (options.width !== undefined || options.classes !== undefined || options.seed !== undefined)) {
    throw new Error('export: --weights takes width and classes from the checkpoint; drop --width, --classes and --seed');
  }
  const width = numberOption(options, 'width', Number.MIN_VALUE, 1) ?? 1;
  const numClasses = numberOption(options, 'classes', 2, 100000) ?? 21;
  if (!Number.isInteger(numClasses)) throw new RangeError(`--classes is ${numClasses}; it must be an integer`);
  const seed = numberOption(options, 'seed') ?? 0;
  const arch = (options.arch as string | undefined) ?? 'ssd300';
  if (arch !== 'ssd300' && arch !== 'mini') throw new RangeError(`export: --arch '${arch}' is not one of ssd300, mini`);
  if (checkpoint && options.arch !== undefined) throw new Error('export: --weights takes the architecture from the checkpoint; drop --arch');
  const { createMiniSsd, createSsd300, exportMiniSsd, exportSsd300 } = await loadModelBuilder();
  const started = Date.now();
  let network: { arch: 'ssd300'; model: Ssd300 } | { arch: 'mini'; model: MiniSsd };
  let labels: readonly string[] | undefined, preprocess: PreprocessSpec | undefined, training: string;
  if (checkpoint) {
    const { loadCheckpointModel } = await import('../train/checkpoint.js');
    const loaded = await loadCheckpointModel(checkpoint);
    network = loaded;
    labels = loaded.meta.classes;
    preprocess = loaded.meta.preprocess;
    training = `ssd-edge train: ${loaded.meta.step} steps, last loss ${loaded.meta.lastLoss?.total.toFixed(4) ?? 'n/a'}`;
  } else {
    network = arch === 'mini' ? { arch, model: createMiniSsd({ width, seed }) } : { arch: 'ssd300', model: createSsd300({ numClasses, width, seed }) };
    training = 'none: random weights (ssd-edge export)';
  }
  const { model } = network;
  try {
    const metadata = { training };
    const bytes = network.arch === 'mini'
      ? exportMiniSsd(network.model, { label: labels?.[1], preprocess, metadata })
      : exportSsd300(network.model, { labels, preprocess, metadata });
    await writeFile(out, bytes);
    const what = network.arch === 'mini' ? `mini SSD, width ${model.width}, class '${labels?.[1] ?? 'object'}'`
      : `SSD300, width ${model.width}, ${network.model.numClasses} classes`;
    console.log(`wrote ${out}: ${what}, ${model.numParameters.toLocaleString('en')} parameters, ` +
      `${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(checkpoint ? `weights from the checkpoint in ${checkpoint} (${training})`
      : 'note: the weights are random (untrained); detections from this model are meaningless.');
  } finally {
    model.dispose();
  }
}

/**
 * `ssd-edge convert model.tflite --out model.onnx`: a TensorFlow Lite SSD, a PyTorch SSD
 * checkpoint (`ckpt.pth --arch ssd300-voc`), or a tfjs weights manifest (face-api's
 * `ssd_mobilenetv1_model-weights_manifest.json`, its shards read beside it) → an ssd-edge ONNX model with its pre- and
 * post-processing in the metadata (see src/convert/). Never writes over
 * the input; an existing --out needs --force; the file is written atomically, so a failed
 * conversion leaves nothing half-written.
 */
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { COCO91_LABELS } from '../core/labels.js';
import { presetByName, presets } from '../core/presets.js';
import { CONVERT_PRESETS, type ConvertPresetName } from '../convert/tflite/mediapipe.js';
import type { PostprocessConfig, PriorConfig } from '../core/types.js';
import { rejectUnknownPriorKeys } from '../core/prior-config.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { PytorchArch } from '../convert/index.js';
import { describeOptions, parseArgs, type OptionSpec } from './args.js';

const OPTIONS: Record<string, OptionSpec> = {
  out: { type: 'string', description: 'the .onnx file to write (required)' },
  arch: {
    type: 'string',
    description:
      "PyTorch checkpoints: 'ssd300-voc' | 'ssd512-voc' (ssd.pytorch) | 'torchvision-ssd300' (default: told by the keys)",
  },
  float: {
    type: 'boolean',
    description:
      'dequantise: float32 weights and operators (same as --mode float); tfjs manifests: float32 weights in the file instead of uint8',
  },
  mode: {
    type: 'string',
    description:
      "exact (default: TFLite's integer arithmetic, bit for bit) | qdq (ADD in onnxruntime's QLinearAdd, not bit-exact) | float",
  },
  preset: {
    type: 'string',
    description:
      "for a model whose file lacks its anchors and decoding: 'mediapipe-blazeface' (MediaPipe's face_detection_short_range.tflite), or a post-processing preset whose anchors it uses (e.g. tfSsdMobilenetV1Coco)",
  },
  labels: {
    type: 'string',
    description:
      "class names: 'coco' (91 ids, background first), or a text file, one name per line or 'id name' lines (Coral's)",
  },
  force: { type: 'boolean', description: 'replace an existing --out file' },
  anchors: {
    type: 'string',
    description:
      'for such a model: a JSON file holding a PriorConfig (e.g. {"family":"tfGrid",...}) or an array of (cx, cy, w, h) rows',
  },
};

export const CONVERT_USAGE = `ssd-edge convert model.tflite|ckpt.pth|weights_manifest.json --out model.onnx [options]\n${describeOptions(OPTIONS)}`;

/** Class names from a labels file: plain lines (background first), or Coral's 'id name' lines (id 0 = first class after background). */
export function parseLabelsFile(text: string, numClasses: number): string[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const numbered = lines.every((l) => /^\d+\s+\S/.test(l));
  if (!numbered) {
    if (lines.length !== numClasses)
      throw new RangeError(
        `the labels file has ${lines.length} names; the model has ${numClasses} classes (background first)`,
      );
    return lines;
  }
  const labels = ['background', ...Array.from({ length: numClasses - 1 }, (_, i) => `class ${i + 1}`)];
  for (const line of lines) {
    const [, id, name] = line.match(/^(\d+)\s+(.*)$/)!;
    if (Number(id) + 1 >= numClasses)
      throw new RangeError(`labels file: id ${id} ('${name}') is beyond the model's ${numClasses - 1} classes`);
    labels[Number(id) + 1] = name;
  }
  return labels;
}

export async function runConvert(argv: string[]): Promise<void> {
  const { positionals, options } = parseArgs(argv, OPTIONS, 'convert');
  if (positionals.length !== 1) throw new Error(`convert: give one model file\n\nusage: ${CONVERT_USAGE}`);
  const [input] = positionals;
  const out = options.out as string | undefined;
  if (!out) throw new Error(`convert: --out is required\n\nusage: ${CONVERT_USAGE}`);
  if (path.resolve(out) === path.resolve(input))
    throw new Error(`convert: --out is the input file ${input}; choose another name`);
  const existing = await stat(out).catch(() => undefined);
  if (existing?.isDirectory()) throw new Error(`convert: --out ${out} is a folder; give a file name`);
  if (existing && !options.force) throw new Error(`convert: ${out} exists; pass --force to replace it`);
  const bytes = new Uint8Array(await readFile(input));
  const { convertModel, detectFormat, readTflite, PYTORCH_ARCHS } = await import('../convert/index.js');
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  const metadata = { 'ssd-edge.convertedFrom': path.basename(input) };
  const arch = options.arch as string | undefined;
  if (arch !== undefined && !(PYTORCH_ARCHS as readonly string[]).includes(arch)) {
    throw new Error(`convert: unknown --arch '${arch}'; valid: ${PYTORCH_ARCHS.join(', ')}`);
  }
  if (detectFormat(bytes) === 'tfjs') {
    for (const option of ['arch', 'mode', 'preset', 'anchors', 'labels'] as const) {
      if (options[option] !== undefined) throw new Error(`convert: --${option} is not for a tfjs weights manifest`);
    }
    const dir = path.dirname(input);
    const shards = (shard: string) => {
      try {
        return new Uint8Array(readFileSync(path.join(dir, shard)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    };
    const { onnx, report } = convertModel(bytes, {
      format: 'tfjs',
      shards,
      storage: options.float ? 'float32' : 'uint8',
      metadata,
    });
    await writeFileAtomic(out, onnx);
    console.log(
      `wrote ${out}: ${(onnx.length / 2 ** 20).toFixed(1)} MiB ONNX (${report.onnxNodes} nodes) from a tfjs weights manifest ` +
        `(${report.tensors} tensors, ${(report.parameters / 1e6).toFixed(2)} M parameters, ${report.storage} weights), in ${seconds()} s`,
    );
    console.log(
      `  network ${report.network}: ${report.numPriors} anchors, classes background + face; ` +
        `${report.ignored.length} graph constants face-api ignores were skipped`,
    );
    return;
  }
  if (detectFormat(bytes) === 'pytorch') {
    if (options.float)
      throw new Error('convert: --float is for TFLite models; a PyTorch checkpoint converts to float32 anyway');
    const labelsFor = async (numClasses: number) =>
      typeof options.labels !== 'string'
        ? undefined
        : options.labels === 'coco'
          ? COCO91_LABELS
          : parseLabelsFile(await readFile(options.labels, 'utf8'), numClasses);
    // The class count is known only after reading the checkpoint: convert once, again only for a labels file.
    let result = convertModel(bytes, { format: 'pytorch', arch: arch as PytorchArch | undefined, metadata });
    const labels = await labelsFor(result.report.numClasses);
    if (labels) result = convertModel(bytes, { format: 'pytorch', arch: result.report.arch, labels, metadata });
    const { onnx, report } = result;
    await writeFileAtomic(out, onnx);
    console.log(
      `wrote ${out}: ${(onnx.length / 2 ** 20).toFixed(1)} MiB ONNX (${report.onnxNodes} nodes) from a PyTorch checkpoint ` +
        `(${report.format} format, ${report.tensors} tensors, ${(report.parameters / 1e6).toFixed(2)} M parameters), in ${seconds()} s`,
    );
    console.log(
      `  arch ${report.arch} (${report.archSource}); ${report.numPriors} priors, ${report.numClasses} classes, width ${report.width}` +
        `${report.stateDictPath.length ? `; state dict under ${report.stateDictPath.map((k) => `['${k}']`).join('')}` : ''}` +
        `${report.locations.some((l) => l !== 'cpu') ? `; saved on ${report.locations.join(', ')}, loaded on the CPU` : ''}`,
    );
    return;
  }
  if (arch !== undefined) throw new Error('convert: --arch is for PyTorch checkpoints; this file is not one');
  if (detectFormat(bytes) !== 'tflite') convertModel(bytes); // not a format ssd-edge reads: throws, naming the ones it does
  let labels: readonly string[] | undefined;
  let labelsNote = '';
  const columns = scoreColumns(readTflite, bytes);
  if (options.labels === 'coco') labels = COCO91_LABELS;
  else if (typeof options.labels === 'string')
    labels = parseLabelsFile(await readFile(options.labels, 'utf8'), columns ?? 0);
  else if (columns === COCO91_LABELS.length) {
    labels = COCO91_LABELS;
    labelsNote = ' (assumed from its 91 score columns; pass --labels to name them otherwise)';
  }
  const { anchors, postprocess, conversionPreset } = await rawModelOptions(
    options.preset as string | undefined,
    options.anchors as string | undefined,
  );
  const { onnx, report } = convertModel(bytes, {
    format: 'tflite',
    ...(conversionPreset ? { preset: conversionPreset } : {}),
    mode: conversionPreset && options.mode === undefined && !options.float ? undefined : arithmeticMode(options),
    labels,
    anchors,
    postprocess,
    metadata,
  });
  await writeFileAtomic(out, onnx);
  console.log(
    `wrote ${out}: ${(onnx.length / 2 ** 20).toFixed(1)} MiB ONNX (${report.onnxNodes} nodes) from ${report.tfliteOperators} TFLite operators, ` +
      `${report.mode} arithmetic, in ${seconds()} s`,
  );
  console.log(
    `  outputs: loc ← '${report.boxTensor}', conf ← '${report.scoreTensor}'; ${report.anchors} anchors, ${report.numClasses} score columns`,
  );
  if (labels) console.log(`  labels: ${labels.slice(1, 6).join(', ')}, …${labelsNote}`);
  if (report.detectionOptions)
    console.log(`  post-processing from TFLite_Detection_PostProcess: ${JSON.stringify(report.detectionOptions)}`);
  if (report.approximated.length) console.log(`  not bit-exact (computed in float): ${report.approximated.join(', ')}`);
}

/** --mode, or --float. */
function arithmeticMode(options: Record<string, string | boolean | undefined>): 'exact' | 'qdq' | 'float' {
  const mode = options.mode ?? (options.float ? 'float' : 'exact');
  if (options.float && mode !== 'float') throw new Error(`convert: --float and --mode ${String(mode)} disagree`);
  if (mode !== 'exact' && mode !== 'qdq' && mode !== 'float')
    throw new RangeError(`convert: --mode is '${String(mode)}'; use exact, qdq or float`);
  return mode;
}

/**
 * --preset and --anchors, for TFLite models exported without TFLite_Detection_PostProcess: a
 * conversion preset ('mediapipe-blazeface', CONVERT_PRESETS), or a post-processing preset whose
 * anchors and decoding the model uses (e.g. tfSsdMobilenetV1Coco); --anchors a JSON PriorConfig or rows.
 */
async function rawModelOptions(
  preset: string | undefined,
  anchorsFile: string | undefined,
): Promise<{
  anchors?: Float32Array | PriorConfig;
  postprocess?: Partial<PostprocessConfig>;
  conversionPreset?: ConvertPresetName;
}> {
  let anchors: Float32Array | PriorConfig | undefined, postprocess: Partial<PostprocessConfig> | undefined;
  let conversionPreset: ConvertPresetName | undefined;
  if (preset !== undefined && Object.hasOwn(CONVERT_PRESETS, preset)) {
    conversionPreset = preset as ConvertPresetName;
  } else if (preset !== undefined) {
    if (!Object.hasOwn(presets, preset)) {
      throw new RangeError(
        `convert: unknown --preset '${preset}'; conversion presets: ${Object.keys(CONVERT_PRESETS).join(', ')}; ` +
          `post-processing presets: ${Object.keys(presets).join(', ')}`,
      );
    }
    const { priors, labels: _labels, ...rest } = presetByName(preset);
    anchors = priors;
    postprocess = rest;
  }
  if (anchorsFile !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(anchorsFile, 'utf8'));
    } catch (error) {
      throw new Error(`convert: --anchors ${anchorsFile}: ${(error as Error).message}`, { cause: error });
    }
    if (Array.isArray(parsed)) anchors = new Float32Array(parsed.flat(1) as number[]);
    else if (parsed !== null && typeof parsed === 'object' && 'family' in parsed) {
      anchors = parsed as PriorConfig;
      try {
        rejectUnknownPriorKeys(anchors);
      } catch (error) {
        throw new TypeError(`convert: --anchors ${anchorsFile}: ${(error as Error).message}`, { cause: error });
      }
    } else
      throw new Error(
        `convert: --anchors ${anchorsFile} holds neither a PriorConfig (with 'family') nor an array of (cx, cy, w, h) rows`,
      );
  }
  return { anchors, postprocess, conversionPreset };
}

/** The score column count of the model's detection head, when it can be read. */
function scoreColumns(read: typeof import('../convert/index.js').readTflite, bytes: Uint8Array): number | undefined {
  try {
    const model = read(bytes);
    const op = model.operators.find((o) => o.name === 'TFLite_Detection_PostProcess');
    const shape = op ? model.tensors[op.inputs[1]]?.shape : undefined;
    return shape?.[shape.length - 1];
  } catch {
    return undefined; // convertModel reports the problem with the file
  }
}

/**
 * `ssd-edge convert model.tflite --out model.onnx`: a TensorFlow Lite SSD → an ssd-edge ONNX
 * model with its pre- and post-processing in the metadata (see src/convert/). Never writes over
 * the input; an existing --out needs --force; the file is written atomically, so a failed
 * conversion leaves nothing half-written.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { COCO91_LABELS } from '../core/labels.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { describeOptions, parseArgs, type OptionSpec } from './args.js';

const OPTIONS: Record<string, OptionSpec> = {
  out: { type: 'string', description: 'the .onnx file to write (required)' },
  float: { type: 'boolean', description: 'dequantise: float32 weights and operators (default: exact integer arithmetic, as TFLite)' },
  preset: { type: 'string', description: "a model family whose file lacks its anchors and decoding: 'mediapipe-blazeface' (MediaPipe's face_detection_short_range.tflite)" },
  labels: { type: 'string', description: "class names: 'coco' (91 ids, background first), or a text file, one name per line or 'id name' lines (Coral's)" },
  force: { type: 'boolean', description: 'replace an existing --out file' },
};

export const CONVERT_USAGE = `ssd-edge convert model.tflite --out model.onnx [options]\n${describeOptions(OPTIONS)}`;

/** Class names from a labels file: plain lines (background first), or Coral's 'id name' lines (id 0 = first class after background). */
export function parseLabelsFile(text: string, numClasses: number): string[] {
  const lines = text.split(/\r?\n/).map(l => l.trim()).filter(l => l !== '');
  const numbered = lines.every(l => /^\d+\s+\S/.test(l));
  if (!numbered) {
    if (lines.length !== numClasses) throw new RangeError(`the labels file has ${lines.length} names; the model has ${numClasses} classes (background first)`);
    return lines;
  }
  const labels = ['background', ...Array.from({ length: numClasses - 1 }, (_, i) => `class ${i + 1}`)];
  for (const line of lines) {
    const [, id, name] = line.match(/^(\d+)\s+(.*)$/)!;
    if (Number(id) + 1 >= numClasses) throw new RangeError(`labels file: id ${id} ('${name}') is beyond the model's ${numClasses - 1} classes`);
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
  if (path.resolve(out) === path.resolve(input)) throw new Error(`convert: --out is the input file ${input}; choose another name`);
  const existing = await stat(out).catch(() => undefined);
  if (existing?.isDirectory()) throw new Error(`convert: --out ${out} is a folder; give a file name`);
  if (existing && !options.force) throw new Error(`convert: ${out} exists; pass --force to replace it`);
  const bytes = new Uint8Array(await readFile(input));
  const { convertModel, readTflite } = await import('../convert/index.js');
  const started = performance.now();
  let labels: readonly string[] | undefined;
  let labelsNote = '';
  const columns = scoreColumns(readTflite, bytes);
  if (options.labels === 'coco') labels = COCO91_LABELS;
  else if (typeof options.labels === 'string') labels = parseLabelsFile(await readFile(options.labels, 'utf8'), columns ?? 0);
  else if (columns === COCO91_LABELS.length) {
    labels = COCO91_LABELS;
    labelsNote = ' (assumed from its 91 score columns; pass --labels to name them otherwise)';
  }
  const preset = options.preset as string | undefined;
  if (preset !== undefined) (await import('../convert/index.js')).convertPreset(preset); // a clear error for an unknown name
  const { onnx, report } = convertModel(bytes, {
    ...(preset !== undefined ? { preset: preset as 'mediapipe-blazeface' } : {}),
    mode: options.float ? 'float' : preset !== undefined ? undefined : 'exact', labels,
    metadata: { 'ssd-edge.convertedFrom': path.basename(input) },
  });
  await writeFileAtomic(out, onnx);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`wrote ${out}: ${(onnx.length / 2 ** 20).toFixed(1)} MiB ONNX (${report.onnxNodes} nodes) from ${report.tfliteOperators} TFLite operators, ` +
    `${report.mode} arithmetic, in ${seconds} s`);
  console.log(`  outputs: loc ← '${report.boxTensor}', conf ← '${report.scoreTensor}'; ${report.anchors} anchors, ${report.numClasses} score columns`);
  if (labels) console.log(`  labels: ${labels.slice(1, 6).join(', ')}, …${labelsNote}`);
  if (report.detectionOptions) console.log(`  post-processing from TFLite_Detection_PostProcess: ${JSON.stringify(report.detectionOptions)}`);
  if (report.approximated.length) console.log(`  not bit-exact (computed in float): ${report.approximated.join(', ')}`);
}

/** The score column count of the model's detection head, when it can be read. */
function scoreColumns(read: typeof import('../convert/index.js').readTflite, bytes: Uint8Array): number | undefined {
  try {
    const model = read(bytes);
    const op = model.operators.find(o => o.name === 'TFLite_Detection_PostProcess');
    const shape = op ? model.tensors[op.inputs[1]]?.shape : undefined;
    return shape?.[shape.length - 1];
  } catch {
    return undefined; // convertModel reports the problem with the file
  }
}

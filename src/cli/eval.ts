/**
 * `ssd-edge eval --model m.onnx --data <voc dir>`: PASCAL VOC mAP@0.5 of an ONNX model through
 * the runtime, per class, VOC2007 11-point and all-point AP, `difficult` excluded. With
 * `--weights <checkpoint>` the same of a training checkpoint run in tfjs.
 */
import type { ModelEvaluation } from '../train/evaluate.js';
import { describeOptions, integerOption, parseArgs, type OptionSpec } from './args.js';
import { progressBar, type Progress } from './progress.js';

const OPTIONS: Record<string, OptionSpec> = {
  model: { type: 'string', description: 'ONNX model file (this or --weights)' },
  weights: {
    type: 'string',
    description: 'a training checkpoint directory, run in tfjs instead (what its export must reproduce)',
  },
  data: { type: 'string', description: 'PASCAL VOC dataset root (required)' },
  split: { type: 'string', description: 'image set: ImageSets/Main/<split>.txt (default test)' },
  backend: {
    type: 'string',
    description: 'auto | node | wasm (default auto); with --weights a tfjs backend: auto | wasm | cpu',
  },
  limit: { type: 'string', description: 'evaluate only the first n images' },
  'skip-invalid': {
    type: 'boolean',
    description: 'leave out (and count) zero-size or out-of-size boxes, mis-sized images, repeated ids',
  },
  json: { type: 'boolean', description: 'print the result as JSON' },
};

export const EVAL_USAGE = `ssd-edge eval --model m.onnx|--weights <checkpoint dir> --data <voc dir> [options]\n${describeOptions(OPTIONS)}`;

const ap = (v: number) => (Number.isNaN(v) ? '   n/a' : v.toFixed(4).padStart(6));

export function formatEvaluation(result: ModelEvaluation): string {
  const width = Math.max(12, ...result.perClass.map((c) => (c.label ?? String(c.classId)).length));
  const header = `${'class'.padEnd(width)}   AP07  AP all     #GT   #det`;
  const rows = result.perClass.map(
    (c) =>
      `${(c.label ?? String(c.classId)).padEnd(width)} ${ap(c.ap07)} ${ap(c.apAll)}  ` +
      `${String(c.numGroundTruth).padStart(6)} ${String(c.numDetections).padStart(6)}`,
  );
  const rule = '-'.repeat(header.length);
  return [
    header,
    rule,
    ...rows,
    rule,
    `${'mAP'.padEnd(width)} ${ap(result.map07)} ${ap(result.mapAll)}`,
    '',
    `mAP@0.5 (VOC2007 11-point): ${ap(result.map07).trim()}`,
    `mAP@0.5 (all-point):        ${ap(result.mapAll).trim()}`,
    `${result.images} images in ${result.seconds.toFixed(1)} s on ${result.backend}`,
  ].join('\n');
}

/** JSON-safe: NaN → null, typed arrays (recall/precision curves) left out. */
function toJson(result: ModelEvaluation): unknown {
  const num = (v: number) => (Number.isNaN(v) ? null : v);
  return {
    map07: num(result.map07),
    mapAll: num(result.mapAll),
    images: result.images,
    seconds: result.seconds,
    backend: result.backend,
    skipped: result.skipped,
    perClass: result.perClass.map((c) => ({
      classId: c.classId,
      label: c.label,
      ap07: num(c.ap07),
      apAll: num(c.apAll),
      numGroundTruth: c.numGroundTruth,
      numDifficult: c.numDifficult,
      numDetections: c.numDetections,
      truePositives: c.truePositives,
      falsePositives: c.falsePositives,
    })),
  };
}

export async function runEval(argv: string[]): Promise<void> {
  const { positionals, options } = parseArgs(argv, OPTIONS, 'eval');
  if (positionals.length > 0) throw new Error(`eval: unexpected argument '${positionals[0]}'\n\nusage: ${EVAL_USAGE}`);
  const model = options.model as string | undefined;
  const weights = options.weights as string | undefined;
  const data = options.data as string | undefined;
  if (!model === !weights)
    throw new Error(`eval: give one of --model (an ONNX file) or --weights (a checkpoint)\n\nusage: ${EVAL_USAGE}`);
  if (!data) throw new Error(`eval: --data is required\n\nusage: ${EVAL_USAGE}`);
  const backend = (options.backend as string | undefined) ?? 'auto';
  const backends = weights ? ['auto', 'wasm', 'cpu', 'node', 'node-gpu'] : ['auto', 'node', 'wasm'];
  if (!backends.includes(backend)) throw new RangeError(`--backend is '${backend}'; use ${backends.join(', ')}`);
  const limit = integerOption(options, 'limit', 1);
  let progress: Progress | undefined;
  const common = {
    data,
    split: (options.split as string | undefined) ?? 'test',
    backend: backend as 'auto',
    limit,
    skipInvalid: options['skip-invalid'] === true,
    onProgress: (done: number, total: number, id: string) => {
      progress ??= progressBar(total, 'eval');
      progress.tick(id);
    },
  };
  const { evaluateCheckpoint, evaluateModel } = await import('../train/evaluate.js'); // tfjs: loaded only to evaluate
  const result = weights
    ? await evaluateCheckpoint({ ...common, checkpoint: weights })
    : await evaluateModel({ ...common, model: model! });
  progress?.done();
  const { skipped } = result;
  if (skipped.messages.length > 0) {
    console.error(
      `eval: left out ${skipped.boxes} box${skipped.boxes === 1 ? '' : 'es'} and ${skipped.images} ` +
        `image${skipped.images === 1 ? '' : 's'} (--skip-invalid); first: ${skipped.messages[0]}`,
    );
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(toJson(result), null, 2)}\n`);
    return;
  }
  console.log(formatEvaluation(result));
}

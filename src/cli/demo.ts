/**
 * `ssd-edge demo` (what `npm start` runs): the default model (the COCO detector
 * 'ssd-mobilenet-v2-coco'; see models/README.md) detects the objects in a bundled real photo
 * (samples/dog.jpg); prints them, and writes the annotated PNG and the detections as JSON.
 * `--model shapes --image samples/shapes.jpg` runs the shapes model trained by ssd-edge.
 * `--postprocess-only` instead post-processes a bundled SSD300-VOC model output (no model run).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPostprocessor } from '../core/postprocessor.js';
import { presets } from '../core/presets.js';
import type { Detection } from '../core/types.js';
import { createDetector } from '../runtime/detector.js';
import { describeOptions, numberOption, parseArgs, type OptionSpec } from './args.js';
import { writeAnnotated } from './annotate.js';
import { MODEL_OPTION_HELP, resolveModelOption } from './model-option.js';
import { ensureWritableDir } from './output-paths.js';

const OPTIONS: Record<string, OptionSpec> = {
  model: { type: 'string', description: MODEL_OPTION_HELP },
  image: { type: 'string', description: 'image to detect in (default samples/dog.jpg)' },
  out: {
    type: 'string',
    description: 'directory for <image>.annotated.png and <image>.detections.json (default demo-output)',
  },
  'min-score': { type: 'string', description: 'keep detections at or above this score (default 0.5)' },
  json: { type: 'boolean', description: 'print the result as JSON' },
  'postprocess-only': {
    type: 'boolean',
    description: 'post-process the bundled SSD300-VOC sample output instead (no model)',
  },
  build: {
    type: 'string',
    description: 'with --postprocess-only: the core build, simd or baseline (default: the best)',
  },
};

export const DEMO_USAGE = `ssd-edge demo [options]\n${describeOptions(OPTIONS)}`;
export const SAMPLE_IMAGE = new URL('../../../samples/dog.jpg', import.meta.url);
/** The shapes model's sample (its VOC annotation is samples/shapes.xml). */
export const SHAPES_SAMPLE_IMAGE = new URL('../../../samples/shapes.jpg', import.meta.url);
const SAMPLE_OUTPUT = new URL('../../../samples/ssd300-voc-output.f32', import.meta.url);

function formatTable(detections: readonly Detection[], limit: number): string {
  const rows = detections
    .slice(0, limit)
    .map(
      (d, i) =>
        `${String(i + 1).padStart(3)}  ${(d.label ?? String(d.classId)).padEnd(12)} ${d.score.toFixed(3)}  ` +
        `[${d.box.map((v) => v.toFixed(3)).join(', ')}]  prior ${d.priorIndex}`,
    );
  return ['  #  class        score  box (xmin, ymin, xmax, ymax), normalised', ...rows].join('\n');
}

async function postprocessOnly(json: boolean, build: string): Promise<void> {
  if (build !== 'auto' && build !== 'simd' && build !== 'baseline')
    throw new RangeError(`--build is '${build}'; use simd or baseline`);
  const post = await createPostprocessor(presets.ssd300Voc, { build });
  const bytes = await readFile(SAMPLE_OUTPUT);
  const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const locLength = post.priors.length; // numPriors × 4
  const started = performance.now();
  const [detections] = post.run(values.subarray(0, locLength), values.subarray(locLength));
  const elapsed = performance.now() - started;
  if (json) {
    process.stdout.write(`${JSON.stringify({ build: post.build, detections }, null, 2)}\n`);
    return;
  }
  const confident = detections.filter((d) => d.score >= 0.5);
  console.log(
    `ssd-edge: post-processed a bundled SSD300-VOC output (8732 priors × 21 classes) ` +
      `with the ${post.build} core in ${elapsed.toFixed(2)} ms (first call).`,
  );
  console.log(
    `${detections.length} detections above ${presets.ssd300Voc.scoreThreshold}; ${confident.length} with score ≥ 0.5:\n`,
  );
  console.log(formatTable(confident, 20));
  console.log('\nThe sample is a synthetic model output (see samples/README.md).');
}

export async function runDemo(argv: string[]): Promise<void> {
  const { positionals, options } = parseArgs(argv, OPTIONS, 'demo');
  if (positionals.length > 0) throw new Error(`demo: unexpected '${positionals[0]}'\n\nusage: ${DEMO_USAGE}`);
  if (options['postprocess-only'])
    return postprocessOnly(options.json === true, (options.build as string | undefined) ?? 'auto');
  if (options.build !== undefined)
    throw new Error('demo: --build goes with --postprocess-only (the detector picks its own core build)');
  const model = resolveModelOption('demo', options.model as string | undefined);
  const image = (options.image as string | undefined) ?? fileURLToPath(SAMPLE_IMAGE);
  const outDir = (options.out as string | undefined) ?? 'demo-output';
  const minScore = numberOption(options, 'min-score', 0, 1) ?? 0.5;
  await ensureWritableDir(outDir, `demo: --out '${outDir}'`);

  const detector = await createDetector({ model });
  let found;
  try {
    found = (await detector.detect(image)).filter((d) => d.score >= minScore);
  } finally {
    await detector.dispose();
  }
  const timings = detector.lastTimings!;
  const stem = path.parse(image).name;
  const pngPath = path.join(outDir, `${stem}.annotated.png`),
    jsonPath = path.join(outDir, `${stem}.detections.json`);
  const result = { model, image, backend: detector.backend, minScore, timings, detections: found };
  await writeAnnotated(image, found, pngPath);
  await writeFile(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  console.log(
    `ssd-edge: ${path.basename(model)} on ${path.basename(image)} (${detector.backend}): ` +
      `pre ${ms(timings.preprocess)}, inference ${ms(timings.inference)}, post ${ms(timings.postprocess)}`,
  );
  console.log(`${found.length} detection${found.length === 1 ? '' : 's'} with score ≥ ${minScore}:\n`);
  console.log(formatTable(found, 50));
  console.log(`\nwrote ${pngPath} and ${jsonPath}`);
}

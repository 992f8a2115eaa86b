#!/usr/bin/env node
/**
 * The ssd-edge command line. `ssd-edge demo` (what `npm start` runs) post-processes a bundled
 * SSD300-VOC-shaped model output and prints the detections.
 */
import { readFile } from 'node:fs/promises';
import { createPostprocessor } from '../core/postprocessor.js';
import { presets } from '../core/presets.js';
import type { Detection } from '../core/types.js';
import { BENCH_E2E_USAGE, runBenchE2e } from './bench-e2e.js';
import { DETECT_USAGE, runDetect } from './detect.js';
import { EVAL_USAGE, runEval } from './eval.js';
import { EXPORT_USAGE, runExport } from './export.js';
import { GENERATE_DATA_USAGE, runGenerateData } from './generate-data.js';
import { TRAIN_USAGE, runTrain } from './train.js';

const USAGE = `usage: ssd-edge <command> [options]

commands:
  detect     detect objects in an image or a directory of images
  export     write SSD300 to an ONNX file
  bench-e2e  SSD300 latency: pre-processing, inference, post-processing per backend
  generate-data  write the procedural shapes dataset (PASCAL VOC layout)
  train      train SSD300 on a PASCAL VOC dataset (tfjs), with checkpoints
  eval       PASCAL VOC mAP@0.5 of an ONNX model on a VOC split (11-point and all-point, per class)
  demo       post-process the bundled SSD300-VOC sample output ([--json] [--build simd|baseline])
  help       this text

${DETECT_USAGE}

${EXPORT_USAGE}

${BENCH_E2E_USAGE}

${GENERATE_DATA_USAGE}

${TRAIN_USAGE}

${EVAL_USAGE}`;

const SAMPLE = new URL('../../../samples/ssd300-voc-output.f32', import.meta.url);

function formatTable(detections: Detection[], limit: number): string {
  const rows = detections.slice(0, limit).map((d, i) =>
    `${String(i + 1).padStart(3)}  ${(d.label ?? String(d.classId)).padEnd(12)} ${d.score.toFixed(3)}  ` +
    `[${d.box.map((v) => v.toFixed(3)).join(', ')}]  prior ${d.priorIndex}`);
  return ['  #  class        score  box (xmin, ymin, xmax, ymax), normalised', ...rows].join('\n');
}

async function demo(args: string[]): Promise<void> {
  const json = args.includes('--json');
  const buildAt = args.indexOf('--build');
  const build = buildAt >= 0 ? args[buildAt + 1] : 'auto';
  if (build !== 'auto' && build !== 'simd' && build !== 'baseline') {
    throw new RangeError(`--build is '${build}'; use simd or baseline`);
  }
  const post = await createPostprocessor(presets.ssd300Voc, { build });
  const bytes = await readFile(SAMPLE);
  const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const locLength = post.priors.length; // numPriors × 4
  const loc = values.subarray(0, locLength), conf = values.subarray(locLength);
  const started = performance.now();
  const [detections] = post.run(loc, conf);
  const elapsed = performance.now() - started;
  if (json) {
    process.stdout.write(`${JSON.stringify({ build: post.build, detections }, null, 2)}\n`);
    return;
  }
  const confident = detections.filter((d) => d.score >= 0.5);
  console.log(`ssd-edge: post-processed a bundled SSD300-VOC output (8732 priors × 21 classes) ` +
    `with the ${post.build} core in ${elapsed.toFixed(2)} ms (first call).`);
  console.log(`${detections.length} detections above ${presets.ssd300Voc.scoreThreshold}; ` +
    `${confident.length} with score ≥ 0.5:\n`);
  console.log(formatTable(confident, 20));
  console.log('\nThe sample is a synthetic model output (see samples/README.md); later releases run a trained model on an image.');
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'demo':
      return demo(args);
    case 'detect':
      return runDetect(args);
    case 'export':
      return runExport(args);
    case 'bench-e2e':
      return runBenchE2e(args);
    case 'generate-data':
      return runGenerateData(args);
    case 'train':
      return runTrain(args);
    case 'eval':
      return runEval(args);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      throw new Error(`unknown command '${command}'\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`ssd-edge: ${(error as Error).message}`);
  process.exitCode = 1;
});

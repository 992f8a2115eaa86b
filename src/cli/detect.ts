/**
 * `ssd-edge detect <image|dir>`: runs a detector on an image or every JPEG/PNG in a directory,
 * prints the detections (a table, or JSON), and optionally writes annotated PNGs.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createDetector } from '../runtime/detector.js';
import type { ImageDetection } from '../runtime/types.js';
import { describeOptions, numberOption, parseArgs, type OptionSpec } from './args.js';
import { writeAnnotated } from './annotate.js';
import { MODEL_OPTION_HELP, resolveModelOption } from './model-option.js';
import { planAnnotatedOutputs } from './output-paths.js';
import { progressBar } from './progress.js';

const OPTIONS: Record<string, OptionSpec> = {
  model: { type: 'string', description: MODEL_OPTION_HELP },
  preset: { type: 'string', description: "post-processing preset (default: the model's metadata)" },
  backend: { type: 'string', description: 'auto | node | wasm (default auto)' },
  threads: { type: 'string', description: 'inference threads (default: every core)' },
  'min-score': { type: 'string', description: 'print and draw detections at or above this score (default 0.5)' },
  out: { type: 'string', description: 'annotated PNG to write (a directory when the input is one)' },
  json: { type: 'boolean', description: 'print JSON instead of a table' },
};

export const DETECT_USAGE = `ssd-edge detect <image|dir> [options]\n${describeOptions(OPTIONS)}`;
const IMAGE_FILE = /\.(jpe?g|png)$/i;

function table(file: string, detections: readonly ImageDetection[]): string {
  const rows = detections.map((d) => `  ${(d.label ?? String(d.classId)).padEnd(14)} ${d.score.toFixed(3)}  ` +
    `[${d.pixelBox.map((v) => v.toFixed(0).padStart(5)).join(',')}] px`);
  return [`${file}: ${detections.length} detection${detections.length === 1 ? '' : 's'}`, ...rows].join('\n');
}

async function listImages(target: string): Promise<{ files: string[]; isDirectory: boolean }> {
  let info;
  try {
    info = await stat(target);
  } catch {
    throw new Error(`detect: '${target}' does not exist`);
  }
  if (!info.isDirectory()) return { files: [target], isDirectory: false };
  const files = (await readdir(target)).filter((f) => IMAGE_FILE.test(f)).sort().map((f) => path.join(target, f));
  if (files.length === 0) throw new Error(`detect: '${target}' has no .jpg, .jpeg or .png files`);
  return { files, isDirectory: true };
}

export async function runDetect(argv: string[]): Promise<void> {
  const { positionals, options } = parseArgs(argv, OPTIONS, 'detect');
  if (positionals.length !== 1) throw new Error(`detect: give one image or directory\n\nusage: ${DETECT_USAGE}`);
  const modelPath = resolveModelOption('detect', options.model as string | undefined);
  const backend = (options.backend as string | undefined) ?? 'auto';
  if (!['auto', 'node', 'wasm'].includes(backend)) throw new RangeError(`--backend is '${backend}'; use auto, node or wasm`);
  const minScore = numberOption(options, 'min-score', 0, 1) ?? 0.5;
  const { files, isDirectory } = await listImages(positionals[0]);
  const out = options.out as string | undefined;
  const targets = out ? await planAnnotatedOutputs(positionals[0], files, isDirectory, out) : undefined;

  const detector = await createDetector({
    model: modelPath, preset: options.preset as string | undefined, backend: backend as 'auto',
    threads: numberOption(options, 'threads', 1, 256),
  });
  const results: Record<string, ImageDetection[]> = {};
  const progress = isDirectory ? progressBar(files.length, `detect (${detector.backend})`) : undefined;
  let failures = 0;
  try {
    for (const file of files) {
      try {
        const found = (await detector.detect(file)).filter((d) => d.score >= minScore);
        results[file] = found;
        const target = targets?.get(file);
        if (target) await writeAnnotated(file, found, target);
        if (!options.json) {
          console.log(table(file, found));
        }
      } catch (error) {
        if (!isDirectory) throw error;
        failures++;
        console.error(`detect: ${file}: ${(error as Error).message}`);
      }
      progress?.tick(path.basename(file));
    }
  } finally {
    progress?.done();
    await detector.dispose();
  }
  if (options.json) console.log(JSON.stringify(isDirectory ? results : results[files[0]], null, 2));
  if (failures > 0) {
    process.exitCode = 1;
    console.error(`detect: ${failures} of ${files.length} images failed`);
  }
}

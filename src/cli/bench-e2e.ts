/**
 * `ssd-edge bench-e2e`: end-to-end latency split into pre-processing, inference and
 * post-processing, for each backend and thread count, as a table (text, Markdown or JSON).
 *
 * By default the network is SSD300, built here with random weights and exported in memory:
 * inference time does not depend on the weights, and no 100 MB model file has to exist. The
 * image is synthetic raw RGB pixels, so no file decoding is in the timed path.
 *
 * `--model` times a real model instead: a built-in name ('ssd-mobilenet-v2-coco'), an .onnx file,
 * or a .tflite file, which is converted here twice (exact integer arithmetic and `--float`, into a
 * temporary folder) so that both conversions are timed side by side. `--photo` decodes a real
 * photo once, before timing, and feeds its pixels.
 *
 * onnxruntime-web fixes its wasm thread count at the first session of a process (see
 * runtime/session.ts), so each wasm configuration runs in a child process of this very file,
 * which reads the model from a temporary file and prints its figures as one JSON line.
 * onnxruntime-node takes a thread count per session: its configurations run in this process.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median } from '../util/median.js';
import { mulberry32 } from '../util/random.js';
import { COCO91_LABELS } from '../core/labels.js';
import { readModelBytes } from '../runtime/session.js';
import { createDetector } from '../runtime/detector.js';
import { importOptional } from '../runtime/environment.js';
import { DEFAULT_MAX_IMAGE_PIXELS } from '../runtime/image-limits.js';
import type { Backend, RawImage, Timings } from '../runtime/types.js';
import { describeOptions, numberOption, parseArgs, type OptionSpec } from './args.js';
import { loadModelBuilder } from './model-builder.js';

const OPTIONS: Record<string, OptionSpec> = {
  width: { type: 'string', description: 'channel width multiplier in (0, 1] (default 1: full SSD300)' },
  runs: { type: 'string', description: 'timed runs per configuration, after 2 warm-up runs (default 10)' },
  backends: { type: 'string', description: 'comma-separated: node, wasm (default: every one available)' },
  threads: { type: 'string', description: 'comma-separated thread counts (default: 1 and every core)' },
  image: { type: 'string', description: 'synthetic RGB image size WxH (default 640x480)' },
  model: {
    type: 'string',
    description:
      'a real model instead of SSD300: built-in name, .onnx, or .tflite (timed as its exact and --float conversions)',
  },
  photo: {
    type: 'string',
    description: 'an image file to feed (decoded once, before timing) instead of synthetic pixels',
  },
  markdown: { type: 'boolean', description: 'print a Markdown table' },
  json: { type: 'boolean', description: 'print the figures as JSON' },
};

export const BENCH_E2E_USAGE = `ssd-edge bench-e2e [options]\n${describeOptions(OPTIONS)}`;

const WARMUP_RUNS = 2;
/** VOC's 21 classes: the model's metadata then names the ssd300Voc post-processing. */
const NUM_CLASSES = 21;
/** The CPU backends a Node process has; 'webgpu' needs a browser. */
const NODE_BACKENDS: readonly Backend[] = ['node', 'wasm'];
/** argv[2] of a child process that measures one wasm configuration. */
const WORKER_FLAG = '--bench-e2e-worker';

interface Configuration {
  backend: Backend;
  threads: number;
}

/** What a child process is asked to measure. */
interface WorkerJob extends Configuration {
  modelPath: string;
  runs: number;
  image: [width: number, height: number];
  photo?: string;
}

/** A model to time: its bytes and, when several are timed, the name of its row. */
interface TimedModel {
  bytes: Uint8Array;
  variant?: string;
}

/** One backend at one thread count; times are medians in milliseconds. */
export interface BenchE2eRow extends Configuration {
  /** Which of several models (e.g. 'exact', 'float' for a .tflite); absent for one model. */
  variant?: string;
  /** The runtime package and its version, e.g. 'onnxruntime-node 1.30.0'. */
  runtime: string;
  preprocess: number;
  inference: number;
  postprocess: number;
  /** detect() from call to result: the three stages, reading the pixels and scaling the boxes. */
  total: number;
  /** (preprocess + postprocess) / total, in percent. */
  prePostPercent: number;
  /** Detections in the last run: post-processing time grows with the candidates that pass. */
  detections: number;
}

export interface BenchE2eReport {
  /** SSD300's width and parameters (random weights), or the real model's name (`--model`). */
  model: { name?: string; width?: number; numClasses: number; parameters?: number; onnxBytes: number };
  /** `--photo`: the file fed (decoded before timing). */
  photo?: string;
  image: { width: number; height: number };
  runs: number;
  warmupRuns: number;
  /** What `backend: 'auto'` chooses here, with its thread count. */
  auto: Configuration;
  /** CPU, cores, memory, OS and Node version. */
  machine: string;
  rows: BenchE2eRow[];
}

interface Settings {
  width: number;
  model?: string;
  photo?: string;
  runs: number;
  backends?: Backend[];
  threads: number[];
  image: [width: number, height: number];
  format: 'text' | 'markdown' | 'json';
}

function log(message: string): void {
  process.stderr.write(`bench-e2e: ${message}\n`);
}

/** `text` as an integer ≥ 1; else a RangeError that starts with `what` ("--runs is", "--threads has"). */
function positiveInteger(text: string, what: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || value < 1) throw new RangeError(`${what} '${text}'; it must be an integer ≥ 1`);
  return value;
}

/** A comma-separated option's items, without repeats; a RangeError naming the option when empty. */
function listOption(raw: string, name: string): string[] {
  const items = [...new Set(raw.split(',').map((item) => item.trim()))];
  if (items.some((item) => item === ''))
    throw new RangeError(`--${name} is '${raw}'; give a comma-separated list with no empty items`);
  return items;
}

function parseSettings(argv: string[]): Settings {
  const { positionals, options } = parseArgs(argv, OPTIONS, 'bench-e2e');
  if (positionals.length > 0) throw new Error(`bench-e2e: unexpected '${positionals[0]}'\n\nusage: ${BENCH_E2E_USAGE}`);
  if (options.markdown && options.json) throw new RangeError('--markdown and --json exclude each other; pick one');

  const backends = typeof options.backends === 'string' ? listOption(options.backends, 'backends') : undefined;
  const unknown = backends?.find((b) => !NODE_BACKENDS.includes(b as Backend));
  if (unknown !== undefined) {
    throw new RangeError(
      `--backends has '${unknown}'; each must be one of ${NODE_BACKENDS.join(', ')} (webgpu runs in browsers only)`,
    );
  }
  const threads =
    typeof options.threads === 'string'
      ? listOption(options.threads, 'threads').map((item) => positiveInteger(item, '--threads has'))
      : [...new Set([1, os.availableParallelism()])];

  const imageText = typeof options.image === 'string' ? options.image : '640x480';
  const size = /^(\d+)x(\d+)$/i.exec(imageText);
  if (
    !size ||
    Number(size[1]) < 1 ||
    Number(size[2]) < 1 ||
    Number(size[1]) * Number(size[2]) > DEFAULT_MAX_IMAGE_PIXELS
  ) {
    throw new RangeError(
      `--image is '${imageText}'; it must be WxH in pixels, e.g. 640x480, at most ` +
        `${DEFAULT_MAX_IMAGE_PIXELS.toLocaleString('en')} pixels (the detector's limit)`,
    );
  }
  const width = numberOption(options, 'width', 0, 1) ?? 1;
  if (width === 0) throw new RangeError(`--width is '${String(options.width)}'; it must be in (0, 1]`);
  return {
    width,
    ...(typeof options.model === 'string' ? { model: options.model } : {}),
    ...(typeof options.photo === 'string' ? { photo: options.photo } : {}),
    runs: typeof options.runs === 'string' ? positiveInteger(options.runs, '--runs is') : 10,
    backends: backends as Backend[] | undefined,
    threads,
    image: [Number(size[1]), Number(size[2])],
    format: options.json ? 'json' : options.markdown ? 'markdown' : 'text',
  };
}

/** Seeded random RGB pixels: a stand-in for a decoded camera frame. */
function syntheticImage(width: number, height: number): RawImage {
  const rand = mulberry32(1);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * 256);
  return { data, width, height, channels: 3 };
}

async function runtimeName(backend: Backend): Promise<string> {
  const name = backend === 'node' ? 'onnxruntime-node' : 'onnxruntime-web';
  // already loaded by the detector: this import only reads its version
  const { env } = (await import(name)) as typeof import('onnxruntime-web');
  return `${name} ${env.versions.common}`;
}

/** The photo's pixels (decoded here, so no decoding is timed), or seeded synthetic ones. */
async function benchImage(photo: string | undefined, size: [number, number]): Promise<RawImage> {
  if (photo === undefined) return syntheticImage(...size);
  const { decodeImage } = await import('../runtime/image-node.js');
  return decodeImage(photo);
}

/**
 * `--model`: a .tflite is converted twice (exact, float) so that both conversions are timed;
 * anything else (built-in name, .onnx path or URL) is read as it is.
 */
async function loadModels(model: string): Promise<{ name: string; models: TimedModel[] }> {
  const { bytes } = await readModelBytes(model);
  const name = path.basename(model).replace(/\.(onnx|tflite)$/i, '');
  if (!/\.tflite$/i.test(model)) return { name, models: [{ bytes }] };
  const models: TimedModel[] = [];
  const { convertModel } = await import('../convert/index.js');
  for (const mode of ['exact', 'float'] as const) {
    const start = performance.now();
    // COCO's labels for the COCO detector; other models keep their column numbers
    const labels = /coco/i.test(name) ? { labels: COCO91_LABELS } : {};
    models.push({ bytes: convertModel(bytes, { mode, ...labels }).onnx, variant: mode });
    log(`converted ${path.basename(model)} (${mode}) in ${seconds(start)}`);
  }
  return { name, models };
}

/** Times detect() on one backend and thread count: WARMUP_RUNS untimed runs, then `runs` timed ones. */
async function measure(
  model: Uint8Array,
  { backend, threads }: Configuration,
  runs: number,
  image: RawImage,
): Promise<BenchE2eRow> {
  const detector = await createDetector({ model, backend, threads });
  try {
    const stages: Timings[] = [],
      totals: number[] = [];
    let detections = 0;
    for (let run = 0; run < WARMUP_RUNS + runs; run++) {
      const start = performance.now();
      detections = (await detector.detect(image)).length;
      const total = performance.now() - start;
      if (run < WARMUP_RUNS) continue;
      stages.push({ ...detector.lastTimings! });
      totals.push(total);
    }
    const stage = (key: keyof Timings) => median(stages.map((t) => t[key]));
    const [preprocess, inference, postprocess, total] = [
      stage('preprocess'),
      stage('inference'),
      stage('postprocess'),
      median(totals),
    ];
    return {
      backend,
      threads: detector.threads,
      runtime: await runtimeName(backend),
      preprocess,
      inference,
      postprocess,
      total,
      prePostPercent: (100 * (preprocess + postprocess)) / total,
      detections,
    };
  } finally {
    await detector.dispose();
  }
}

/** Child-process side: measures the job in argv and prints its row as one JSON line on stdout. */
async function runWorker(jobText: string): Promise<void> {
  const job = JSON.parse(jobText) as WorkerJob;
  const model = new Uint8Array(await readFile(job.modelPath));
  const row = await measure(model, job, job.runs, await benchImage(job.photo, job.image));
  process.stdout.write(`${JSON.stringify(row)}\n`);
}

/** Measures one configuration in a child process of this file (its stderr is passed through). */
function measureInChild(job: WorkerJob): Promise<BenchE2eRow> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), WORKER_FLAG, JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const line = out.trim().split('\n').at(-1);
      if (code === 0 && line) return resolve(JSON.parse(line) as BenchE2eRow);
      reject(
        new Error(
          `bench-e2e: the ${job.backend} run with ${job.threads} thread(s) failed in its child process ` +
            `(${signal ?? `exit code ${code}`}); its error is above`,
        ),
      );
    });
  });
}

/** Builds SSD300 with random weights and exports it to ONNX bytes; tfjs loads only here. */
async function buildModel(width: number): Promise<{ bytes: Uint8Array; parameters: number }> {
  const { createSsd300, exportSsd300 } = await loadModelBuilder();
  let start = performance.now();
  log(`building SSD300 (width ${width}, ${NUM_CLASSES} classes, random weights) in tfjs`);
  const model = createSsd300({ numClasses: NUM_CLASSES, width });
  try {
    const parameters = model.numParameters;
    log(`built: ${(parameters / 1e6).toFixed(2)} M parameters in ${seconds(start)}; exporting to ONNX`);
    start = performance.now();
    const bytes = exportSsd300(model);
    log(`exported: ${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB in ${seconds(start)}`);
    return { bytes, parameters };
  } finally {
    model.dispose();
  }
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** The backends asked for, or every one that loads here (onnxruntime-node is an optional peer). */
async function chooseBackends(asked: Backend[] | undefined): Promise<Backend[]> {
  if (asked) return asked;
  try {
    await importOptional('onnxruntime-node', "backend 'node'");
    return ['node', 'wasm'];
  } catch (error) {
    log(`skipping node: ${(error as Error).message}`);
    return ['wasm'];
  }
}

function describeMachine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return (
    `${cpu} (${os.availableParallelism()} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB), ` +
    `${os.type()} ${os.release()}, Node ${process.version}`
  );
}

function threadsText(n: number): string {
  return `${n} thread${n === 1 ? '' : 's'}`;
}

/** The report as a table: plain text for a terminal, or Markdown; a caption line above and below. */
export function formatBenchE2e(report: BenchE2eReport, markdown: boolean): string {
  const variants = report.rows.some((r) => r.variant !== undefined);
  const header = [
    ...(variants ? ['model'] : []),
    'backend',
    'threads',
    'pre-processing ms',
    'inference ms',
    'post-processing ms',
    'total ms',
    'pre + post',
    'detections',
  ];
  const rows = report.rows.map((r) => [
    ...(variants ? [r.variant ?? ''] : []),
    r.backend,
    String(r.threads),
    r.preprocess.toFixed(2),
    r.inference.toFixed(1),
    r.postprocess.toFixed(2),
    r.total.toFixed(1),
    `${r.prePostPercent.toFixed(2)}%`,
    String(r.detections),
  ]);
  const { model, image } = report;
  const runtimes = [...new Set(report.rows.map((r) => r.runtime))].join(', ');
  const what =
    model.name !== undefined
      ? `${model.name} (${model.numClasses} classes, ${(model.onnxBytes / 2 ** 20).toFixed(1)} MiB)`
      : `SSD300 width ${model.width} (${model.parameters!.toLocaleString('en')} parameters, ${model.numClasses} classes, random weights)`;
  const picture =
    report.photo !== undefined
      ? `${report.photo} (${image.width}×${image.height}, decoded before timing)`
      : `one ${image.width}×${image.height} RGB image`;
  const above =
    `${what}, ${picture}, ${report.runs === 1 ? 'one run' : `median of ${report.runs} runs`} ` +
    `after ${report.warmupRuns} warm-up runs. auto picks ${report.auto.backend} with ${threadsText(report.auto.threads)}.`;
  const below = `Machine: ${report.machine}; ${runtimes}.`;
  let table: string[];
  if (markdown) {
    table = [header, header.map((_, i) => (i === 0 || (variants && i === 1) ? '---' : '---:')), ...rows].map(
      (cells) => `| ${cells.join(' | ')} |`,
    );
  } else {
    const widths = header.map((_, i) => Math.max(...[header, ...rows].map((cells) => cells[i].length)));
    const left = variants ? 2 : 1;
    table = [header, ...rows].map((cells) =>
      cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '),
    );
  }
  return [above, '', ...table, '', below].join('\n');
}

/** `ssd-edge bench-e2e [options]`: see BENCH_E2E_USAGE. Progress goes to stderr, the table to stdout. */
export async function runBenchE2e(argv: string[]): Promise<void> {
  const settings = parseSettings(argv);
  const backends = await chooseBackends(settings.backends);
  let models: TimedModel[], modelInfo: BenchE2eReport['model'];
  if (settings.model !== undefined) {
    const loaded = await loadModels(settings.model);
    models = loaded.models;
    const { readSsdEdgeMetadata } = await import('../model/onnx/read.js');
    const config = readSsdEdgeMetadata(models[0].bytes)?.postprocess;
    modelInfo = { name: loaded.name, numClasses: config?.numClasses ?? 0, onnxBytes: models[0].bytes.byteLength };
  } else {
    const { bytes, parameters } = await buildModel(settings.width);
    models = [{ bytes }];
    modelInfo = { width: settings.width, numClasses: NUM_CLASSES, parameters, onnxBytes: bytes.byteLength };
  }
  const image = await benchImage(settings.photo, settings.image);

  const auto = await createDetector({ model: models[0].bytes });
  const autoChoice: Configuration = { backend: auto.backend, threads: auto.threads };
  await auto.dispose();
  log(`auto picks ${autoChoice.backend} with ${threadsText(autoChoice.threads)}`);

  const rows: BenchE2eRow[] = [];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ssd-edge-bench-e2e-'));
  try {
    for (const [index, { bytes, variant }] of models.entries()) {
      const modelPath = path.join(dir, `model-${index}.onnx`);
      if (backends.includes('wasm')) await writeFile(modelPath, bytes);
      const label = variant !== undefined ? `${variant}, ` : '';
      for (const backend of backends) {
        for (const threads of settings.threads) {
          const start = performance.now();
          log(`${label}${backend}, ${threadsText(threads)}: ${WARMUP_RUNS} warm-up + ${settings.runs} timed runs`);
          const row =
            backend === 'wasm'
              ? await measureInChild({
                  backend,
                  threads,
                  modelPath,
                  runs: settings.runs,
                  image: settings.image,
                  ...(settings.photo !== undefined ? { photo: settings.photo } : {}),
                })
              : await measure(bytes, { backend, threads }, settings.runs, image);
          if (row.threads !== threads)
            log(`warning: asked for ${threadsText(threads)}, ${row.runtime} runs ${row.threads}`);
          log(
            `${label}${backend}, ${threadsText(threads)}: total ${row.total.toFixed(1)} ms (inference ${row.inference.toFixed(1)} ms) ` +
              `in ${seconds(start)} (load average ${os.loadavg()[0].toFixed(2)})`,
          );
          rows.push(variant !== undefined ? { variant, ...row } : row);
        }
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const report: BenchE2eReport = {
    model: modelInfo,
    ...(settings.photo !== undefined ? { photo: settings.photo } : {}),
    image: { width: image.width, height: image.height },
    runs: settings.runs,
    warmupRuns: WARMUP_RUNS,
    auto: autoChoice,
    machine: describeMachine(),
    rows,
  };
  process.stdout.write(
    settings.format === 'json'
      ? `${JSON.stringify(report, null, 2)}\n`
      : `${formatBenchE2e(report, settings.format === 'markdown')}\n`,
  );
}

// Run as a script with WORKER_FLAG: the child process of measureInChild.
if (
  process.argv[2] === WORKER_FLAG &&
  process.argv[1] !== undefined &&
  pathToFileURL(process.argv[1]).href === import.meta.url
) {
  runWorker(process.argv[3]).catch((error: unknown) => {
    console.error(`bench-e2e worker: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 1;
  });
}

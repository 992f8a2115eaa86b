/**
 * `npm run bench:browser:coco` (bench/browser.bench.ts --coco): the real COCO detector (Coral's
 * SSD MobileNet V2, uint8) in one headless Chromium run, onnxruntime-web's wasm backend against
 * TensorFlow Lite's own wasm runtime (tfjs-tflite, XNNPACK) on the same .tflite and the same
 * 300 × 300 input, printed as Markdown tables with ratios against TFLite:
 *
 * 1. per image: ssd-edge's detector (decode, pre-processing, inference, post-processing) for the
 *    exact conversion (models/ssd-mobilenet-v2-coco.onnx) and the `--float` one (converted here,
 *    into memory), and TFLite's whole path (draw at 300 × 300, Invoke, read its outputs), 1 and 2
 *    threads, each in a fresh page;
 * 2. the levers on the exact model's inference: graph optimisation levels, a model optimised and
 *    saved by onnxruntime-node, int8 weights (zero point − 128), the proxy worker, each with the
 *    number of head bytes that differ from TFLite's (0 = bit-exact);
 * 3. time to the first result in a fresh page (navigation start → first detections).
 *
 * Each page's onnxruntime-web fixes its thread count at its first session, so every measurement
 * gets a fresh page (and the first-result ones a fresh browser context). The 1-minute load average
 * is printed beside each table: this machine is shared.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startServer } from '../web/server.js';
import { launchChromium, openPage, repoRoot, withConsole, type Chromium } from '../tests/browser/chromium.js';
import { convertModel } from '../src/convert/index.js';
import { median } from '../src/util/median.js';
import { COCO91_LABELS } from '../src/core/labels.js';
import { readTfliteCocoFixtures } from '../tests/tflite-reference/fixtures.js';
import { int8WeightsModel } from './coco-levers.js';

export interface CocoBrowserOptions {
  /** Timed runs per measurement (after one warm-up). */
  runs: number;
  /** Repeats of each time-to-first-result measurement (median reported). */
  firstRepeats: number;
  /** Which parts to run. */
  parts: readonly ('pipeline' | 'levers' | 'first')[];
}

const require = createRequire(import.meta.url);
const ortWebDist = path.dirname(require.resolve('onnxruntime-web'));
const tfliteDir = path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json'));
const tfjsCoreDist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist');
const TFLITE_FILE = path.join(repoRoot, 'models/mobilenet_ssd_v2_coco_quant_postprocess.tflite');
const EXACT_FILE = path.join(repoRoot, 'models/ssd-mobilenet-v2-coco.onnx');
const PHOTO = 'dog';

const fmt = (ms: number, digits = 1) => ms.toFixed(digits);
const ratio = (ms: number, peer: number) => `${(ms / peer).toFixed(2)}×`;
const load = () => os.loadavg()[0].toFixed(2);

interface Stages {
  decode?: number;
  preprocess: number;
  inference: number;
  postprocess: number;
  total: number;
}
interface DetectorResult extends Stages {
  backend: string;
  threads: number;
  detections: string[];
}
interface SessionResult {
  threads: number;
  createMs: number;
  firstRunMs: number;
  inference: number;
  min: number;
  differingBytes: number | null;
}
interface TfliteResult {
  threads: number;
  loadMs: number;
  inference: number;
  min: number;
  profile: { nodeType: string; nodeName: string; nodeExecMs: number }[];
  pipeline: Stages & { detections: number };
}
interface FirstResult {
  outputs?: number;
  error?: string;
  stages: Record<string, number>;
}

declare global {
  interface Window {
    cocoBench: {
      ready?: boolean;
      detector(o: object): Promise<DetectorResult>;
      ortSession(o: object): Promise<SessionResult>;
      tflite(o: object): Promise<TfliteResult>;
    };
    firstResult: Promise<FirstResult>;
  }
}

/** A model optimised by onnxruntime-node at `level` and saved (optimizedModelFilePath), or the error. */
async function ortNodeOptimised(
  model: Uint8Array,
  level: 'basic' | 'extended' | 'all',
  dir: string,
): Promise<Uint8Array | string> {
  try {
    const ort = await import('onnxruntime-node');
    const file = path.join(dir, `optimised-${level}.onnx`);
    const session = await ort.InferenceSession.create(model, {
      graphOptimizationLevel: level,
      optimizedModelFilePath: file,
      executionProviders: ['cpu'],
    });
    await session.release();
    return new Uint8Array(await readFile(file));
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
}

export async function runCocoBrowserBench(options: CocoBrowserOptions): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ssd-edge-bench-coco-'));
  const log = (line: string) => process.stderr.write(`bench:coco: ${line} (load ${load()})\n`);
  const out: string[] = [];
  const tfliteBytes = new Uint8Array(await readFile(TFLITE_FILE));
  const exact = new Uint8Array(await readFile(EXACT_FILE));
  log('converting the .tflite with --float (in memory)');
  const float = convertModel(tfliteBytes, { mode: 'float', labels: COCO91_LABELS }).onnx;
  const fixture = (await readTfliteCocoFixtures()).find((f) => f.name === PHOTO)!;
  const { boxEncodings, classPredictions } = fixture.json.heads;
  const q = (info: typeof boxEncodings) => ({
    scale: info.quantization!.scale[0],
    zeroPoint: info.quantization!.zeroPoint[0],
  });
  const expected = {
    loc: '/expected/loc.u8',
    conf: '/expected/conf.u8',
    locQ: q(boxEncodings),
    confQ: q(classPredictions),
  };

  const files = new Map<string, Uint8Array>([
    ['/models/exact.onnx', exact],
    ['/models/float.onnx', float],
    ['/models/coco.tflite', tfliteBytes],
    ['/models/int8-weights.onnx', int8WeightsModel(exact)],
    ['/input.u8', fixture.input],
    ['/expected/loc.u8', fixture.boxEncodings],
    ['/expected/conf.u8', fixture.classPredictions],
    ['/photo.jpg', new Uint8Array(await readFile(path.join(repoRoot, `samples/${PHOTO}.jpg`)))],
  ]);
  const optimisedNotes: string[] = [];
  if (options.parts.includes('levers')) {
    for (const level of ['basic', 'extended', 'all'] as const) {
      const optimised = await ortNodeOptimised(exact, level, dir);
      if (typeof optimised === 'string')
        optimisedNotes.push(`onnxruntime-node could not save a '${level}' model: ${optimised}`);
      else files.set(`/models/optimised-${level}.onnx`, optimised);
    }
  }
  const server = await startServer({
    mounts: {
      '/bundle/': path.join(repoRoot, 'dist/bundle'),
      '/ort/': ortWebDist,
      '/pages/': path.join(repoRoot, 'bench/pages'),
      '/tfjs-tflite/': tfliteDir,
      '/tfjs-core/': tfjsCoreDist,
    },
    files,
  });
  let chromium: Chromium | undefined;
  try {
    chromium = await launchChromium();
    const browserVersion = chromium.browser.version();
    const inPage = async <T>(query: string, fn: (page: Page) => Promise<T>): Promise<T> => {
      if (!chromium!.browser.isConnected()) {
        log('Chromium went away (see the failure above); starting it again');
        chromium = await launchChromium();
      }
      const { page, consoleLines } = await openPage(chromium!.context, `${server.url}/pages/coco.html${query}`);
      try {
        await page.waitForFunction(() => window.cocoBench?.ready !== undefined, undefined, { timeout: 60_000 });
        return await fn(page);
      } catch (error) {
        // a crashed page can take the browser with it: start afresh for the next measurement
        await chromium!.close().catch(() => undefined);
        chromium = await launchChromium();
        throw new Error(withConsole(consoleLines, (error as Error).message), { cause: error });
      } finally {
        await page.close().catch(() => undefined);
      }
    };
    const tflite = (threads: number) =>
      inPage('', (page) =>
        page.evaluate((o) => window.cocoBench.tflite(o), {
          model: '/models/coco.tflite',
          threads,
          input: '/input.u8',
          photo: '/photo.jpg',
          runs: options.runs,
        }),
      );
    const session = (o: object, build = '') =>
      inPage(build, (page) =>
        page.evaluate((x) => window.cocoBench.ortSession(x), {
          model: '/models/exact.onnx',
          threads: 1,
          input: '/input.u8',
          runs: options.runs,
          expected,
          ...o,
        }),
      );

    const tfl = new Map<number, TfliteResult>();
    for (const threads of [1, 2]) {
      log(`TFLite, ${threads} thread(s)`);
      tfl.set(threads, await tflite(threads));
    }
    const header =
      `Chromium ${browserVersion}, ${os.cpus()[0]?.model.trim()} (${os.availableParallelism()} cores); ` +
      `photo samples/${PHOTO}.jpg / fixture input tests/fixtures/tflite-coco/${PHOTO}.input.u8; median of ${options.runs} runs after a warm-up`;
    out.push(header, '');

    if (options.parts.includes('pipeline')) {
      const loadBefore = load();
      out.push(
        '### Per image (ms), ratios against TensorFlow Lite with the same thread count',
        '',
        '| runtime | model | threads | decode | pre-process | inference | post-process | total | × TFLite (inference) | × TFLite (total) | detections |',
        '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
      );
      for (const threads of [1, 2]) {
        const t = tfl.get(threads)!;
        const p = t.pipeline;
        out.push(
          `| TensorFlow Lite (tfjs-tflite, XNNPACK) | .tflite (uint8) | ${threads} | — | ${fmt(p.preprocess)} | ${fmt(p.inference)} | ` +
            `${fmt(p.postprocess, 2)} | ${fmt(p.total)} | 1.00× | 1.00× | ${p.detections} |`,
        );
        const variants: [runtime: string, model: string, url: string, backend: string][] = [
          ...(threads === 1
            ? [
                ['ssd-edge int8 kernels + core', '.tflite (uint8)', '/models/coco.tflite', 'int8'] as [
                  string,
                  string,
                  string,
                  string,
                ],
              ]
            : []),
          ['onnxruntime-web wasm + ssd-edge core', 'exact', '/models/exact.onnx', 'wasm'],
          ['onnxruntime-web wasm + ssd-edge core', 'float', '/models/float.onnx', 'wasm'],
        ];
        for (const [runtime, name, url, backend] of variants) {
          log(`detector, ${backend} ${name}, ${threads} thread(s)`);
          const d = await inPage('', (page) =>
            page.evaluate((o) => window.cocoBench.detector(o), {
              model: url,
              threads,
              backend,
              photo: '/photo.jpg',
              runs: options.runs,
            }),
          );
          out.push(
            `| ${runtime} | ${name} | ${d.threads} | ${fmt(d.decode ?? 0)} | ${fmt(d.preprocess)} | ${fmt(d.inference)} | ` +
              `${fmt(d.postprocess, 2)} | ${fmt(d.total)} | ${ratio(d.inference, p.inference)} | ${ratio(d.total, p.total)} | ${d.detections.length} |`,
          );
        }
      }
      out.push(
        '',
        `TFLite's Invoke() includes TFLite_Detection_PostProcess; its "post-process" column is reading the four ` +
          `output tensors, its "pre-process" drawing the bitmap at 300 × 300 and RGBA → RGB. Load average ${loadBefore} → ${load()}.`,
        '',
      );
      for (const threads of [1, 2]) {
        const prof = tfl.get(threads)!.profile;
        const byType = new Map<string, number>();
        // tfjs-tflite's profile sums every Invoke so far: the warm-up and the timed runs
        for (const item of prof)
          byType.set(item.nodeType, (byType.get(item.nodeType) ?? 0) + item.nodeExecMs / (options.runs + 1));
        out.push(
          `TFLite profile, mean of ${options.runs + 1} Invokes, ${threads} thread(s): ` +
            [...byType]
              .sort((a, b) => b[1] - a[1])
              .map(([type, ms]) => `${type} ${fmt(ms, 2)} ms`)
              .join(', '),
        );
      }
      out.push('');
    }

    if (options.parts.includes('levers')) {
      const loadBefore = load();
      const peer = tfl.get(1)!.inference;
      out.push(
        '### Levers on the exact model, onnxruntime-web wasm, 1 thread (inference only, same input)',
        '',
        '| lever | session create ms | first run ms | inference ms | min ms | × TFLite | head bytes ≠ TFLite |',
        '|---|---:|---:|---:|---:|---:|---:|',
      );
      const row = (name: string, r: SessionResult) =>
        out.push(
          `| ${name} | ${fmt(r.createMs, 0)} | ${fmt(r.firstRunMs)} | ${fmt(r.inference)} | ` +
            `${fmt(r.min)} | ${ratio(r.inference, peer)} | ${r.differingBytes === 0 ? '0 (exact)' : String(r.differingBytes)} |`,
        );
      out.push(
        `| TensorFlow Lite (peer) | ${fmt(tfl.get(1)!.loadMs, 0)} | — | ${fmt(peer)} | ${fmt(tfl.get(1)!.min)} | 1.00× | 0 |`,
      );
      const levers: [string, object, string?][] = [
        ["graphOptimizationLevel 'all' (default)", { options: { graphOptimizationLevel: 'all' } }],
        ["graphOptimizationLevel 'extended'", { options: { graphOptimizationLevel: 'extended' } }],
        ["graphOptimizationLevel 'basic'", { options: { graphOptimizationLevel: 'basic' } }],
        ["graphOptimizationLevel 'disabled'", { options: { graphOptimizationLevel: 'disabled' } }],
        ...(['basic', 'extended', 'all'] as const)
          .filter((l) => files.has(`/models/optimised-${l}.onnx`))
          .map(
            (l) =>
              [
                `saved by onnxruntime-node at '${l}', loaded with 'disabled'`,
                { model: `/models/optimised-${l}.onnx`, options: { graphOptimizationLevel: 'disabled' } },
              ] as [string, object],
          ),
        ['int8 weights, zero point − 128 (u8s8)', { model: '/models/int8-weights.onnx' }],
        ['proxy worker (env.wasm.proxy)', { proxy: true }],
        ['wasm-only build (ort.wasm.min.mjs)', {}, '?ort=wasm'],
        ['2 threads', { threads: 2 }],
        ['int8 weights, 2 threads', { model: '/models/int8-weights.onnx', threads: 2 }],
        ['float model (not exact)', { model: '/models/float.onnx' }],
      ];
      for (const [name, o, build] of levers) {
        log(`lever: ${name}`);
        try {
          row(name, await session(o, build));
        } catch (error) {
          out.push(`| ${name} | failed: ${(error as Error).message.split('\n')[0].slice(0, 160)} | | | | | |`);
        }
      }
      out.push('', ...optimisedNotes, `Load average ${loadBefore} → ${load()}.`, '');
    }

    if (options.parts.includes('first')) {
      const loadBefore = load();
      out.push(
        '### Time to the first result in a fresh page (ms from navigation start; median of ' +
          `${options.firstRepeats})`,
        '',
        '| runtime | variant | threads | script loaded | model fetched | session created | first result | × TFLite |',
        '|---|---|---:|---:|---:|---:|---:|---:|',
      );
      const first = async (query: string): Promise<FirstResult> => {
        const runs: FirstResult[] = [];
        for (let i = 0; i < options.firstRepeats; i++) {
          const context = await chromium!.browser.newContext();
          try {
            const page = await context.newPage();
            await page.goto(`${server.url}/pages/first.html?${query}`);
            const r = await page.evaluate(() => window.firstResult);
            if (r.error) throw new Error(`first result (${query}): ${r.error}`);
            runs.push(r);
          } finally {
            await context.close();
          }
        }
        const stages: Record<string, number> = {};
        for (const key of Object.keys(runs[0].stages)) stages[key] = median(runs.map((r) => r.stages[key]));
        return { stages };
      };
      const cases: [string, string, number, string][] = [
        ['TensorFlow Lite', 'tfjs-tflite', 1, 'runtime=tflite&model=/models/coco.tflite'],
        ['TensorFlow Lite', 'tfjs-tflite', 2, 'runtime=tflite&model=/models/coco.tflite'],
        ['onnxruntime-web', 'ort.min.mjs, sequential', 1, 'runtime=ort&model=/models/exact.onnx'],
        ['onnxruntime-web', 'ort.min.mjs, sequential', 2, 'runtime=ort&model=/models/exact.onnx'],
        ['onnxruntime-web', 'ort.min.mjs, model ∥ .wasm fetch', 1, 'runtime=ort&parallel=1&model=/models/exact.onnx'],
        [
          'onnxruntime-web',
          'ort.wasm.min.mjs, model ∥ .wasm fetch',
          1,
          'runtime=ort&ort=wasm&parallel=1&model=/models/exact.onnx',
        ],
        [
          'onnxruntime-web',
          "ort.wasm.min.mjs, level 'basic'",
          1,
          'runtime=ort&ort=wasm&level=basic&model=/models/exact.onnx',
        ],
        [
          'onnxruntime-web',
          "ort.wasm.min.mjs, saved 'extended' model, level 'disabled'",
          1,
          'runtime=ort&ort=wasm&level=disabled&model=/models/optimised-extended.onnx',
        ],
        [
          'ssd-edge detector',
          "backend 'int8' on the .tflite: createDetector + detect",
          1,
          'runtime=detector&backend=int8&model=/models/coco.tflite',
        ],
        [
          'ssd-edge detector',
          "backend 'wasm' on the exact ONNX (onnxruntime-web/wasm): createDetector + detect",
          1,
          'runtime=detector&model=/models/exact.onnx',
        ],
      ];
      const peers = new Map<number, number>();
      for (const [runtime, variant, threads, query] of cases) {
        if (!chromium.browser.isConnected()) chromium = await launchChromium();
        if (query.includes('optimised-extended') && !files.has('/models/optimised-extended.onnx')) continue;
        log(`first result: ${runtime}, ${variant}, ${threads} thread(s)`);
        try {
          const { stages: s } = await first(`${query}&threads=${threads}&input=/input.u8&photo=/photo.jpg`);
          if (runtime === 'TensorFlow Lite') peers.set(threads, s.firstResult);
          const cell = (key: string) => (s[key] === undefined ? '—' : fmt(s[key], 0));
          out.push(
            `| ${runtime} | ${variant} | ${threads} | ${cell('scriptLoaded')} | ${cell('fetched')} | ${cell('sessionCreated')} | ` +
              `${cell('firstResult')} | ${ratio(s.firstResult, peers.get(threads) ?? peers.get(1)!)} |`,
          );
        } catch (error) {
          out.push(
            `| ${runtime} | ${variant} | ${threads} | failed: ${(error as Error).message.split('\n')[0].slice(0, 160)} | | | | |`,
          );
        }
      }
      out.push(
        '',
        `Each in a fresh browser context; the server sends \`Cache-Control: no-store\`, so nothing is cached between ` +
          `runs (no compiled-module cache). Load average ${loadBefore} → ${load()}.`,
        '',
      );
    }
  } finally {
    await chromium?.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  return out.join('\n');
}

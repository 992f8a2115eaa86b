/**
 * Real-browser test (issue 3: "the graph must run on onnxruntime-web's WebGPU and wasm providers
 * and on onnxruntime-node"): a small SSD300 exported by `exportSsd300` runs in headless Chromium
 * on onnxruntime-web's WebGPU and wasm execution providers, and its outputs equal onnxruntime-node's
 * on the same input within 1e-4 of each output's largest magnitude.
 *
 * Needs Debian's chromium at /usr/bin/chromium (`.ci/run` installs it); driven by playwright-core,
 * which never downloads a browser. Without the browser the suite is skipped with one line saying
 * what to install, unless SSD_EDGE_REQUIRE_BROWSER=1 (set by `.ci/run`), where that is a failure;
 * a missing WebGPU adapter always fails. Headless Chromium here has no GPU: `--enable-unsafe-webgpu` gives
 * SwiftShader's WebGPU adapter (a CPU implementation, reported as a fallback adapter), so the
 * WebGPU path is tested for correctness on a small width, not for speed.
 *
 * A screenshot of the page (backend, adapter, timings, verdicts) is written to
 * dist/test-artefacts/ for each onnxruntime-web build tested.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import * as ortNode from 'onnxruntime-node';
import type { BrowserContext, Page } from 'playwright-core';
import { startServer, type StaticServer } from '../../web/server.js';
import {
  artefactDir,
  CHROMIUM_ARGS,
  launchChromium,
  repoRoot,
  skipWithoutChromium,
  withConsole,
  type Chromium,
} from './chromium.js';
import { createSsd300 } from '../../src/model/ssd300.js';
import { exportSsd300 } from '../../src/model/onnx/export.js';
import { random } from '../helpers.js';
import { randomizeWeights, relativeError, useTfjsBackend } from '../model/tfjs.js';

/** Parity bar: max |web − node| ≤ 1e-4 · max |node| over each output. */
const PARITY = 1e-4;
const WIDTH = 1 / 16;
const NUM_CLASSES = 21;
const INPUT_DIMS = [1, 3, 300, 300];

/**
 * onnxruntime-web builds to load in the page (files of its dist/):
 * - ort.min.mjs: what `import 'onnxruntime-web'` gives a browser bundle (the JSEP WebGPU provider),
 *   i.e. what ssd-edge's runtime uses;
 * - ort.webgpu.min.mjs: `onnxruntime-web/webgpu`, the native (C++) WebGPU provider.
 */
const BUILDS = ['ort.min.mjs', 'ort.webgpu.min.mjs'] as const;
const BACKENDS = ['webgpu', 'wasm'] as const;
/** SSD_EDGE_BROWSER_LOG=verbose: onnxruntime-web's verbose logs (node placement …) into the test output. */
const VERBOSE = process.env.SSD_EDGE_BROWSER_LOG === 'verbose';

const pagesDir = path.join(repoRoot, 'tests/browser/pages'); // static pages, served from the source tree
const ortWebDist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web')); // …/onnxruntime-web/dist

interface PageOutput {
  dims: number[];
  type: string;
  base64: string;
  firstVsSecondMaxAbs: number;
}
interface PageRun {
  backend: string;
  build: string;
  threads: number;
  crossOriginIsolated: boolean;
  adapter: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isFallbackAdapter: boolean | null;
  } | null;
  gpuDevice: boolean | null;
  createMs: number;
  firstRunMs: number;
  secondRunMs: number;
  outputs: Record<string, PageOutput>;
}
interface Reference {
  dims: number[];
  data: Float32Array;
}

declare global {
  interface Window {
    ortPage: {
      ready: Promise<{ adapter: string; gpu: { available: boolean; reason?: string } }>;
      run(backend: string): Promise<PageRun>;
      report(backend: string, placement: string, text: string, ok: boolean): void;
    };
  }
}

function floatsFromBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

const ms = (value: number) => `${value.toFixed(0)} ms`;

/** The execution providers of the web builds' WebGPU providers (JSEP, native). */
const GPU_PROVIDERS = /^(JsExecutionProvider|WebGpuExecutionProvider)$/;

/**
 * Where onnxruntime placed the nodes, from its session log (severity verbose): "All nodes placed on
 * [JsExecutionProvider]. Number of nodes: 61", or one " Node(s) placed on [X]. Number of nodes: n"
 * line per provider.
 */
function nodePlacement(lines: readonly string[]): Map<string, number> {
  const placed = new Map<string, number>();
  for (const line of lines) {
    const match = /placed on \[(\w+)\]\. Number of nodes: (\d+)/.exec(line);
    if (match) placed.set(match[1], (placed.get(match[1]) ?? 0) + Number(match[2]));
  }
  return placed;
}

interface Setup {
  context: BrowserContext;
  baseUrl: string;
  reference: Map<string, Reference>;
}
interface OpenPage {
  page: Page;
  consoleLines: string[];
  adapter: string;
  gpu: { available: boolean; reason?: string };
}

describe(
  'the exported SSD300 in Chromium on onnxruntime-web (WebGPU and wasm) equals onnxruntime-node',
  { skip: skipWithoutChromium() },
  () => {
    let server: StaticServer | undefined;
    let browser: Chromium | undefined;
    const startedAt = performance.now();

    /**
     * Built on first use and awaited by every test, so that a missing browser or a broken export
     * fails each test with its reason (a failing `before` hook would only cancel them).
     */
    let setupPromise: Promise<Setup> | undefined;
    const setup = () =>
      (setupPromise ??= (async (): Promise<Setup> => {
        // skip-proof: no browser is a failure that says what to install (launchChromium)
        browser = await launchChromium({ width: 1500, height: 400 });

        // a small random-weight SSD300, exported; the reference is onnxruntime-node on a seeded image
        await useTfjsBackend('cpu');
        const model = createSsd300({ numClasses: NUM_CLASSES, width: WIDTH, seed: 5 });
        let bytes: Uint8Array;
        try {
          randomizeWeights(model, 500);
          bytes = exportSsd300(model);
        } finally {
          model.dispose();
        }
        const rand = random(77);
        const input = new Float32Array(INPUT_DIMS.reduce((a, b) => a * b));
        for (let i = 0; i < input.length; i++) input[i] = rand() * 255 - 128; // pixels minus a mean, NCHW
        const reference = new Map<string, Reference>();
        const session = await ortNode.InferenceSession.create(bytes);
        try {
          const out = await session.run({ [session.inputNames[0]]: new ortNode.Tensor('float32', input, INPUT_DIMS) });
          for (const name of session.outputNames) {
            reference.set(name, { dims: [...out[name].dims], data: out[name].data as Float32Array });
          }
        } finally {
          await session.release();
        }
        assert.deepEqual([...reference.keys()].sort(), ['conf', 'loc']);

        server = await startServer({
          mounts: { '/': pagesDir, '/ort/': ortWebDist },
          files: new Map<string, Uint8Array>([
            ['/model.onnx', bytes],
            ['/input.bin', new Uint8Array(input.buffer)],
            ['/input.json', Buffer.from(JSON.stringify({ dims: INPUT_DIMS }))],
          ]),
        });
        return { context: browser.context, baseUrl: server.url, reference };
      })());

    after(async () => {
      await browser?.close();
      await server?.close();
    });

    for (const build of BUILDS) {
      describe(`onnxruntime-web ${build}`, () => {
        let pagePromise: Promise<OpenPage> | undefined;
        const openPage = () =>
          (pagePromise ??= (async (): Promise<OpenPage> => {
            const { context, baseUrl } = await setup();
            const page = await context.newPage();
            const consoleLines: string[] = [];
            page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
            page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
            await page.goto(`${baseUrl}/ort.html?build=${build}&threads=2${VERBOSE ? '&log=verbose' : ''}`);
            const env = await page
              .evaluate(() => window.ortPage.ready)
              .catch((error: Error) => {
                throw new Error(
                  withConsole(consoleLines, `the page did not load onnxruntime-web (${build}): ${error.message}`),
                );
              });
            return { page, consoleLines, ...env };
          })());

        after(async () => {
          const opened = await pagePromise?.catch(() => undefined);
          if (VERBOSE && opened) console.log(`${build} page console:\n${opened.consoleLines.join('\n')}`);
          await opened?.page.close();
        });

        for (const backend of BACKENDS) {
          it(
            `${backend}: outputs equal onnxruntime-node's within ${PARITY} of their magnitude (SSD300 width 1/${1 / WIDTH}, ${NUM_CLASSES} classes)`,
            { timeout: backend === 'webgpu' ? 150_000 : 60_000 },
            async (t) => {
              const { reference } = await setup();
              const { page, consoleLines, adapter, gpu } = await openPage();
              try {
                if (backend === 'webgpu') {
                  t.diagnostic(`WebGPU adapter: ${adapter}`);
                  // never a silent pass without WebGPU: say why there is none
                  assert.ok(
                    gpu.available,
                    `no WebGPU in headless Chromium with ${CHROMIUM_ARGS.join(' ')}: ${adapter}`,
                  );
                }
                const logStart = consoleLines.length;
                const run = await page
                  .evaluate((b) => window.ortPage.run(b), backend)
                  .catch((error: Error) => {
                    throw new Error(withConsole(consoleLines, `${backend}: onnxruntime-web failed: ${error.message}`));
                  });
                const failures: string[] = [];

                // where onnxruntime put the nodes: all on the provider asked for
                const placed = nodePlacement(consoleLines.slice(logStart));
                const placement = [...placed].map(([ep, n]) => `${n} on ${ep}`).join(', ') || 'not logged';
                t.diagnostic(`nodes placed: ${placement}`);
                if (placed.size === 0) failures.push(withConsole(consoleLines, 'onnxruntime logged no node placement'));
                // a graph that 'runs on WebGPU' with its nodes on the CPU would make this test moot
                const elsewhere = [...placed.keys()].filter((ep) =>
                  backend === 'webgpu' ? !GPU_PROVIDERS.test(ep) : ep !== 'CPUExecutionProvider',
                );
                if (elsewhere.length) failures.push(`nodes placed off the ${backend} provider: ${placement}`);

                if (backend === 'webgpu') {
                  const a = run.adapter!;
                  t.diagnostic(
                    `adapter.info: vendor '${a.vendor}', architecture '${a.architecture}', device '${a.device}', ` +
                      `description '${a.description}', isFallbackAdapter ${a.isFallbackAdapter}; GPUDevice made: ${run.gpuDevice}`,
                  );
                  if (run.gpuDevice !== true)
                    failures.push('onnxruntime-web made no GPUDevice for the webgpu provider');
                }

                const errors: string[] = [];
                for (const [name, expected] of reference) {
                  const output = run.outputs[name];
                  assert.ok(output, `no output '${name}' (outputs: ${Object.keys(run.outputs).join(', ')})`);
                  assert.deepEqual(output.dims, expected.dims, `'${name}' dims`);
                  const actual = floatsFromBase64(output.base64);
                  const { error, index } = relativeError(actual, expected.data);
                  errors.push(`${name} ${error.toExponential(2)}`);
                  if (!(error <= PARITY)) {
                    failures.push(
                      `'${name}': max error ${error} relative to max |onnxruntime-node| (bar ${PARITY}), at ${index}: ` +
                        `${actual[index]} vs ${expected.data[index]}`,
                    );
                  }
                  if (output.firstVsSecondMaxAbs !== 0) {
                    failures.push(`'${name}': the first and second runs differ by up to ${output.firstVsSecondMaxAbs}`);
                  }
                }
                t.diagnostic(
                  `threads ${run.threads} (crossOriginIsolated ${run.crossOriginIsolated}); session ${ms(run.createMs)}, ` +
                    `first run ${ms(run.firstRunMs)}, second run ${ms(run.secondRunMs)}; max error relative to max |node|: ${errors.join(', ')}`,
                );
                const ok = failures.length === 0;
                await page.evaluate(([b, where, text, pass]) => window.ortPage.report(b, where, text, pass), [
                  backend,
                  placement,
                  `${ok ? 'ok' : 'FAIL'}: ${errors.join(', ')}`,
                  ok,
                ] as [string, string, string, boolean]);
                assert.deepEqual(failures, [], `${build} ${backend}:\n${failures.join('\n')}`);
              } finally {
                // after each backend, so that a failure is pictured too; the last one shows both rows
                const shot = path.join(artefactDir, `browser-ort-web-${build.replace(/\.min\.mjs$/, '')}.png`);
                await page.screenshot({ path: shot, fullPage: true }).then(
                  () => t.diagnostic(`screenshot: ${path.relative(repoRoot, shot)}`),
                  (error: Error) => t.diagnostic(`no screenshot: ${error.message}`),
                );
                t.diagnostic(`elapsed since the suite started: ${ms(performance.now() - startedAt)}`);
              }
            },
          );
        }
      });
    }
  },
);

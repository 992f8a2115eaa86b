/**
 * Browser timings and memory for BENCHMARKS.md (`npm run bench:browser`): in headless Chromium,
 * the ESM bundle's detector on onnxruntime-web's wasm backend with 1 and 2 threads (median stage
 * timings over --runs detections of one image), and the demo page's renderer peak memory in the
 * default and low-power profiles. Models: random-weight SSD300 exports at each --widths value.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { startServer } from '../web/server.js';
import { launchChromium, openPage, rendererPeakMemory, repoRoot } from '../tests/browser/chromium.js';
import type { Timings } from '../src/runtime/types.js';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    widths: { type: 'string', default: '0.0625,0.25' },
    runs: { type: 'string', default: '11' },
    // --coco: the real COCO model against TensorFlow Lite instead (bench/coco-browser.ts); --parts picks
    // pipeline, levers, first (default all three); --first-repeats for the time to the first result
    coco: { type: 'boolean', default: false },
    parts: { type: 'string', default: 'pipeline,levers,first' },
    'first-repeats': { type: 'string', default: '3' },
  },
});
if (values.coco) {
  const { runCocoBrowserBench } = await import('./coco-browser.js');
  const parts = values.parts.split(',').map((p) => p.trim()) as ('pipeline' | 'levers' | 'first')[];
  console.log(
    await runCocoBrowserBench({ runs: Number(values.runs), firstRepeats: Number(values['first-repeats']), parts }),
  );
} else {
  await ssd300Bench();
}

async function ssd300Bench(): Promise<void> {
  const widths = values.widths.split(',').map(Number);
  const runs = Number(values.runs);
  const ortWebDist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ssd-edge-bench-browser-'));
  const image = path.join(dir, 'sample.png');
  const { default: sharp } = await import('sharp');
  await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 120, g: 110, b: 100 } } })
    .png()
    .toFile(image);

  type Median = Timings & { threads: number };
  const rows: string[] = [];
  const memory: string[] = [];
  try {
    for (const width of widths) {
      const model = path.join(dir, `w${width}.onnx`);
      await run(process.execPath, [
        path.join(repoRoot, 'dist/src/cli/main.js'),
        'export',
        '--out',
        model,
        '--width',
        String(width),
      ]);
      const bytes = new Uint8Array(await readFile(model));
      const mib = (bytes.length / 2 ** 20).toFixed(1);
      const files = new Map([
        ['/model.onnx', bytes],
        ['/models/test.onnx', bytes],
        ['/sample.png', new Uint8Array(await readFile(image))],
      ]);
      const mounts = {
        '/bundle/': path.join(repoRoot, 'dist/bundle'),
        '/ort/': ortWebDist,
        '/pages/': path.join(repoRoot, 'tests/browser/pages'),
        '/': path.join(repoRoot, 'dist/demo'),
      };
      const isolated = await startServer({ mounts, files });
      const plain = await startServer({ mounts, files, isolated: false });
      try {
        for (const threads of [1, 2]) {
          const chromium = await launchChromium();
          try {
            const { page } = await openPage(chromium.context, `${isolated.url}/pages/bundle.html`);
            await page.waitForFunction(() => (window as unknown as { bundlePage?: object }).bundlePage);
            const m = await page.evaluate(
              ([n, r]) =>
                (
                  window as unknown as { bundlePage: { time(o: object, u: string, r: number): Promise<Median> } }
                ).bundlePage.time({ model: '/model.onnx', backend: 'wasm', threads: n }, '/sample.png', r),
              [threads, runs] as const,
            );
            rows.push(
              `| ${width} (${mib} MB) | wasm | ${m.threads} | ${m.decode.toFixed(1)} | ${m.preprocess.toFixed(1)} | ` +
                `${m.inference.toFixed(1)} | ${m.postprocess.toFixed(1)} |`,
            );
          } finally {
            await chromium.close();
          }
        }
        for (const [server, query, name] of [
          [plain, '&profile=low-power', 'low-power'],
          [isolated, '', 'default'],
        ] as const) {
          const chromium = await launchChromium();
          try {
            const { page } = await openPage(chromium.context, `${server.url}/?model=models/test.onnx${query}`);
            await page.waitForFunction(() =>
              ['ready', 'error'].includes((window as unknown as { ssdDemo: { status: string } }).ssdDemo?.status),
            );
            await page.setInputFiles('#file', image);
            await page.waitForFunction(
              () => (window as unknown as { ssdDemo: { results: number } }).ssdDemo.results >= 1,
              undefined,
              { timeout: 120_000 },
            );
            const info = await page.evaluate(
              () => (window as unknown as { ssdDemo: { info: { threads: number; ortBuild: string } } }).ssdDemo.info,
            );
            const peak = Math.max(...(await rendererPeakMemory(chromium.browser)));
            memory.push(`| ${width} (${mib} MB) | ${name} | ${info.threads} | ${info.ortBuild} | ${peak.toFixed(0)} |`);
          } finally {
            await chromium.close();
          }
        }
      } finally {
        await isolated.close();
        await plain.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`Chromium, ESM bundle, one 640 × 480 PNG (an ImageBitmap), median of ${runs} (ms)\n`);
  console.log('| SSD300 width (model) | backend | threads | decode | pre-process | inference | post-process |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  console.log(rows.join('\n'));
  console.log('\nDemo page (worker), renderer peak RSS after loading the model and one detection (MiB)\n');
  console.log('| SSD300 width (model) | profile | threads | onnxruntime-web build | peak RSS |');
  console.log('|---|---|---:|---|---:|');
  console.log(memory.join('\n'));
}

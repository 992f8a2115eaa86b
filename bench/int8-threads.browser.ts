/**
 * The uint8 network on one and two threads, and on the relaxed-SIMD kernels, in headless Chromium
 * (issue 15's "2 threads, cross-origin isolated" row): serves the repository with COOP/COEP
 * headers, loads dist/src/int8/network.js as a module, runs `createTfliteInt8Network(model,
 * { threads, build })` for 1 and 2 threads (SIMD) and 1 thread on `build: 'relaxed'` on
 * tests/fixtures/tflite-coco/dog.input.u8, round by round, and prints medians, minima, the
 * worker's share of the split work and whether the heads equal TensorFlow Lite's. The ratio
 * column is against the one-thread SIMD row of the same run.
 *
 *   npm run build:wasm && npm run build:ts && node dist/bench/int8-threads.browser.js   # SSD_INT8_RUNS=25
 */
import { execSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { launchChromium, repoRoot } from '../tests/browser/chromium.js';
import { median } from '../src/util/median.js';

const RUNS = Number(process.env.SSD_INT8_RUNS ?? 25);

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
import { createTfliteInt8Network } from '/dist/src/int8/network.js';
import { relaxedSimdSupport } from '/dist/src/int8/relaxed.js';
const get = async p => new Uint8Array(await (await fetch(p)).arrayBuffer());
window.result = (async () => {
  const model = await get('/models/mobilenet_ssd_v2_coco_quant_postprocess.tflite');
  const F = '/tests/fixtures/tflite-coco/';
  const input = await get(F + 'dog.input.u8'), box = await get(F + 'dog.box-encodings.u8'), cls = await get(F + 'dog.class-predictions.u8');
  const eq = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
  const nets = [], rows = [];
  const configs = [{ threads: 1, build: 'simd' }, { threads: 2, build: 'simd' }];
  if (relaxedSimdSupport() === 'ok') configs.push({ threads: 1, build: 'relaxed' });
  for (const config of configs) nets.push(await createTfliteInt8Network(model, config));
  for (const n of nets) {
    const [b, c] = n.run(input);
    rows.push({ build: n.build, threads: n.threads, reason: n.threadsReason, exact: eq(b, box) && eq(c, cls), times: [] });
    n.run(input);
  }
  for (let r = 0; r < ${RUNS}; r++) nets.forEach((n, i) => { const t0 = performance.now(); n.run(input); rows[i].times.push(performance.now() - t0); });
  for (const [i, n] of nets.entries()) { rows[i].workerShare = n.workerShare; await n.dispose(); }
  return { isolated: crossOriginIsolated, userAgent: navigator.userAgent, relaxed: relaxedSimdSupport(), rows };
})().catch(e => ({ error: String(e.stack || e) }));
</script>`;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.wasm': 'application/wasm' };

async function main(): Promise<void> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const headers = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
    if (url.pathname === '/int8-threads.html') {
      res.writeHead(200, { ...headers, 'content-type': 'text/html' }).end(PAGE);
      return;
    }
    const file = path.join(repoRoot, path.normalize(decodeURIComponent(url.pathname)));
    if (!file.startsWith(repoRoot + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (data) =>
        res
          .writeHead(200, { ...headers, 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' })
          .end(data),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const chromium = await launchChromium();
  try {
    const loadBefore = execSync('uptime').toString().trim();
    const page = await chromium.context.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/int8-threads.html`);
    const result = (await page.evaluate(() => (globalThis as unknown as { result: Promise<unknown> }).result)) as {
      error?: string;
      isolated: boolean;
      userAgent: string;
      relaxed: string;
      rows: { build: string; threads: number; reason: string; exact: boolean; times: number[]; workerShare: number }[];
    };
    if (result.error) throw new Error(result.error);
    console.log(
      `${result.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? 'Chromium'}, cross-origin isolated: ${result.isolated}, relaxed SIMD: ${result.relaxed}, ${RUNS} runs each, interleaved`,
    );
    console.log(`load before: ${loadBefore}\nload after:  ${execSync('uptime').toString().trim()}\n`);
    console.log('| ssd-edge int8 | median ms | min ms | ratio (median) | worker share | heads = TFLite |');
    console.log('|---|---:|---:|---:|---:|---|');
    const simd = median(result.rows[0].times);
    for (const r of result.rows) {
      console.log(
        `| ${r.build === 'relaxed' ? 'relaxed SIMD' : 'SIMD'}, ${r.threads} thread${r.threads > 1 ? 's' : ''} (${r.reason}) | ${median(r.times).toFixed(1)} | ` +
          `${Math.min(...r.times).toFixed(1)} | ${(median(r.times) / simd).toFixed(2)} | ${r.workerShare.toFixed(2)} | ${r.exact ? 'byte for byte' : 'NO'} |`,
      );
    }
  } finally {
    await chromium.close();
    server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

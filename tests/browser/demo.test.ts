/**
 * Issue 5, the demo page (web/, built into dist/demo/) in headless Chromium: it loads the model
 * in a Web Worker, detects on an image chosen in its file input and gives the Node CLI's
 * detections (same classes, boxes within 1e-3, scores within 1e-4); the score slider re-runs only
 * the post-processing (equal to the CLI at the new threshold), the IoU slider likewise (equal to
 * the Node library at that IoU); the backend, adapter and timings are on the page; the worker
 * runs WebGPU too (SwiftShader, reported as a software adapter); a missing
 * model gives a message naming the URL and the HTTP status; the webcam path runs on Chromium's
 * fake camera; the low-power profile runs one thread on a page that is not cross-origin isolated,
 * and the renderer's peak memory is measured for it and for the default profile.
 * `npm run demo` serves the page with the cross-origin isolation headers.
 *
 * Screenshots of the annotated page: dist/test-artefacts/browser-demo*.png.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { createDetector } from '../../src/runtime/detector.js';
import { startServer, type StaticServer } from '../../web/server.js';
import type { DemoState } from '../../web/main.js';
import {
  FAKE_CAMERA_ARGS,
  launchChromium,
  openPage,
  rendererPeakMemory,
  repoRoot,
  screenshot,
  skipWithoutChromium,
  withConsole,
  type Chromium,
  type OpenPage,
} from './chromium.js';
import { compareDetections } from './compare.js';
import { cliDetections, prepareFixture, readBytes, type Fixture } from './fixture.js';

const ortWebDist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
const demoDir = path.join(repoRoot, 'dist/demo');
const WAIT = { timeout: 30_000 };

const demoState = (page: Page) => page.evaluate(() => window.ssdDemo) as Promise<DemoState>;

/** Waits until the page has drawn `results` results or shows an error; returns its state. */
async function waitForResults(open: OpenPage, results: number): Promise<DemoState> {
  await open.page
    .waitForFunction((n) => window.ssdDemo?.results >= n || window.ssdDemo?.status === 'error', results, WAIT)
    .catch((error: Error) => {
      throw new Error(withConsole(open.consoleLines, `no result from the demo: ${error.message}`));
    });
  const state = await demoState(open.page);
  assert.equal(state.error, undefined, withConsole(open.consoleLines, `the demo reports an error: ${state.error}`));
  return state;
}

async function waitForReady(open: OpenPage): Promise<DemoState> {
  await open.page
    .waitForFunction(() => window.ssdDemo?.status === 'ready' || window.ssdDemo?.status === 'error', undefined, WAIT)
    .catch((error: Error) => {
      throw new Error(withConsole(open.consoleLines, `the demo never got ready: ${error.message}`));
    });
  return demoState(open.page);
}

/** Moves a slider the way a user does (value, then an input event). */
async function setSlider(page: Page, id: string, value: number): Promise<void> {
  await page.$eval(
    `#${id}`,
    (slider, v) => {
      (slider as HTMLInputElement).value = String(v);
      slider.dispatchEvent(new Event('input', { bubbles: true }));
    },
    value,
  );
}

describe('the demo page in Chromium', { skip: skipWithoutChromium() }, () => {
  let fixture: Fixture, isolated: StaticServer, plain: StaticServer, chromium: Chromium;
  const serverOptions = async () => ({
    mounts: { '/': demoDir, '/ort/': ortWebDist },
    files: new Map([
      ['/models/test.onnx', await readBytes(fixture.modelPath)],
      [
        '/models/mobilenet_ssd_v2_coco_quant_postprocess.tflite',
        await readBytes(path.join(repoRoot, 'models/mobilenet_ssd_v2_coco_quant_postprocess.tflite')),
      ],
    ]),
  });
  const pageUrl = (server: StaticServer, query: string) =>
    `${server.url}/?model=models/test.onnx&score=${fixture.scoreThreshold}${query}`;

  before(async () => {
    fixture = await prepareFixture();
    assert.ok(fixture.expected.length > 0, `the CLI found nothing above ${fixture.scoreThreshold}: nothing to compare`);
    isolated = await startServer(await serverOptions());
    plain = await startServer({ ...(await serverOptions()), isolated: false });
    chromium = await launchChromium({ width: 1400, height: 900 }, FAKE_CAMERA_ARGS);
  });

  after(async () => {
    await chromium?.close();
    await isolated?.close();
    await plain?.close();
    await fixture?.cleanUp();
  });

  it("opens on the COCO model's .tflite, run by the int8 kernels: a photo of a dog comes back as dog", async (t) => {
    const open = await openPage(chromium.context, `${isolated.url}/`);
    try {
      const ready = await waitForReady(open);
      assert.equal(ready.error, undefined, withConsole(open.consoleLines, `the demo reports an error: ${ready.error}`));
      assert.equal(ready.info!.backend, 'int8', ready.info!.backendReason);
      assert.match(ready.info!.model, /\/models\/mobilenet_ssd_v2_coco_quant_postprocess\.tflite$/);
      // the status line followed the model's bytes (createDetector's onProgress in the worker), then the warm-up
      const percents = ready.loading.slice(0, -1).map((line) => Number(/^loading model… (\d+)%$/.exec(line)?.[1]));
      assert.ok(percents.length > 0 && percents.every(Number.isInteger), ready.loading.join(' | '));
      assert.deepEqual(
        percents,
        [...percents].sort((a, b) => a - b),
        'the percentage never goes back',
      );
      assert.equal(percents.at(-1), 100, ready.loading.join(' | '));
      assert.equal(ready.loading.at(-1), 'model loaded; warming up…');
      await open.page.setInputFiles('#file', path.join(repoRoot, 'samples/dog.jpg'));
      const found = await waitForResults(open, 1);
      assert.deepEqual(
        found.detections!.map((d) => d.label),
        ['dog', 'bicycle', 'car'],
      );
      t.diagnostic(`load ${ready.info!.loadMs.toFixed(0)} ms; inference ${found.timings!.inference.toFixed(1)} ms`);
    } finally {
      await open.page.close();
    }
  });

  it('detects in a worker on a chosen image, equal to the CLI; sliders re-run only the post-processing', async (t) => {
    const open = await openPage(chromium.context, pageUrl(isolated, ''));
    try {
      const ready = await waitForReady(open);
      assert.equal(ready.error, undefined, withConsole(open.consoleLines, `the demo reports an error: ${ready.error}`));
      const info = ready.info!;
      assert.equal(info.backend, 'wasm', `auto passes over SwiftShader: ${info.backendReason}`);
      assert.equal(info.adapter?.software, true);
      assert.equal(info.threads, 2);
      assert.equal(info.crossOriginIsolated, true);
      assert.match((await open.page.textContent('dd[data-field="adapter"]')) ?? '', /software/);
      assert.match((await open.page.textContent('dd[data-field="backend"]')) ?? '', /^wasm \(auto: .*software/);
      // detection runs in a worker: the page itself never loads onnxruntime-web
      assert.ok(
        open.page.workers().some((w) => w.url().endsWith('/worker.js')),
        'the detection worker runs',
      );
      assert.equal(await open.page.evaluate(() => 'ort' in window), false);

      await open.page.setInputFiles('#file', fixture.imagePath);
      const first = await waitForResults(open, 1);
      assert.equal(first.rerun, 'full');
      assert.deepEqual(
        compareDetections(first.detections!, fixture.expected, fixture.scoreThreshold),
        [],
        'demo vs the CLI',
      );
      const shown = await open.page.$$eval('#timings [data-t]', (cells) => cells.map((c) => c.textContent));
      assert.ok(
        shown.every((text) => text && /^\d+\.\d$/.test(text)),
        `timings shown: ${shown.join(', ')}`,
      );
      const tm = first.timings!;
      t.diagnostic(
        `${first.detections!.length} detections; decode ${tm.decode.toFixed(1)}, pre ${tm.preprocess.toFixed(1)}, ` +
          `inference ${tm.inference.toFixed(1)}, post ${tm.postprocess.toFixed(1)}, round trip ${tm.roundTrip.toFixed(1)} ms; load ${info.loadMs.toFixed(0)} ms`,
      );
      t.diagnostic(`screenshot: ${await screenshot(open.page, 'browser-demo')}`);

      // the score slider: post-processing only, equal to the CLI at the new threshold
      const higher = Math.round((fixture.scoreThreshold + (1 - fixture.scoreThreshold) / 3) * 100) / 100;
      await setSlider(open.page, 'score', higher);
      const rescored = await waitForResults(open, 2);
      assert.equal(rescored.rerun, 'post');
      assert.equal(rescored.timings!.inference, 0, 'no inference for a threshold change');
      assert.equal(rescored.timings!.preprocess, 0, 'no pre-processing for a threshold change');
      const cliHigher = await cliDetections(fixture.modelPath, fixture.imagePath, higher);
      // the random model's many detections make the drop certain; a trained model's few may all stay
      if (fixture.random)
        assert.ok(cliHigher.length < fixture.expected.length, 'the higher threshold drops detections');
      assert.deepEqual(compareDetections(rescored.detections!, cliHigher, higher), [], `score ${higher} vs the CLI`);

      // the IoU slider: equal to the Node library with that NMS threshold
      await setSlider(open.page, 'iou', 0.2);
      const reNms = await waitForResults(open, 3);
      assert.equal(reNms.rerun, 'post');
      const node = await createDetector({
        model: fixture.modelPath,
        backend: 'node',
        scoreThreshold: higher,
        nmsThreshold: 0.2,
      });
      try {
        const expected = await node.detect(fixture.imagePath);
        assert.deepEqual(compareDetections(reNms.detections!, expected, higher), [], 'IoU 0.2 vs the Node library');
        t.diagnostic(
          `score ${higher}: ${rescored.detections!.length} detections; then IoU 0.2: ${reNms.detections!.length}; ` +
            `post-processing re-run ${reNms.timings!.postprocess.toFixed(2)} ms`,
        );
      } finally {
        await node.dispose();
      }
      t.diagnostic(`screenshot: ${await screenshot(open.page, 'browser-demo-thresholds')}`);
    } finally {
      await open.page.close();
    }
  });

  it(
    "backend webgpu in the worker (SwiftShader): the CLI's detections, the software adapter on the page",
    { timeout: 240_000 },
    async (t) => {
      const open = await openPage(chromium.context, pageUrl(isolated, '&backend=webgpu'));
      try {
        // SwiftShader: seconds per inference, and the warm-up's first run is the slowest
        await open.page.waitForFunction(
          () => window.ssdDemo?.status === 'ready' || window.ssdDemo?.status === 'error',
          undefined,
          { timeout: 180_000 },
        );
        const ready = await demoState(open.page);
        assert.equal(
          ready.error,
          undefined,
          withConsole(open.consoleLines, `the demo reports an error: ${ready.error}`),
        );
        assert.equal(ready.info!.backend, 'webgpu');
        assert.equal(ready.info!.adapter?.software, true);
        assert.match((await open.page.textContent('dd[data-field="adapter"]')) ?? '', /swiftshader.*software/i);
        await open.page.setInputFiles('#file', fixture.imagePath);
        await open.page.waitForFunction(
          () => window.ssdDemo?.results >= 1 || window.ssdDemo?.status === 'error',
          undefined,
          { timeout: 60_000 },
        );
        const state = await demoState(open.page);
        assert.equal(state.error, undefined, state.error);
        assert.deepEqual(
          compareDetections(state.detections!, fixture.expected, fixture.scoreThreshold),
          [],
          'webgpu demo vs the CLI',
        );
        t.diagnostic(
          `load ${ready.info!.loadMs.toFixed(0)} ms; inference ${state.timings!.inference.toFixed(0)} ms on '${ready.info!.adapter?.description}'`,
        );
        await screenshot(open.page, 'browser-demo-webgpu');
      } finally {
        await open.page.close();
      }
    },
  );

  it('a missing model file: a message that names the URL and the HTTP status', async (t) => {
    const open = await openPage(chromium.context, `${isolated.url}/?model=models/missing.onnx`);
    try {
      await open.page.waitForFunction(() => window.ssdDemo?.status === 'error', undefined, WAIT);
      const message = await open.page.textContent('#error');
      assert.ok(await open.page.isVisible('#error'));
      assert.match(
        message ?? '',
        new RegExp(
          `could not load the model: .*${isolated.url.replace(/[.]/g, '\\.')}/models/missing\\.onnx.*HTTP 404`,
        ),
      );
      t.diagnostic(`message: ${message}`);
      await screenshot(open.page, 'browser-demo-missing-model');
    } finally {
      await open.page.close();
    }
  });

  it('the webcam path runs frames from a (fake) camera', async () => {
    const open = await openPage(chromium.context, pageUrl(isolated, ''));
    try {
      await waitForReady(open);
      await open.page.click('#webcam');
      await waitForResults(open, 3); // several frames, one at a time
      await open.page.click('#webcam'); // stop
      assert.equal(await open.page.textContent('#webcam'), 'Webcam');
    } finally {
      await open.page.close();
    }
  });

  it("low-power profile: one thread without cross-origin isolation, the CLI's detections; peak memory", async (t) => {
    const peaks: string[] = [];
    for (const [server, query, name] of [
      [plain, '&profile=low-power', 'low-power'],
      [isolated, '', 'default'],
    ] as const) {
      // a browser of its own, so that the renderer's peak is this page's alone
      const own = await launchChromium();
      try {
        const open = await openPage(own.context, pageUrl(server, query));
        const ready = await waitForReady(open);
        assert.equal(ready.error, undefined, withConsole(open.consoleLines, `${name}: ${ready.error}`));
        await open.page.setInputFiles('#file', fixture.imagePath);
        const state = await waitForResults(open, 1);
        assert.deepEqual(
          compareDetections(state.detections!, fixture.expected, fixture.scoreThreshold),
          [],
          `${name} vs the CLI`,
        );
        if (name === 'low-power') {
          assert.equal(state.info!.profile, 'low-power');
          assert.equal(state.info!.threads, 1);
          assert.equal(state.info!.crossOriginIsolated, false);
          assert.equal(state.info!.backend, 'wasm');
          assert.match(state.info!.backendReason, /low-power/);
          assert.match(state.info!.ortBuild, /^ort\.wasm\.min\.mjs/);
          await screenshot(open.page, 'browser-demo-low-power');
        }
        const mib = await rendererPeakMemory(own.browser);
        assert.ok(mib.length > 0, 'a renderer process was found');
        peaks.push(
          `${name} (${state.info!.threads} thread(s), inference ${state.timings!.inference.toFixed(0)} ms): ` +
            `renderer peak RSS ${Math.max(...mib).toFixed(0)} MiB`,
        );
      } finally {
        await own.close();
      }
    }
    t.diagnostic(peaks.join('; '));
  });

  it('npm run demo serves the page on 127.0.0.1 with the cross-origin isolation headers', async () => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist/web/serve.js'), '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk) => {
          out += chunk;
          const match = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
          if (match) resolve(match[1]);
        });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      const response = await fetch(`${url}/`);
      assert.equal(response.status, 200);
      assert.match(await response.text(), /<title>ssd-edge demo<\/title>/);
      assert.equal(response.headers.get('cross-origin-opener-policy'), 'same-origin');
      assert.equal(response.headers.get('cross-origin-embedder-policy'), 'require-corp');
      assert.equal((await fetch(`${url}/ort/ort.min.mjs`)).status, 200, 'onnxruntime-web served at /ort/');
      assert.equal((await fetch(`${url}/../package.json`)).status, 404);
    } finally {
      child.kill();
    }
  });
});

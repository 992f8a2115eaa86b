/**
 * Issue 5, the bundles in a real browser: dist/bundle/ssd-edge.mjs (ESM, via an import map for
 * onnxruntime-web) and dist/bundle/ssd-edge.iife.min.js (script tag) run the detector in headless
 * Chromium on every browser input kind (img, canvas, ImageData, ImageBitmap) and on the wasm and
 * WebGPU (SwiftShader) backends, and give the Node CLI's detections on the same image (same
 * classes, boxes within 1e-3, scores within 1e-4). Also: 'auto' passes over a software adapter
 * and says so; the core's wasm loads from the bundle's own URL, is inlined in the script-tag
 * bundle, and follows setWasmBaseUrl.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type StaticServer } from '../../web/server.js';
import {
  launchChromium,
  openPage,
  repoRoot,
  screenshot,
  skipWithoutChromium,
  withConsole,
  type Chromium,
  type OpenPage,
} from './chromium.js';
import { compareDetections } from './compare.js';
import { cliDetections, prepareFixture, readBytes, type Fixture } from './fixture.js';
import type { ImageDetection, Timings, WebGpuAdapterReport } from '../../src/runtime/types.js';
import { BLAZEFACE_ANCHORS, BLAZEFACE_POSTPROCESS, BLAZEFACE_PREPROCESS } from '../../src/convert/tflite/mediapipe.js';

const ortWebDist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));

interface EachResult {
  backend: string;
  backendReason: string;
  adapter: WebGpuAdapterReport | null;
  threads: number;
  coreBuild: string;
  results: Record<'img' | 'canvas' | 'imageData' | 'imageBitmap', ImageDetection[]>;
  timings: Record<string, Timings>;
}
type Median = Timings & { backend: string; threads: number };

declare global {
  interface Window {
    bundlePage: {
      ready: boolean;
      detectEach(options: object, imageUrl: string, kinds?: string[]): Promise<EachResult>;
      time(options: object, imageUrl: string, runs: number): Promise<Median>;
      wasmOverride(wrong: string, right: string): Promise<{ failure: string; build: string }>;
      withoutSimd(model: string): Promise<{ simd: boolean; build: string; detectorError: string }>;
    };
    iifePage: {
      detect(
        model: string,
        image: string,
        threshold: number,
      ): Promise<{ backend: string; coreBuild: string; detections: ImageDetection[] }>;
    };
  }
}

const fmt = (t: Timings) =>
  `decode ${t.decode.toFixed(1)}, pre ${t.preprocess.toFixed(1)}, inference ${t.inference.toFixed(1)}, ` +
  `post ${t.postprocess.toFixed(1)} ms`;

describe("the browser bundles in Chromium give the Node CLI's detections", { skip: skipWithoutChromium() }, () => {
  let fixture: Fixture, server: StaticServer, chromium: Chromium;
  /** The ESM page, opened once: its first detector fixes onnxruntime-web's thread count (2). */
  let esm: OpenPage;
  const wasmRequests: string[] = [];

  before(async () => {
    fixture = await prepareFixture();
    assert.ok(fixture.expected.length > 0, `the CLI found nothing above ${fixture.scoreThreshold}: nothing to compare`);
    server = await startServer({
      mounts: {
        '/bundle/': path.join(repoRoot, 'dist/bundle'),
        '/ort/': ortWebDist,
        '/pages/': path.join(repoRoot, 'tests/browser/pages'),
        '/wasm/': path.join(repoRoot, 'dist/wasm'),
      },
      files: new Map([
        ['/model.onnx', await readBytes(fixture.modelPath)],
        ['/sample.png', await readBytes(fixture.imagePath)],
        ['/dog.jpg', await readBytes(path.join(repoRoot, 'samples/dog.jpg'))],
        ['/face.tflite', await readBytes(path.join(repoRoot, 'models/face_detection_short_range.tflite'))],
      ]),
    });
    chromium = await launchChromium();
    chromium.context.on('request', (r) => {
      if (r.url().endsWith('.wasm')) wasmRequests.push(new URL(r.url()).pathname);
    });
    esm = await openPage(chromium.context, `${server.url}/pages/bundle.html`);
    await esm.page
      .waitForFunction(() => window.bundlePage?.ready, undefined, { timeout: 20_000 })
      .catch((error: Error) => {
        throw new Error(withConsole(esm.consoleLines, `the ESM bundle did not load: ${error.message}`));
      });
  });

  after(async () => {
    await chromium?.close();
    await server?.close();
    await fixture?.cleanUp();
  });

  const inPage = <T>(open: OpenPage, what: string, run: () => Promise<T>): Promise<T> =>
    run().catch((error: Error) => {
      throw new Error(withConsole(open.consoleLines, `${what}: ${error.message}`));
    });

  it("ESM bundle, wasm backend: an img, a canvas, ImageData and an ImageBitmap each give the CLI's detections", async (t) => {
    const run = await inPage(esm, 'detectEach', () =>
      esm.page.evaluate(
        ([threshold]) =>
          window.bundlePage.detectEach(
            { model: '/model.onnx', backend: 'wasm', scoreThreshold: threshold },
            '/sample.png',
          ),
        [fixture.scoreThreshold],
      ),
    );
    assert.equal(run.backend, 'wasm');
    assert.equal(run.threads, 2, 'the page is cross-origin isolated: onnxruntime-web runs 2 threads');
    t.diagnostic(`${fixture.expected.length} CLI detections above ${fixture.scoreThreshold}; core ${run.coreBuild}`);
    for (const [kind, detections] of Object.entries(run.results)) {
      assert.deepEqual(
        compareDetections(detections, fixture.expected, fixture.scoreThreshold),
        [],
        `${kind} vs the CLI`,
      );
      t.diagnostic(`${kind}: ${detections.length} detections; ${fmt(run.timings[kind])}`);
    }
    // pixel boxes follow the image's own size (400 × 300 for the generated image)
    const [first] = run.results.img,
      [cliFirst] = fixture.expected;
    first.pixelBox.forEach((v, i) =>
      assert.ok(Math.abs(v - cliFirst.pixelBox[i]) < 0.5, `pixelBox ${first.pixelBox} vs ${cliFirst.pixelBox}`),
    );
    assert.ok(
      wasmRequests.includes('/bundle/ssd-core.simd.wasm'),
      `the core came from beside the bundle; .wasm fetched: ${wasmRequests.join(', ')}`,
    );
    t.diagnostic(`screenshot: ${await screenshot(esm.page, 'browser-bundle-esm')}`);
  });

  it("ESM bundle, the built-in COCO model by name (uint8 input, TFLite NMS): the CLI's detections of dog, bicycle and car", async (t) => {
    const requests: string[] = [];
    const track = (r: { url(): string }) => {
      if (r.url().endsWith('.onnx')) requests.push(new URL(r.url()).pathname);
    };
    chromium.context.on('request', track);
    const run = await inPage(esm, 'built-in model', () =>
      esm.page.evaluate(() =>
        window.bundlePage.detectEach(
          { model: 'ssd-mobilenet-v2-coco', backend: 'wasm', scoreThreshold: 0.5 },
          '/dog.jpg',
          ['imageBitmap'],
        ),
      ),
    );
    chromium.context.off('request', track);
    const expected = await cliDetections('ssd-mobilenet-v2-coco', path.join(repoRoot, 'samples/dog.jpg'), 0.5);
    assert.deepEqual(
      expected.map((d) => d.label),
      ['dog', 'bicycle', 'car'],
    );
    assert.deepEqual(compareDetections(run.results.imageBitmap, expected, 0.5), [], 'the bundle vs the CLI');
    assert.deepEqual(requests, ['/bundle/models/ssd-mobilenet-v2-coco.onnx'], 'the model came from beside the bundle');
    t.diagnostic(fmt(run.timings.imageBitmap));
  });

  it("ESM bundle, the built-in COCO model with 'auto': the int8 kernels run its .tflite twin, with the CLI's detections", async (t) => {
    const requests: string[] = [];
    const track = (r: { url(): string }) => {
      if (/\.(onnx|tflite)$/.test(r.url())) requests.push(new URL(r.url()).pathname);
    };
    chromium.context.on('request', track);
    const run = await inPage(esm, 'built-in model, auto', () =>
      esm.page.evaluate(() =>
        window.bundlePage.detectEach({ model: 'ssd-mobilenet-v2-coco', scoreThreshold: 0.5 }, '/dog.jpg', [
          'imageBitmap',
        ]),
      ),
    );
    chromium.context.off('request', track);
    assert.equal(run.backend, 'int8');
    assert.equal(run.threads, 1);
    assert.match(run.backendReason, /^auto: a uint8 TensorFlow Lite SSD runs exactly on ssd-edge's int8 kernels/);
    assert.deepEqual(
      requests,
      ['/bundle/models/mobilenet_ssd_v2_coco_quant_postprocess.tflite'],
      'the .tflite twin, not the ONNX file',
    );
    const expected = await cliDetections('ssd-mobilenet-v2-coco', path.join(repoRoot, 'samples/dog.jpg'), 0.5);
    assert.deepEqual(
      compareDetections(run.results.imageBitmap, expected, 0.5),
      [],
      'int8 in the bundle vs the CLI (onnxruntime-node, exact model)',
    );
    t.diagnostic(fmt(run.timings.imageBitmap));
  });

  it("ESM bundle, backend 'int8' with threads: 2 on the isolated page: two threads (a worker beside the bundle), the same detections", async (t) => {
    const requests: string[] = [];
    const track = (r: { url(): string }) => {
      if (/int8/.test(r.url())) requests.push(new URL(r.url()).pathname);
    };
    chromium.context.on('request', track);
    const run = await inPage(esm, 'int8, 2 threads', () =>
      esm.page.evaluate(() =>
        window.bundlePage.detectEach(
          { model: 'ssd-mobilenet-v2-coco', backend: 'int8', threads: 2, scoreThreshold: 0.5 },
          '/dog.jpg',
          ['imageBitmap'],
        ),
      ),
    );
    chromium.context.off('request', track);
    assert.equal(run.threads, 2, run.backendReason);
    assert.match(
      run.backendReason,
      /^backend 'int8' asked for; wasm SIMD kernels \(the two-thread build is SIMD\); 2 thread\(s\): cross-origin isolated$/,
    );
    assert.deepEqual(requests.sort(), ['/bundle/ssd-edge-int8-worker.mjs', '/bundle/ssd-int8.threads.wasm']);
    const expected = await cliDetections('ssd-mobilenet-v2-coco', path.join(repoRoot, 'samples/dog.jpg'), 0.5);
    assert.deepEqual(compareDetections(run.results.imageBitmap, expected, 0.5), [], 'int8 on two threads vs the CLI');
    t.diagnostic(fmt(run.timings.imageBitmap));
  });

  it("a float .tflite in the bundle: 'auto' says why the int8 kernels pass it over, and how to run it", async () => {
    const preset = { ...BLAZEFACE_POSTPROCESS, priors: BLAZEFACE_ANCHORS, numClasses: 1 };
    const failure = await esm.page.evaluate(
      ([p, pre]) =>
        window.bundlePage
          .detectEach({ model: '/face.tflite', preset: p, preprocess: pre }, '/dog.jpg', ['imageData'])
          .then(
            () => 'no error',
            (error: Error) => error.message,
          ),
      [preset, BLAZEFACE_PREPROCESS] as const,
    );
    assert.match(
      failure,
      /^auto: the int8 kernels do not run model '\/face\.tflite' \(the model input: tensor 0 'input' is float32; .*\); ssd-edge's browser bundle runs a \.tflite SSD on backend 'int8' \(uint8 models\) only; .*npx ssd-edge convert model\.tflite --out model\.onnx/,
    );
  });

  it('auto passes over the software (SwiftShader) WebGPU adapter for wasm, and says so', async () => {
    const run = await inPage(esm, 'auto', () =>
      esm.page.evaluate(
        ([threshold]) =>
          window.bundlePage.detectEach(
            { model: '/model.onnx', backend: 'auto', scoreThreshold: threshold },
            '/sample.png',
            ['imageData'],
          ),
        [fixture.scoreThreshold],
      ),
    );
    assert.ok(run.adapter, `an adapter is reported (reason: ${run.backendReason})`);
    assert.equal(run.adapter.software, true, `SwiftShader is a software adapter: ${run.adapter.description}`);
    assert.equal(run.backend, 'wasm');
    assert.match(run.backendReason, /software/);
  });

  it('the core wasm follows setWasmBaseUrl; a wrong folder gives an error naming the URL', async () => {
    const { failure, build } = await esm.page.evaluate(() => window.bundlePage.wasmOverride('/nowhere/', '/wasm/'));
    assert.match(
      failure,
      /could not load the ssd-edge simd core from http:\/\/127\.0\.0\.1:\d+\/nowhere\/ssd-core\.simd\.wasm: HTTP 404/,
    );
    assert.match(failure, /setWasmBaseUrl/);
    assert.equal(build, 'simd');
    assert.ok(wasmRequests.includes('/wasm/ssd-core.simd.wasm'));
  });

  it(
    "ESM bundle, webgpu backend (SwiftShader): the CLI's detections, the adapter reported as software",
    { timeout: 240_000 },
    async (t) => {
      const started = performance.now();
      const run = await inPage(esm, 'webgpu', () =>
        esm.page.evaluate(
          ([threshold]) =>
            // one input kind: SwiftShader takes seconds per inference
            window.bundlePage.detectEach(
              { model: '/model.onnx', backend: 'webgpu', scoreThreshold: threshold },
              '/sample.png',
              ['imageBitmap'],
            ),
          [fixture.scoreThreshold],
        ),
      );
      assert.equal(run.backend, 'webgpu');
      assert.equal(run.adapter?.software, true, `adapter: ${JSON.stringify(run.adapter)}`);
      for (const [kind, detections] of Object.entries(run.results)) {
        assert.deepEqual(
          compareDetections(detections, fixture.expected, fixture.scoreThreshold),
          [],
          `webgpu ${kind} vs the CLI`,
        );
      }
      t.diagnostic(
        `adapter '${run.adapter?.description}'; ${fmt(run.timings.imageBitmap)}; ` +
          `whole test ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    },
  );

  it("script-tag bundle (core wasm inlined, global ort): the CLI's detections", async (t) => {
    const before = wasmRequests.length;
    const iife = await openPage(chromium.context, `${server.url}/pages/iife.html`);
    try {
      const run = await inPage(iife, 'iife', () =>
        iife.page.evaluate(
          ([threshold]) => window.iifePage.detect('/model.onnx', '/sample.png', threshold),
          [fixture.scoreThreshold],
        ),
      );
      assert.deepEqual(
        compareDetections(run.detections, fixture.expected, fixture.scoreThreshold),
        [],
        'script-tag bundle vs the CLI',
      );
      const coreFetches = wasmRequests.slice(before).filter((p) => p.includes('ssd-core'));
      assert.deepEqual(coreFetches, [], 'the script-tag bundle carries the core inline');
      t.diagnostic(`core ${run.coreBuild}, ${run.detections.length} detections`);
    } finally {
      await iife.page.close();
    }
  });

  it('where wasm SIMD is missing: the baseline core from beside the bundle; onnxruntime-web refused with a clear message', async () => {
    // Chromium has no switch to turn SIMD off, so the page's feature test is given an engine's
    // answer without it: WebAssembly.validate refuses modules that use v128 (type 0x7b)
    const page = await chromium.context.newPage();
    await page.addInitScript(() => {
      const validate = WebAssembly.validate;
      WebAssembly.validate = (bytes) => !new Uint8Array(bytes as ArrayBuffer).includes(0x7b) && validate(bytes);
    });
    const open: OpenPage = { page, consoleLines: [] };
    page.on('console', (m) => open.consoleLines.push(`[${m.type()}] ${m.text()}`));
    try {
      await page.goto(`${server.url}/pages/bundle.html`);
      await page.waitForFunction(() => window.bundlePage?.ready);
      const before = wasmRequests.length;
      const run = await inPage(open, 'withoutSimd', () =>
        page.evaluate(() => window.bundlePage.withoutSimd('/model.onnx')),
      );
      assert.equal(run.simd, false);
      assert.equal(run.build, 'baseline');
      assert.ok(
        wasmRequests.slice(before).includes('/bundle/ssd-core.baseline.wasm'),
        `fetched: ${wasmRequests.slice(before)}`,
      );
      assert.match(run.detectorError, /needs onnxruntime-web, which needs wasm SIMD, and this engine has none/);
    } finally {
      await page.close();
    }
  });

  it('timings on the wasm backend, 1 and 2 threads (median of 7)', async (t) => {
    for (const threads of [1, 2]) {
      // onnxruntime-web fixes its thread count per page: a fresh page for each
      const open = await openPage(chromium.context, `${server.url}/pages/bundle.html`);
      try {
        await open.page.waitForFunction(() => window.bundlePage?.ready);
        const median = await inPage(open, 'time', () =>
          open.page.evaluate(
            ([n]) => window.bundlePage.time({ model: '/model.onnx', backend: 'wasm', threads: n }, '/sample.png', 7),
            [threads],
          ),
        );
        assert.equal(median.threads, threads);
        t.diagnostic(`wasm, ${threads} thread(s): ${fmt(median)}`);
      } finally {
        await open.page.close();
      }
    }
  });
});

/**
 * Time to first result (issue 15): createDetector's onProgress follows the model's bytes as the
 * demo server (web/server.ts) streams them, and the core's .wasm is compiled as it streams in
 * (compileStreaming, for an application/wasm response) and once per URL.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { compileWasmUrl } from '../../src/core/wasm-compile.js';
import { setModelBaseUrl } from '../../src/runtime/builtin-models.js';
import { createDetector } from '../../src/runtime/detector.js';
import type { DetectorOptions, LoadProgress } from '../../src/runtime/types.js';
import { startServer, type StaticServer } from '../../web/server.js';

const MODELS = fileURLToPath(new URL('../../../models/', import.meta.url));
const WASM = fileURLToPath(new URL('../../wasm/', import.meta.url));
const COCO_TFLITE = 'mobilenet_ssd_v2_coco_quant_postprocess.tflite';

let server: StaticServer;
const files = new Map<string, Uint8Array>(); // served from memory, read at each request

before(async () => {
  files.set('/untyped/core.bin', await readFile(`${WASM}ssd-core.simd.wasm`)); // served as application/octet-stream
  server = await startServer({ mounts: { '/models/': MODELS, '/wasm/': WASM, '/parallel/': WASM }, files });
});
after(() => server.close());

describe('createDetector onProgress', () => {
  it("reports a built-in model's bytes as they stream in over HTTP, ending at the file's size, then the wasm", async () => {
    const size = (await stat(`${MODELS}${COCO_TFLITE}`)).size;
    const seen: LoadProgress[] = [];
    setModelBaseUrl(`${server.url}/models/`);
    try {
      const detector = await createDetector({
        model: 'ssd-mobilenet-v2-coco',
        backend: 'int8',
        onProgress: (progress) => seen.push({ ...progress }),
      });
      await detector.dispose();
    } finally {
      setModelBaseUrl(undefined);
    }
    const model = seen.filter((p) => p.stage === 'model');
    assert.ok(model.length > 2, `a 6 MB body arrives in several chunks; got ${model.length} report(s)`);
    for (const p of model) assert.equal(p.total, size, 'the total is the Content-Length from the first report on');
    for (let i = 1; i < model.length; i++)
      assert.ok(model[i].loaded > model[i - 1].loaded, `loaded grows at report ${i}`);
    assert.ok(model[0].loaded < size, 'the first report comes before the body is complete');
    assert.deepEqual(model.at(-1), { stage: 'model', loaded: size, total: size });
    assert.deepEqual(seen.at(-1), { stage: 'wasm', loaded: 1, total: 1 }, 'the compiled core is reported last');
    assert.equal(seen.filter((p) => p.stage === 'wasm').length, 1);
  });

  it('reports bytes passed in once, complete', async () => {
    const bytes = await readFile(`${MODELS}${COCO_TFLITE}`);
    const seen: LoadProgress[] = [];
    const detector = await createDetector({ model: bytes, backend: 'int8', onProgress: (p) => seen.push({ ...p }) });
    await detector.dispose();
    assert.deepEqual(seen, [
      { stage: 'model', loaded: bytes.length, total: bytes.length },
      { stage: 'wasm', loaded: 1, total: 1 },
    ]);
  });

  it('refuses an onProgress that is not a function, before loading anything', async () => {
    const options = { model: '/no/such/model.tflite', onProgress: 42 } as unknown as DetectorOptions;
    await assert.rejects(createDetector(options), /^TypeError: onProgress must be a function, got number$/);
  });
});

describe('compileWasmUrl', () => {
  const streamed: string[] = [];
  const original = WebAssembly.compileStreaming;
  before(() => {
    WebAssembly.compileStreaming = (source) => {
      void Promise.resolve(source).then((response) => streamed.push(response.url));
      return original(source);
    };
  });
  after(() => {
    WebAssembly.compileStreaming = original;
  });

  it('compiles an application/wasm response as it streams, once per URL', async () => {
    const url = new URL(`${server.url}/wasm/ssd-core.simd.wasm`);
    const module = await compileWasmUrl(url);
    assert.ok(WebAssembly.Module.exports(module).some((e) => e.name === 'detectBatch'));
    assert.deepEqual(streamed, [url.href]);
    assert.equal(await compileWasmUrl(url), module, 'the same compiled module, not a second compile');
    assert.deepEqual(streamed, [url.href]);
  });

  it('compiles a response of another type from its bytes (compileStreaming would refuse it)', async () => {
    const url = new URL(`${server.url}/untyped/core.bin`);
    const module = await compileWasmUrl(url);
    assert.ok(WebAssembly.Module.exports(module).some((e) => e.name === 'detectBatch'));
    assert.ok(!streamed.includes(url.href));
  });

  it('names the HTTP status of a missing file, and fetches again on the next call', async () => {
    const url = new URL(`${server.url}/late/core.wasm`);
    await assert.rejects(compileWasmUrl(url), /^Error: HTTP 404 Not Found$/);
    files.set('/late/core.wasm', files.get('/untyped/core.bin')!);
    const module = await compileWasmUrl(url);
    assert.ok(WebAssembly.Module.exports(module).some((e) => e.name === 'detectBatch'));
  });
});

describe('createDetector loads in parallel', () => {
  it("fetches the core's and the two-thread kernels' wasm before the model's bytes have arrived", async () => {
    const original = globalThis.fetch;
    const fetched: string[] = [];
    let beforeModel: string[] | undefined;
    globalThis.fetch = (input, init) => {
      fetched.push(String(input instanceof Request ? input.url : input));
      return original(input, init);
    };
    setModelBaseUrl(`${server.url}/models/`);
    try {
      const detector = await createDetector({
        model: 'ssd-mobilenet-v2-coco',
        backend: 'int8',
        threads: 2,
        wasmBaseUrl: `${server.url}/parallel/`, // a folder no other test compiles from
        onProgress: ({ stage }) => {
          if (stage === 'model') beforeModel ??= [...fetched];
        },
      });
      assert.equal(detector.threads, 2, detector.backendReason);
      await detector.dispose();
    } finally {
      globalThis.fetch = original;
      setModelBaseUrl(undefined);
    }
    assert.deepEqual(beforeModel?.map((url) => url.replace(server.url, '')).sort(), [
      `/models/${COCO_TFLITE}`,
      '/parallel/ssd-core.simd.wasm',
      '/parallel/ssd-int8.threads.wasm',
    ]);
  });
});

/**
 * Sessions: model sources (path, file URL, http URL, bytes), the 'node' and 'wasm' backends on
 * the same model, thread handling, 'webgpu' outside a browser, corrupt models, adapter reports.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createSession, describeAdapter, readModelBytes, type ModelSession } from '../../src/runtime/session.js';
import { ssdModel, ssdOutputs } from './onnx-models.js';

const P = 8732,
  C = 21;
const { loc, conf } = ssdOutputs(P, C, [{ prior: 100, classId: 12, logit: 10 }]);
const bytes = ssdModel({ numPriors: P, numClasses: C, loc, conf, probe: { prior: 7, classId: 3 } });
const model = { bytes, name: '(test model)' };

let dir: string;
let server: Server;
let baseUrl: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ssd-edge-session-'));
  await writeFile(join(dir, 'model.onnx'), bytes);
  await writeFile(join(dir, 'empty.onnx'), '');
  server = createServer((request, response) => {
    if (request.url === '/model.onnx') response.end(bytes);
    else response.writeHead(404, 'Not Found').end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

async function runOnce(session: ModelSession, value: number): Promise<{ loc: Float32Array; conf: Float32Array }> {
  const outputs = await session.run(new Float32Array(3 * 300 * 300).fill(value), [1, 3, 300, 300]);
  assert.deepEqual(outputs.loc.dims, [1, P, 4]);
  assert.deepEqual(outputs.conf.dims, [1, P, C]);
  return { loc: outputs.loc.data as Float32Array, conf: outputs.conf.data as Float32Array };
}

describe('readModelBytes', () => {
  it('reads a path, a file URL (as URL or text), an http URL, bytes and an ArrayBuffer', async () => {
    const path = join(dir, 'model.onnx');
    for (const source of [
      path,
      pathToFileURL(path),
      pathToFileURL(path).href,
      `${baseUrl}/model.onnx`,
      new URL(`${baseUrl}/model.onnx`),
      bytes,
      bytes.slice().buffer,
    ]) {
      const { bytes: read } = await readModelBytes(source);
      assert.deepEqual(new Uint8Array(read), bytes, String(source));
    }
  });

  it('names the model and the problem', async () => {
    await assert.rejects(
      readModelBytes(join(dir, 'missing.onnx')),
      /^Error: cannot load model '.*missing\.onnx': ENOENT/,
    );
    await assert.rejects(
      readModelBytes(join(dir, 'empty.onnx')),
      /^Error: cannot load model '.*empty\.onnx': it is empty \(0 bytes\)$/,
    );
    await assert.rejects(
      readModelBytes(`${baseUrl}/gone.onnx`),
      /^Error: cannot load model 'http:.*\/gone\.onnx': HTTP 404 Not Found/,
    );
    await assert.rejects(
      readModelBytes(42 as unknown as string),
      /^TypeError: model must be a file path, a URL, or the model's bytes .* got number$/,
    );
  });
});

describe('backends', () => {
  it("'node' and 'wasm' run the model and give the same outputs", async () => {
    const node = await createSession(model, { backend: 'node', threads: 1 });
    const wasm = await createSession(model, { backend: 'wasm', threads: 2 });
    try {
      assert.deepEqual([node.backend, node.threads, wasm.backend, wasm.threads], ['node', 1, 'wasm', 2]);
      assert.deepEqual([node.inputNames, node.outputNames], [['image'], ['loc', 'conf']]);
      for (const value of [0, 1.5]) {
        const [a, b] = [await runOnce(node, value), await runOnce(wasm, value)];
        assert.deepEqual(a.loc, loc);
        assert.deepEqual(b.loc, loc);
        assert.deepEqual(a.conf, b.conf);
        assert.equal(a.conf[7 * C + 3], conf[7 * C + 3] + value, 'the probe logit carries the input mean');
      }
    } finally {
      await node.release();
      await wasm.release();
    }
  });

  it("'auto' picks 'node' in Node, with every core by default", async () => {
    const session = await createSession(model);
    assert.deepEqual([session.backend, session.threads], ['node', availableParallelism()]);
    await session.release();
  });

  it("onnxruntime-web's thread count is fixed by its first session: a different explicit count is an error", async () => {
    const first = await createSession(model, { backend: 'wasm', threads: 2 }); // same count as the test above
    const inherited = await createSession(model, { backend: 'wasm' });
    assert.deepEqual([first.threads, inherited.threads], [2, 2]);
    await assert.rejects(
      createSession(model, { backend: 'wasm', threads: 1 }),
      /^Error: threads is 1, but onnxruntime-web already runs 2 thread\(s\) here: .* Pass threads: 2, or omit it, or use backend 'node'$/,
    );
    await first.release();
    await inherited.release();
  });

  it("'webgpu' in Node says it needs a browser", async () => {
    await assert.rejects(
      createSession(model, { backend: 'webgpu' }),
      /^Error: backend 'webgpu' runs in browsers only \(onnxruntime-web needs navigator.gpu\); in Node use 'node', 'wasm' or 'auto'$/,
    );
  });

  it('rejects an unknown backend and a bad thread count with a RangeError', async () => {
    await assert.rejects(
      createSession(model, { backend: 'gpu' as 'wasm' }),
      /^RangeError: backend is "gpu"; it must be one of 'auto', 'node', 'wasm', 'webgpu', 'int8'$/,
    );
    await assert.rejects(
      createSession(model, { threads: 0 }),
      /^RangeError: threads is 0; it must be an integer ≥ 1, or omitted for every core$/,
    );
    await assert.rejects(createSession(model, { threads: 1.5 }), /threads is 1.5/);
  });

  for (const backend of ['node', 'wasm'] as const) {
    it(`${backend}: a truncated model or a text file is "not a valid ONNX model"`, async () => {
      for (const [what, broken] of [
        ['truncated', bytes.subarray(0, 5000)],
        ['text', new TextEncoder().encode('not a model')],
      ] as const) {
        await assert.rejects(
          createSession({ bytes: broken, name: `'${what}.onnx'` }, { backend }),
          new RegExp(
            `^Error: cannot load model '${what}\\.onnx': it is not a valid ONNX model \\(truncated, or not an \\.onnx file\\): onnxruntime says`,
          ),
        );
      }
    });
  }
});

describe('describeAdapter', () => {
  const adapter = (info: Partial<GPUAdapterInfo>, isFallbackAdapter?: boolean) =>
    ({
      info: { vendor: '', architecture: '', device: '', description: '', ...info },
      isFallbackAdapter,
    }) as unknown as GPUAdapter;

  it('names the adapter and flags software ones (SwiftShader, llvmpipe, fallback adapters)', () => {
    assert.deepEqual(describeAdapter(adapter({ vendor: 'google', architecture: 'swiftshader' })), {
      description: 'google swiftshader',
      software: true,
    });
    assert.deepEqual(
      describeAdapter(adapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).software,
      true,
    );
    assert.deepEqual(describeAdapter(adapter({ vendor: 'x', isFallbackAdapter: true })).software, true);
    assert.deepEqual(describeAdapter(adapter({ vendor: 'x' }, true)).software, true, 'the older adapter-level flag');
    assert.deepEqual(
      describeAdapter(adapter({ vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3080' })),
      { description: 'nvidia ampere NVIDIA GeForce RTX 3080', software: false },
    );
    assert.deepEqual(describeAdapter(adapter({})).description, 'unnamed adapter');
  });
});

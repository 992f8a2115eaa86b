/**
 * Where the core's .wasm files are loaded from: beside the module by default, from
 * `wasmBaseUrl` or `setWasmBaseUrl()` for bundlers that move assets, with an error naming the
 * URL tried when they are not there.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import { createPostprocessor } from '../../src/core/postprocessor.js';
import { setWasmBaseUrl } from '../../src/core/loader.js';

const wasmDir = pathToFileURL(
  path.resolve(import.meta.dirname ?? path.dirname(fileURLToPath(import.meta.url)), '../../wasm/'),
);
const nowhere = pathToFileURL('/nonexistent/ssd-edge-wasm/');

describe('wasm base URL', () => {
  afterEach(() => setWasmBaseUrl(undefined));

  it('wasmBaseUrl per call: found there, or an error naming the URL and the fix', async () => {
    const post = await createPostprocessor('ssd300Voc', { wasmBaseUrl: wasmDir });
    post.dispose();
    await assert.rejects(
      createPostprocessor('ssd300Voc', { wasmBaseUrl: nowhere, build: 'baseline' }),
      /could not load the ssd-edge baseline core from file:\/\/\/nonexistent\/ssd-edge-wasm\/ssd-core\.baseline\.wasm: .*setWasmBaseUrl/,
    );
  });

  it('setWasmBaseUrl sets the default for later loads (without a trailing slash too); undefined restores it', async () => {
    setWasmBaseUrl(nowhere.href.slice(0, -1));
    await assert.rejects(createPostprocessor('ssd300Voc'), /nonexistent\/ssd-edge-wasm\/ssd-core\.simd\.wasm/);
    setWasmBaseUrl(wasmDir);
    (await createPostprocessor('ssd300Voc')).dispose();
    setWasmBaseUrl(undefined);
    (await createPostprocessor('ssd300Voc')).dispose();
  });

  it('rejects a base that is not a URL or a string', () => {
    assert.throws(
      () => setWasmBaseUrl(42 as never),
      (e: Error) => e instanceof TypeError && /wasmBaseUrl must be a URL or a string, got number/.test(e.message),
    );
  });
});

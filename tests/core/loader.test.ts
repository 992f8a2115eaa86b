/** The loader: build choice, the SIMD probe, and a clear error when the wasm file is missing. */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createPostprocessor, simdSupported } from '../../src/index.js';
import { chooseBuild, instantiateCore } from '../../src/core/loader.js';

const wasmFile = (build: string) => new URL(`../../wasm/ssd-core.${build}.wasm`, import.meta.url);

describe('core loader', () => {
  it('Node 20 supports wasm SIMD, so auto picks the SIMD build', async () => {
    assert.equal(simdSupported(), true);
    assert.equal(chooseBuild('auto'), 'simd');
    assert.equal((await createPostprocessor('ssd300Voc')).build, 'simd');
  });

  it('each build reports what it is', async () => {
    assert.equal((await instantiateCore({ build: 'simd' })).exports.simdEnabled(), 1);
    assert.equal((await instantiateCore({ build: 'baseline' })).exports.simdEnabled(), 0);
  });

  it('the baseline build contains no SIMD instruction, so engines without SIMD can compile it', () => {
    // validate the baseline with the SIMD opcode prefix (0xfd) absent from its code section
    const bytes = readFileSync(wasmFile('baseline'));
    assert.ok(WebAssembly.validate(bytes));
    const simd = readFileSync(wasmFile('simd'));
    assert.ok(simd.includes(0xfd), 'the SIMD build uses the 0xfd prefix');
    const module = new WebAssembly.Module(bytes);
    assert.ok(WebAssembly.Module.exports(module).some((e) => e.name === 'detectBatch'));
  });

  // 20 KB until the tracker (about 4.2 KB), TFLite's NMS modes, MediaPipe's decoding and the
  // uint8 network kernels (about 4.5 KB) joined the core (28.0 KB, 2026-12-02); 30 KB until the
  // uint8 kernels took parameter blocks (their readers, about 0.45 KB) and greedy NMS a tournament
  // of its class lists (0.17 KB), 30.2 KB on 2026-12-03. The budget keeps growth a decision: the
  // next kernel goes into a module of its own, and the uint8 kernels are the first to move out.
  it('the SIMD wasm file stays within 31 KB', () => {
    const size = statSync(wasmFile('simd')).size;
    assert.ok(size <= 31 * 1024, `ssd-core.simd.wasm is ${size} bytes`);
  });

  it('an unknown build name is rejected', async () => {
    await assert.rejects(
      instantiateCore({ build: 'avx' as 'simd' }),
      /build is 'avx'; it must be 'auto', 'simd' or 'baseline'/,
    );
  });

  it('a wrong wasmBaseUrl names the URL and the fix, and a later good call works', async () => {
    await assert.rejects(
      createPostprocessor('ssd300Voc', { wasmBaseUrl: new URL('file:///nonexistent/') }),
      /could not load the ssd-edge simd core from file:\/\/\/nonexistent\/ssd-core.simd.wasm: .*pass \{ wasmBaseUrl \}/,
    );
    const post = await createPostprocessor('ssd300Voc', { wasmBaseUrl: new URL('../../wasm/', import.meta.url) });
    assert.equal(post.priors.length, 8732 * 4);
  });
});

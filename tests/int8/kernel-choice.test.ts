/**
 * Which uint8 kernels 'auto' picks (src/int8/kernels.ts) and the reason it gives, on an engine
 * without wasm SIMD (WebAssembly.validate stubbed to refuse every probe) and for bad requests.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseInt8Build } from '../../src/int8/kernels.js';

describe('int8 kernel choice', () => {
  it("'auto' on an engine without wasm SIMD runs the scalar baseline and says so; 'simd' is refused", () => {
    const validate = WebAssembly.validate;
    WebAssembly.validate = () => false;
    try {
      for (const threads of [1, 2]) {
        assert.deepEqual(chooseInt8Build('auto', threads), {
          build: 'baseline',
          reason: 'scalar baseline kernels (this engine has no wasm SIMD)',
        });
      }
      assert.throws(
        () => chooseInt8Build('simd', 1),
        /build 'simd' was requested but this engine does not support wasm SIMD/,
      );
    } finally {
      WebAssembly.validate = validate;
    }
  });

  it('names the builds when asked for one that does not exist', () => {
    assert.throws(
      () => chooseInt8Build('avx' as 'simd', 1),
      /build is 'avx'; it must be one of 'auto', 'relaxed', 'simd', 'baseline'/,
    );
  });

  it('an explicit build says it was asked for', () => {
    assert.deepEqual(chooseInt8Build('baseline', 1), {
      build: 'baseline',
      reason: "scalar baseline kernels (build 'baseline' asked for)",
    });
    assert.deepEqual(chooseInt8Build('simd', 2), {
      build: 'simd',
      reason: "wasm SIMD kernels (build 'simd' asked for)",
    });
  });
});

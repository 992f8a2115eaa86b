/**
 * What `npm publish` would ship (issue 11): the two core builds the loader picks from and the
 * kernels-only builds of the int8 network (threads: 2, and build: 'relaxed'), the simd and
 * baseline training kernels (the depthwise gradients tfjs-wasm lacks), not the .wat listings or the
 * debug build.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('the published package', () => {
  it('carries the simd and baseline cores, the threaded and relaxed-SIMD int8 kernels, the training kernels, and leaves out .wat and the debug build', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      maxBuffer: 64 * 2 ** 20,
    });
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    const wasm = files.filter((f) => f.startsWith('dist/wasm/')).sort();
    assert.deepEqual(wasm, [
      'dist/wasm/ssd-core.baseline.wasm',
      'dist/wasm/ssd-core.simd.wasm',
      'dist/wasm/ssd-int8.relaxed.wasm',
      'dist/wasm/ssd-int8.threads.wasm',
      'dist/wasm/ssd-train.baseline.wasm',
      'dist/wasm/ssd-train.simd.wasm',
    ]);
    assert.deepEqual(
      files.filter((f) => /\.wat$|debug/.test(f)),
      [],
    );
    assert.ok(files.includes('dist/src/index.js') && files.includes('package.json'));
  });
});

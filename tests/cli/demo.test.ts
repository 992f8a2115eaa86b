/** `ssd-edge demo` (what `npm start` runs): prints detections equal to the reference's. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { createPostprocessor, presets, type Detection } from '../../src/index.js';
import { referenceDetect } from '../../src/core/reference/detect.js';
import { assertSameDetections } from '../helpers.js';

const run = promisify(execFile);
const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;

describe('ssd-edge demo', () => {
  it('--json prints the detections of the bundled sample, equal to the reference', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'demo', '--json']);
    const { build, detections } = JSON.parse(stdout) as { build: string; detections: Detection[] };
    assert.equal(build, 'simd');
    const bytes = readFileSync(new URL('../../../samples/ssd300-voc-output.f32', import.meta.url));
    const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const post = await createPostprocessor(presets.ssd300Voc);
    const split = post.priors.length;
    assertSameDetections(detections, referenceDetect(post.config, values.subarray(0, split), values.subarray(split))[0], 'demo');
  });

  it('prints a table for people', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'demo']);
    assert.match(stdout, /post-processed a bundled SSD300-VOC output .* with the simd core/);
    assert.match(stdout, /200 detections above 0.01/);
  });

  it('an unknown command fails with the usage text', async () => {
    await assert.rejects(run(process.execPath, [CLI, 'detekt']), (error: { stderr: string; code: number }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /unknown command 'detekt'[\s\S]*usage: ssd-edge/);
      return true;
    });
  });
});

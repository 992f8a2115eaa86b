/**
 * The bundles' type declarations (dist/bundle/ssd-edge.d.mts for the ESM bundle,
 * ssd-edge.iife.d.ts for the global `ssdEdge`): a consumer type-checks against them, and a wrong
 * option is a type error (so the types are real, not `any`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { it } from 'node:test';
import { repoRoot } from './chromium.js';

const run = promisify(execFile);
const bundle = path.join(repoRoot, 'dist/bundle');

const CONSUMER = `/// <reference path="${bundle}/ssd-edge.iife.d.ts" />
import { createDetector, setWasmBaseUrl, type Detector } from '${bundle}/ssd-edge.mjs';
setWasmBaseUrl('/assets/');
const detector: Detector = await createDetector({ model: 'm.onnx', profile: 'low-power', backend: 'wasm' });
const threads: number = detector.threads;
const post = ssdEdge.createPostprocessor('ssd300Voc');
export { threads, post };
`;

async function typeCheck(source: string): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ssd-edge-dts-'));
  try {
    await writeFile(path.join(dir, 'consumer.mts'), source);
    await run(
      process.execPath,
      [
        path.join(repoRoot, 'node_modules/typescript/bin/tsc'),
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--lib',
        'es2022,dom',
        '--types',
        'node',
        '--typeRoots',
        path.join(repoRoot, 'node_modules/@types'),
        '--skipLibCheck',
        path.join(dir, 'consumer.mts'),
      ],
      { cwd: dir },
    );
    return { ok: true, output: '' };
  } catch (error) {
    return { ok: false, output: String((error as { stdout?: string }).stdout ?? error) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

it(
  "a consumer type-checks against the bundles' declarations; a wrong option does not",
  { timeout: 60_000 },
  async () => {
    const good = await typeCheck(CONSUMER);
    assert.ok(good.ok, good.output);
    const bad = await typeCheck(CONSUMER.replace("profile: 'low-power'", "profile: 'fast'"));
    assert.equal(bad.ok, false, "profile: 'fast' must be a type error");
    assert.match(bad.output, /'"fast"' is not assignable/);
  },
);

/**
 * A fresh machine without Chromium: `npm test` passes, each browser suite reporting itself
 * skipped on one line that says what to install; with SSD_EDGE_REQUIRE_BROWSER=1 (what `.ci/run`
 * sets) the same missing browser fails the run. The missing browser is simulated by pointing
 * SSD_EDGE_CHROMIUM at a path that does not exist, so this runs the same with Chromium installed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './chromium.js';

const SUITES = ['bundle', 'demo', 'ort-web', 'track'].map((name) =>
  path.join(repoRoot, 'dist/tests/browser', `${name}.test.js`),
);

/** Runs the browser suites in a child test runner; resolves to its exit code and output. */
function runSuites(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, SSD_EDGE_CHROMIUM: '/nonexistent/chromium', ...env };
    delete childEnv.NODE_TEST_CONTEXT; // a fresh runner, not a subtest of this one
    if (!('SSD_EDGE_REQUIRE_BROWSER' in env)) delete childEnv.SSD_EDGE_REQUIRE_BROWSER;
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', ...SUITES], { env: childEnv });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('the browser suites without Chromium', () => {
  it('skip, each on one line that says to apt-get install chromium, and the run passes', async () => {
    const { code, output } = await runSuites({});
    assert.equal(code, 0, output);
    const skipLines = output.split('\n').filter((l) => /# skipped: /.test(l));
    assert.equal(skipLines.length, SUITES.length, `one skip line per suite:\n${output}`);
    for (const line of skipLines)
      assert.match(line, /needs Chromium at \/nonexistent\/chromium: apt-get install chromium/);
    assert.equal(
      output.split('\n').filter((l) => /apt-get install chromium/.test(l)).length,
      SUITES.length,
      `the hint appears once per suite, nowhere else:\n${output}`,
    );
    assert.match(output, /ℹ fail 0/);
    assert.doesNotMatch(output, /✖|Error/);
  });

  it('fail with SSD_EDGE_REQUIRE_BROWSER=1, saying what is missing', async () => {
    const { code, output } = await runSuites({ SSD_EDGE_REQUIRE_BROWSER: '1' });
    assert.equal(code, 1, output);
    assert.match(
      output,
      /SSD_EDGE_REQUIRE_BROWSER=1 and the browser suite needs Chromium at \/nonexistent\/chromium: apt-get install chromium/,
    );
    assert.match(output, new RegExp(`ℹ fail ${SUITES.length}`));
  });

  it('.ci/run sets SSD_EDGE_REQUIRE_BROWSER=1 before the tests', async () => {
    const script = await readFile(path.join(repoRoot, '.ci/run'), 'utf8');
    const set = script.search(/^export SSD_EDGE_REQUIRE_BROWSER=1$/m),
      test = script.search(/^npm test$/m);
    assert.ok(set >= 0 && set < test, `.ci/run must export SSD_EDGE_REQUIRE_BROWSER=1 before npm test:\n${script}`);
  });
});

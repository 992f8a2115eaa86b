/**
 * A machine without ffmpeg: the video suites skip, each on one line that says what to install;
 * with SSD_EDGE_REQUIRE_FFMPEG=1 (what `.ci/run` sets) the same missing ffmpeg fails the run.
 * The missing ffmpeg is simulated by pointing SSD_EDGE_FFMPEG at a path that does not exist, so
 * this runs the same with ffmpeg installed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..'); // from dist/tests/video
const SUITES = ['dist/tests/video/ffmpeg.test.js', 'dist/tests/cli/detect-video.test.js'].map((f) =>
  path.join(repoRoot, f),
);

function runSuites(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, SSD_EDGE_FFMPEG: '/nonexistent/ffmpeg', ...env };
    delete childEnv.NODE_TEST_CONTEXT; // a fresh runner, not a subtest of this one
    if (!('SSD_EDGE_REQUIRE_FFMPEG' in env)) delete childEnv.SSD_EDGE_REQUIRE_FFMPEG;
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

describe('the video suites without ffmpeg', () => {
  it('skip, each on one line that says to apt-get install ffmpeg, and the run passes', async () => {
    const { code, output } = await runSuites({});
    assert.equal(code, 0, output);
    const skipLines = output.split('\n').filter((l) => /# skipped: /.test(l));
    assert.equal(skipLines.length, SUITES.length, `one skip line per suite:\n${output}`);
    for (const line of skipLines)
      assert.match(line, /needs ffmpeg and ffprobe at \/nonexistent\/ffmpeg: apt-get install ffmpeg/);
    assert.equal(
      output.split('\n').filter((l) => /apt-get install ffmpeg/.test(l)).length,
      SUITES.length,
      `the hint appears once per suite, nowhere else:\n${output}`,
    );
    assert.match(output, /ℹ fail 0/);
    assert.doesNotMatch(output, /✖|Error/);
  });

  it('fail with SSD_EDGE_REQUIRE_FFMPEG=1, saying what is missing', async () => {
    const { code, output } = await runSuites({ SSD_EDGE_REQUIRE_FFMPEG: '1' });
    assert.equal(code, 1, output);
    assert.match(
      output,
      /SSD_EDGE_REQUIRE_FFMPEG=1 and the video suite needs ffmpeg and ffprobe at \/nonexistent\/ffmpeg: apt-get install ffmpeg/,
    );
    assert.match(output, new RegExp(`ℹ fail ${SUITES.length}`));
  });

  it('.ci/run installs ffmpeg and sets SSD_EDGE_REQUIRE_FFMPEG=1 before the tests', async () => {
    const script = await readFile(path.join(repoRoot, '.ci/run'), 'utf8');
    const set = script.search(/^export SSD_EDGE_REQUIRE_FFMPEG=1$/m),
      test = script.search(/^npm test$/m);
    assert.ok(set >= 0 && set < test, `.ci/run must export SSD_EDGE_REQUIRE_FFMPEG=1 before npm test:\n${script}`);
    assert.match(script, /command -v ffmpeg[\s\S]*apt-get install -y ffmpeg/);
  });
});

/**
 * The CLI loads a command's module only when that command runs: `--help` and `detect` never
 * import tfjs, the training code or the other commands (issue 11). Checked by the modules
 * actually resolved, not by timing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const CLI = here('../../src/cli/main.js');

/** The module URLs `ssd-edge <args>` resolves, and its output. */
async function modulesLoaded(
  dir: string,
  name: string,
  args: string[],
): Promise<{ urls: string[]; stdout: string; stderr: string }> {
  const log = path.join(dir, `${name}.log`);
  const { stdout, stderr } = await run(process.execPath, ['--import', here('./load-log-register.js'), CLI, ...args], {
    env: { ...process.env, SSD_EDGE_LOAD_LOG: log },
  }).catch((error: { stdout: string; stderr: string }) => error);
  const urls = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return { urls, stdout, stderr };
}

// the training backends' and architectures' names (for train's --help) are the training modules allowed
const HEAVY = [/\/@tensorflow\//, /\/dist\/src\/train\/(?!(backend-names|arch-names)\.js$)/, /\/dist\/src\/model\//];
const COMMAND_MODULES = ['bench-e2e', 'convert', 'demo', 'detect', 'eval', 'export', 'generate-data', 'train'];

function assertNone(urls: string[], patterns: RegExp[], what: string): void {
  for (const pattern of patterns) {
    const hit = urls.find((url) => pattern.test(url));
    assert.equal(hit, undefined, `${what} loaded ${hit}`);
  }
}

describe('ssd-edge loads commands on demand', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-lazy-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--help prints every command and its options without loading tfjs, training or model code', async () => {
    const { urls, stdout } = await modulesLoaded(dir, 'help', ['--help']);
    assert.ok(
      urls.some((url) => url.endsWith('/dist/src/cli/main.js')),
      'the hook saw the CLI load',
    );
    for (const command of COMMAND_MODULES)
      assert.match(stdout, new RegExp(`^ssd-edge ${command} `, 'm'), `usage of ${command}`);
    assert.match(stdout, /--epochs/, "train's options are listed");
    assertNone(urls, HEAVY, '--help');
  });

  it('detect loads its own module only, and no tfjs', async () => {
    const { urls, stderr } = await modulesLoaded(dir, 'detect', ['detect', path.join(dir, 'missing.jpg')]);
    assert.match(stderr, /does not exist/);
    assertNone(urls, HEAVY, 'detect');
    const others = COMMAND_MODULES.filter((c) => c !== 'detect').map((c) => new RegExp(`/dist/src/cli/${c}\\.js$`));
    assertNone(urls, others, 'detect');
  });

  it('an unknown command lists the commands and loads none of them', async () => {
    const { urls, stderr } = await modulesLoaded(dir, 'unknown', ['detcet']);
    assert.match(stderr, /unknown command 'detcet'; did you mean 'detect'\?/);
    assertNone(
      urls,
      COMMAND_MODULES.map((c) => new RegExp(`/dist/src/cli/${c}\\.js$`)),
      'an unknown command',
    );
  });
});

/**
 * Housekeeping that issue 11 asked for and that nothing else would notice coming undone: comments
 * that point at files point at files that exist; the tests' random numbers are the library's own
 * generator, not a copy; the linter runs in CI; the README says what the browser tests need; one median.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { random } from '../helpers.js';
import { mulberry32 } from '../../src/util/random.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

async function sources(folder: string): Promise<string[]> {
  const dir = path.join(root, folder);
  return (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));
}

describe('the house', () => {
  it('comments in src/ and assembly/ name only files of this repository that exist', async () => {
    const files = [...(await sources('src')), ...(await sources('assembly'))];
    assert.ok(files.length > 50, `found ${files.length} source files`);
    const missing: string[] = [];
    for (const file of files) {
      for (const line of (await readFile(file, 'utf8')).split('\n')) {
        if (!/^\s*(\/\/|\*|\/\*)/.test(line)) continue;
        for (const [, named] of line.matchAll(
          /(?<![\w./-])((?:src|assembly|tests|tools|bench|web|docs)\/[\w./-]*\w\.[a-z]+)\b/g,
        )) {
          // a .js specifier names the .ts source it is built from
          if (!existsSync(path.join(root, named)) && !existsSync(path.join(root, named.replace(/\.js$/, '.ts')))) {
            missing.push(`${path.relative(root, file)} names ${named}`);
          }
        }
      }
    }
    assert.deepEqual(missing, []);
  });

  it("tests/helpers.ts's random is src/util/random.ts's mulberry32 itself, not a copy", () => {
    assert.equal(random, mulberry32);
  });

  it('.ci/run lints through npm run lint: ESLint, whose typescript-eslint config forbids floating promises, and Prettier', async () => {
    const ci = await readFile(path.join(root, '.ci', 'run'), 'utf8');
    assert.match(ci, /^npm run lint$/m);
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    assert.match(pkg.scripts.lint, /^eslint\b/);
    assert.match(pkg.scripts.lint, /\bprettier --check\b/);
    assert.match(
      await readFile(path.join(root, 'eslint.config.js'), 'utf8'),
      /'@typescript-eslint\/no-floating-promises': \[\s*'error'/,
    );
  });

  it("the README's quick start says what the browser tests need, and that they skip without it", async () => {
    const readme = await readFile(path.join(root, 'README.md'), 'utf8');
    const quickStart = readme.slice(
      readme.indexOf('## Quick start'),
      readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1),
    );
    assert.match(quickStart, /apt-get install\s+chromium/);
    assert.match(quickStart, /skipped/);
    assert.match(quickStart, /SSD_EDGE_REQUIRE_BROWSER=1/);
  });

  it('one median: src/util/median.ts, and no other definition in src/ or bench/', async () => {
    const others: string[] = [];
    for (const file of [...(await sources('src')), ...(await sources('bench'))]) {
      if (/(?:function\s+median\b|(?:const|let)\s+median\s*=)/.test(await readFile(file, 'utf8')))
        others.push(path.relative(root, file));
    }
    assert.deepEqual(others, [path.join('src', 'util', 'median.ts')]);
  });
});

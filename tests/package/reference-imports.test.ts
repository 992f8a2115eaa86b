/**
 * The plain-TypeScript reference (src/core/reference/) is the tests' oracle: production code
 * never imports it (issue 11), so what ships never depends on code written to be read, not run.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../../src/', import.meta.url));
const referenceDir = path.join(src, 'core', 'reference');

/** Every module specifier in a TypeScript file: `import … from '…'`, `export … from '…'`, `import('…')`. */
function specifiers(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]);
}

describe('production code and the reference', () => {
  it('no module under src/ outside core/reference imports from core/reference', async () => {
    const files = (await readdir(src, { recursive: true }))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(src, f));
    assert.ok(files.length > 50, `found ${files.length} source files under ${src}`);
    const offenders: string[] = [];
    for (const file of files.filter((f) => !f.startsWith(referenceDir + path.sep))) {
      for (const specifier of specifiers(await readFile(file, 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), specifier);
        if (target.startsWith(referenceDir + path.sep))
          offenders.push(`${path.relative(src, file)} imports '${specifier}'`);
      }
    }
    assert.deepEqual(offenders, []);
  });
});

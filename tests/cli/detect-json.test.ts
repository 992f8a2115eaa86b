/** `--json [file]`: a flag that takes a file only when the next argument looks like one; detect writes the file. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeOptions, parseArgs, type OptionSpec } from '../../src/cli/args.js';
import { runDetect } from '../../src/cli/detect.js';

const SPEC: Record<string, OptionSpec> = {
  json: { type: 'boolean', optionalValue: /\.(json|jsonl)$/i, description: 'JSON' },
  track: { type: 'boolean', description: 'a plain flag' },
};
const DOG = fileURLToPath(new URL('../../../samples/dog.jpg', import.meta.url));

describe('--json [file]', () => {
  it('takes the next argument only when it matches, and --json=file always', () => {
    assert.deepEqual(parseArgs(['a.mp4', '--json', 'out.jsonl'], SPEC, 't'), {
      positionals: ['a.mp4'],
      options: { json: 'out.jsonl' },
    });
    assert.deepEqual(parseArgs(['--json', 'photo.jpg'], SPEC, 't'), {
      positionals: ['photo.jpg'],
      options: { json: true },
    });
    assert.deepEqual(parseArgs(['photo.jpg', '--json'], SPEC, 't'), {
      positionals: ['photo.jpg'],
      options: { json: true },
    });
    assert.deepEqual(parseArgs(['--json=x.txt', 'p.jpg'], SPEC, 't'), {
      positionals: ['p.jpg'],
      options: { json: 'x.txt' },
    });
    assert.throws(() => parseArgs(['--json='], SPEC, 't'), /--json= needs a value/);
    assert.deepEqual(
      parseArgs(['--track', 'x.json'], SPEC, 't').positionals,
      ['x.json'],
      'a plain flag never takes a value',
    );
    assert.match(describeOptions(SPEC), /--json \[file\]/);
  });

  it('detect photo.jpg --json found.json writes the JSON there, and never over the input', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-json-'));
    try {
      const out = path.join(dir, 'found.json');
      await runDetect([DOG, '--json', out]);
      const found = JSON.parse(await readFile(out, 'utf8')) as { label: string; pixelBox: number[] }[];
      assert.ok(
        found.some((d) => d.label === 'dog'),
        JSON.stringify(found),
      );
      assert.deepEqual(await readdir(dir), ['found.json'], 'no temporary file is left');
      await assert.rejects(runDetect([DOG, `--json=${DOG}`]), /--json '.*dog\.jpg' is the input/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Nothing a user owns is lost to `detect --out` (or `demo --out`): an output never replaces an
 * input, `x.jpg` and `x.png` never share an output, and an output folder that cannot be made
 * fails at once (a recursive mkdir on /proc/x used to spin forever). `generate-data` refuses a
 * non-empty folder unless --force.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** Each run is killed after 60 s, so a spinning command fails the test instead of hanging it. */
const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { maxBuffer: 16 * 2 ** 20, timeout: 60_000 });

async function cliFails(args: string[], message: RegExp): Promise<void> {
  await assert.rejects(cli(...args), (error: { code: number; stderr: string; killed?: boolean }) => {
    assert.ok(!error.killed, `${args.join(' ')} was killed after 60 s`);
    assert.equal(error.code, 1, `exit code 1 for ${args.join(' ')}`);
    assert.match(error.stderr, message);
    return true;
  });
}

describe('detect and demo --out keep what the user owns', () => {
  let dir: string, photos: string, model: string;
  const png = (file: string, width: number, height: number) =>
    sharp({ create: { width, height, channels: 3, background: { r: 9, g: 150, b: 9 } } })
      .png()
      .toFile(file);
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-outputs-'));
    photos = path.join(dir, 'photos');
    await mkdir(photos);
    model = path.join(dir, 'small.onnx');
    await cli('export', '--out', model, '--width', '0.0625', '--seed', '3');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 9, b: 9 } } })
      .jpeg()
      .toFile(path.join(photos, 'x.jpg'));
    await png(path.join(photos, 'x.png'), 40, 30);
    await png(path.join(photos, 'y.png'), 50, 50);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('detect refuses to write over its input image, and over its input folder', async () => {
    const image = path.join(photos, 'y.png');
    const before = await readFile(image);
    await cliFails(['detect', image, '--model', model, '--out', image], /--out '.*y\.png' is the input image/);
    await cliFails(['detect', image, '--model', model, '--out', path.join(photos, '.', 'y.png')], /is the input image/);
    await cliFails(['detect', photos, '--model', model, '--out', photos], /is the input folder/);
    await cliFails(['detect', photos, '--model', model, '--out', `${photos}/`], /is the input folder/);
    assert.deepEqual(await readFile(image), before, 'the input is untouched');
    assert.deepEqual((await readdir(photos)).sort(), ['x.jpg', 'x.png', 'y.png']);
  });

  it('detect gives x.jpg and x.png their own outputs (the extension kept where names meet)', async () => {
    const out = path.join(dir, 'annotated');
    await cli('detect', photos, '--model', model, '--out', out);
    assert.deepEqual((await readdir(out)).sort(), ['x.jpg.png', 'x.png.png', 'y.png']);
    const size = async (file: string) => {
      const m = await sharp(path.join(out, file)).metadata();
      return [m.width, m.height];
    };
    assert.deepEqual(
      [await size('x.jpg.png'), await size('x.png.png')],
      [
        [64, 48],
        [40, 30],
      ],
      'each output is its own image',
    );
  });

  it('detect on one image into an existing folder writes <name>.png there', async () => {
    const out = path.join(dir, 'one');
    await mkdir(out);
    await cli('detect', path.join(photos, 'x.jpg'), '--model', model, '--out', out);
    assert.deepEqual(await readdir(out), ['x.png']);
  });

  it(
    'an output folder that cannot be made or written fails at once, naming it',
    { skip: !existsSync('/proc/self') && 'needs /proc' },
    async () => {
      const started = performance.now();
      await cliFails(
        ['detect', photos, '--model', model, '--out', '/proc/x'],
        /detect: --out '\/proc\/x': cannot create the folder '\/proc\/x'/,
      );
      await cliFails(
        ['detect', photos, '--model', model, '--out', '/proc/x/y/z'],
        /cannot create the folder '\/proc\/x'/,
      );
      await cliFails(
        ['detect', path.join(photos, 'x.jpg'), '--model', model, '--out', '/proc/x.png'],
        /cannot write in the folder '\/proc'/,
      );
      await cliFails(
        ['detect', path.join(photos, 'x.jpg'), '--model', model, '--out', path.join(dir, 'no', 'x.png')],
        /the folder '.*no' does not exist/,
      );
      await writeFile(path.join(dir, 'plain'), 'a file');
      await cliFails(
        ['detect', photos, '--model', model, '--out', path.join(dir, 'plain')],
        /'.*plain' is a file, not a folder/,
      );
      await cliFails(
        ['demo', '--model', model, '--out', '/proc/x'],
        /demo: --out '\/proc\/x': cannot create the folder/,
      );
      assert.ok(performance.now() - started < 45_000, 'fails fast');
    },
  );

  it(
    "a write that fails says so in one line, not in libvips' log",
    { skip: !existsSync('/dev/full') && 'needs /dev/full' },
    async () => {
      await assert.rejects(
        cli('detect', path.join(photos, 'x.jpg'), '--model', model, '--out', '/dev/full'),
        (error: { code: number; stderr: string }) => {
          assert.equal(error.code, 1);
          assert.match(
            error.stderr,
            /^ssd-edge: cannot write the annotated image \/dev\/full: ENOSPC: no space left on device/,
          );
          assert.doesNotMatch(error.stderr, /vips|wbuffer|system error/);
          return true;
        },
      );
    },
  );

  it('generate-data refuses a non-empty --out unless --force', async () => {
    const data = path.join(dir, 'data');
    await cli('generate-data', '--out', data, '--train', '2', '--test', '1', '--size', '64');
    await cliFails(
      ['generate-data', '--out', data, '--train', '1', '--test', '1', '--size', '64'],
      /'.*data' is not empty .*; pass --force/,
    );
    assert.equal((await readdir(path.join(data, 'JPEGImages'))).length, 3, 'the refused run wrote nothing');
    await cli('generate-data', '--out', data, '--train', '1', '--test', '1', '--size', '64', '--force');
    assert.deepEqual((await readdir(path.join(data, 'JPEGImages'))).sort(), ['test_000001.jpg', 'train_000001.jpg']);
  });
});

/**
 * The procedural shapes dataset: a tiny set (6 train + 3 test) generated, read back with the VOC
 * reader, checked for counts, classes, boxes, determinism (byte-identical for a seed, different
 * for another), and that every non-difficult box holds its shape's pixels: the image differs from
 * the same image rendered without shapes inside each box and hardly at all outside the boxes.
 * Writes dist/test-artefacts/shapes-sample.png (boxes drawn) for a look. About 1 s.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  generateVocDataset,
  imageSeed,
  renderSample,
  SHAPE_CLASSES,
  type GenerateProgress,
} from '../../../src/train/data/generate.js';
import { readVocDataset, type VocDataset } from '../../../src/train/data/voc.js';

type Sharp = typeof import('sharp').default;
let sharp: Sharp;
let root: string;
let dataA: string;
const progress: GenerateProgress[] = [];
const options = { trainCount: 6, testCount: 3, seed: 1234 };

before(async () => {
  sharp = (await import('sharp')).default;
  root = await mkdtemp(join(tmpdir(), 'ssd-edge-shapes-'));
  dataA = join(root, 'a');
  await generateVocDataset(dataA, options, (p) => progress.push(p));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const sub of ['Annotations', 'JPEGImages', 'ImageSets/Main']) {
    for (const f of await readdir(join(dir, sub))) out.set(`${sub}/${f}`, await readFile(join(dir, sub, f)));
  }
  return out;
}

describe('generateVocDataset', () => {
  let train: VocDataset;
  let test: VocDataset;
  before(async () => {
    train = await readVocDataset(dataA, { split: 'trainval' });
    test = await readVocDataset(dataA, { split: 'test' });
  });

  it('writes a VOC layout the reader reads back: counts, classes, ids, sizes', () => {
    assert.equal(train.items.length, 6);
    assert.equal(test.items.length, 3);
    assert.deepEqual(train.classes, ['background', ...SHAPE_CLASSES]);
    assert.deepEqual(test.classes, train.classes);
    assert.deepEqual(
      train.items.map((i) => i.id),
      [1, 2, 3, 4, 5, 6].map((k) => `train_00000${k}`),
    );
    assert.deepEqual(
      test.items.map((i) => i.id),
      ['test_000001', 'test_000002', 'test_000003'],
    );
    for (const item of [...train.items, ...test.items]) {
      assert.equal(item.width, 300);
      assert.equal(item.height, 300);
    }
    assert.deepEqual(
      progress.map((p) => p.done),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.ok(progress.every((p) => p.total === 9));
  });

  it('annotates 1–5 objects per image with labels 1..C−1 and boxes inside the image', () => {
    for (const item of [...train.items, ...test.items]) {
      const n = item.labels.length;
      assert.ok(n >= 1 && n <= 5, `${item.id}: ${n} objects`);
      assert.equal(item.boxes.length, 4 * n);
      for (let k = 0; k < n; k++) {
        assert.ok(item.labels[k] >= 1 && item.labels[k] < train.classes.length);
        const [x0, y0, x1, y1] = item.boxes.subarray(4 * k, 4 * k + 4);
        assert.ok(
          x0 >= 0 && y0 >= 0 && x1 < 1 && y1 < 1 && x1 - x0 >= 2 / 300 && y1 - y0 >= 2 / 300,
          `${item.id} box ${k}: ${[x0, y0, x1, y1]}`,
        );
      }
    }
  });

  it('is deterministic: the same seed gives identical files, another seed different ones', async () => {
    const dataB = join(root, 'b'),
      dataC = join(root, 'c');
    await generateVocDataset(dataB, options);
    await generateVocDataset(dataC, { ...options, seed: 1235 });
    const [a, b, c] = await Promise.all([filesOf(dataA), filesOf(dataB), filesOf(dataC)]);
    assert.equal(a.size, 9 * 2 + 2);
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
    for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name)!), `${name} differs for the same seed`);
    for (const [name, bytes] of a) {
      if (!name.startsWith('ImageSets')) assert.ok(!bytes.equals(c.get(name)!), `${name} is the same for another seed`);
    }
    // The test split does not depend on the train count.
    const dataD = join(root, 'd');
    await generateVocDataset(dataD, { ...options, trainCount: 2 });
    const d = await filesOf(dataD);
    assert.ok(d.get('JPEGImages/test_000002.jpg')!.equals(a.get('JPEGImages/test_000002.jpg')!));
    assert.ok(d.get('Annotations/test_000003.xml')!.equals(a.get('Annotations/test_000003.xml')!));
  });

  it("puts each object's pixels in its box and nothing outside the boxes", async () => {
    for (const [split, tag, ds] of [
      ['trainval', 1, train],
      ['test', 2, test],
    ] as const) {
      for (const [i, item] of ds.items.entries()) {
        const { data } = await sharp(item.imagePath).raw().toBuffer({ resolveWithObject: true });
        const bare = renderSample(300, 300, imageSeed(options.seed, tag, i), SHAPE_CLASSES, { drawObjects: false });
        const changed = (p: number) =>
          Math.max(
            Math.abs(data[p * 3] - bare.rgb[p * 3]),
            Math.abs(data[p * 3 + 1] - bare.rgb[p * 3 + 1]),
            Math.abs(data[p * 3 + 2] - bare.rgb[p * 3 + 2]),
          ) > 20;
        const inBox = new Uint8Array(300 * 300);
        for (let k = 0; k < item.labels.length; k++) {
          const [x0, y0, x1, y1] = [...item.boxes.subarray(4 * k, 4 * k + 4)].map((v) => Math.round(v * 300));
          let hit = 0;
          for (let y = y0; y <= y1; y++)
            for (let x = x0; x <= x1; x++) {
              inBox[y * 300 + x] = 1;
              hit += changed(y * 300 + x) ? 1 : 0;
            }
          const share = hit / ((x1 - x0 + 1) * (y1 - y0 + 1));
          // A shape fills at least about a third of its tight box (a thin star or ring the least).
          if (!item.difficult[k])
            assert.ok(share > 0.25, `${split} ${item.id} object ${k}: only ${share} of the box changed`);
        }
        let outside = 0,
          changedOutside = 0;
        for (let p = 0; p < 300 * 300; p++)
          if (!inBox[p]) {
            outside++;
            changedOutside += changed(p) ? 1 : 0;
          }
        assert.ok(
          changedOutside / outside < 0.01,
          `${split} ${item.id}: ${changedOutside} pixels outside the boxes changed`,
        );
      }
    }
  });

  it('marks heavily hidden objects difficult and keeps most objects visible', () => {
    let objects = 0,
      difficult = 0;
    for (let s = 0; s < 200; s++) {
      for (const o of renderSample(300, 300, s).objects) {
        objects++;
        difficult += o.difficult;
        assert.equal(
          o.difficult === 1,
          o.visible < 0.4,
          `seed ${s}: difficult ${o.difficult} with ${o.visible} visible`,
        );
      }
    }
    assert.ok(objects > 500 && difficult / objects < 0.05, `${difficult} of ${objects} difficult`);
  });

  it('checks its options', async () => {
    await assert.rejects(
      generateVocDataset(join(root, 'x'), { ...options, classes: ['hexagon' as 'star'] }),
      /unknown shape class 'hexagon'/,
    );
    await assert.rejects(generateVocDataset(join(root, 'x'), { ...options, size: 8 }), /image size 8×8/);
    await assert.rejects(generateVocDataset(join(root, 'x'), { ...options, trainCount: -1 }), /trainCount/);
  });

  it('honours the size and classes options', async () => {
    const dir = join(root, 'small');
    await generateVocDataset(dir, {
      trainCount: 2,
      testCount: 1,
      seed: 5,
      size: { width: 160, height: 120 },
      classes: ['ring', 'star'],
    });
    const ds = await readVocDataset(dir, { split: 'trainval' });
    assert.deepEqual(ds.classes, ['background', 'ring', 'star']);
    const meta = await sharp(ds.items[0].imagePath).metadata();
    assert.deepEqual(
      [meta.width, meta.height, meta.format, ds.items[0].width, ds.items[0].height],
      [160, 120, 'jpeg', 160, 120],
    );
    assert.ok(ds.items.every((it) => [...it.labels].every((l) => l === 1 || l === 2)));
  });

  it('saves a sample with its boxes to dist/test-artefacts/shapes-sample.png', async () => {
    const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test-artefacts');
    await mkdir(out, { recursive: true });
    const tiles = await Promise.all(
      [...train.items.slice(0, 6), ...test.items.slice(0, 2)].map(async (item) => {
        const { data, info } = await sharp(item.imagePath).raw().toBuffer({ resolveWithObject: true });
        for (let k = 0; k < item.labels.length; k++) {
          const [x0, y0, x1, y1] = [...item.boxes.subarray(4 * k, 4 * k + 4)].map((v) => Math.round(v * 300));
          const colour = item.difficult[k] ? [255, 0, 0] : [0, 255, 0];
          const set = (x: number, y: number) => data.set(colour, (y * info.width + x) * 3);
          for (let x = x0; x <= x1; x++) {
            set(x, y0);
            set(x, y1);
          }
          for (let y = y0; y <= y1; y++) {
            set(x0, y);
            set(x1, y);
          }
        }
        return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
          .png()
          .toBuffer();
      }),
    );
    const file = join(out, 'shapes-sample.png');
    await sharp({ create: { width: 1200, height: 600, channels: 3, background: '#000' } })
      .composite(tiles.map((input, i) => ({ input, left: (i % 4) * 300, top: Math.floor(i / 4) * 300 })))
      .png()
      .toFile(file);
    const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual(
      [info.width, info.height, info.channels, (await sharp(file).metadata()).format],
      [1200, 600, 3, 'png'],
    );
    // every box's outline is drawn: its top-left corner is an outline colour (green, or red when difficult)
    [...train.items.slice(0, 6), ...test.items.slice(0, 2)].forEach((item, i) => {
      assert.ok(item.labels.length > 0, `tile ${i} has boxes`);
      for (let k = 0; k < item.labels.length; k++) {
        const [x0, y0] = [...item.boxes.subarray(4 * k, 4 * k + 2)].map((v) => Math.round(v * 300));
        const at = ((Math.floor(i / 4) * 300 + y0) * 1200 + (i % 4) * 300 + x0) * 3;
        const pixel = [...data.subarray(at, at + 3)].join(',');
        assert.ok(
          pixel === '0,255,0' || pixel === '255,0,0',
          `tile ${i}, box ${k}: corner (${x0}, ${y0}) is ${pixel}, not an outline colour`,
        );
      }
    });
  });
});

describe('generateVocDataset into a folder that is not empty', () => {
  const small = { trainCount: 3, testCount: 1, seed: 7, size: 64 };
  const listing = async (dir: string) => (await readdir(dir, { recursive: true })).map(String).sort();

  it('refuses without force, naming the folder, and leaves it as it was', async () => {
    const dir = join(root, 'owned');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await assert.rejects(generateVocDataset(dir, small), /'.*owned' is not empty \(notes\.txt\); pass --force/);
    assert.deepEqual(await listing(dir), ['notes.txt']);
    await generateVocDataset(join(root, 'fresh'), small); // a new folder needs no force
  });

  it('with force, replaces the whole dataset (no file of the old one left) and keeps other files', async () => {
    const dir = join(root, 'replaced');
    await generateVocDataset(dir, { ...small, trainCount: 5 });
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await generateVocDataset(dir, { ...small, trainCount: 2, seed: 8, force: true });
    const ds = await readVocDataset(dir, { split: 'trainval' });
    assert.deepEqual(
      ds.items.map((it) => it.id),
      ['train_000001', 'train_000002'],
    );
    assert.deepEqual((await readdir(join(dir, 'JPEGImages'))).sort(), [
      'test_000001.jpg',
      'train_000001.jpg',
      'train_000002.jpg',
    ]);
    assert.deepEqual((await readdir(join(dir, 'Annotations'))).sort(), [
      'test_000001.xml',
      'train_000001.xml',
      'train_000002.xml',
    ]);
    assert.equal(JSON.parse(await readFile(join(dir, 'generator.json'), 'utf8')).seed, 8);
    assert.equal(await readFile(join(dir, 'notes.txt'), 'utf8'), 'mine');
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('.')),
      [],
      'no staging folder left',
    );
  });

  it('with force, a run that fails half-way leaves the old dataset exactly as it was', async () => {
    const dir = join(root, 'interrupted');
    await generateVocDataset(dir, small);
    const before = await filesOf(dir);
    let calls = 0;
    await assert.rejects(
      generateVocDataset(dir, { ...small, trainCount: 6, seed: 9, force: true }, () => {
        if (++calls === 3) throw new Error('interrupted');
      }),
      /interrupted/,
    );
    const after = await filesOf(dir);
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
    for (const [name, bytes] of before) assert.ok(bytes.equals(after.get(name)!), `${name} changed`);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith('.')),
      [],
      'no staging folder left',
    );
  });
});

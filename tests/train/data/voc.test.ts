/**
 * The PASCAL VOC reader: the ssd.pytorch coordinate conversion on a hand-written annotation,
 * the XML subset (comments, entities, CDATA, attributes), and the errors for missing files,
 * malformed XML, unknown classes, boxes outside the image or of zero width or height, a <size>
 * that disagrees with the image's header, repeated ids, each naming the file; skipInvalid counts.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseXml, readVocDataset, VOC_CLASSES } from '../../../src/train/data/voc.js';

/** A hand-written VOC2007-style annotation (500 × 375, one dog and one difficult person). */
const FIXTURE = `<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE annotation>
<annotation verified="yes">
  <folder>VOC2007</folder>
  <filename>000001.jpg</filename>
  <!-- a comment with <tags> inside -->
  <source><database>The VOC2007 Database</database><annotation>PASCAL &amp; friends</annotation></source>
  <size><width>500</width><height>375</height><depth>3</depth></size>
  <segmented>0</segmented>
  <object>
    <name> Dog </name>
    <pose>Left</pose>
    <truncated>1</truncated>
    <difficult>0</difficult>
    <bndbox><xmin>48</xmin><ymin>240</ymin><xmax>195</xmax><ymax>371</ymax></bndbox>
  </object>
  <object>
    <name><![CDATA[person]]></name>
    <pose>Left</pose>
    <truncated>0</truncated>
    <difficult>1</difficult>
    <bndbox>
      <xmin>1</xmin>
      <ymin>1</ymin>
      <xmax>500</xmax>
      <ymax>375</ymax>
    </bndbox>
  </object>
</annotation>
`;

let root: string;

/**
 * The first bytes of a baseline JPEG of `width` × `height`: SOI, then a SOF0 frame header (all the
 * reader reads of an image).
 */
function jpegHeader(width: number, height: number): Uint8Array {
  return new Uint8Array([
    0xff,
    0xd8,
    0xff,
    0xe0,
    0x00,
    0x04,
    0x00,
    0x00, // SOI, an APP0 segment to walk over
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    3,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ]);
}
const JPEG_500x375 = jpegHeader(500, 375);

async function writeDataset(dir: string, files: Record<string, string | Uint8Array>): Promise<string> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ssd-edge-voc-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('readVocDataset', () => {
  it('converts 1-based VOC boxes as ssd.pytorch does: (v − 1) / size for all four coordinates', async () => {
    const dir = await writeDataset(join(root, 'ok'), {
      'ImageSets/Main/test.txt': '000001\n\n',
      'Annotations/000001.xml': FIXTURE,
      'JPEGImages/000001.jpg': JPEG_500x375, // only its header is read
    });
    const ds = await readVocDataset(dir, { split: 'test' });
    assert.deepEqual(ds.classes, ['background', ...VOC_CLASSES]);
    assert.equal(ds.items.length, 1);
    const item = ds.items[0];
    assert.equal(item.id, '000001');
    assert.equal(item.imagePath, join(dir, 'JPEGImages', '000001.jpg'));
    assert.equal(item.width, 500);
    assert.equal(item.height, 375);
    // dog: xmin 48 → 47/500, ymin 240 → 239/375, xmax 195 → 194/500, ymax 371 → 370/375
    const expected = [47 / 500, 239 / 375, 194 / 500, 370 / 375, 0, 0, 499 / 500, 374 / 375];
    assert.deepEqual([...item.boxes], expected.map(Math.fround));
    assert.deepEqual([...item.labels], [VOC_CLASSES.indexOf('dog') + 1, VOC_CLASSES.indexOf('person') + 1]);
    assert.equal(item.labels[0], 12); // dog is class 12 with background at 0 (as in the presets)
    assert.deepEqual([...item.difficult], [0, 1]);
    assert.deepEqual([...item.truncated], [1, 0]);
  });

  it('takes its classes from the option, from classes.txt, or the VOC 20 by default', async () => {
    const xml = FIXTURE.replace('<name> Dog </name>', '<name>cat</name>');
    const dir = await writeDataset(join(root, 'classes'), {
      'ImageSets/Main/trainval.txt': '000001 1\r\n',
      'Annotations/000001.xml': xml,
      'JPEGImages/000001.jpg': JPEG_500x375,
      'classes.txt': 'person\ncat\n',
    });
    const fromFile = await readVocDataset(dir, { split: 'trainval' });
    assert.deepEqual(fromFile.classes, ['background', 'person', 'cat']);
    assert.deepEqual([...fromFile.items[0].labels], [2, 1]);
    const fromOption = await readVocDataset(dir, { split: 'trainval', classes: ['cat', 'dog', 'Person'] });
    assert.deepEqual(fromOption.classes, ['background', 'cat', 'dog', 'person']);
    assert.deepEqual([...fromOption.items[0].labels], [1, 3]);
  });

  it('reads an annotation without objects as an empty item', async () => {
    const xml = '<annotation><size><width>10</width><height>20</height></size></annotation>';
    const dir = await writeDataset(join(root, 'empty'), {
      'ImageSets/Main/test.txt': 'a\n',
      'Annotations/a.xml': xml,
      'JPEGImages/a.jpg': jpegHeader(10, 20),
    });
    const { items } = await readVocDataset(dir, { split: 'test' });
    assert.equal(items[0].boxes.length, 0);
    assert.equal(items[0].labels.length, 0);
  });

  async function expectError(
    name: string,
    files: Record<string, string | Uint8Array>,
    pattern: RegExp,
    split = 'test',
  ) {
    const dir = await writeDataset(join(root, name), files);
    await assert.rejects(readVocDataset(dir, { split }), pattern);
  }
  const good = { 'Annotations/000001.xml': FIXTURE, 'JPEGImages/000001.jpg': JPEG_500x375 };

  it('names the missing image list', async () => {
    await expectError('no-list', good, /image list of split 'test' missing: .*ImageSets[/\\]Main[/\\]test\.txt/);
  });

  it('names a missing annotation and a missing image', async () => {
    await expectError(
      'no-xml',
      { 'ImageSets/Main/test.txt': '000001\n', 'JPEGImages/000001.jpg': JPEG_500x375 },
      /annotation of '000001' missing: .*Annotations[/\\]000001\.xml/,
    );
    await expectError(
      'no-jpg',
      { 'ImageSets/Main/test.txt': '000001\n', 'Annotations/000001.xml': FIXTURE },
      /image missing: .*JPEGImages[/\\]000001\.jpg/,
    );
  });

  it('names the file and line of malformed XML', async () => {
    const cases: [string, RegExp][] = [
      [
        FIXTURE.replace('</pose>', ''),
        /000001\.xml: malformed XML at line 16: Expected closing tag 'pose' \(opened in line \d+, col \d+\) instead of closing tag 'object'/,
      ],
      [FIXTURE.replace(/<\/annotation>\s*$/, ''), /000001\.xml: malformed XML .*Unclosed tag 'annotation'/],
      [FIXTURE.replace('<xmin>48', '<xmin 48'), /000001\.xml: malformed XML at line 15: .*attribute/],
      [FIXTURE.replace('PASCAL &amp;', 'PASCAL &'), /000001\.xml: malformed XML at line 7: char '&' is not expected/],
      [FIXTURE + '<extra/>', /000001\.xml: malformed XML: a second root element <extra> after <annotation>/],
      ['stray text', /000001\.xml: malformed XML at line 1: char 's' is not expected/],
      ['', /000001\.xml: malformed XML .*no root element/],
    ];
    for (const [i, [xml, pattern]] of cases.entries()) {
      await expectError(
        `bad-xml-${i}`,
        { ...good, 'ImageSets/Main/test.txt': '000001\n', 'Annotations/000001.xml': xml },
        pattern,
      );
    }
  });

  it('names the file for missing fields, unknown classes and boxes outside the image', async () => {
    const cases: [string, RegExp][] = [
      [
        FIXTURE.replace('<name> Dog </name>', '<name>unicorn</name>'),
        /000001\.xml: object 1 has unknown class 'unicorn' \(known: aeroplane,/,
      ],
      [
        FIXTURE.replace('<name> Dog </name>', '<name>background</name>'),
        /000001\.xml: object 1 has unknown class 'background'/,
      ],
      [
        FIXTURE.replace('<xmax>195</xmax>', '<xmax>501</xmax>'),
        /000001\.xml: object 1 \('dog'\) box \[48, 240, 501, 371\] is outside the 500×375 image/,
      ],
      [FIXTURE.replace('<xmin>1</xmin>', '<xmin>0</xmin>'), /000001\.xml: object 2 \('person'\) box .* outside/],
      [FIXTURE.replace('<ymin>240</ymin>', '<ymin>372</ymin>'), /000001\.xml: object 1 .*inverted/],
      [
        FIXTURE.replace('<xmin>48</xmin>', '<xmin>4x8</xmin>'),
        /000001\.xml: object 1 bndbox\/xmin is '4x8', not a number/,
      ],
      [FIXTURE.replace('<ymax>371</ymax>', ''), /000001\.xml: object 1 bndbox has no <ymax>/],
      [FIXTURE.replace(/<size>.*<\/size>/, ''), /000001\.xml: annotation has no <size>/],
      [FIXTURE.replace('<width>500</width>', '<width>0</width>'), /000001\.xml: image size 0×375 is not positive/],
      [
        FIXTURE.replace('<difficult>0</difficult>', '<difficult>2</difficult>'),
        /000001\.xml: object 1\/difficult is 2/,
      ],
      ['<foo/>', /000001\.xml: root element is <foo>/],
    ];
    for (const [i, [xml, pattern]] of cases.entries()) {
      await expectError(
        `bad-field-${i}`,
        { ...good, 'ImageSets/Main/test.txt': '000001\n', 'Annotations/000001.xml': xml },
        pattern,
      );
    }
  });
});

describe('readVocDataset refuses what would break training (or, with skipInvalid, leaves it out)', () => {
  const degenerate = FIXTURE.replace('<xmax>195</xmax>', '<xmax>48</xmax>'); // the dog: xmin = xmax
  const flat = FIXTURE.replace('<ymin>1</ymin>', '<ymin>375</ymin>'); // the person: ymin = ymax
  const files = (xml: string, image: string | Uint8Array = JPEG_500x375, list = '000001\n') => ({
    'ImageSets/Main/test.txt': list,
    'Annotations/000001.xml': xml,
    'JPEGImages/000001.jpg': image,
  });

  it('a box of zero width or height, naming the file', async () => {
    for (const [name, xml, pattern] of [
      [
        'zero-width',
        degenerate,
        /000001\.xml: object 1 \('dog'\) box \[48, 240, 48, 371\] has zero width \(xmin = xmax\)/,
      ],
      ['zero-height', flat, /000001\.xml: object 2 \('person'\) box \[1, 375, 500, 375\] has zero height/],
    ] as const) {
      const dir = await writeDataset(join(root, name), files(xml));
      await assert.rejects(readVocDataset(dir, { split: 'test' }), pattern);
    }
  });

  it('a <size> that disagrees with the image, or an image that is neither JPEG nor PNG', async () => {
    const sharp = (await import('sharp')).default;
    const real = await sharp({ create: { width: 500, height: 376, channels: 3, background: 'gray' } })
      .jpeg()
      .toBuffer();
    const png = await sharp({ create: { width: 500, height: 375, channels: 3, background: 'gray' } })
      .png()
      .toBuffer();
    const exact = await sharp({ create: { width: 500, height: 375, channels: 3, background: 'gray' } })
      .jpeg()
      .withMetadata({ exif: { IFD0: { ImageDescription: 'x'.repeat(5000) } } })
      .toBuffer();
    let dir = await writeDataset(join(root, 'size-jpeg'), files(FIXTURE, real));
    await assert.rejects(
      readVocDataset(dir, { split: 'test' }),
      /000001\.xml: <size> 500×375 disagrees with the image .*000001\.jpg, 500×376/,
    );
    dir = await writeDataset(join(root, 'size-header'), files(FIXTURE, jpegHeader(375, 500)));
    await assert.rejects(readVocDataset(dir, { split: 'test' }), /disagrees with the image .*, 375×500/);
    dir = await writeDataset(join(root, 'size-text'), files(FIXTURE, 'not an image'));
    await assert.rejects(readVocDataset(dir, { split: 'test' }), /000001\.jpg: neither a JPEG nor a PNG/);
    for (const [name, image] of [
      ['size-png', png],
      ['size-exif', exact],
    ] as const) {
      dir = await writeDataset(join(root, name), files(FIXTURE, image));
      assert.equal((await readVocDataset(dir, { split: 'test' })).items.length, 1, `${name} agrees with <size>`);
    }
  });

  it('an id listed twice in a split', async () => {
    const dir = await writeDataset(join(root, 'twice'), files(FIXTURE, JPEG_500x375, '000001\n000001 1\n'));
    await assert.rejects(
      readVocDataset(dir, { split: 'test' }),
      /ImageSets[/\\]Main[/\\]test\.txt: id '000001' is listed twice/,
    );
  });

  it('with skipInvalid: leaves out bad boxes, bad images and repeats, and counts them', async () => {
    const dir = await writeDataset(join(root, 'skip'), {
      'ImageSets/Main/test.txt': 'a\nb\nc\na\n',
      'Annotations/a.xml': degenerate,
      'JPEGImages/a.jpg': JPEG_500x375, // one box left out, one kept
      'Annotations/b.xml': FIXTURE,
      'JPEGImages/b.jpg': jpegHeader(400, 300), // size disagrees: image left out
      'Annotations/c.xml': FIXTURE,
      'JPEGImages/c.jpg': JPEG_500x375, // fine
    });
    await assert.rejects(readVocDataset(dir, { split: 'test' }), /listed twice .*skipInvalid/);
    const ds = await readVocDataset(dir, { split: 'test', skipInvalid: true });
    assert.deepEqual(
      ds.items.map((item) => [item.id, item.labels.length]),
      [
        ['a', 1],
        ['c', 2],
      ],
    );
    assert.deepEqual([...ds.items[0].difficult], [1], 'the kept box keeps its own flags');
    assert.deepEqual([ds.skipped.boxes, ds.skipped.images], [1, 2]);
    assert.equal(ds.skipped.messages.length, 3);
    assert.match(ds.skipped.messages.join('\n'), /a\.xml: object 1 .*zero width/);
    assert.match(ds.skipped.messages.join('\n'), /b\.xml: <size> 500×375 disagrees/);
  });
});

describe('parseXml', () => {
  it('decodes entities and character references and keeps nested structure', () => {
    const el = parseXml('<a x="1" y=\'2\'><b>&lt;&#65;&#x42;&gt;</b><c/><b>2</b></a>', 'x.xml');
    assert.equal(el.name, 'a');
    assert.deepEqual(
      el.children.map((c) => c.name),
      ['b', 'c', 'b'],
    );
    assert.equal(el.children[0].text, '<AB>');
    assert.equal(el.children[1].children.length, 0);
  });

  it('reads what real annotation files carry: a BOM, a declaration, DOCTYPE, comments, attributes, CDATA, CRLF', () => {
    const xml =
      '\ufeff<?xml version="1.0" encoding="utf-8"?>\r\n<!DOCTYPE annotation>\r\n<!-- made by a labelling tool -->\r\n' +
      '<annotation verified="yes"><folder>VOC &amp; co</folder><object><name><![CDATA[dog]]></name><bndbox><xmin>1</xmin></bndbox></object></annotation>\r\n';
    const el = parseXml(xml, 'x.xml');
    assert.equal(el.name, 'annotation');
    assert.deepEqual(
      el.children.map((c) => c.name),
      ['folder', 'object'],
    );
    assert.equal(el.children[0].text, 'VOC & co');
    assert.equal(el.children[1].children[0].text, 'dog');
    assert.equal(el.children[1].children[1].children[0].text, '1', 'numbers stay text: the reader parses them');
  });
});

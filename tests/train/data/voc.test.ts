/**
 * The PASCAL VOC reader: the ssd.pytorch coordinate conversion on a hand-written annotation,
 * the XML subset (comments, entities, CDATA, attributes), and the errors for missing files,
 * malformed XML, unknown classes and boxes outside the image, each naming the file.
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

async function writeDataset(dir: string, files: Record<string, string>): Promise<string> {
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
      'JPEGImages/000001.jpg': 'not decoded by the reader',
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
    assert.equal(item.labels[0], 12);   // dog is class 12 with background at 0 (as in the presets)
    assert.deepEqual([...item.difficult], [0, 1]);
    assert.deepEqual([...item.truncated], [1, 0]);
  });

  it('takes its classes from the option, from classes.txt, or the VOC 20 by default', async () => {
    const xml = FIXTURE.replace('<name> Dog </name>', '<name>cat</name>');
    const dir = await writeDataset(join(root, 'classes'), {
      'ImageSets/Main/trainval.txt': '000001 1\r\n',
      'Annotations/000001.xml': xml,
      'JPEGImages/000001.jpg': '',
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
      'ImageSets/Main/test.txt': 'a\n', 'Annotations/a.xml': xml, 'JPEGImages/a.jpg': '',
    });
    const { items } = await readVocDataset(dir, { split: 'test' });
    assert.equal(items[0].boxes.length, 0);
    assert.equal(items[0].labels.length, 0);
  });

  async function expectError(name: string, files: Record<string, string>, pattern: RegExp, split = 'test') {
    const dir = await writeDataset(join(root, name), files);
    await assert.rejects(readVocDataset(dir, { split }), pattern);
  }
  const good = { 'Annotations/000001.xml': FIXTURE, 'JPEGImages/000001.jpg': '' };

  it('names the missing image list', async () => {
    await expectError('no-list', good, /image list of split 'test' missing: .*ImageSets[/\\]Main[/\\]test\.txt/);
  });

  it('names a missing annotation and a missing image', async () => {
    await expectError('no-xml', { 'ImageSets/Main/test.txt': '000001\n', 'JPEGImages/000001.jpg': '' },
      /annotation of '000001' missing: .*Annotations[/\\]000001\.xml/);
    await expectError('no-jpg', { 'ImageSets/Main/test.txt': '000001\n', 'Annotations/000001.xml': FIXTURE },
      /image missing: .*JPEGImages[/\\]000001\.jpg/);
  });

  it('names the file and line of malformed XML', async () => {
    const cases: [string, RegExp][] = [
      [FIXTURE.replace('</pose>', ''), /000001\.xml: malformed XML at line 16: <\/object> closes <pose>/],
      [FIXTURE.replace(/<\/annotation>\s*$/, ''), /000001\.xml: malformed XML .*<annotation> is never closed/],
      [FIXTURE.replace('<xmin>48', '<xmin 48'), /000001\.xml: malformed XML at line 15: bad tag/],
      [FIXTURE.replace('PASCAL &amp;', 'PASCAL &'), /000001\.xml: malformed XML at line 7: bare '&'/],
      [FIXTURE + '<extra/>', /000001\.xml: malformed XML .*second root element <extra>/],
      ['', /000001\.xml: malformed XML .*no root element/],
    ];
    for (const [i, [xml, pattern]] of cases.entries()) {
      await expectError(`bad-xml-${i}`, { ...good, 'ImageSets/Main/test.txt': '000001\n', 'Annotations/000001.xml': xml }, pattern);
    }
  });

  it('names the file for missing fields, unknown classes and boxes outside the image', async () => {
    const cases: [string, RegExp][] = [
      [FIXTURE.replace('<name> Dog </name>', '<name>unicorn</name>'), /000001\.xml: object 1 has unknown class 'unicorn' \(known: aeroplane,/],
      [FIXTURE.replace('<name> Dog </name>', '<name>background</name>'), /000001\.xml: object 1 has unknown class 'background'/],
      [FIXTURE.replace('<xmax>195</xmax>', '<xmax>501</xmax>'), /000001\.xml: object 1 \('dog'\) box \[48, 240, 501, 371\] is outside the 500×375 image/],
      [FIXTURE.replace('<xmin>1</xmin>', '<xmin>0</xmin>'), /000001\.xml: object 2 \('person'\) box .* outside/],
      [FIXTURE.replace('<ymin>240</ymin>', '<ymin>372</ymin>'), /000001\.xml: object 1 .*inverted/],
      [FIXTURE.replace('<xmin>48</xmin>', '<xmin>4x8</xmin>'), /000001\.xml: object 1 bndbox\/xmin is '4x8', not a number/],
      [FIXTURE.replace('<ymax>371</ymax>', ''), /000001\.xml: object 1 bndbox has no <ymax>/],
      [FIXTURE.replace(/<size>.*<\/size>/, ''), /000001\.xml: annotation has no <size>/],
      [FIXTURE.replace('<width>500</width>', '<width>0</width>'), /000001\.xml: image size 0×375 is not positive/],
      [FIXTURE.replace('<difficult>0</difficult>', '<difficult>2</difficult>'), /000001\.xml: object 1\/difficult is 2/],
      ['<foo/>', /000001\.xml: root element is <foo>/],
    ];
    for (const [i, [xml, pattern]] of cases.entries()) {
      await expectError(`bad-field-${i}`, { ...good, 'ImageSets/Main/test.txt': '000001\n', 'Annotations/000001.xml': xml }, pattern);
    }
  });
});

describe('parseXml', () => {
  it('decodes entities and character references and keeps nested structure', () => {
    const el = parseXml('<a x="1" y=\'2\'><b>&lt;&#65;&#x42;&gt;</b><c/><b>2</b></a>', 'x.xml');
    assert.equal(el.name, 'a');
    assert.deepEqual(el.children.map((c) => c.name), ['b', 'c', 'b']);
    assert.equal(el.children[0].text, '<AB>');
    assert.equal(el.children[1].children.length, 0);
  });
});

/** decodeImage: formats and conversions sharp does for us, and an error naming the file for each bad one. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { importOptional } from '../../src/runtime/environment.js';
import { decodeImage } from '../../src/runtime/image-node.js';
import { writeTestImages, type TestImages } from './images.js';

let images: TestImages;
before(async () => {
  images = await writeTestImages();
});
after(() => images.remove());

function isUniform(data: ArrayLike<number>, rgb: [number, number, number]): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] !== rgb[i % 3]) return false;
  return true;
}

describe('decodeImage converts to 8-bit RGB', () => {
  it('PNG and JPEG, from a path or from bytes', async () => {
    for (const path of [images.whitePng, images.whiteJpeg]) {
      for (const input of [path, await readFile(path), new Uint8Array(await readFile(path)).buffer]) {
        const image = await decodeImage(input);
        assert.deepEqual([image.width, image.height, image.channels, image.data.length], [64, 48, 3, 64 * 48 * 3]);
        assert.ok(isUniform(image.data, [255, 255, 255]), `${path} decodes to white`);
      }
    }
  });

  it('grey becomes three equal channels; RGBA loses its alpha, keeping the colour', async () => {
    assert.equal((await sharp(images.greyPng).metadata()).channels, 1, 'the fixture is a one-channel PNG');
    const grey = await decodeImage(images.greyPng);
    assert.deepEqual([grey.width, grey.height, grey.channels], [40, 30, 3]);
    assert.ok(isUniform(grey.data, [255, 255, 255]));
    const rgba = await decodeImage(images.rgbaPng);
    assert.equal(rgba.channels, 3);
    assert.ok(isUniform(rgba.data, [255, 255, 255]));
  });

  it('applies EXIF orientation, as browsers do', async () => {
    const image = await decodeImage(images.rotatedJpeg);
    assert.deepEqual([image.width, image.height], [4, 6]);
  });
});

describe('decodeImage rejects bad files with an error naming them', () => {
  it('missing, empty, not an image, truncated', async () => {
    await assert.rejects(decodeImage(`${images.dir}/nope.png`), /^Error: cannot read image '.*nope\.png': ENOENT/);
    await assert.rejects(
      decodeImage(images.emptyFile),
      /^Error: cannot read image '.*empty\.png': it is empty \(0 bytes\)$/,
    );
    await assert.rejects(
      decodeImage(images.textJpg),
      /^Error: cannot read image '.*text\.jpg': not an image format sharp can read \(jpeg, png, .*\)$/,
    );
    await assert.rejects(decodeImage(new Uint8Array(0)), /cannot read image \(0 bytes\): it is empty/);
    await assert.rejects(
      decodeImage(images.truncatedJpeg),
      /^Error: cannot read image '.*truncated\.jpg': .*premature end of JPEG/i,
    );
  });

  it('too large: a RangeError with the size, from the header alone', async () => {
    const before = process.memoryUsage().rss;
    await assert.rejects(
      decodeImage(images.hugePng),
      /^RangeError: image '.*huge\.png' is 30000 × 30000 pixels \(900 megapixels\), over the limit of 50 megapixels: downscale it, or raise maxImagePixels$/,
    );
    assert.ok(process.memoryUsage().rss - before < 200e6, 'nothing near 900 MB was allocated');
    await assert.rejects(
      decodeImage(images.whitePng, 3000),
      /is 64 × 48 pixels \(0.00307 megapixels\), over the limit of 0.003 megapixels/,
    );
  });
});

describe('optional packages', () => {
  it('a missing one is named with the command that installs it', async () => {
    await assert.rejects(
      importOptional('ssd-edge-no-such-package', 'reading image files in Node'),
      /^Error: reading image files in Node needs the optional package 'ssd-edge-no-such-package', which is not installed: npm install ssd-edge-no-such-package$/,
    );
  });
});

/**
 * Test images, written with sharp into a fresh temporary directory: uniform colours (so the
 * expected tensor is known exactly), grey and RGBA PNGs, a JPEG, and the bad files.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp, { type Color } from 'sharp';

export interface TestImages {
  dir: string;
  /** 64 × 48 white RGB PNG. */
  whitePng: string;
  /** 64 × 48 black RGB PNG. */
  blackPng: string;
  /** 64 × 48 white JPEG (uniform white survives JPEG exactly). */
  whiteJpeg: string;
  /** 40 × 30 one-channel PNG, value 255. */
  greyPng: string;
  /** 40 × 30 white RGBA PNG, alpha 128. */
  rgbaPng: string;
  /** A 6 × 4 red JPEG with EXIF orientation 6 (rotate 90°): decodes as 4 × 6. */
  rotatedJpeg: string;
  emptyFile: string;
  /** Text in a file named .jpg. */
  textJpg: string;
  /** A JPEG cut in half. */
  truncatedJpeg: string;
  /** A valid PNG header declaring 30000 × 30000 pixels (a few bytes on disk). */
  hugePng: string;
  remove(): Promise<void>;
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** A PNG whose header claims width × height 8-bit grey pixels, with almost no image data. */
export function pngHeader(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth; colour type 0 (grey), no interlace
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.alloc(16))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function solid(width: number, height: number, channels: 3 | 4, background: Color) {
  return sharp({ create: { width, height, channels, background } });
}

export async function writeTestImages(): Promise<TestImages> {
  const dir = await mkdtemp(join(tmpdir(), 'ssd-edge-images-'));
  const path = (name: string) => join(dir, name);
  const noisyJpeg = await sharp({
    create: {
      width: 64,
      height: 48,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .jpeg()
    .toBuffer();
  const images: TestImages = {
    dir,
    whitePng: path('white.png'),
    blackPng: path('black.png'),
    whiteJpeg: path('white.jpg'),
    greyPng: path('grey.png'),
    rgbaPng: path('rgba.png'),
    rotatedJpeg: path('rotated.jpg'),
    emptyFile: path('empty.png'),
    textJpg: path('text.jpg'),
    truncatedJpeg: path('truncated.jpg'),
    hugePng: path('huge.png'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  await Promise.all([
    solid(64, 48, 3, '#ffffff').png().toFile(images.whitePng),
    solid(64, 48, 3, '#000000').png().toFile(images.blackPng),
    solid(64, 48, 3, '#ffffff').jpeg({ quality: 95 }).toFile(images.whiteJpeg),
    sharp(new Uint8Array(40 * 30).fill(255), { raw: { width: 40, height: 30, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(images.greyPng),
    solid(40, 30, 4, { r: 255, g: 255, b: 255, alpha: 128 / 255 })
      .png()
      .toFile(images.rgbaPng),
    solid(6, 4, 3, '#ff0000').jpeg().withMetadata({ orientation: 6 }).toFile(images.rotatedJpeg),
    writeFile(images.emptyFile, ''),
    writeFile(images.textJpg, 'this is not a JPEG\n'),
    writeFile(images.truncatedJpeg, noisyJpeg.subarray(0, noisyJpeg.length >> 1)),
    writeFile(images.hugePng, pngHeader(30000, 30000)),
  ]);
  return images;
}

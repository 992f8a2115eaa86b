/**
 * Node: image files and encoded bytes → RGB pixels, with sharp (an optional peer dependency,
 * imported on first use). EXIF orientation is applied (as browsers do for <img>), grey and
 * CMYK become sRGB, alpha is dropped, 16-bit becomes 8-bit.
 */
import { importOptional } from './environment.js';
import { DEFAULT_MAX_IMAGE_PIXELS, requireWithinLimit } from './image-limits.js';
import type { RawImage } from './types.js';

type Sharp = typeof import('sharp').default;

let sharpModule: Promise<Sharp> | undefined;

function loadSharp(): Promise<Sharp> {
  sharpModule ??= importOptional<typeof import('sharp')>('sharp', 'reading image files in Node').then((m) => m.default);
  return sharpModule;
}

/** sharp's message, with its "unsupported format" made to say which formats this build reads. */
function describe(sharp: Sharp, error: unknown): string {
  const message = (error as Error).message;
  if (!/unsupported image format/i.test(message)) return message;
  const formats = Object.entries(sharp.format)
    .filter(([name, f]) => f.input.buffer && name !== 'raw')
    .map(([name]) => name);
  return `not an image format sharp can read (${formats.join(', ')})`;
}

/**
 * Decodes an image file (path) or its bytes into 8-bit RGB pixels. Errors say which image and
 * why: a missing, empty, corrupt or truncated file, an unsupported format (Error), or an image
 * over `maxPixels` (RangeError, checked from the header before decoding).
 */
export async function decodeImage(
  input: string | Uint8Array | ArrayBuffer,
  maxPixels = DEFAULT_MAX_IMAGE_PIXELS,
): Promise<RawImage & { channels: 3 }> {
  const sharp = await loadSharp(); // first: without it nothing else matters
  let bytes: Uint8Array;
  const name = typeof input === 'string' ? `'${input}'` : `(${input.byteLength} bytes)`;
  const failure = (why: string) => new Error(`cannot read image ${name}: ${why}`);
  if (typeof input === 'string') {
    const { readFile } = await import('node:fs/promises');
    try {
      bytes = await readFile(input);
    } catch (error) {
      throw failure((error as Error).message);
    }
  } else {
    bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : input;
  }
  if (bytes.length === 0) throw failure('it is empty (0 bytes)');
  let width: number | undefined, height: number | undefined;
  try {
    // the header only: no pixel limit here, so that ours can name the size
    ({ width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
  } catch (error) {
    throw failure(describe(sharp, error));
  }
  if (!width || !height) throw failure('its header gives no size');
  requireWithinLimit(width, height, maxPixels, name);
  try {
    // failOn 'error': reject corrupt or truncated data, tolerate the warnings browsers ignore
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' })
      .autoOrient()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
      channels: 3,
    };
  } catch (error) {
    throw failure(describe(sharp, error));
  }
}

/**
 * Draws detections onto an image and writes a PNG: boxes, class labels and scores as an SVG
 * overlay composited by sharp (the image keeps its size and EXIF orientation).
 */
import { writeFile } from 'node:fs/promises';
import type { ImageDetection } from '../runtime/types.js';

// distinct, readable colours; a class keeps its colour across images
const PALETTE = [
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#42d4f4',
  '#f032e6',
  '#bfef45',
  '#fabed4',
  '#469990',
  '#dcbeff',
  '#9a6324',
  '#800000',
  '#aaffc3',
  '#808000',
  '#000075',
];

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** What the overlay draws: a detection, or a tracked object (its id leads the label, `#3 dog 0.91`, and picks the colour). */
export type Drawable = Pick<ImageDetection, 'classId' | 'label' | 'score' | 'pixelBox'> & { trackId?: number };

/** The SVG overlay for an image of `width` × `height` pixels. */
export function overlaySvg(detections: readonly Drawable[], width: number, height: number): string {
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const fontSize = Math.max(12, Math.round(Math.min(width, height) / 30));
  const shapes = detections.map((d) => {
    const colour = PALETTE[(d.trackId ? d.trackId - 1 : d.classId) % PALETTE.length];
    const [x1, y1, x2, y2] = d.pixelBox.map((v, i) => Math.min(Math.max(v, 0), i % 2 === 0 ? width : height));
    const text = `${d.trackId ? `#${d.trackId} ` : ''}${escapeXml(d.label ?? String(d.classId))} ${d.score.toFixed(2)}`;
    const labelY = y1 >= fontSize + 4 ? y1 - 4 : y1 + fontSize + 2;
    return (
      `<rect x="${x1}" y="${y1}" width="${Math.max(x2 - x1, 1)}" height="${Math.max(y2 - y1, 1)}" ` +
      `fill="none" stroke="${colour}" stroke-width="${stroke}"/>` +
      `<text x="${x1 + 2}" y="${labelY}" font-family="sans-serif" font-size="${fontSize}" fill="${colour}" ` +
      `stroke="black" stroke-width="0.6" paint-order="stroke">${text}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`;
}

/** Writes `image` (a path or bytes) with the detections drawn on it to `outPath` as PNG. */
export async function writeAnnotated(
  image: string | Uint8Array,
  detections: readonly ImageDetection[],
  outPath: string,
): Promise<void> {
  const sharp = (await import('sharp')).default;
  const base = sharp(image).rotate().removeAlpha();
  const { data, info } = await base.raw().toBuffer({ resolveWithObject: true });
  const svg = Buffer.from(overlaySvg(detections, info.width, info.height));
  const png = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .composite([{ input: svg, top: 0, left: 0 }])
    .png()
    .toBuffer();
  // written by Node, not libvips: a failure is one line (ENOSPC, EACCES, …), not libvips' buffer-writer log
  try {
    await writeFile(outPath, png);
  } catch (error) {
    throw new Error(`cannot write the annotated image ${outPath}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Draws on raw RGB pixels (a video frame): returns a new width × height × 3 buffer with the
 * boxes and labels composited. A frame without objects is returned as it is.
 */
export async function annotateRgb(
  rgb: Uint8Array,
  width: number,
  height: number,
  objects: readonly Drawable[],
): Promise<Uint8Array> {
  if (objects.length === 0) return rgb;
  const sharp = (await import('sharp')).default;
  const { data, info } = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(overlaySvg(objects, width, height)), top: 0, left: 0 }])
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels === 3) return data;
  // composite can add an alpha channel: drop it
  const out = Buffer.allocUnsafe(width * height * 3);
  for (let i = 0, o = 0; o < out.length; i += info.channels, o += 3) {
    out[o] = data[i];
    out[o + 1] = data[i + 1];
    out[o + 2] = data[i + 2];
  }
  return out;
}

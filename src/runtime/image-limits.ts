/** The largest image the runtime accepts, shared by the Node decoder and the browser reader. */

/**
 * Default limit: 50 megapixels. Above every phone camera's default resolution and 8K video
 * (33 MP); a decoded 50 MP RGB image is 150 MB, which a small device can still hold. Larger
 * images are nearly always a mistake (or a decompression bomb) for a 300 × 300 network.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 50_000_000;

/** Checks the `maxImagePixels` option. */
export function validateMaxPixels(maxPixels: unknown): number {
  if (typeof maxPixels !== 'number' || !Number.isInteger(maxPixels) || maxPixels < 1) {
    throw new RangeError(
      `maxImagePixels is ${String(maxPixels)}; it must be an integer ≥ 1 (default ${DEFAULT_MAX_IMAGE_PIXELS})`,
    );
  }
  return maxPixels;
}

/** Rejects an image larger than `maxPixels`, naming its size, before anything is decoded. */
export function requireWithinLimit(width: number, height: number, maxPixels: number, name: string): void {
  if (width * height <= maxPixels) return;
  const megapixels = (n: number) => `${+(n / 1e6).toPrecision(3)} megapixels`;
  throw new RangeError(
    `image ${name} is ${width} × ${height} pixels (${megapixels(width * height)}), over the limit of ` +
      `${megapixels(maxPixels)}: downscale it, or raise maxImagePixels`,
  );
}

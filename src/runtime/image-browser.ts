/**
 * Browsers: canvases, image elements and ImageBitmaps → RGBA pixels, by drawing them once onto
 * a reused 2D canvas (an OffscreenCanvas where the browser has one). ImageData needs none of
 * this: it is already a RawImage. No Node imports; typed with the DOM library.
 */
import { requireWithinLimit } from './image-limits.js';
import type { BrowserImageSource, RawImage } from './types.js';

type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

let scratch: Context2D | undefined;

/** The reused drawing context, sized to width × height (resizing also clears it). */
function scratchContext(width: number, height: number): Context2D {
  if (!scratch) {
    // willReadFrequently: keep the canvas in CPU memory, since every draw is read back
    const context =
      typeof OffscreenCanvas !== 'undefined'
        ? new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true })
        : document.createElement('canvas').getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('cannot read image pixels: this browser gives no 2D canvas context');
    scratch = context;
  }
  scratch.canvas.width = width;
  scratch.canvas.height = height;
  return scratch;
}

/** Whether `value` is a canvas, an image element, an ImageBitmap or a VideoFrame (always false in Node). */
export function isBrowserImageSource(value: unknown): value is BrowserImageSource {
  return (
    (typeof HTMLCanvasElement !== 'undefined' && value instanceof HTMLCanvasElement) ||
    (typeof OffscreenCanvas !== 'undefined' && value instanceof OffscreenCanvas) ||
    (typeof HTMLImageElement !== 'undefined' && value instanceof HTMLImageElement) ||
    (typeof ImageBitmap !== 'undefined' && value instanceof ImageBitmap) ||
    (typeof VideoFrame !== 'undefined' && value instanceof VideoFrame)
  );
}

/** Pixel size of a source: an image element's natural size, not its CSS size. */
function sourceSize(source: BrowserImageSource): [number, number] {
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
    if (!source.complete || source.naturalWidth === 0) {
      throw new Error(
        `cannot read image '${source.src}': it has not finished loading or failed to load; ` +
          'await img.decode() before detect()',
      );
    }
    return [source.naturalWidth, source.naturalHeight];
  }
  // a VideoFrame draws at its display size; a closed one reports 0 × 0
  if (typeof VideoFrame !== 'undefined' && source instanceof VideoFrame)
    return [source.displayWidth, source.displayHeight];
  return [(source as ImageBitmap).width, (source as ImageBitmap).height];
}

/**
 * The RGBA pixels of a canvas, image element or ImageBitmap. Throws for an image that has not
 * loaded, a zero-size or closed source, one over `maxPixels`, or a cross-origin image that
 * taints the canvas.
 */
export function readBrowserImage(source: BrowserImageSource, maxPixels: number): RawImage {
  const [width, height] = sourceSize(source);
  if (width === 0 || height === 0) {
    throw new RangeError(
      `image is ${width} × ${height} pixels (an empty canvas, or a closed ImageBitmap or VideoFrame); it must have pixels`,
    );
  }
  requireWithinLimit(width, height, maxPixels, `(${source.constructor.name})`);
  const context = scratchContext(width, height);
  context.drawImage(source, 0, 0);
  try {
    return { data: context.getImageData(0, 0, width, height).data, width, height, channels: 4 };
  } catch (error) {
    if ((error as Error).name === 'SecurityError') {
      throw new Error(
        'cannot read the pixels of a cross-origin image: serve it with CORS headers and set ' +
          "img.crossOrigin = 'anonymous' before loading it",
        { cause: error },
      );
    }
    throw error;
  }
}

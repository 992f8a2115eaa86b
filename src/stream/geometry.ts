/**
 * Geometry for video overlays: where a box found in a video frame lands on the page.
 *
 * A frame of `sourceWidth × sourceHeight` pixels is shown in an element whose content box is
 * `elementWidth × elementHeight` CSS pixels, scaled by CSS `object-fit` (see: CSS Images 3,
 * §5.5 "object-fit") and placed by `object-position`; a selfie view mirrors the element
 * (`transform: scaleX(-1)`); a canvas overlay has `devicePixelRatio` device pixels per CSS pixel.
 * Boxes are (xmin, ymin, xmax, ymax) everywhere: normalised [0, 1] from the detector, source
 * pixels, CSS pixels of the element's content box, or device pixels of an overlay canvas.
 */

export type Box = [xmin: number, ymin: number, xmax: number, ymax: number];

/** `object-fit` values: 'none' shows the frame at its own size (1 source pixel = 1 CSS pixel). */
export type ObjectFit = 'contain' | 'cover' | 'fill' | 'none' | 'scale-down';
const FITS: readonly ObjectFit[] = ['contain', 'cover', 'fill', 'none', 'scale-down'];

export interface DisplayGeometry {
  /** The frame's size in pixels (`video.videoWidth`, `videoHeight`). */
  sourceWidth: number;
  sourceHeight: number;
  /** The element's content box in CSS pixels (`clientWidth` minus padding). */
  elementWidth: number;
  elementHeight: number;
  /** CSS `object-fit`; default 'contain' (a `<video>`'s own default). */
  objectFit?: ObjectFit;
  /** CSS `object-position` as fractions of the free space, x then y; default [0.5, 0.5] (centred). */
  objectPosition?: readonly [number, number];
  /** The element is mirrored horizontally (front camera selfie view); default false. */
  mirrored?: boolean;
  /** Device pixels per CSS pixel, for `toDevice`; default 1. */
  devicePixelRatio?: number;
}

/** An axis-aligned map x' = offsetX + scaleX·x, y' = offsetY + scaleY·y. */
export interface FitTransform {
  scaleX: number;
  scaleY: number;
  offsetX: number;
  offsetY: number;
}

function positive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value < Infinity)) {
    throw new RangeError(`${name} is ${String(value)}; it must be a positive finite number`);
  }
  return value;
}

/**
 * How a `sourceWidth × sourceHeight` picture is scaled and placed into a `width × height` box
 * by `fit` at `position` (fractions of the free space; negative free space for 'cover').
 */
export function fitTransform(
  sourceWidth: number,
  sourceHeight: number,
  width: number,
  height: number,
  fit: ObjectFit = 'contain',
  position: readonly [number, number] = [0.5, 0.5],
): FitTransform {
  const sw = positive('sourceWidth', sourceWidth),
    sh = positive('sourceHeight', sourceHeight);
  const w = positive('elementWidth', width),
    h = positive('elementHeight', height);
  if (!FITS.includes(fit))
    throw new RangeError(`objectFit is '${String(fit)}'; it must be one of ${FITS.map((f) => `'${f}'`).join(', ')}`);
  if (
    !Array.isArray(position) ||
    position.length !== 2 ||
    !position.every((p) => typeof p === 'number' && Number.isFinite(p))
  ) {
    throw new RangeError(
      `objectPosition is ${JSON.stringify(position)}; it must be [x, y] as finite fractions (0.5 = centred)`,
    );
  }
  let scaleX: number, scaleY: number;
  if (fit === 'fill') {
    scaleX = w / sw;
    scaleY = h / sh;
  } else {
    const contain = Math.min(w / sw, h / sh);
    const s =
      fit === 'contain'
        ? contain
        : fit === 'cover'
          ? Math.max(w / sw, h / sh)
          : fit === 'none'
            ? 1
            : Math.min(1, contain); // scale-down: the smaller of none and contain
    scaleX = scaleY = s;
  }
  // + 0 turns −0 (negative free space × position 0) into 0
  return { scaleX, scaleY, offsetX: (w - sw * scaleX) * position[0] + 0, offsetY: (h - sh * scaleY) * position[1] + 0 };
}

function checkBox(box: readonly number[], what: string): void {
  if (!Array.isArray(box) && !ArrayBuffer.isView(box)) throw new TypeError(`${what} must be [xmin, ymin, xmax, ymax]`);
  if (box.length !== 4 || !Array.from(box).every(Number.isFinite)) {
    throw new RangeError(
      `${what} is [${Array.from(box).join(', ')}]; it must be 4 finite numbers (xmin, ymin, xmax, ymax)`,
    );
  }
}

function apply(t: FitTransform, box: readonly number[]): Box {
  return [
    t.offsetX + t.scaleX * box[0],
    t.offsetY + t.scaleY * box[1],
    t.offsetX + t.scaleX * box[2],
    t.offsetY + t.scaleY * box[3],
  ];
}

/** A normalised box (what detectors return) in source pixels. */
export function normalizedToSource(box: readonly number[], sourceWidth: number, sourceHeight: number): Box {
  checkBox(box, 'box');
  const w = positive('sourceWidth', sourceWidth),
    h = positive('sourceHeight', sourceHeight);
  return [box[0] * w, box[1] * h, box[2] * w, box[3] * h];
}

export interface BoxMapper {
  /** The fit of the frame in the element (before mirroring). */
  readonly transform: FitTransform;
  /** Source pixels → CSS pixels of the element's content box (mirrored when the element is). */
  toCss(box: readonly number[], options?: { clip?: boolean }): Box;
  /** Source pixels → device pixels of an overlay canvas the element's size × devicePixelRatio. */
  toDevice(box: readonly number[], options?: { clip?: boolean }): Box;
  /** Normalised [0, 1] → CSS pixels. */
  normalizedToCss(box: readonly number[], options?: { clip?: boolean }): Box;
  /** A point in CSS pixels (a click) → source pixels; undefined outside the shown frame. */
  cssPointToSource(x: number, y: number): [number, number] | undefined;
}

/**
 * Maps boxes from a video frame to the element showing it. `clip` (default false) cuts boxes
 * to the element (with 'cover', parts of the frame lie outside it).
 */
export function createBoxMapper(geometry: DisplayGeometry): BoxMapper {
  if (geometry === null || typeof geometry !== 'object')
    throw new TypeError('geometry must be an object { sourceWidth, sourceHeight, elementWidth, elementHeight, ... }');
  const {
    sourceWidth,
    sourceHeight,
    elementWidth: w,
    elementHeight: h,
    mirrored = false,
    devicePixelRatio = 1,
  } = geometry;
  const transform = fitTransform(sourceWidth, sourceHeight, w, h, geometry.objectFit, geometry.objectPosition);
  if (typeof mirrored !== 'boolean') throw new TypeError(`mirrored must be a boolean, got ${typeof mirrored}`);
  const dpr = positive('devicePixelRatio', devicePixelRatio);
  const toCss = (box: readonly number[], options: { clip?: boolean } = {}): Box => {
    checkBox(box, 'box');
    let out = apply(transform, box);
    if (mirrored) out = [w - out[2], out[1], w - out[0], out[3]];
    if (options.clip) {
      out = [
        Math.min(Math.max(out[0], 0), w),
        Math.min(Math.max(out[1], 0), h),
        Math.min(Math.max(out[2], 0), w),
        Math.min(Math.max(out[3], 0), h),
      ];
    }
    return out;
  };
  return {
    transform,
    toCss,
    toDevice: (box, options) => toCss(box, options).map((v) => v * dpr) as Box,
    normalizedToCss: (box, options) => toCss(normalizedToSource(box, sourceWidth, sourceHeight), options),
    cssPointToSource(x: number, y: number) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) throw new RangeError(`point (${x}, ${y}) must be finite`);
      const cx = mirrored ? w - x : x;
      const sx = (cx - transform.offsetX) / transform.scaleX,
        sy = (y - transform.offsetY) / transform.scaleY;
      if (x < 0 || y < 0 || x > w || y > h || sx < 0 || sy < 0 || sx > sourceWidth || sy > sourceHeight)
        return undefined;
      return [sx, sy];
    },
  };
}

/**
 * Letterboxing for models trained on padded inputs: the frame scaled to fit `inputWidth ×
 * inputHeight` keeping its aspect ratio, centred, padding around. `toSource` maps a box
 * normalised to the model input back to source pixels.
 */
export function letterbox(
  sourceWidth: number,
  sourceHeight: number,
  inputWidth: number,
  inputHeight: number,
): FitTransform & {
  toSource(box: readonly number[]): Box;
} {
  const t = fitTransform(sourceWidth, sourceHeight, inputWidth, inputHeight, 'contain');
  return {
    ...t,
    toSource(box: readonly number[]): Box {
      checkBox(box, 'box');
      const x = (v: number) => (v * inputWidth - t.offsetX) / t.scaleX,
        y = (v: number) => (v * inputHeight - t.offsetY) / t.scaleY;
      return [x(box[0]), y(box[1]), x(box[2]), y(box[3])];
    },
  };
}

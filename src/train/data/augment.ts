/**
 * The SSD training augmentation, as ssd.pytorch's SSDAugmentation applies it (utils/augmentations.py):
 *
 *   PhotometricDistort ─► Expand (zoom out) ─► RandomSampleCrop (min-IoU crop) ─► mirror ─► resize
 *
 * - Photometric (each step with p = 0.5, drawn in this order): brightness + U(−32, 32); then either
 *   contrast ×U(0.5, 1.5) first or last around the HSV steps, saturation ×U(0.5, 1.5) and hue
 *   + U(−18°, 18°) in HSV; then a random channel permutation (RandomLightingNoise). Values are
 *   kept in 0–255 (clamped, as the result is stored as 8-bit pixels).
 * - Expand with p = 0.5: the image placed at a random spot of a canvas `ratio` ∈ U(1, 4) times its
 *   size, filled with the dataset mean (so the filled area is 0 after the mean subtraction).
 * - Crop: a mode drawn from {keep the image, min IoU 0.1, 0.3, 0.7, 0.9, any}; up to 50 trials of a
 *   patch with sides U(0.3, 1) of the image's and aspect in [0.5, 2]; accepted when some box's
 *   IoU with the patch reaches the mode's minimum and at least one box's centre lies inside (a
 *   mode with no fitting patch is replaced by a new draw); the boxes whose centres lie inside are
 *   kept, clipped to the patch. "Some box" is the original Caffe SSD's rule
 *   (SatisfySampleConstraint: any ground truth meeting min_jaccard_overlap); ssd.pytorch's test
 *   `overlap.min() < min_iou and max_iou < overlap.max()` never rejects, as its max_iou is ∞.
 * - Mirror with p = `flip`: x → width − x.
 *
 * Expand, crop and mirror are one affine map from the output back to the source, so the output
 * is sampled once (bilinear, half-pixel centres; the mean outside the source) at the network size,
 * never materialising the up-to-4× canvas.
 * see: ssd.pytorch utils/augmentations.py; arXiv:1512.02325 §2.2 "Data augmentation", §3.6
 */
import type { RawImage } from '../../runtime/types.js';

export interface AugmentOptions {
  /** Output size in pixels (the network input, square). */
  size: number;
  /** Fill of the expanded canvas, RGB 0–255 (the dataset mean). */
  mean: readonly [number, number, number];
  /** Mirror probability. Default 0.5. */
  flip?: number;
  /** Probability of the zoom-out. Default 0.5. */
  expand?: number;
  /** Largest zoom-out ratio. Default 4. */
  maxExpand?: number;
  /** Apply the photometric distortion. Default true. */
  photometric?: boolean;
}

export interface Augmented {
  /** `size × size` RGB pixels. */
  image: RawImage & { channels: 3 };
  /** Kept boxes, normalised xyxy in the output. */
  boxes: Float32Array;
  labels: Int32Array;
}

/** see: ssd.pytorch RandomSampleCrop.sample_options; `null` keeps the image, −∞ takes any patch. */
const CROP_MIN_IOU = [null, 0.1, 0.3, 0.7, 0.9, -Infinity] as const;
const CROP_TRIALS = 50;
const MIN_PATCH_SIDE = 0.3;

/** Reads `image` as RGB floats (grey repeated, alpha dropped). */
function toRgbFloats(image: RawImage): Float32Array {
  const { width, height, data } = image;
  const channels = image.channels ?? data.length / (width * height);
  const out = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) out[3 * p + c] = data[p * channels + (channels === 1 ? 0 : c)];
  }
  return out;
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** In place, RGB 0–255 ↔ H in degrees [0, 360), S, V in 0–255 units (V = max). */
function rgbToHsv(px: Float32Array): void {
  for (let i = 0; i < px.length; i += 3) {
    const r = px[i],
      g = px[i + 1],
      b = px[i + 2];
    const max = Math.max(r, g, b),
      min = Math.min(r, g, b),
      d = max - min;
    let h = 0;
    if (d > 0) h = max === r ? 60 * (((g - b) / d) % 6) : max === g ? 60 * ((b - r) / d + 2) : 60 * ((r - g) / d + 4);
    px[i] = h < 0 ? h + 360 : h;
    px[i + 1] = max > 0 ? d / max : 0;
    px[i + 2] = max;
  }
}

function hsvToRgb(px: Float32Array): void {
  for (let i = 0; i < px.length; i += 3) {
    const h = ((px[i] % 360) + 360) % 360,
      s = Math.min(1, Math.max(0, px[i + 1])),
      v = px[i + 2];
    const c = v * s,
      x = c * (1 - Math.abs(((h / 60) % 2) - 1)),
      m = v - c;
    const sector = Math.floor(h / 60);
    const [r, g, b] =
      sector === 0
        ? [c, x, 0]
        : sector === 1
          ? [x, c, 0]
          : sector === 2
            ? [0, c, x]
            : sector === 3
              ? [0, x, c]
              : sector === 4
                ? [x, 0, c]
                : [c, 0, x];
    px[i] = r + m;
    px[i + 1] = g + m;
    px[i + 2] = b + m;
  }
}

/** see: ssd.pytorch PhotometricDistort (RandomBrightness, RandomContrast, ConvertColor, RandomSaturation, RandomHue, RandomLightingNoise). */
export function photometricDistort(px: Float32Array, random: () => number): void {
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * random();
  const scaleAll = (k: number) => {
    for (let i = 0; i < px.length; i++) px[i] = clamp255(px[i] * k);
  };
  if (random() < 0.5) {
    const delta = uniform(-32, 32);
    for (let i = 0; i < px.length; i++) px[i] = clamp255(px[i] + delta);
  }
  const contrastFirst = random() < 0.5;
  const contrast = () => {
    if (random() < 0.5) scaleAll(uniform(0.5, 1.5));
  };
  if (contrastFirst) contrast();
  const saturation = random() < 0.5 ? uniform(0.5, 1.5) : 1;
  const hue = random() < 0.5 ? uniform(-18, 18) : 0;
  if (saturation !== 1 || hue !== 0) {
    rgbToHsv(px);
    for (let i = 0; i < px.length; i += 3) {
      px[i] += hue;
      px[i + 1] *= saturation;
    }
    hsvToRgb(px);
  }
  if (!contrastFirst) contrast();
  if (random() < 0.5) {
    const perm = [0, 1, 2];
    for (let i = 2; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const copy = px.slice();
    for (let i = 0; i < px.length; i += 3) for (let c = 0; c < 3; c++) px[i + c] = copy[i + perm[c]];
  }
}

/** IoU of an xyxy rectangle with each box (xyxy, same units). */
function iouWith(rect: readonly number[], boxes: Float32Array, k: number): number {
  const ix = Math.max(0, Math.min(rect[2], boxes[4 * k + 2]) - Math.max(rect[0], boxes[4 * k]));
  const iy = Math.max(0, Math.min(rect[3], boxes[4 * k + 3]) - Math.max(rect[1], boxes[4 * k + 1]));
  const inter = ix * iy;
  const areaRect = (rect[2] - rect[0]) * (rect[3] - rect[1]);
  const areaBox = (boxes[4 * k + 2] - boxes[4 * k]) * (boxes[4 * k + 3] - boxes[4 * k + 1]);
  return inter / (areaRect + areaBox - inter);
}

/**
 * The min-IoU crop (see the module comment) on boxes in canvas units (a `width × height` canvas). Returns the patch
 * (xyxy) and the indices of the kept boxes, or null to keep the whole canvas.
 */
export function sampleCrop(
  boxes: Float32Array,
  width: number,
  height: number,
  random: () => number,
): { patch: [number, number, number, number]; keep: number[] } | null {
  const count = boxes.length / 4;
  for (;;) {
    const minIou = CROP_MIN_IOU[Math.floor(random() * CROP_MIN_IOU.length)];
    if (minIou === null || count === 0) return null;
    for (let trial = 0; trial < CROP_TRIALS; trial++) {
      const w = (MIN_PATCH_SIDE + (1 - MIN_PATCH_SIDE) * random()) * width;
      const h = (MIN_PATCH_SIDE + (1 - MIN_PATCH_SIDE) * random()) * height;
      if (h / w < 0.5 || h / w > 2) continue;
      const left = random() * (width - w),
        top = random() * (height - h);
      const patch: [number, number, number, number] = [left, top, left + w, top + h];
      let largest = -Infinity;
      for (let k = 0; k < count; k++) largest = Math.max(largest, iouWith(patch, boxes, k));
      if (largest < minIou) continue;
      const keep: number[] = [];
      for (let k = 0; k < count; k++) {
        const cx = (boxes[4 * k] + boxes[4 * k + 2]) / 2,
          cy = (boxes[4 * k + 1] + boxes[4 * k + 3]) / 2;
        if (cx > patch[0] && cx < patch[2] && cy > patch[1] && cy < patch[3]) keep.push(k);
      }
      if (keep.length > 0) return { patch, keep };
    }
    // No trial fitted this mode: draw another, as ssd.pytorch does.
  }
}

/**
 * Augments one training image and its boxes (normalised xyxy) with `random` (uniform in [0, 1)),
 * returning a `size × size` RGB image and the boxes that remain, in the output's normalised
 * coordinates. The same `random` stream gives the same result.
 */
export function augmentSsd(
  image: RawImage,
  boxes: Float32Array,
  labels: Int32Array,
  random: () => number,
  options: AugmentOptions,
): Augmented {
  const { size, mean, flip = 0.5, expand = 0.5, maxExpand = 4, photometric = true } = options;
  const { width, height } = image;
  const px = toRgbFloats(image);
  if (photometric) photometricDistort(px, random);

  // Expand: the source occupies [ox, ox + width) × [oy, oy + height) of a canvas of cw × ch.
  let cw = width,
    ch = height,
    ox = 0,
    oy = 0;
  if (random() < expand) {
    const ratio = 1 + (maxExpand - 1) * random();
    cw = width * ratio;
    ch = height * ratio;
    ox = (cw - width) * random();
    oy = (ch - height) * random();
  }
  const canvasBoxes = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    canvasBoxes[i] = ox + boxes[i] * width;
    canvasBoxes[i + 1] = oy + boxes[i + 1] * height;
    canvasBoxes[i + 2] = ox + boxes[i + 2] * width;
    canvasBoxes[i + 3] = oy + boxes[i + 3] * height;
  }
  const crop = sampleCrop(canvasBoxes, cw, ch, random);
  const [px0, py0, px1, py1] = crop ? crop.patch : [0, 0, cw, ch];
  const keep = crop ? crop.keep : Array.from({ length: boxes.length / 4 }, (_, k) => k);
  const mirrored = random() < flip;

  const pw = px1 - px0,
    ph = py1 - py0;
  const outBoxes = new Float32Array(keep.length * 4);
  keep.forEach((k, j) => {
    let x0 = (Math.max(canvasBoxes[4 * k], px0) - px0) / pw,
      x1 = (Math.min(canvasBoxes[4 * k + 2], px1) - px0) / pw;
    const y0 = (Math.max(canvasBoxes[4 * k + 1], py0) - py0) / ph,
      y1 = (Math.min(canvasBoxes[4 * k + 3], py1) - py0) / ph;
    if (mirrored) [x0, x1] = [1 - x1, 1 - x0];
    outBoxes.set([x0, y0, x1, y1], 4 * j);
  });

  // Output pixel (u, v) centre → canvas point → source pixel coordinates (half-pixel centres).
  const out = new Uint8Array(size * size * 3);
  const sx = pw / size,
    sy = ph / size;
  for (let v = 0; v < size; v++) {
    const y = py0 + (v + 0.5) * sy - oy - 0.5;
    for (let u = 0; u < size; u++) {
      const uu = mirrored ? size - 1 - u : u;
      const x = px0 + (uu + 0.5) * sx - ox - 0.5;
      const o = 3 * (v * size + u);
      if (x < -0.5 || y < -0.5 || x > width - 0.5 || y > height - 0.5) {
        out[o] = mean[0];
        out[o + 1] = mean[1];
        out[o + 2] = mean[2];
        continue;
      }
      const xc = Math.min(Math.max(x, 0), width - 1),
        yc = Math.min(Math.max(y, 0), height - 1);
      const x0 = Math.floor(xc),
        y0 = Math.floor(yc);
      const x1 = Math.min(x0 + 1, width - 1),
        y1 = Math.min(y0 + 1, height - 1);
      const fx = xc - x0,
        fy = yc - y0;
      for (let c = 0; c < 3; c++) {
        const top = px[3 * (y0 * width + x0) + c] * (1 - fx) + px[3 * (y0 * width + x1) + c] * fx;
        const bottom = px[3 * (y1 * width + x0) + c] * (1 - fx) + px[3 * (y1 * width + x1) + c] * fx;
        out[o + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return {
    image: { data: out, width: size, height: size, channels: 3 },
    boxes: outBoxes,
    labels: Int32Array.from(keep, (k) => labels[k]),
  };
}

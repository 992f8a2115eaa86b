/**
 * Image → network input tensor: bilinear resize, channel order, mean/std, layout. Pure
 * TypeScript (no Node or DOM), so Node and browsers produce the same tensor from the same pixels.
 *
 * Resize: bilinear with no antialiasing. With half-pixel centres (the default), as cv2.resize
 * INTER_LINEAR and PyTorch `interpolate(mode='bilinear', align_corners=False)` do: destination
 * pixel d samples the source at s = (d + 0.5) · src/dst − 0.5. With `resize: 'tf-legacy'`, as
 * TF's and tfjs's resizeBilinear with alignCorners and halfPixelCenters false: s = d · src/dst.
 * Either way s is clamped to [0, src − 1].
 */
import type { PreprocessSpec, RawImage } from './types.js';
import { rejectUnknownKeys } from '../util/strict-keys.js';

/** Every PreprocessSpec key; the `satisfies` keeps the list in step with the interface. */
const PREPROCESS_SPEC_KEYS = Object.keys({
  size: 1,
  channels: 1,
  mean: 1,
  std: 1,
  layout: 1,
  inputType: 1,
  inputQuantization: 1,
  fit: 1,
  resize: 1,
} satisfies Record<keyof PreprocessSpec, 1>);

const INPUT_QUANTIZATION_KEYS = Object.keys({
  scale: 1,
  zeroPoint: 1,
} satisfies Record<keyof NonNullable<PreprocessSpec['inputQuantization']>, 1>);

type ResizeRule = NonNullable<PreprocessSpec['resize']>;

/** Sample positions along one axis: the two source indices and the weight of the second. */
interface Axis {
  lo: Int32Array;
  hi: Int32Array;
  frac: Float64Array;
}

function sampleAxis(source: number, target: number, rule: ResizeRule): Axis {
  const lo = new Int32Array(target),
    hi = new Int32Array(target),
    frac = new Float64Array(target);
  const scale = source / target;
  const offset = rule === 'tf-legacy' ? 0 : 0.5; // tfjs ResizeBilinear: halfPixelCenters ? (d + 0.5)·scale − 0.5 : d·scale
  for (let d = 0; d < target; d++) {
    const s = Math.min(Math.max((d + offset) * scale - offset, 0), source - 1); // clamped to the image
    const i = Math.floor(s);
    lo[d] = i;
    hi[d] = Math.min(i + 1, source - 1);
    frac[d] = s - i;
  }
  return { lo, hi, frac };
}

/** Interpolates between four source values: top-left, top-right, bottom-left, bottom-right. */
function bilinear(
  data: ArrayLike<number>,
  tl: number,
  tr: number,
  bl: number,
  br: number,
  fx: number,
  fy: number,
): number {
  const upper = data[tl] + (data[tr] - data[tl]) * fx;
  const lower = data[bl] + (data[br] - data[bl]) * fx;
  return upper + (lower - upper) * fy;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

/** Channels per pixel of `image`: given, or implied by its length. Throws on inconsistent input. */
export function imageChannels(image: RawImage): 1 | 3 | 4 {
  if (image === null || typeof image !== 'object') {
    throw new TypeError(
      `image must be { data, width, height, channels? }, got ${image === null ? 'null' : typeof image}`,
    );
  }
  const { data, width, height, channels } = image;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new TypeError('image.data must be a Uint8Array or Uint8ClampedArray of 8-bit channel values');
  }
  if (!isPositiveInteger(width) || !isPositiveInteger(height)) {
    throw new RangeError(`image is ${String(width)} × ${String(height)} pixels; width and height must be integers ≥ 1`);
  }
  const perPixel = channels ?? data.length / (width * height);
  if (perPixel !== 1 && perPixel !== 3 && perPixel !== 4) {
    throw new RangeError(
      `image has ${channels === undefined ? `${data.length} values for ${width} × ${height} pixels, ` : ''}` +
        `${perPixel} channels per pixel; expected 1 (grey), 3 (RGB) or 4 (RGBA)`,
    );
  }
  if (data.length !== width * height * perPixel) {
    throw new RangeError(
      `image.data has ${data.length} values; ${width} × ${height} pixels × ${perPixel} channels ` +
        `needs ${width * height * perPixel}`,
    );
  }
  return perPixel;
}

function requireTriple(name: string, value: unknown, check: (v: number) => boolean, rule: string): void {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === 'number' && check(v))) {
    throw new RangeError(`preprocess.${name} is ${JSON.stringify(value)}; it must be three ${rule}, one per channel`);
  }
}

/** Checks a PreprocessSpec (from options or a model's metadata); returns it unchanged. */
export function validatePreprocessSpec(spec: PreprocessSpec): PreprocessSpec {
  if (spec === null || typeof spec !== 'object') {
    throw new TypeError(
      `preprocess must be a PreprocessSpec { size, channels, mean, std, layout }, got ${String(spec)}`,
    );
  }
  rejectUnknownKeys(spec, PREPROCESS_SPEC_KEYS, 'preprocess');
  const { size, channels, mean, std, layout } = spec;
  if (!Array.isArray(size) || size.length !== 2 || !size.every(isPositiveInteger)) {
    throw new RangeError(`preprocess.size is ${JSON.stringify(size)}; it must be [width, height], two integers ≥ 1`);
  }
  if (channels !== 'rgb' && channels !== 'bgr') {
    throw new RangeError(`preprocess.channels is ${JSON.stringify(channels)}; it must be 'rgb' or 'bgr'`);
  }
  requireTriple('mean', mean, Number.isFinite, 'finite numbers');
  requireTriple('std', std, (v) => v > 0 && v < Infinity, 'finite numbers > 0');
  if (layout !== 'nchw' && layout !== 'nhwc') {
    throw new RangeError(`preprocess.layout is ${JSON.stringify(layout)}; it must be 'nchw' or 'nhwc'`);
  }
  const { inputType = 'float32' } = spec;
  if (inputType !== 'float32' && inputType !== 'uint8') {
    throw new RangeError(`preprocess.inputType is ${JSON.stringify(inputType)}; it must be 'float32' or 'uint8'`);
  }
  if (inputType === 'uint8' && (mean.some((m) => m !== 0) || std.some((s) => s !== 1))) {
    throw new RangeError(
      `preprocess.inputType 'uint8' feeds raw 0–255 pixels: mean must be [0, 0, 0] and std [1, 1, 1], got ${JSON.stringify(mean)} and ${JSON.stringify(std)}`,
    );
  }
  if (spec.inputQuantization !== undefined) validateInputQuantization(spec.inputQuantization);
  if (spec.fit !== undefined && spec.fit !== 'stretch' && spec.fit !== 'letterbox' && spec.fit !== 'pad') {
    throw new RangeError(`preprocess.fit is ${JSON.stringify(spec.fit)}; it must be 'stretch', 'letterbox' or 'pad'`);
  }
  if (spec.resize !== undefined && spec.resize !== 'half-pixel' && spec.resize !== 'tf-legacy') {
    throw new RangeError(`preprocess.resize is ${JSON.stringify(spec.resize)}; it must be 'half-pixel' or 'tf-legacy'`);
  }
  return spec;
}

/** `inputQuantization`: { scale > 0, integer zeroPoint }, and no other key. */
function validateInputQuantization(value: unknown): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`preprocess.inputQuantization must be { scale, zeroPoint }, got ${JSON.stringify(value)}`);
  }
  rejectUnknownKeys(value, INPUT_QUANTIZATION_KEYS, 'preprocess.inputQuantization');
  const { scale, zeroPoint } = value as Record<string, unknown>;
  if (typeof scale !== 'number' || !(scale > 0 && scale < Infinity)) {
    throw new RangeError(`preprocess.inputQuantization.scale is ${String(scale)}; it must be a finite number > 0`);
  }
  if (!Number.isInteger(zeroPoint)) {
    throw new RangeError(`preprocess.inputQuantization.zeroPoint is ${String(zeroPoint)}; it must be an integer`);
  }
}

/**
 * A float tensor of 0–255 pixel values as the uint8 tensor a quantised model takes: rounded to
 * the nearest integer (halves to even, as TensorFlow Lite's image helpers round) and clamped.
 */
export function toUint8Tensor(tensor: Float32Array, out = new Uint8Array(tensor.length)): Uint8Array {
  for (let i = 0; i < tensor.length; i++) {
    const v = tensor[i];
    const up = Math.round(v); // halves up; step back to the even neighbour
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : up - v === 0.5 && up % 2 === 1 ? up - 1 : up;
  }
  return out;
}

/** The input tensor's dims for `batch` images: [N, 3, H, W] or [N, H, W, 3]. */
export function inputDims(spec: PreprocessSpec, batch = 1): number[] {
  const [width, height] = spec.size;
  return spec.layout === 'nchw' ? [batch, 3, height, width] : [batch, height, width, 3];
}

/**
 * Writes the network input for `image` into `out` at image slot `index` (of 3·W·H values each)
 * and returns `out`; allocates one image's tensor when `out` is omitted. Grey is replicated to
 * all three channels; alpha is ignored. The spec is assumed valid (see validatePreprocessSpec).
 */
export function preprocess(image: RawImage, spec: PreprocessSpec, out?: Float32Array, index = 0): Float32Array {
  const channels = imageChannels(image);
  const { data, width, height } = image;
  const [outWidth, outHeight] = spec.size;
  const plane = outWidth * outHeight;
  const tensor = out ?? new Float32Array(3 * plane);
  if (tensor.length < (index + 1) * 3 * plane) {
    throw new RangeError(`out has ${tensor.length} values; image ${index} needs ${(index + 1) * 3 * plane}`);
  }
  const rule = spec.resize ?? 'half-pixel';
  const xs = sampleAxis(width, outWidth, rule),
    ys = sampleAxis(height, outHeight, rule);
  // Source channel of each tensor channel: grey feeds all three; 'bgr' reads RGB backwards.
  const [c0, c1, c2] = channels === 1 ? [0, 0, 0] : spec.channels === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const [m0, m1, m2] = spec.mean,
    [s0, s1, s2] = spec.std;
  // Tensor offsets: channel k of pixel p sits at base + k·channelStride + p·pixelStride.
  const base = index * 3 * plane;
  const channelStride = spec.layout === 'nchw' ? plane : 1;
  const pixelStride = spec.layout === 'nchw' ? 1 : 3;
  const rowStride = width * channels;
  for (let y = 0; y < outHeight; y++) {
    const top = ys.lo[y] * rowStride,
      bottom = ys.hi[y] * rowStride,
      fy = ys.frac[y];
    for (let x = 0; x < outWidth; x++) {
      const left = xs.lo[x] * channels,
        right = xs.hi[x] * channels,
        fx = xs.frac[x];
      const tl = top + left,
        tr = top + right,
        bl = bottom + left,
        br = bottom + right;
      const at = base + (y * outWidth + x) * pixelStride;
      tensor[at] = (bilinear(data, tl + c0, tr + c0, bl + c0, br + c0, fx, fy) - m0) / s0;
      tensor[at + channelStride] = (bilinear(data, tl + c1, tr + c1, bl + c1, br + c1, fx, fy) - m1) / s1;
      tensor[at + 2 * channelStride] = (bilinear(data, tl + c2, tr + c2, bl + c2, br + c2, fx, fy) - m2) / s2;
    }
  }
  return tensor;
}

/** Box coding in plain TypeScript: the reference for assembly/coder.ts. */
import type { Coding } from '../config.js';
import { expf, f32 } from './f32.js';

export type { Coding };

/** ln(1000 / 16): scaled log-size offsets are clamped to this before exp (torchvision). */
export const MAX_LOG_SCALE = f32(Math.log(1000 / 16));

export type Box = [xmin: number, ymin: number, xmax: number, ymax: number];

/** Decodes the offsets loc[at..at+4) against the prior (cx, cy, w, h) at priors[4p..]. */
export function decodeBox(
  loc: ArrayLike<number>,
  at: number,
  priors: Float32Array,
  p: number,
  coding: Coding,
  clip: boolean,
): Box {
  let [tx, ty, tw, th] = [loc[at], loc[at + 1], loc[at + 2], loc[at + 3]];
  if (coding.order === 'yxhw') [tx, ty, tw, th] = [ty, tx, th, tw];
  const [sx, sy, sw, sh] = coding.scales;
  const [pcx, pcy, pw, ph] = [priors[4 * p], priors[4 * p + 1], priors[4 * p + 2], priors[4 * p + 3]];
  // SSD paper eq. 2, inverted
  const cx = f32(pcx + f32(f32(tx * sx) * pw));
  const cy = f32(pcy + f32(f32(ty * sy) * ph));
  const w = f32(pw * expf(Math.min(f32(tw * sw), MAX_LOG_SCALE)));
  const h = f32(ph * expf(Math.min(f32(th * sh), MAX_LOG_SCALE)));
  const box: Box = [f32(cx - f32(0.5 * w)), f32(cy - f32(0.5 * h)), f32(cx + f32(0.5 * w)), f32(cy + f32(0.5 * h))];
  return clip ? (box.map((v) => Math.min(Math.max(v, 0), 1)) as Box) : box;
}

/** Area of a corner box, zero when degenerate. */
export function boxArea(b: Box): number {
  return f32(Math.max(f32(b[2] - b[0]), 0) * Math.max(f32(b[3] - b[1]), 0));
}

/** inter / (areaA + areaB − inter), no +1; NaN for two zero-area boxes. */
export function iou(a: Box, b: Box): number {
  const iw = Math.max(f32(Math.min(a[2], b[2]) - Math.max(a[0], b[0])), 0);
  const ih = Math.max(f32(Math.min(a[3], b[3]) - Math.max(a[1], b[1])), 0);
  const inter = f32(iw * ih);
  return f32(inter / f32(f32(boxArea(a) + boxArea(b)) - inter));
}

/** Encodes a corner box against prior p: the inverse of decodeBox, in f64. */
export function encodeBox(box: Box, priors: Float32Array, p: number, coding: Coding): number[] {
  const [pcx, pcy, pw, ph] = [priors[4 * p], priors[4 * p + 1], priors[4 * p + 2], priors[4 * p + 3]];
  const [sx, sy, sw, sh] = coding.scales;
  const eps = 1e-8;
  const tx = ((box[0] + box[2]) / 2 - pcx) / pw / sx;
  const ty = ((box[1] + box[3]) / 2 - pcy) / ph / sy;
  const tw = Math.log(Math.max((box[2] - box[0]) / pw, eps)) / sw;
  const th = Math.log(Math.max((box[3] - box[1]) / ph, eps)) / sh;
  return coding.order === 'yxhw' ? [ty, tx, th, tw] : [tx, ty, tw, th];
}

/**
 * Decodes as TensorFlow Lite's TFLite_Detection_PostProcess (DecodeCenterSizeBoxes): offsets
 * divided by the scale factors (not multiplied by their inverses) in double precision, exp in
 * double with no clamp, each centre and half-size rounded to f32, corners in f32.
 * `factors` are (fx, fy, fw, fh), e.g. (10, 10, 5, 5).
 */
export function decodeBoxTflite(
  loc: ArrayLike<number>,
  at: number,
  priors: Float32Array,
  p: number,
  order: Coding['order'],
  factors: readonly number[],
  clip: boolean,
): Box {
  let [tx, ty, tw, th] = [f32(loc[at]), f32(loc[at + 1]), f32(loc[at + 2]), f32(loc[at + 3])];
  if (order === 'yxhw') [tx, ty, tw, th] = [ty, tx, th, tw];
  const [fx, fy, fw, fh] = factors;
  const [xa, ya, wa, ha] = [priors[4 * p], priors[4 * p + 1], priors[4 * p + 2], priors[4 * p + 3]];
  // JavaScript numbers are doubles, as the C++ static_cast<double> arithmetic
  const ycenter = f32((ty / fy) * ha + ya);
  const xcenter = f32((tx / fx) * wa + xa);
  const halfH = f32(0.5 * Math.exp(th / fh) * ha);
  const halfW = f32(0.5 * Math.exp(tw / fw) * wa);
  const box: Box = [f32(xcenter - halfW), f32(ycenter - halfH), f32(xcenter + halfW), f32(ycenter + halfH)];
  return clip ? (box.map((v) => Math.min(Math.max(v, 0), 1)) as Box) : box;
}

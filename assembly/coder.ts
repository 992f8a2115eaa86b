// Box coding: decode (prior cxcywh + offsets → corners xyxy), encode (its inverse), IoU.
//
// Offsets are multiplied by per-component scales: ssd.pytorch variances [v0, v1] are
// scales (v0, v0, v1, v1); torchvision / TF scale factors f are scales 1/f.
// `order` says how the four offsets lie in `loc`: 0 = (x, y, w, h), 1 = (y, x, h, w) (TF).

import { expf, expf4 } from "./expf";

/** Clamp for scaled log-size offsets before exp, as torchvision's BoxCoder: ln(1000 / 16). */
export const MAX_LOG_SCALE: f32 = 4.135166556742356;
/** Smallest size ratio whose log encode takes; guards log(0) for degenerate boxes. */
export const ENCODE_EPS: f32 = 1e-8;

export const ORDER_XYWH: i32 = 0;
export const ORDER_YXHW: i32 = 1;

/**
 * Decodes one box. Reads 4 f32 offsets at `locPtr` and the prior (cx, cy, w, h) at `priorPtr`;
 * writes (xmin, ymin, xmax, ymax) at `outPtr`. SSD paper eq. 2 inverted:
 *   cx = pcx + tx·sx·pw,  w = pw·exp(min(tw·sw, MAX_LOG_SCALE)),  xmin = cx − 0.5·w.
 */
// @ts-ignore: decorator
@inline
export function decodeBox(
  locPtr: usize, priorPtr: usize, order: i32,
  sx: f32, sy: f32, sw: f32, sh: f32, clip: bool, outPtr: usize
): void {
  if (ASC_FEATURE_SIMD) {
    decodeBoxSimd(locPtr, priorPtr, order, sx, sy, sw, sh, clip, outPtr);
  } else {
    decodeBoxScalar(locPtr, priorPtr, order, sx, sy, sw, sh, clip, outPtr);
  }
}

export function decodeBoxScalar(
  locPtr: usize, priorPtr: usize, order: i32,
  sx: f32, sy: f32, sw: f32, sh: f32, clip: bool, outPtr: usize
): void {
  let tx = load<f32>(locPtr, 0), ty = load<f32>(locPtr, 4);
  let tw = load<f32>(locPtr, 8), th = load<f32>(locPtr, 12);
  if (order == ORDER_YXHW) {
    const t = tx; tx = ty; ty = t;
    const u = tw; tw = th; th = u;
  }
  const pcx = load<f32>(priorPtr, 0), pcy = load<f32>(priorPtr, 4);
  const pw = load<f32>(priorPtr, 8), ph = load<f32>(priorPtr, 12);
  const cx = pcx + tx * sx * pw;
  const cy = pcy + ty * sy * ph;
  const w = pw * expf(min<f32>(tw * sw, MAX_LOG_SCALE));
  const h = ph * expf(min<f32>(th * sh, MAX_LOG_SCALE));
  let x1 = cx - 0.5 * w, y1 = cy - 0.5 * h, x2 = cx + 0.5 * w, y2 = cy + 0.5 * h;
  if (clip) {
    x1 = min<f32>(max<f32>(x1, 0), 1); y1 = min<f32>(max<f32>(y1, 0), 1);
    x2 = min<f32>(max<f32>(x2, 0), 1); y2 = min<f32>(max<f32>(y2, 0), 1);
  }
  store<f32>(outPtr, x1, 0); store<f32>(outPtr, y1, 4);
  store<f32>(outPtr, x2, 8); store<f32>(outPtr, y2, 12);
}

/** The same operations as decodeBoxScalar, one box in one v128 (lanes x, y, w, h). */
export function decodeBoxSimd(
  locPtr: usize, priorPtr: usize, order: i32,
  sx: f32, sy: f32, sw: f32, sh: f32, clip: bool, outPtr: usize
): void {
  let t = v128.load(locPtr);
  if (order == ORDER_YXHW) t = v128.shuffle<f32>(t, t, 1, 0, 3, 2);
  const prior = v128.load(priorPtr);
  // lanes 0,1: t·s (centre offsets); lanes 2,3: t·s (log sizes)
  const scaled = f32x4.mul(t, f32x4(sx, sy, sw, sh));
  const priorSize = v128.shuffle<f32>(prior, prior, 2, 3, 2, 3);
  const centre = f32x4.add(prior, f32x4.mul(scaled, priorSize));             // lanes 0,1
  const size = f32x4.mul(priorSize, expf4(f32x4.min(scaled, f32x4.splat(MAX_LOG_SCALE)))); // lanes 2,3
  const half = f32x4.mul(f32x4.splat(0.5), v128.shuffle<f32>(size, size, 2, 3, 2, 3));
  const c2 = v128.shuffle<f32>(centre, centre, 0, 1, 0, 1);
  let corners = v128.shuffle<f32>(f32x4.sub(c2, half), f32x4.add(c2, half), 0, 1, 6, 7);
  if (clip) corners = f32x4.min(f32x4.max(corners, f32x4.splat(0)), f32x4.splat(1));
  v128.store(outPtr, corners);
}

/**
 * Encodes the box (xmin, ymin, xmax, ymax) at `boxPtr` against the prior at `priorPtr`;
 * writes 4 offsets in `order` at `outPtr`. Exact inverse of decodeBox (up to rounding).
 */
export function encodeBox(
  boxPtr: usize, priorPtr: usize, order: i32,
  sx: f32, sy: f32, sw: f32, sh: f32, outPtr: usize
): void {
  const x1 = load<f32>(boxPtr, 0), y1 = load<f32>(boxPtr, 4);
  const x2 = load<f32>(boxPtr, 8), y2 = load<f32>(boxPtr, 12);
  const pcx = load<f32>(priorPtr, 0), pcy = load<f32>(priorPtr, 4);
  const pw = load<f32>(priorPtr, 8), ph = load<f32>(priorPtr, 12);
  const gcx = (x1 + x2) * 0.5, gcy = (y1 + y2) * 0.5;
  const gw = x2 - x1, gh = y2 - y1;
  const tx = (gcx - pcx) / pw / sx;
  const ty = (gcy - pcy) / ph / sy;
  const tw = Mathf.log(max<f32>(gw / pw, ENCODE_EPS)) / sw;
  const th = Mathf.log(max<f32>(gh / ph, ENCODE_EPS)) / sh;
  if (order == ORDER_YXHW) {
    store<f32>(outPtr, ty, 0); store<f32>(outPtr, tx, 4);
    store<f32>(outPtr, th, 8); store<f32>(outPtr, tw, 12);
  } else {
    store<f32>(outPtr, tx, 0); store<f32>(outPtr, ty, 4);
    store<f32>(outPtr, tw, 8); store<f32>(outPtr, th, 12);
  }
}

/** Area of a corner box; zero (not negative) when the box is degenerate. */
// @ts-ignore: decorator
@inline
export function boxArea(x1: f32, y1: f32, x2: f32, y2: f32): f32 {
  return max<f32>(x2 - x1, 0) * max<f32>(y2 - y1, 0);
}

/**
 * IoU = inter / ((areaA + areaB) − inter), no +1. Zero when the boxes do not overlap;
 * 0/0 = NaN for two zero-area boxes, which compares false against any threshold, so a
 * zero-area box never suppresses another.
 */
// @ts-ignore: decorator
@inline
export function iou(
  ax1: f32, ay1: f32, ax2: f32, ay2: f32, areaA: f32,
  bx1: f32, by1: f32, bx2: f32, by2: f32, areaB: f32
): f32 {
  const iw = max<f32>(min<f32>(ax2, bx2) - max<f32>(ax1, bx1), 0);
  const ih = max<f32>(min<f32>(ay2, by2) - max<f32>(ay1, by1), 0);
  const inter = iw * ih;
  return inter / (areaA + areaB - inter);
}

/**
 * Decodes one box as TensorFlow Lite's `TFLite_Detection_PostProcess` does: offsets divided
 * by the scale factors and the exponential taken in f64, each centre and half-size rounded to
 * f32, no clamp before exp. `fx, fy, fw, fh` are the factors themselves (10, 10, 5, 5), not
 * their inverses; `order` says how the offsets lie in `loc` (TF: 1 = y, x, h, w). The prior
 * is (cx, cy, w, h) like every prior here; writes (xmin, ymin, xmax, ymax) at `outPtr`.
 * see: tensorflow/lite/kernels/detection_postprocess.cc, DecodeCenterSizeBoxes:
 *   ycenter = float(y / y_scale · anchor.h + anchor.y)   (double arithmetic)
 *   half_h  = float(0.5 · exp(h / h_scale) · anchor.h);  ymin = ycenter − half_h (float)
 * The same f64 operations in both builds (decode runs only for candidates, so no SIMD twin).
 */
export function decodeBoxTflite(
  locPtr: usize, priorPtr: usize, order: i32,
  fx: f32, fy: f32, fw: f32, fh: f32, clip: bool, outPtr: usize
): void {
  let tx = load<f32>(locPtr, 0), ty = load<f32>(locPtr, 4);
  let tw = load<f32>(locPtr, 8), th = load<f32>(locPtr, 12);
  if (order == ORDER_YXHW) {
    const t = tx; tx = ty; ty = t;
    const u = tw; tw = th; th = u;
  }
  const pcx = load<f32>(priorPtr, 0), pcy = load<f32>(priorPtr, 4);
  const pw = load<f32>(priorPtr, 8), ph = load<f32>(priorPtr, 12);
  const ycenter = <f32>(<f64>ty / <f64>fy * <f64>ph + <f64>pcy);
  const xcenter = <f32>(<f64>tx / <f64>fx * <f64>pw + <f64>pcx);
  const halfH = <f32>(0.5 * Math.exp(<f64>th / <f64>fh) * <f64>ph);
  const halfW = <f32>(0.5 * Math.exp(<f64>tw / <f64>fw) * <f64>pw);
  let x1 = xcenter - halfW, y1 = ycenter - halfH, x2 = xcenter + halfW, y2 = ycenter + halfH;
  if (clip) {
    x1 = min<f32>(max<f32>(x1, 0), 1); y1 = min<f32>(max<f32>(y1, 0), 1);
    x2 = min<f32>(max<f32>(x2, 0), 1); y2 = min<f32>(max<f32>(y2, 0), 1);
  }
  store<f32>(outPtr, x1, 0); store<f32>(outPtr, y1, 4);
  store<f32>(outPtr, x2, 8); store<f32>(outPtr, y2, 12);
}

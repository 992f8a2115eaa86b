// Image → network input tensor: bilinear resize (no antialiasing), channel order, mean/std, NCHW
// or NHWC. Two sampling rules: half-pixel centres (cv2 INTER_LINEAR, PyTorch align_corners=False)
// or, with `tfLegacy`, TF's legacy rule (tf.image.resize_bilinear / tfjs resizeBilinear with
// alignCorners and halfPixelCenters false: corners aligned, no half-pixel offset).
// src/runtime/preprocess.ts is the plain-TypeScript twin (in f64); this one computes in f32.
//
// Memory contract: `srcPtr` holds height × width × channels u8 values plus 4 readable bytes of
// padding (the SIMD path loads 4 bytes per 3-channel pixel); `tablesPtr` has room for
// 3·(outW + outH) words; `outPtr` receives 3·outW·outH f32.

// @ts-ignore: decorator
@inline
function sampleAxis(source: i32, target: i32, stride: i32, tfLegacy: bool, loPtr: usize, hiPtr: usize, fracPtr: usize): void {
  const scale = <f64>source / <f64>target;
  // see: tfjs-backend-cpu ResizeBilinear: halfPixelCenters ? (d + 0.5)·scale − 0.5 : d·scale
  const offset: f64 = tfLegacy ? 0 : 0.5;
  for (let d = 0; d < target; d++) {
    const s = min<f64>(max<f64>((<f64>d + offset) * scale - offset, 0), <f64>(source - 1));
    const i = <i32>Math.floor(s);
    store<i32>(loPtr + (<usize>d << 2), i * stride);
    store<i32>(hiPtr + (<usize>d << 2), min<i32>(i + 1, source - 1) * stride);
    store<f32>(fracPtr + (<usize>d << 2), <f32>(s - <f64>i));
  }
}

/**
 * Writes the network input for one image. `channels` is 1 (grey, replicated), 3 (RGB) or 4
 * (RGBA, alpha ignored); `bgr` reverses the channel order; mean and 1/std are per tensor
 * channel; `nchw` selects the layout (else NHWC); `tfLegacy` selects TF's legacy sampling rule
 * (else half-pixel centres).
 */
export function resizeToTensor(
  srcPtr: usize, width: i32, height: i32, channels: i32,
  outPtr: usize, outW: i32, outH: i32, nchw: bool, bgr: bool, tfLegacy: bool,
  m0: f32, m1: f32, m2: f32, inv0: f32, inv1: f32, inv2: f32, tablesPtr: usize
): void {
  resize(srcPtr, width, height, channels, outPtr, outW, outH, nchw, bgr, tfLegacy, m0, m1, m2, inv0, inv1, inv2, tablesPtr, false);
}

/**
 * The uint8 tensor of a quantised model (mean 0, std 1): the same f32 values as resizeToTensor,
 * rounded to the nearest integer with halves to even and clamped to [0, 255] — bit for bit what
 * rounding resizeToTensor's output on the host gives (src/runtime/preprocess.ts toUint8Tensor).
 * `outPtr` receives 3·outW·outH bytes.
 */
export function resizeToU8(
  srcPtr: usize, width: i32, height: i32, channels: i32,
  outPtr: usize, outW: i32, outH: i32, nchw: bool, bgr: bool, tfLegacy: bool, tablesPtr: usize
): void {
  resize(srcPtr, width, height, channels, outPtr, outW, outH, nchw, bgr, tfLegacy, 0, 0, 0, 1, 1, 1, tablesPtr, true);
}

/** round half to even, then clamp to [0, 255] (a NaN cannot occur: inputs are u8 blends) */
// @ts-ignore: decorator
@inline
function roundU8(v: f32): u8 {
  return <u8>min<i32>(max<i32>(<i32>nearest<f32>(v), 0), 255);
}

/** Both outputs' kernel: resizeToTensor's f32 values, or with `u8out` resizeToU8's bytes. */
export function resize(
  srcPtr: usize, width: i32, height: i32, channels: i32,
  outPtr: usize, outW: i32, outH: i32, nchw: bool, bgr: bool, tfLegacy: bool,
  m0: f32, m1: f32, m2: f32, inv0: f32, inv1: f32, inv2: f32, tablesPtr: usize, u8out: bool
): void {
  const xLo = tablesPtr, xHi = xLo + (<usize>outW << 2), xFrac = xHi + (<usize>outW << 2);
  const yLo = xFrac + (<usize>outW << 2), yHi = yLo + (<usize>outH << 2), yFrac = yHi + (<usize>outH << 2);
  sampleAxis(width, outW, channels, tfLegacy, xLo, xHi, xFrac);
  sampleAxis(height, outH, width * channels, tfLegacy, yLo, yHi, yFrac);
  const plane = <usize>outW * <usize>outH;
  // where tensor channel k of pixel p goes: outPtr + size·(p·pixelStep + k·channelStep), size 4 (f32) or 1 (u8)
  const shift: usize = u8out ? 0 : 2;
  const pixelStep: usize = (nchw ? 1 : 3) << shift, channelStep: usize = (nchw ? plane : 1) << shift;
  // tensor channel k reads source channel c_k
  const c0: usize = channels == 1 ? 0 : bgr ? 2 : 0, c1: usize = channels == 1 ? 0 : 1, c2: usize = channels == 1 ? 0 : bgr ? 0 : 2;
  for (let y = 0; y < outH; y++) {
    const top = srcPtr + <usize>load<i32>(yLo + (<usize>y << 2));
    const bottom = srcPtr + <usize>load<i32>(yHi + (<usize>y << 2));
    const fy = load<f32>(yFrac + (<usize>y << 2));
    let at = outPtr + <usize>y * <usize>outW * pixelStep;
    if (ASC_FEATURE_SIMD && channels >= 3) {
      const mean = f32x4(m0, m1, m2, 0), inv = f32x4(inv0, inv1, inv2, 1), fyv = f32x4.splat(fy);
      for (let x = 0; x < outW; x++, at += pixelStep) {
        const lo = <usize>load<i32>(xLo + (<usize>x << 2)), hi = <usize>load<i32>(xHi + (<usize>x << 2));
        const fx = f32x4.splat(load<f32>(xFrac + (<usize>x << 2)));
        const tl = pixel4(top + lo), tr = pixel4(top + hi), bl = pixel4(bottom + lo), br = pixel4(bottom + hi);
        const upper = f32x4.add(tl, f32x4.mul(f32x4.sub(tr, tl), fx));
        const lower = f32x4.add(bl, f32x4.mul(f32x4.sub(br, bl), fx));
        let v = f32x4.add(upper, f32x4.mul(f32x4.sub(lower, upper), fyv));
        if (bgr) v = v128.shuffle<f32>(v, v, 2, 1, 0, 3);
        v = f32x4.mul(f32x4.sub(v, mean), inv);
        if (u8out) {
          // nearest is round-half-even; the saturating narrows clamp to [0, 255]
          const w = i32x4.trunc_sat_f32x4_s(f32x4.nearest(v));
          const b = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(w, w), w);
          store<u8>(at, i8x16.extract_lane_u(b, 0));
          store<u8>(at + channelStep, i8x16.extract_lane_u(b, 1));
          store<u8>(at + (channelStep << 1), i8x16.extract_lane_u(b, 2));
        } else {
          store<f32>(at, f32x4.extract_lane(v, 0));
          store<f32>(at + channelStep, f32x4.extract_lane(v, 1));
          store<f32>(at + (channelStep << 1), f32x4.extract_lane(v, 2));
        }
      }
    } else {
      for (let x = 0; x < outW; x++, at += pixelStep) {
        const lo = <usize>load<i32>(xLo + (<usize>x << 2)), hi = <usize>load<i32>(xHi + (<usize>x << 2));
        const fx = load<f32>(xFrac + (<usize>x << 2));
        const v0 = (lerp2(top + lo + c0, top + hi + c0, bottom + lo + c0, bottom + hi + c0, fx, fy) - m0) * inv0;
        const v1 = (lerp2(top + lo + c1, top + hi + c1, bottom + lo + c1, bottom + hi + c1, fx, fy) - m1) * inv1;
        const v2 = (lerp2(top + lo + c2, top + hi + c2, bottom + lo + c2, bottom + hi + c2, fx, fy) - m2) * inv2;
        if (u8out) {
          store<u8>(at, roundU8(v0));
          store<u8>(at + channelStep, roundU8(v1));
          store<u8>(at + (channelStep << 1), roundU8(v2));
        } else {
          store<f32>(at, v0);
          store<f32>(at + channelStep, v1);
          store<f32>(at + (channelStep << 1), v2);
        }
      }
    }
  }
}

/** The first four bytes at `ptr` as f32 lanes (R, G, B, and A or the next pixel's R). */
// @ts-ignore: decorator
@inline
function pixel4(ptr: usize): v128 {
  return f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(ptr))));
}

/** Bilinear blend of four u8 samples, in the same order of operations as the SIMD path. */
// @ts-ignore: decorator
@inline
function lerp2(tl: usize, tr: usize, bl: usize, br: usize, fx: f32, fy: f32): f32 {
  const a = <f32>load<u8>(tl), b = <f32>load<u8>(tr), c = <f32>load<u8>(bl), d = <f32>load<u8>(br);
  const upper = a + (b - a) * fx;
  const lower = c + (d - c) * fx;
  return upper + (lower - upper) * fy;
}

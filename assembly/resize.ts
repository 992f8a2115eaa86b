// Image → network input tensor: bilinear resize with half-pixel centres (cv2 INTER_LINEAR,
// PyTorch align_corners=False, no antialiasing), channel order, mean/std, NCHW or NHWC.
// src/runtime/preprocess.ts is the plain-TypeScript twin (in f64); this one computes in f32.
//
// Memory contract: `srcPtr` holds height × width × channels u8 values plus 4 readable bytes of
// padding (the SIMD path loads 4 bytes per 3-channel pixel); `tablesPtr` has room for
// 3·(outW + outH) words; `outPtr` receives 3·outW·outH f32.

// @ts-ignore: decorator
@inline
function sampleAxis(source: i32, target: i32, stride: i32, loPtr: usize, hiPtr: usize, fracPtr: usize): void {
  const scale = <f64>source / <f64>target;
  for (let d = 0; d < target; d++) {
    const s = min<f64>(max<f64>((<f64>d + 0.5) * scale - 0.5, 0), <f64>(source - 1));
    const i = <i32>Math.floor(s);
    store<i32>(loPtr + (<usize>d << 2), i * stride);
    store<i32>(hiPtr + (<usize>d << 2), min<i32>(i + 1, source - 1) * stride);
    store<f32>(fracPtr + (<usize>d << 2), <f32>(s - <f64>i));
  }
}

/**
 * Writes the network input for one image. `channels` is 1 (grey, replicated), 3 (RGB) or 4
 * (RGBA, alpha ignored); `bgr` reverses the channel order; mean and 1/std are per tensor
 * channel; `nchw` selects the layout (else NHWC).
 */
export function resizeToTensor(
  srcPtr: usize, width: i32, height: i32, channels: i32,
  outPtr: usize, outW: i32, outH: i32, nchw: bool, bgr: bool,
  m0: f32, m1: f32, m2: f32, inv0: f32, inv1: f32, inv2: f32, tablesPtr: usize
): void {
  const xLo = tablesPtr, xHi = xLo + (<usize>outW << 2), xFrac = xHi + (<usize>outW << 2);
  const yLo = xFrac + (<usize>outW << 2), yHi = yLo + (<usize>outH << 2), yFrac = yHi + (<usize>outH << 2);
  sampleAxis(width, outW, channels, xLo, xHi, xFrac);
  sampleAxis(height, outH, width * channels, yLo, yHi, yFrac);
  const plane = <usize>outW * <usize>outH;
  // where tensor channel k of pixel p goes: outPtr + 4·(p·pixelStep + k·channelStep)
  const pixelStep: usize = nchw ? 1 : 3, channelStep: usize = nchw ? plane : 1;
  // tensor channel k reads source channel c_k
  const c0: usize = channels == 1 ? 0 : bgr ? 2 : 0, c1: usize = channels == 1 ? 0 : 1, c2: usize = channels == 1 ? 0 : bgr ? 0 : 2;
  for (let y = 0; y < outH; y++) {
    const top = srcPtr + <usize>load<i32>(yLo + (<usize>y << 2));
    const bottom = srcPtr + <usize>load<i32>(yHi + (<usize>y << 2));
    const fy = load<f32>(yFrac + (<usize>y << 2));
    let at = outPtr + ((<usize>y * <usize>outW * pixelStep) << 2);
    if (ASC_FEATURE_SIMD && channels >= 3) {
      const mean = f32x4(m0, m1, m2, 0), inv = f32x4(inv0, inv1, inv2, 1), fyv = f32x4.splat(fy);
      for (let x = 0; x < outW; x++, at += pixelStep << 2) {
        const lo = <usize>load<i32>(xLo + (<usize>x << 2)), hi = <usize>load<i32>(xHi + (<usize>x << 2));
        const fx = f32x4.splat(load<f32>(xFrac + (<usize>x << 2)));
        const tl = pixel4(top + lo), tr = pixel4(top + hi), bl = pixel4(bottom + lo), br = pixel4(bottom + hi);
        const upper = f32x4.add(tl, f32x4.mul(f32x4.sub(tr, tl), fx));
        const lower = f32x4.add(bl, f32x4.mul(f32x4.sub(br, bl), fx));
        let v = f32x4.add(upper, f32x4.mul(f32x4.sub(lower, upper), fyv));
        if (bgr) v = v128.shuffle<f32>(v, v, 2, 1, 0, 3);
        v = f32x4.mul(f32x4.sub(v, mean), inv);
        store<f32>(at, f32x4.extract_lane(v, 0));
        store<f32>(at + (channelStep << 2), f32x4.extract_lane(v, 1));
        store<f32>(at + (channelStep << 3), f32x4.extract_lane(v, 2));
      }
    } else {
      for (let x = 0; x < outW; x++, at += pixelStep << 2) {
        const lo = <usize>load<i32>(xLo + (<usize>x << 2)), hi = <usize>load<i32>(xHi + (<usize>x << 2));
        const fx = load<f32>(xFrac + (<usize>x << 2));
        store<f32>(at, (lerp2(top + lo + c0, top + hi + c0, bottom + lo + c0, bottom + hi + c0, fx, fy) - m0) * inv0);
        store<f32>(at + (channelStep << 2), (lerp2(top + lo + c1, top + hi + c1, bottom + lo + c1, bottom + hi + c1, fx, fy) - m1) * inv1);
        store<f32>(at + (channelStep << 3), (lerp2(top + lo + c2, top + hi + c2, bottom + lo + c2, bottom + hi + c2, fx, fy) - m2) * inv2);
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

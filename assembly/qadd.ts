// uint8 ADD of two tensors of one shape, as XNNPACK's QU8 vadd computes it (TensorFlow Lite runs
// ADD through its XNNPACK delegate):
//   out = clamp(((bias + a·aMultiplier + b·bMultiplier) >> shift) + zeroPoint, lo, hi)
// with an arithmetic (flooring) shift; the host computes the multipliers and shift
// (xnnpackAddParams) and passes bias = −(aMultiplier·za + bMultiplier·zb) + 2^(shift−1).
// see: src/convert/tflite/arithmetic.ts (xnnpackAddParams), XNNPACK
//      src/qu8-vadd/gen/*-scalar-*.c and xnn_init_qu8_add_minmax_scalar_params
//
// int32 is exact: multipliers are below 2^21, so |a·ma|, |b·mb| < 2^29 and the sum with the
// bias (< 2^30 in magnitude) stays inside int32, in XNNPACK's kernels as here.
//
// Memory contract: a, b, out hold `num` bytes each; out may alias a or b.
// SIMD: sixteen values at a time, widened to i32x4 (exact), then the scalar loop for the rest.

import { narrowU8 } from "./qrequant";

// @ts-ignore: decorator
@inline
function widen4(bytes: v128, multiplier: v128, quarter: i32): v128 {
  const half = quarter < 2 ? i16x8.extend_low_i8x16_u(bytes) : i16x8.extend_high_i8x16_u(bytes);
  const word = (quarter & 1) == 0 ? i32x4.extend_low_i16x8_u(half) : i32x4.extend_high_i16x8_u(half);
  return i32x4.mul(word, multiplier);
}

/** out[i] = the XNNPACK uint8 sum of a[i] and b[i], for i < num. */
export function qadd(
  aPtr: usize, bPtr: usize, outPtr: usize, num: i32,
  aMultiplier: i32, bMultiplier: i32, bias: i32, shift: i32, zeroPoint: i32, lo: i32, hi: i32
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const ma = i32x4.splat(aMultiplier), mb = i32x4.splat(bMultiplier), base = i32x4.splat(bias);
    const zp = i32x4.splat(zeroPoint), lov = i8x16.splat(<i8>lo), hiv = i8x16.splat(<i8>hi);
    for (; i + 16 <= num; i += 16) {
      const a = v128.load(aPtr + <usize>i), b = v128.load(bPtr + <usize>i);
      const q0 = i32x4.add(i32x4.shr_s(i32x4.add(i32x4.add(base, widen4(a, ma, 0)), widen4(b, mb, 0)), shift), zp);
      const q1 = i32x4.add(i32x4.shr_s(i32x4.add(i32x4.add(base, widen4(a, ma, 1)), widen4(b, mb, 1)), shift), zp);
      const q2 = i32x4.add(i32x4.shr_s(i32x4.add(i32x4.add(base, widen4(a, ma, 2)), widen4(b, mb, 2)), shift), zp);
      const q3 = i32x4.add(i32x4.shr_s(i32x4.add(i32x4.add(base, widen4(a, ma, 3)), widen4(b, mb, 3)), shift), zp);
      v128.store(outPtr + <usize>i, narrowU8(q0, q1, q2, q3, lov, hiv));
    }
  }
  for (; i < num; i++) {
    const acc = bias + <i32>load<u8>(aPtr + <usize>i) * aMultiplier + <i32>load<u8>(bPtr + <usize>i) * bMultiplier;
    store<u8>(outPtr + <usize>i, <u8>min<i32>(max<i32>((acc >> shift) + zeroPoint, lo), hi));
  }
}

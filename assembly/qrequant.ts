// Requantisation of int32 accumulators to uint8, as XNNPACK's QU8 "fp32" micro-kernels compute
// it (TensorFlow Lite runs them through its default XNNPACK delegate):
//   out = clamp(roundHalfEven(f32(f32(acc) · scale)) + zeroPoint, lo, hi)
// with scale = f32(f32(sx·sw) / sy) computed by the host.
// see: src/convert/tflite/arithmetic.ts, tools/tflite-reference/README.md (checked bit for bit
//      against TFLite's tensors on the COCO model)
//
// Exactness of the two paths against each other: i32 → f32 (f32.convert_i32_s and
// f32x4.convert_i32x4_s) both round to nearest even; the product is one IEEE f32 multiply;
// f32.nearest and f32x4.nearest both round half to even; both conversions back saturate; the
// clamp to [lo, hi] ⊆ [0, 255] happens after adding the zero point in both. So every lane equals
// the scalar result.

/** One accumulator → the clamped uint8 value (as i32). */
// @ts-ignore: decorator
@inline
export function requantize(acc: i32, scale: f32, zeroPoint: i32, lo: i32, hi: i32): i32 {
  const rounded = <i32>nearest<f32>(<f32>acc * scale); // i32.trunc_sat_f32_s (nontrapping-f2i is on)
  return min<i32>(max<i32>(rounded + zeroPoint, lo), hi);
}

/**
 * Four accumulators (i32x4) → four int32 values before the clamp (rounded + zero point); the
 * caller narrows with saturation (i16x8.narrow_i32x4_s, i8x16.narrow_i16x8_u) and clamps.
 */
// @ts-ignore: decorator
@inline
export function requantize4(acc: v128, scale: v128, zeroPoint: v128): v128 {
  return i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(f32x4.convert_i32x4_s(acc), scale))), zeroPoint);
}

/**
 * Eight (or sixteen) int32 values in two (four) i32x4 → u8 lanes clamped to [lo, hi]: signed
 * saturation to i16 and unsigned saturation to u8 are exact for [0, 255] and clamp the rest.
 */
// @ts-ignore: decorator
@inline
export function narrowU8(a: v128, b: v128, c: v128, d: v128, lo: v128, hi: v128): v128 {
  const bytes = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d));
  return i8x16.min_u(i8x16.max_u(bytes, lo), hi);
}

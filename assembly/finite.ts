// Input validation the host cannot afford in JavaScript: finding NaN or ±Infinity in
// hundreds of thousands of floats at the speed of one read.

/** Index of the first non-finite f32 among `num` at `ptr`, or −1 when all are finite. */
export function findNonFinite(ptr: usize, num: i32): i32 {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // |x| < ∞ is false exactly for NaN and ±∞
    const inf = f32x4.splat(Infinity);
    for (; i + 16 <= num; i += 16) {
      const at = ptr + (<usize>i << 2);
      const ok = v128.and(
        v128.and(f32x4.lt(f32x4.abs(v128.load(at)), inf), f32x4.lt(f32x4.abs(v128.load(at, 16)), inf)),
        v128.and(f32x4.lt(f32x4.abs(v128.load(at, 32)), inf), f32x4.lt(f32x4.abs(v128.load(at, 48)), inf))
      );
      if (!i32x4.all_true(ok)) break; // the scalar loop below finds which one
    }
  }
  for (; i < num; i++) {
    const x = load<f32>(ptr + (<usize>i << 2));
    if (!(abs<f32>(x) < Infinity)) return i;
  }
  return -1;
}

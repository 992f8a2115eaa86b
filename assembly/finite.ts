// Input validation the host cannot afford in JavaScript: finding NaN or ±Infinity in
// hundreds of thousands of floats at the speed of one read.

/** Index of the first non-finite f32 among `num` at `ptr`, or −1 when all are finite. */
export function findNonFinite(ptr: usize, num: i32): i32 {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // x − x is +0 exactly for every finite x and NaN for NaN and ±∞, and NaN survives any sum:
    // one subtraction and one addition per vector, a single test per 16 floats
    for (; i + 16 <= num; i += 16) {
      const at = ptr + (<usize>i << 2);
      const a = v128.load(at), b = v128.load(at, 16), c = v128.load(at, 32), d = v128.load(at, 48);
      const sum = f32x4.add(f32x4.add(f32x4.sub(a, a), f32x4.sub(b, b)), f32x4.add(f32x4.sub(c, c), f32x4.sub(d, d)));
      const ok = f32x4.eq(sum, sum);
      if (!i32x4.all_true(ok)) break; // the scalar loop below finds which one
    }
  }
  for (; i < num; i++) {
    const x = load<f32>(ptr + (<usize>i << 2));
    if (!(abs<f32>(x) < Infinity)) return i;
  }
  return -1;
}

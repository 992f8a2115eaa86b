// Input validation the host cannot afford in JavaScript: finding NaN or ±Infinity in
// hundreds of thousands of floats at the speed of one read.

/**
 * The sum of `num` f32 at `ptr`, in no particular order: NaN or ±∞ when one of them is (a
 * non-finite term survives every f32 addition), so a finite sum proves them all finite. Finite
 * values can overflow it too: a false alarm, which findNonFinite settles value by value.
 * One add per four floats, summed as a tree of eight vectors a step, so that the loop carries
 * one add a step: the scan runs at the speed of its loads, not of a chain of additions.
 */
export function finiteSum(ptr: usize, num: i32): f32 {
  let i = 0;
  let sum: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f32x4.splat(0);
    for (; i + 32 <= num; i += 32) {
      const at = ptr + (<usize>i << 2);
      const a = f32x4.add(f32x4.add(v128.load(at), v128.load(at, 16)), f32x4.add(v128.load(at, 32), v128.load(at, 48)));
      const b = f32x4.add(f32x4.add(v128.load(at, 64), v128.load(at, 80)), f32x4.add(v128.load(at, 96), v128.load(at, 112)));
      acc = f32x4.add(acc, f32x4.add(a, b));
    }
    sum = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  } else {
    let s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (; i + 4 <= num; i += 4) {
      const at = ptr + (<usize>i << 2);
      sum += load<f32>(at); s1 += load<f32>(at, 4); s2 += load<f32>(at, 8); s3 += load<f32>(at, 12);
    }
    sum = (sum + s1) + (s2 + s3);
  }
  for (; i < num; i++) sum += load<f32>(ptr + (<usize>i << 2));
  return sum;
}

/** Index of the first non-finite f32 among `num` at `ptr`, or −1 when all are finite. */
export function findNonFinite(ptr: usize, num: i32): i32 {
  if (abs<f32>(finiteSum(ptr, num)) < Infinity) return -1;
  // a NaN or ±∞ somewhere (or finite values whose sum overflowed): look at each
  for (let i = 0; i < num; i++) {
    if (!(abs<f32>(load<f32>(ptr + (<usize>i << 2))) < Infinity)) return i;
  }
  return -1;
}

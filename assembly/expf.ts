// Deterministic single-precision exp, scalar and 4-lane twins.
//
// Both twins perform the same IEEE f32 operations in the same order, so they give
// bit-identical results; src/core/expf.ts repeats them with Math.fround, which
// is what lets the wasm builds and the TypeScript reference agree on every detection.
// see: Cephes expf.c (S. Moshier) — range reduction by ln 2 split in two, degree-5 polynomial.

/** Arguments are clamped to this range: exp stays finite and 2^n stays a normal number. */
export const EXP_MIN: f32 = -87.0;
export const EXP_MAX: f32 = 88.0;

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;

/** e^x for f32 x (NaN must not be passed); relative error about 2 ulp. */
// @ts-ignore: decorator
@inline
export function expf(x: f32): f32 {
  x = min<f32>(max<f32>(x, EXP_MIN), EXP_MAX);
  const n = Mathf.floor(x * LOG2E + 0.5);
  const r = x - n * LN2_HI - n * LN2_LO;
  let p = P0 * r + P1;
  p = p * r + P2;
  p = p * r + P3;
  p = p * r + P4;
  p = p * r + P5;
  p = p * (r * r) + r + 1.0;
  return p * reinterpret<f32>((<i32>n + 127) << 23);
}

/**
 * expf4's constants, each in four lanes, loaded rather than written as v128 constants: V8
 * materialises a v128 constant with three instructions at every use, inside loops too, which
 * cost more than the arithmetic of expf4 itself; a load is one.
 */
const K4: usize = memory.data<f32>([
  EXP_MIN, EXP_MIN, EXP_MIN, EXP_MIN,
  EXP_MAX, EXP_MAX, EXP_MAX, EXP_MAX,
  LOG2E, LOG2E, LOG2E, LOG2E,
  0.5, 0.5, 0.5, 0.5,
  LN2_HI, LN2_HI, LN2_HI, LN2_HI,
  LN2_LO, LN2_LO, LN2_LO, LN2_LO,
  P0, P0, P0, P0,
  P1, P1, P1, P1,
  P2, P2, P2, P2,
  P3, P3, P3, P3,
  P4, P4, P4, P4,
  P5, P5, P5, P5,
  1.0, 1.0, 1.0, 1.0,
  // 127 + 1.5·2^23, see below
  12583039.0, 12583039.0, 12583039.0, 12583039.0
], 16);

/** expf on each lane of an f32x4 (no lane may be NaN). */
// @ts-ignore: decorator
@inline
export function expf4(x: v128): v128 {
  // pmin/pmax are single instructions; they differ from min/max only for NaN and ±0 order
  x = f32x4.pmin(f32x4.pmax(x, v128.load(K4, 0)), v128.load(K4, 16));
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, v128.load(K4, 32)), v128.load(K4, 48)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, v128.load(K4, 64))), f32x4.mul(n, v128.load(K4, 80)));
  let p = f32x4.add(f32x4.mul(v128.load(K4, 96), r), v128.load(K4, 112));
  p = f32x4.add(f32x4.mul(p, r), v128.load(K4, 128));
  p = f32x4.add(f32x4.mul(p, r), v128.load(K4, 144));
  p = f32x4.add(f32x4.mul(p, r), v128.load(K4, 160));
  p = f32x4.add(f32x4.mul(p, r), v128.load(K4, 176));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), v128.load(K4, 192));
  // 2^n: adding 1.5·2^23 puts the integer n + 127 (1…254) in the low mantissa bits, and
  // shifting left by 23 moves it into the exponent field and drops everything above it
  const pow2n = i32x4.shl(f32x4.add(n, v128.load(K4, 208)), 23);
  return f32x4.mul(p, pow2n);
}

// expf / expf4: accuracy against Math.exp, bit-identity of the twins, clamping at the ends.

import { EXP_MAX, EXP_MIN, expf, expf4 } from "../expf";
import { bits } from "./helpers";

/** Largest relative error of expf against f64 Math.exp over [from, to] in steps of `step`. */
function worstRelativeError(from: f32, to: f32, step: f32): f64 {
  let worst: f64 = 0;
  const count = <i32>((to - from) / step);
  for (let i = 0; i <= count; i++) {
    const x = min<f32>(from + <f32>i * step, to);
    const exact = Math.exp(<f64>x);
    const err = Math.abs(<f64>expf(x) - exact) / exact;
    if (err > worst) worst = err;
  }
  return worst;
}

describe("expf", () => {
  it("is exact at 0 and close to e at 1", () => {
    // n = floor(0·log2e + 0.5) = 0, r = 0, so p·0 + 0 + 1 = 1 exactly
    expect<f32>(expf(0)).toBe(1, "e^0 must be exactly 1: every term of the polynomial vanishes");
    expect<f64>(<f64>expf(1)).toBeCloseTo(2.718281828459045, 6, "e^1 is e to f32 precision");
    expect<f64>(<f64>expf(-1)).toBeCloseTo(0.36787944117144233, 7, "e^-1 is 1/e to f32 precision");
  });

  it("stays within 4e-7 relative error of Math.exp over the whole clamped range [-87, 88]", () => {
    // 175 001 points, step 0.001: covers every reduction interval n ∈ [−126, 127]
    const worst = worstRelativeError(EXP_MIN, EXP_MAX, 0.001);
    expect<f64>(worst).toBeLessThan(4e-7, "a 2-ulp f32 exp is within 2.4e-7 of the true value");
  });

  it("stays within 4e-7 near the reduction boundaries x = (k + 0.5)·ln 2", () => {
    // r is largest (|r| ≈ ln2 / 2) just either side of the rounding points of n
    let worst: f64 = 0;
    for (let k = -125; k < 127; k++) {
      const mid = <f32>((<f64>k + 0.5) * Math.LN2);
      for (let d = -4; d <= 4; d++) {
        const x = mid + <f32>d * 1e-6 * max<f32>(1, abs<f32>(mid));
        const exact = Math.exp(<f64>x);
        const err = Math.abs(<f64>expf(x) - exact) / exact;
        if (err > worst) worst = err;
      }
    }
    expect<f64>(worst).toBeLessThan(4e-7, "the polynomial must hold at the widest |r|");
  });

  it("clamps below: expf(-1000) equals expf(-87) and is a positive normal number", () => {
    expect<u32>(bits(expf(-1000))).toBe(bits(expf(EXP_MIN)), "arguments under EXP_MIN are clamped to it");
    expect<u32>(bits(expf(-Infinity))).toBe(bits(expf(EXP_MIN)), "even −∞ is clamped, not turned into 0·2^-∞");
    // e^-87 ≈ 1.6458e-38, above the smallest normal f32 1.1755e-38
    expect<f32>(expf(-1000)).toBeGreaterThan(1.1754944e-38, "2^n stays a normal number at the clamp");
  });

  it("does not clamp just inside the lower end: expf(-86.5) > expf(-87)", () => {
    expect<f32>(expf(-86.5)).toBeGreaterThan(expf(EXP_MIN), "inside the range the result still moves with x");
    expect<u32>(bits(expf(-86.5))).not.toBe(bits(expf(-1000)), "−86.5 is not an out-of-range argument");
  });

  it("clamps above: expf(1000) equals expf(88) and is finite", () => {
    expect<u32>(bits(expf(1000))).toBe(bits(expf(EXP_MAX)), "arguments over EXP_MAX are clamped to it");
    expect<f32>(expf(1000)).toBeFinite("e^88 ≈ 1.65e38 is below f32 max 3.4e38");
    expect<f32>(expf(Infinity)).toBeFinite("+∞ is clamped, so softmax never sees ∞/∞");
  });

  it("does not clamp just inside the upper end: expf(87.5) < expf(88)", () => {
    expect<f32>(expf(87.5)).toBeLessThan(expf(EXP_MAX), "inside the range the result still moves with x");
  });
});

describe("expf4", () => {
  it("gives each lane the bits of scalar expf over the whole range", () => {
    // lanes take four different arguments so a lane mix-up cannot hide
    let mismatches = 0;
    for (let i = 0; i <= 175000; i++) {
      const x = EXP_MIN + <f32>i * 0.001;
      const a = x, b = -x * 0.5, c = x * 0.25 + 1, d = <f32>0 - x * 0.125;
      const v = expf4(f32x4(a, b, c, d));
      if (bits(f32x4.extract_lane(v, 0)) != bits(expf(a))) mismatches++;
      if (bits(f32x4.extract_lane(v, 1)) != bits(expf(b))) mismatches++;
      if (bits(f32x4.extract_lane(v, 2)) != bits(expf(c))) mismatches++;
      if (bits(f32x4.extract_lane(v, 3)) != bits(expf(d))) mismatches++;
    }
    expect<i32>(mismatches).toBe(0, "both twins do the same IEEE operations in the same order");
  });

  it("clamps each lane independently, like expf", () => {
    const v = expf4(f32x4(-1000, 1000, 0, -Infinity));
    expect<u32>(bits(f32x4.extract_lane(v, 0))).toBe(bits(expf(EXP_MIN)), "lane 0 is clamped below");
    expect<u32>(bits(f32x4.extract_lane(v, 1))).toBe(bits(expf(EXP_MAX)), "lane 1 is clamped above");
    expect<f32>(f32x4.extract_lane(v, 2)).toBe(1, "lane 2 is not touched by its neighbours' clamps");
    expect<u32>(bits(f32x4.extract_lane(v, 3))).toBe(bits(expf(EXP_MIN)), "−∞ is clamped in a lane too");
  });

  it("runs in a SIMD test build (otherwise the SIMD twins below are not what ships)", () => {
    expect<bool>(ASC_FEATURE_SIMD).toBe(true, "as-pect.asconfig.json extends asconfig.json, which enables simd");
  });
});

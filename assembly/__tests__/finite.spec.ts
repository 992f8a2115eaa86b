// finiteSum and findNonFinite: −1 for clean input; the first NaN / +∞ / −∞ wherever it sits
// relative to finiteSum's 32-float SIMD steps and its scalar tail; overflowing sums of finite
// values are false alarms that findNonFinite settles.

import { findNonFinite, finiteSum } from "../finite";
import { ptr } from "./helpers";

const N = 40; // one 32-float SIMD step (0..31) and an 8-float scalar tail (32..39)

function cleanArray(n: i32): StaticArray<f32> {
  const a = new StaticArray<f32>(n);
  for (let i = 0; i < n; i++) a[i] = <f32>(i % 7) * 1e30 - 3e30; // large but finite, both signs
  if (n > 3) { a[1] = 3.4028235e38; a[2] = -3.4028235e38; a[3] = 1.4e-45; } // f32 max, min, denormal
  return a;
}

describe("findNonFinite", () => {
  it("returns −1 when every value is finite, including ±f32 max and denormals", () => {
    expect<i32>(findNonFinite(ptr(cleanArray(N)), N)).toBe(-1, "nothing to report");
  });

  it("returns −1 for an empty span", () => {
    expect<i32>(findNonFinite(ptr(cleanArray(4)), 0)).toBe(-1, "num = 0 reads nothing");
  });

  it("finds NaN, +∞ and −∞ at 0, 15, 16, 17 and the last index", () => {
    const positions: i32[] = [0, 15, 16, 17, 31, 32, N - 1];
    const bad: f32[] = [NaN, Infinity, -Infinity];
    let wrong = 0;
    for (let b = 0; b < bad.length; b++) {
      for (let p = 0; p < positions.length; p++) {
        const a = cleanArray(N);
        a[positions[p]] = bad[b];
        if (findNonFinite(ptr(a), N) != positions[p]) wrong++;
      }
    }
    expect<i32>(wrong).toBe(0, "block starts, block ends, the scalar tail and the last float all report their index");
  });

  it("reports the first of two non-finite values in the same block", () => {
    const a = cleanArray(N);
    a[20] = NaN; a[18] = -Infinity;
    expect<i32>(findNonFinite(ptr(a), N)).toBe(18, "18 comes before 20");
  });

  it("reports the first of two non-finite values in different blocks", () => {
    const a = cleanArray(N);
    a[35] = NaN; a[5] = Infinity;
    expect<i32>(findNonFinite(ptr(a), N)).toBe(5, "the first block wins");
  });

  it("does not look past num: a NaN just after the span is not reported", () => {
    const a = cleanArray(N);
    a[17] = NaN;
    expect<i32>(findNonFinite(ptr(a), 17)).toBe(-1, "index 17 is outside a span of 17");
    expect<i32>(findNonFinite(ptr(a), 18)).toBe(17, "and inside a span of 18");
    a[16] = NaN;
    expect<i32>(findNonFinite(ptr(a), 16)).toBe(-1, "16 is outside a span of one full block");
  });

  it("handles spans shorter than one block (scalar loop only)", () => {
    const a = cleanArray(8);
    expect<i32>(findNonFinite(ptr(a), 8)).toBe(-1, "clean");
    a[7] = -Infinity;
    expect<i32>(findNonFinite(ptr(a), 8)).toBe(7, "found by the scalar loop");
  });

  it("settles a false alarm: finite values whose sum overflows, then the real NaN after them", () => {
    const a = cleanArray(N);
    for (let i = 4; i < 12; i++) a[i] = 3e38;
    expect<bool>(abs<f32>(finiteSum(ptr(a), N)) < Infinity).toBe(false, "eight 3e38 overflow the sum");
    expect<i32>(findNonFinite(ptr(a), N)).toBe(-1, "yet every value is finite");
    a[36] = NaN;
    expect<i32>(findNonFinite(ptr(a), N)).toBe(36, "and the NaN after them is found");
  });
});

describe("finiteSum", () => {
  it("is finite for finite values and not for NaN, +∞ or −∞ at any index of SIMD steps or tail", () => {
    const n = 70; // two 32-float steps and a 6-float tail
    const bad: f32[] = [NaN, Infinity, -Infinity];
    const a = new StaticArray<f32>(n);
    for (let i = 0; i < n; i++) a[i] = <f32>(i % 5) - 2;
    expect<bool>(abs<f32>(finiteSum(ptr(a), n)) < Infinity).toBe(true, "clean");
    let missed = 0;
    for (let b = 0; b < bad.length; b++) {
      for (let i = 0; i < n; i++) {
        const was = a[i];
        a[i] = bad[b];
        if (abs<f32>(finiteSum(ptr(a), n)) < Infinity) missed++;
        a[i] = was;
      }
    }
    expect<i32>(missed).toBe(0, "every position of every non-finite value");
    a[0] = Infinity; a[n - 1] = -Infinity;
    expect<bool>(abs<f32>(finiteSum(ptr(a), n)) < Infinity).toBe(false, "+∞ and −∞ together give NaN, not a finite sum");
  });
});

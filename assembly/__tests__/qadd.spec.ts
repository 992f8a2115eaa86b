// qadd: XNNPACK's uint8 ADD, hand-computed.
//
// Scales a 0.5, b 0.25, out 1: ratios 0.5 and 0.25, the larger has exponent −1, so shift =
// 20 − (−1) = 21, aMultiplier = 0.5·2^21 = 2^20, bMultiplier = 2^19. Zero points za 10, zb 20,
// zy 100: bias = −(10·2^20 + 20·2^19) + 2^20 (the rounding term) = −19·2^20.
// Real sums (a − 10)/2 + (b − 20)/4, rounded half up by the flooring shift:
//   (14, 28): 4 → 4;  (15, 28): 4.5 → 5;  (9, 20): −0.5 → 0;  (7, 20): −1.5 → −1;  (8, 20): −1 → −1

import { qadd } from "../qadd";
import { listU8, ptr, u8s } from "./helpers";

const A: i32[] = [14, 15, 9, 7, 8];
const B: i32[] = [28, 28, 20, 20, 20];
const EXPECTED: i32[] = [104, 105, 100, 99, 99];

function add(n: i32, lo: i32, hi: i32): StaticArray<u8> {
  const a = new Array<i32>(n), b = new Array<i32>(n);
  for (let i = 0; i < n; i++) { a[i] = A[i % 5]; b[i] = B[i % 5]; }
  const out = u8s(new Array<i32>(n).fill(0));
  qadd(ptr(u8s(a)), ptr(u8s(b)), ptr(out), n, 1 << 20, 1 << 19, -19 << 20, 21, 100, lo, hi);
  return out;
}

describe("qadd", () => {
  it("rescales both inputs and rounds half up (towards +∞) with one flooring shift", () => {
    expect<string>(listU8(add(5, 0, 255), 5)).toBe("104,105,100,99,99", "4, 4.5, −0.5, −1.5, −1 → 4, 5, 0, −1, −1, plus 100");
  });

  it("gives the same values in the 16-wide SIMD body and the scalar tail (21 values)", () => {
    const out = add(21, 0, 255);
    let wrong = 0;
    for (let i = 0; i < 21; i++) if (<i32>out[i] != EXPECTED[i % 5]) wrong++;
    expect<i32>(wrong).toBe(0, "every position repeats the five-value pattern");
  });

  it("clamps to [lo, hi]", () => {
    expect<string>(listU8(add(5, 100, 104), 5)).toBe("104,104,100,100,100", "[100, 104]");
  });
});

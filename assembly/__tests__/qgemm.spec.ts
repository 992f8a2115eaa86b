// qgemmPack + qgemm: the uint8 1×1 convolution, hand-computed.
//
// TFLite's accumulator is bias + Σ (x − zx)(w − zw); qgemmPack folds −zx·Σ(w − zw) into the
// bias, so the kernel only sums x·(w − zw). Requantisation: roundHalfEven(f32(acc)·scale) + zy.

import { qgemm, qgemmPack, qgemmPackedBytes } from "../qgemm";
import { f32s, i32s, listU8, ptr, u8s } from "./helpers";

function run(x: i32[], rows: i32, numK: i32, w: i32[], numOut: i32, zw: i32, zx: i32, bias: i32[], scale: f32[],
             zy: i32, lo: i32, hi: i32, sentinel: i32): StaticArray<u8> {
  const packed = new StaticArray<u8>(qgemmPackedBytes(numOut, numK));
  const written = qgemmPack(ptr(u8s(w)), numOut, numK, zw, zx, bias.length ? ptr(i32s(bias)) : 0, ptr(f32s(scale)), ptr(packed));
  expect<i32>(written).toBe(packed.length, "qgemmPack writes exactly qgemmPackedBytes");
  const out = new StaticArray<u8>(rows * numOut + 16);
  for (let i = 0; i < out.length; i++) out[i] = <u8>sentinel;
  qgemm(ptr(u8s(x)), numK, rows, (numK + 7) >> 3, ptr(packed), numOut, ptr(out), numOut, zy, lo, hi);
  return out;
}

describe("qgemm", () => {
  it("folds both zero points into the bias: 100 + (10 − 4)(3 − 1) + (20 − 4)(5 − 1) = 176 → 176·0.5 + 3 = 91", () => {
    const out = run([10, 20], 1, 2, [3, 5], 1, 1, 4, [100], [0.5], 3, 0, 255, 0);
    expect<u8>(out[0]).toBe(91, "acc 176, scale 0.5, zero point 3");
  });

  it("rounds half to even on both sides of zero (x − 20 = −5, −7, 5, 7, 0 at scale 0.5)", () => {
    // −2.5 → −2, −3.5 → −4, 2.5 → 2, 3.5 → 4, 0 → 0; + zero point 10. Five rows: two SIMD pairs and the odd row.
    const out = run([15, 13, 25, 27, 20], 5, 1, [1], 1, 0, 20, [], [0.5], 10, 0, 255, 0);
    expect<string>(listU8(out, 5)).toBe("8,6,12,14,10", "ties go to the even neighbour, like XNNPACK's magic-bias rounding");
  });

  it("computes five channels (a partial block of four), pads K = 9 to 16, saturates, and writes nothing past numOut", () => {
    // x = nine 1s, w[o][k] = o → acc[o] = 9·o = 0, 9, 18, 27, 36; ·10 → 0, 90, 180, 270 → 255, 360 → 255
    const w = new Array<i32>(45);
    for (let o = 0; o < 5; o++) for (let k = 0; k < 9; k++) w[o * 9 + k] = o;
    const x: i32[] = [1, 1, 1, 1, 1, 1, 1, 1, 1];
    const out = run(x, 1, 9, w, 5, 0, 0, [], [10, 10, 10, 10, 10], 0, 0, 255, 77);
    expect<string>(listU8(out, 6)).toBe("0,90,180,255,255,77", "byte 5 keeps its sentinel 77");
  });

  it("clamps to a fused activation's range [lo, hi]", () => {
    const out = run([0, 50, 100, 200], 4, 1, [1], 1, 0, 0, [], [1], 0, 40, 120, 0);
    expect<string>(listU8(out, 4)).toBe("40,50,100,120", "clamped to [40, 120]");
  });
});

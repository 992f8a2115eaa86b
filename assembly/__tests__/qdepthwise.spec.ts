// qdepthwisePack + qdepthwise: the uint8 3×3 depthwise convolution, hand-computed.

import { qdepthwise, qdepthwisePack, qdepthwisePackedBytes } from "../qdepthwise";
import { f32s, i32s, listU8, ptr, u8s } from "./helpers";

function depthwise(x: i32[], inH: i32, inW: i32, C: i32, stride: i32, pad: i32, outH: i32, outW: i32,
                   w: i32[], zw: i32, zx: i32, bias: i32[], sentinel: i32): StaticArray<u8> {
  const packed = new StaticArray<u8>(qdepthwisePackedBytes(C, 9));
  const scale = new Array<f32>(C).fill(1);
  const written = qdepthwisePack(ptr(u8s(w)), C, 9, zw, bias.length ? ptr(i32s(bias)) : 0, ptr(f32s(scale)), ptr(packed));
  expect<i32>(written).toBe(packed.length, "qdepthwisePack writes exactly qdepthwisePackedBytes");
  const out = new StaticArray<u8>(outH * outW * C + 16);
  for (let i = 0; i < out.length; i++) out[i] = <u8>sentinel;
  qdepthwise(ptr(u8s(x)), inH, inW, C, 3, 3, stride, stride, pad, pad, outH, outW, zx, ptr(packed), ptr(out), 0, 0, 255);
  return out;
}

describe("qdepthwise", () => {
  it("filters each channel with its own taps (stride 1, SAME, zero points and bias)", () => {
    // 2×2×2, zx = 1. Channel 0: x − 1 = 0, 1, 2, 3; taps all 1 → 6 everywhere, bias −1 → 5.
    // Channel 1: x − 1 = 9, 19, 29, 39; only the centre tap, 2 (stored 3 with zw = 1) → 18, 38, 58, 78.
    const x: i32[] = [1, 10, 2, 20, 3, 30, 4, 40];
    const w = new Array<i32>(18);
    for (let t = 0; t < 9; t++) { w[t * 2] = 2; w[t * 2 + 1] = t == 4 ? 3 : 1; } // zw = 1
    const out = depthwise(x, 2, 2, 2, 1, 1, 2, 2, w, 1, 1, [-1, 0], 0);
    expect<string>(listU8(out, 8)).toBe("5,18,5,38,5,58,5,78", "NHWC: (channel 0, channel 1) per pixel");
  });

  it("a window wholly inside the image (the unrolled path) pairs tap t = ky·3 + kx with its pixel", () => {
    // 3×3×1, x = 1..9, w[t] = t: centre = Σ t·(t + 1) = 240; corner (0, 0) sees taps 4, 5, 7, 8
    // on pixels 1, 2, 4, 5: 4 + 10 + 28 + 40 = 82.
    const w: i32[] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const out = depthwise([1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3, 1, 1, 1, 3, 3, w, 0, 0, [], 0);
    expect<u8>(out[4]).toBe(240, "the centre pixel uses all nine taps");
    expect<u8>(out[0]).toBe(82, "the corner pixel uses four");
  });

  it("stride 2 on 3×3 with one channel (a partial block of 8) writes only its own bytes", () => {
    const w: i32[] = [1, 1, 1, 1, 1, 1, 1, 1, 1];
    const out = depthwise([1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3, 1, 2, 1, 2, 2, w, 0, 0, [], 99);
    expect<string>(listU8(out, 5)).toBe("12,16,24,28,99", "four windows; the byte after the tensor keeps its sentinel");
  });
});

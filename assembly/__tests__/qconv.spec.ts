// qconv: the uint8 k×k convolution (windows copied as rows, then qgemm), hand-computed.

import { qconv } from "../qconv";
import { qgemmPack, qgemmPackedBytes } from "../qgemm";
import { f32s, listU8, ptr, u8s } from "./helpers";

function conv(x: i32[], inH: i32, inW: i32, inC: i32, k: i32, stride: i32, pad: i32, outH: i32, outW: i32,
              w: i32[], numOut: i32, zx: i32, zw: i32): StaticArray<u8> {
  const numK = k * k * inC;
  const packed = new StaticArray<u8>(qgemmPackedBytes(numOut, numK));
  const scale = new Array<f32>(numOut).fill(1);
  qgemmPack(ptr(u8s(w)), numOut, numK, zw, zx, 0, ptr(f32s(scale)), ptr(packed));
  const out = new StaticArray<u8>(outH * outW * numOut + 16);
  const scratch = new StaticArray<u8>(outW * (((numK + 7) >> 3) << 3) + 16);
  qconv(ptr(u8s(x)), inH, inW, inC, k, k, stride, stride, pad, pad, outH, outW, zx, ptr(packed), numOut, ptr(out), 0, 0, 255, ptr(scratch));
  return out;
}

describe("qconv", () => {
  it("3×3 stride 1, SAME: padding cells hold the input zero point and add nothing", () => {
    // x − zx = [[0, 1], [2, 3]] (zx = 1); filter: centre 10, the rest 1. Each window sees the
    // whole image: out = 10·centre + the other three. A padding of 0 instead of zx would add −1
    // per padding cell (5 per window).
    const w: i32[] = [1, 1, 1, 1, 10, 1, 1, 1, 1];
    const out = conv([1, 2, 3, 4], 2, 2, 1, 3, 1, 1, 2, 2, w, 1, 1, 0);
    expect<string>(listU8(out, 4)).toBe("6,15,24,33", "10·0 + 6, 10·1 + 5, 10·2 + 4, 10·3 + 3");
  });

  it("3×3 stride 2, SAME on 3×3 (padding 1 before): each output sums its window's valid cells", () => {
    // x = 1..9, weights 1: [1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9]
    const w: i32[] = [1, 1, 1, 1, 1, 1, 1, 1, 1];
    const out = conv([1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3, 1, 3, 2, 1, 2, 2, w, 1, 0, 0);
    expect<string>(listU8(out, 4)).toBe("12,16,24,28", "four windows, four corners of padding");
  });

  it("orders a window's k as (ky, kx, channel), TFLite's filter layout [O, kh, kw, I]", () => {
    // 1×1 image, 2 channels (5, 7), 3×3 SAME stride 1: only the centre tap (ky = kx = 1) is inside;
    // its weights are k = 8 (channel 0) and k = 9 (channel 1). Two outputs: (2, 3) and (1, 0) there.
    const w = new Array<i32>(36).fill(0);
    w[8] = 2; w[9] = 3; w[18 + 8] = 1;
    const out = conv([5, 7], 1, 1, 2, 3, 1, 1, 1, 1, w, 2, 0, 0);
    expect<string>(listU8(out, 2)).toBe("31,5", "2·5 + 3·7 and 1·5");
  });
});

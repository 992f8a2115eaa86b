// qcalls: the uint8 kernels' exports read their parameter block (qparams.ts) word by word into
// the kernel's parameters. Blocks are built here as i32 words in the field order of qparams.ts.

import { qadd, qconv, qlookup } from "../qcalls";
import { qconv as convKernel } from "../qconv";
import { qgemmPack, qgemmPackedBytes } from "../qgemm";
import { f32s, i32s, listU8, ptr, u8s } from "./helpers";

/** An address as the i32 word a block holds. */
function addr(a: StaticArray<u8>): i32 {
  return <i32>ptr(a);
}

describe("qcalls", () => {
  it("qadd(paramsPtr): the hand-computed case of qadd.spec.ts, every field in its place", () => {
    const a = u8s([14, 15, 9, 7, 8]), b = u8s([28, 28, 20, 20, 20]), out = u8s([0, 0, 0, 0, 0]);
    // aPtr, bPtr, outPtr, num, aMultiplier, bMultiplier, bias, shift, zeroPoint, lo, hi
    const block = i32s([addr(a), addr(b), addr(out), 5, 1 << 20, 1 << 19, -19 << 20, 21, 100, 0, 104]);
    qadd(ptr(block));
    expect<string>(listU8(out, 5)).toBe("104,104,100,99,99", "4, 4.5, −0.5, −1.5, −1 plus 100, clamped to 104");
  });

  it("qlookup(paramsPtr): x, num, table, out", () => {
    const table = new StaticArray<u8>(256);
    for (let i = 0; i < 256; i++) table[i] = <u8>(255 - i);
    const x = u8s([0, 1, 2, 255, 9]), out = u8s([7, 7, 7, 7, 7]);
    qlookup(ptr(i32s([addr(x), 4, <i32>ptr(table), addr(out)])));
    expect<string>(listU8(out, 5)).toBe("255,254,253,0,7", "four values through the table, the fifth untouched");
  });

  it("qconv(paramsPtr) equals the kernel called directly, with every row/column pair of fields unequal", () => {
    // 4×5×2 input, 3×1 kernel, strides 1 and 2, padding 1 and 0 → 4×3×3
    const inH = 4, inW = 5, inC = 2, kh = 3, kw = 1, numOut = 3, outH = 4, outW = 3;
    const x = new Array<i32>(inH * inW * inC);
    for (let i = 0; i < x.length; i++) x[i] = (i * 37 + 11) & 255;
    const w = new Array<i32>(numOut * kh * kw * inC);
    for (let i = 0; i < w.length; i++) w[i] = (i * 53 + 5) & 255;
    const numK = kh * kw * inC;
    const packed = new StaticArray<u8>(qgemmPackedBytes(numOut, numK));
    qgemmPack(ptr(u8s(w)), numOut, numK, 120, 30, 0, ptr(f32s([0.01, 0.02, 0.015])), ptr(packed));
    const input = u8s(x), scratch = new StaticArray<u8>(outW * 8 + 16);
    const viaBlock = new StaticArray<u8>(outH * outW * numOut + 16), direct = new StaticArray<u8>(outH * outW * numOut + 16);
    qconv(ptr(i32s([
      addr(input), inH, inW, inC, kh, kw, 1, 2, 1, 0, outH, outW, 30,
      addr(packed), numOut, addr(viaBlock), 128, 3, 250, addr(scratch),
    ])));
    convKernel(ptr(input), inH, inW, inC, kh, kw, 1, 2, 1, 0, outH, outW, 30,
      ptr(packed), numOut, ptr(direct), 128, 3, 250, ptr(scratch));
    expect<string>(listU8(viaBlock, outH * outW * numOut)).toBe(listU8(direct, outH * outW * numOut));
  });
});

// dwconvBackpropInput and dwconvBackpropFilter: the float32 depthwise-convolution gradients, hand-computed.

import { dwconvBackpropInput } from "../dwconv-backprop-input";
import { dwconvBackpropFilter } from "../dwconv-backprop-filter";
import { f32s, ptr } from "./helpers";

function list(a: StaticArray<f32>): string {
  const parts = new Array<string>(a.length);
  for (let i = 0; i < a.length; i++) parts[i] = (<i32>a[i]).toString();
  return parts.join(",");
}

function poisoned(n: i32): StaticArray<f32> {
  const a = new StaticArray<f32>(n);
  for (let i = 0; i < n; i++) a[i] = 1000;
  return a;
}

describe("dwconvBackpropInput", () => {
  it("one 2×2 window, no padding: dx = dy · w, tap by tap", () => {
    const dx = poisoned(4);
    dwconvBackpropInput(ptr(f32s([2])), ptr(f32s([1, 2, 3, 4])), ptr(dx), 1, 2, 2, 1, 1, 1, 1, 2, 2, 1, 1, 0, 0);
    expect<string>(list(dx)).toBe("2,4,6,8", "each input pixel is read by exactly one tap");
  });

  it("3×3 stride 1, SAME (pad 1): the centre pixel sums all nine taps, a corner four", () => {
    // one channel, dy = 1 everywhere, w[t] = t: centre Σ t = 36; pixel (0, 0) is read by the
    // outputs (0, 0), (0, 1), (1, 0), (1, 1) through taps 4, 3, 1, 0: 8
    const dy = new Array<f32>(9).fill(1);
    const dx = poisoned(9);
    dwconvBackpropInput(ptr(f32s(dy)), ptr(f32s([0, 1, 2, 3, 4, 5, 6, 7, 8])), ptr(dx), 1, 3, 3, 1, 1, 3, 3, 3, 3, 1, 1, 1, 1);
    expect<f32>(dx[4]).toBe(36, "the centre");
    expect<f32>(dx[0]).toBe(8, "a corner");
    expect<f32>(dx[2]).toBe(12, "the top-right corner: taps 1, 2, 4, 5 (outputs (1, 2), (1, 1), (0, 2), (0, 1))");
  });

  it("stride 2, five channels (a SIMD group of four and a tail): each channel scaled by its own tap", () => {
    // 2×2 input, 1×1 kernel, stride 2: only pixel (0, 0) is read; dx there = dy · w per channel, 0 elsewhere
    const dx = poisoned(20);
    dwconvBackpropInput(ptr(f32s([1, 2, 3, 4, 5])), ptr(f32s([10, 20, 30, 40, 50])), ptr(dx), 1, 2, 2, 5, 1, 1, 1, 1, 1, 2, 2, 0, 0);
    expect<string>(list(dx)).toBe("10,40,90,160,250," + "0,0,0,0,0,".repeat(2) + "0,0,0,0,0", "pixels (0, 1), (1, 0), (1, 1) get nothing");
  });

  it("depth multiplier 2: dx[c] sums dy[c·2 + m] · w[c·2 + m] over m", () => {
    const dx = poisoned(2);
    dwconvBackpropInput(ptr(f32s([1, 2, 3, 4])), ptr(f32s([5, 6, 7, 8])), ptr(dx), 1, 1, 1, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0);
    expect<string>(list(dx)).toBe("17,53", "1·5 + 2·6, 3·7 + 4·8");
  });
});

describe("dwconvBackpropFilter", () => {
  it("one 2×2 window, no padding: dW = x · dy, tap by tap", () => {
    const dw = poisoned(4), row = poisoned(4), sums = new StaticArray<f64>(4);
    dwconvBackpropFilter(ptr(f32s([1, 2, 3, 4])), ptr(f32s([2])), ptr(dw), ptr(row), ptr(sums), 1, 2, 2, 1, 1, 1, 1, 2, 2, 1, 1, 0, 0);
    expect<string>(list(dw)).toBe("2,4,6,8", "each tap sees one pixel");
  });

  it("3×3 stride 1, SAME, over a batch of 2: the centre tap sums every x · dy, a corner tap skips the padding", () => {
    // x = 1..9 in image 0 and 2× that in image 1, dy = 1: centre tap Σ x = 45 + 90 = 135;
    // tap 0 (top-left) reads pixel (oh − 1, ow − 1): the 2×2 block 1, 2, 4, 5 → 12 + 24 = 36
    const x = new Array<f32>(18);
    for (let i = 0; i < 9; i++) { x[i] = <f32>(i + 1); x[9 + i] = x[i] * 2; }
    const dy = new Array<f32>(18).fill(1);
    const dw = poisoned(9), row = poisoned(9), sums = new StaticArray<f64>(9);
    dwconvBackpropFilter(ptr(f32s(x)), ptr(f32s(dy)), ptr(dw), ptr(row), ptr(sums), 2, 3, 3, 1, 1, 3, 3, 3, 3, 1, 1, 1, 1);
    expect<f32>(dw[4]).toBe(135, "the centre tap");
    expect<f32>(dw[0]).toBe(36, "the top-left tap");
    expect<f32>(dw[8]).toBe(3 * (5 + 6 + 8 + 9), "the bottom-right tap: pixels 5, 6, 8, 9 in both images");
  });

  it("stride 2, five channels, depth multiplier 1: per-channel products (the SIMD group and the tail)", () => {
    // 2×2 input, 1×1 kernel, stride 2: only pixel (0, 0) reaches the one output
    const x = new Array<f32>(20).fill(7);
    for (let c = 0; c < 5; c++) x[c] = <f32>(c + 1);
    const dw = poisoned(5), row = poisoned(5), sums = new StaticArray<f64>(5);
    dwconvBackpropFilter(ptr(f32s(x)), ptr(f32s([1, 10, 100, 1000, 10000])), ptr(dw), ptr(row), ptr(sums), 1, 2, 2, 5, 1, 1, 1, 1, 1, 2, 2, 0, 0);
    expect<string>(list(dw)).toBe("1,20,300,4000,50000", "x[0, 0, c] · dy[c]; the 7s of the other pixels are never read");
  });

  it("depth multiplier 2: dW[c·2 + m] = x[c] · dy[c·2 + m]", () => {
    const dw = poisoned(4), row = poisoned(4), sums = new StaticArray<f64>(4);
    dwconvBackpropFilter(ptr(f32s([3, 5])), ptr(f32s([1, 2, 3, 4])), ptr(dw), ptr(row), ptr(sums), 1, 1, 1, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0);
    expect<string>(list(dw)).toBe("3,6,15,20", "3·1, 3·2, 5·3, 5·4");
  });
});

// Prior generators: tiny hand-computed configurations for each family, count-only mode, clip
// rules, and the counts of the real SSD300 VOC and BlazeFace configurations.

import { priorsMediapipe, priorsSsd, priorsTfGrid, priorsTorchvision } from "../priors";
import { expectNear, f64s, ptr } from "./helpers";

const SQRT2 = Math.SQRT2;

/** Asserts row `n` of `out` is (cx, cy, w, h) within f32 rounding. */
function expectRow(out: StaticArray<f32>, n: i32, cx: f64, cy: f64, w: f64, h: f64, why: string): void {
  const at = 4 * n;
  const tag = why + " row " + n.toString();
  expectNear(out[at], cx, 1e-6, tag + " cx");
  expectNear(out[at + 1], cy, 1e-6, tag + " cy");
  expectNear(out[at + 2], w, 1e-6, tag + " w");
  expectNear(out[at + 3], h, 1e-6, tag + " h");
}

// ---------------------------------------------------------------------------------------------
// priorsSsd. Block: imageW, imageH, numMaps, offset, clip, then per map
//   fmW, fmH, stepW, stepH, minSize, maxSize, numRatios, ratio…

// One 2×2 map, image 100, step 50, min 30, max 60, ratios [2]:
//   f_k = 100/50 = 2, centres (j + 0.5)/2 ∈ {0.25, 0.75}, row i outer, column j inner
//   s = 30/100 = 0.3;  s' = √(0.3·0.6) = √0.18 = 0.4242641
//   ratio 2: (0.3·√2, 0.3/√2) = (0.4242641, 0.2121320), then swapped
//   4 boxes × 4 locations = 16 rows
function tinySsd(clip: f64): StaticArray<f64> {
  return f64s([100, 100, 1, 0.5, clip, 2, 2, 50, 50, 30, 60, 1, 2]);
}

// image 100, one 2×1 map, step 80 (f_k = 1.25): centres x (0.4, 1.2), y 0.4;
// min 80, max 150, ratio 2: s = 0.8, s' = √(0.8·1.5) = 1.0954, (0.8√2 = 1.1314, 0.8/√2 = 0.5657)
function clipCase(clip: f64): StaticArray<f64> {
  return f64s([100, 100, 1, 0.5, clip, 2, 1, 80, 80, 80, 150, 1, 2]);
}

describe("priorsSsd", () => {
  it("writes the 16 hand-computed rows of the tiny 2×2 configuration", () => {
    const out = new StaticArray<f32>(16 * 4);
    expect<i32>(priorsSsd(ptr(tinySsd(0)), ptr(out))).toBe(16, "(1 + 1 + 2·1) boxes per location × 4 locations");
    const s = 0.3, sp = Math.sqrt(0.18), a = 0.3 * SQRT2, b = 0.3 / SQRT2;
    const cxs: f64[] = [0.25, 0.75, 0.25, 0.75], cys: f64[] = [0.25, 0.25, 0.75, 0.75];
    for (let loc = 0; loc < 4; loc++) {
      const cx = cxs[loc], cy = cys[loc];
      expectRow(out, 4 * loc, cx, cy, s, s, "(s, s)");
      expectRow(out, 4 * loc + 1, cx, cy, sp, sp, "(√(s·s'), √(s·s'))");
      expectRow(out, 4 * loc + 2, cx, cy, a, b, "(s√2, s/√2)");
      expectRow(out, 4 * loc + 3, cx, cy, b, a, "(s/√2, s√2)");
    }
  });

  it("only counts when outPtr is 0, and writes nothing", () => {
    expect<i32>(priorsSsd(ptr(tinySsd(0)), 0)).toBe(16, "the same count without an output");
  });

  it("omits the s' box when maxSize ≤ 0", () => {
    // 3 boxes per location instead of 4
    expect<i32>(priorsSsd(ptr(f64s([100, 100, 1, 0.5, 0, 2, 2, 50, 50, 30, 0, 1, 2])), 0)).toBe(12, "no max size, no s' box");
  });

  it("generates the 8732 priors of SSD300 VOC from the real parameter block", () => {
    // maps 38,19,10,5,3,1 with 4,6,6,6,4,4 boxes: 5776 + 2166 + 600 + 150 + 36 + 4 = 8732
    const block = f64s([
      300, 300, 6, 0.5, 1,
      38, 38, 8, 8, 30, 60, 1, 2,
      19, 19, 16, 16, 60, 111, 2, 2, 3,
      10, 10, 32, 32, 111, 162, 2, 2, 3,
      5, 5, 64, 64, 162, 213, 2, 2, 3,
      3, 3, 100, 100, 213, 264, 1, 2,
      1, 1, 300, 300, 264, 315, 1, 2
    ]);
    expect<i32>(priorsSsd(ptr(block), 0)).toBe(8732, "the paper's count");
    const out = new StaticArray<f32>(8732 * 4);
    expect<i32>(priorsSsd(ptr(block), ptr(out))).toBe(8732, "writing gives the same count");
    // first prior: f_k = 300/8 = 37.5, centre 0.5/37.5 = 0.013333, s = 30/300 = 0.1
    expectRow(out, 0, 0.5 / 37.5, 0.5 / 37.5, 0.1, 0.1, "first");
    expectRow(out, 1, 0.5 / 37.5, 0.5 / 37.5, Math.sqrt(0.1 * 0.2), Math.sqrt(0.1 * 0.2), "s' of the first location");
    // first prior of map 2 at 38·38·4 = 5776: centre 0.5/18.75 = 0.026667, s = 0.2
    expectRow(out, 5776, 0.5 / 18.75, 0.5 / 18.75, 0.2, 0.2, "map 2 starts");
    // last map, one location at (0.5, 0.5): s = 0.88, s' = √(0.88·1.05) = 0.9612492,
    //   ratio 2: (0.88·√2 = 1.2445 → clipped to 1, 0.88/√2 = 0.6222540), then swapped
    expectRow(out, 8728, 0.5, 0.5, 0.88, 0.88, "last map (s, s)");
    expectRow(out, 8729, 0.5, 0.5, Math.sqrt(0.88 * 1.05), Math.sqrt(0.88 * 1.05), "last map s'");
    expectRow(out, 8730, 0.5, 0.5, 1, 0.88 / SQRT2, "last map (s√2 clipped, s/√2)");
    expectRow(out, 8731, 0.5, 0.5, 0.88 / SQRT2, 1, "last map (s/√2, s√2 clipped)");
  });


  it("clip clamps centres and sizes to [0, 1], as ssd.pytorch clamps the whole output", () => {
    const out = new StaticArray<f32>(8 * 4);
    expect<i32>(priorsSsd(ptr(clipCase(1)), ptr(out))).toBe(8, "4 boxes × 2 locations");
    expectRow(out, 1, 0.4, 0.4, 1, 1, "s' = 1.0954 clipped to 1");
    expectRow(out, 2, 0.4, 0.4, 1, 0.8 / SQRT2, "0.8√2 clipped to 1");
    expectRow(out, 4, 1, 0.4, 0.8, 0.8, "centre x 1.2 clipped to 1");
  });

  it("without clip, the same configuration leaves everything unclamped", () => {
    const out = new StaticArray<f32>(8 * 4);
    priorsSsd(ptr(clipCase(0)), ptr(out));
    expectRow(out, 1, 0.4, 0.4, Math.sqrt(1.2), Math.sqrt(1.2), "s' = √1.2");
    expectRow(out, 2, 0.4, 0.4, 0.8 * SQRT2, 0.8 / SQRT2, "0.8√2");
    expectRow(out, 4, 1.2, 0.4, 0.8, 0.8, "centre x 1.2");
  });
});

// ---------------------------------------------------------------------------------------------
// priorsTorchvision. Block: imageW, imageH, numMaps, clip, numMaps + 1 scales, then per map
//   fmW, fmH, step (≤ 0: none), numRatios, ratio…

describe("priorsTorchvision", () => {
  // 2×2 map, scales (0.2, 0.95), no step (centres (j + 0.5)/2), ratios [2]:
  //   s = 0.2, s' = √(0.2·0.95) = √0.19 = 0.4358899, ratio 2: (0.2828427, 0.1414214), swapped
  it("writes the 16 hand-computed rows of a tiny 2×2 configuration", () => {
    const block = f64s([300, 300, 1, 1, 0.2, 0.95, 2, 2, 0, 1, 2]);
    const out = new StaticArray<f32>(16 * 4);
    expect<i32>(priorsTorchvision(ptr(block), ptr(out))).toBe(16, "4 boxes × 4 locations");
    const sp = Math.sqrt(0.19), a = 0.2 * SQRT2, b = 0.2 / SQRT2;
    const cxs: f64[] = [0.25, 0.75, 0.25, 0.75], cys: f64[] = [0.25, 0.25, 0.75, 0.75];
    for (let loc = 0; loc < 4; loc++) {
      expectRow(out, 4 * loc, cxs[loc], cys[loc], 0.2, 0.2, "(s, s)");
      expectRow(out, 4 * loc + 1, cxs[loc], cys[loc], sp, sp, "(s', s')");
      expectRow(out, 4 * loc + 2, cxs[loc], cys[loc], a, b, "(s√r, s/√r)");
      expectRow(out, 4 * loc + 3, cxs[loc], cys[loc], b, a, "(s/√r, s√r)");
    }
    expect<i32>(priorsTorchvision(ptr(block), 0)).toBe(16, "count-only mode agrees");
  });

  // 2×1 map, image 300, step 250 (f_k = 1.2): centres x (0.5/1.2, 1.5/1.2 = 1.25), y 0.5/1.2;
  //   scales (0.9, 1.2): s' = √1.08 = 1.0392, ratio 2: (1.2728, 0.6364)
  it("clip clamps only widths and heights; a centre at 1.25 stays", () => {
    const block = f64s([300, 300, 1, 1, 0.9, 1.2, 2, 1, 250, 1, 2]);
    const out = new StaticArray<f32>(8 * 4);
    priorsTorchvision(ptr(block), ptr(out));
    expectRow(out, 1, 0.5 / 1.2, 0.5 / 1.2, 1, 1, "s' = 1.039 clipped");
    expectRow(out, 2, 0.5 / 1.2, 0.5 / 1.2, 1, 0.9 / SQRT2, "0.9√2 clipped");
    expectRow(out, 4, 1.25, 0.5 / 1.2, 0.9, 0.9, "the centre is not clipped (torchvision clamps wh only)");
  });

  it("without clip leaves sizes above 1", () => {
    const block = f64s([300, 300, 1, 0, 0.9, 1.2, 2, 1, 250, 1, 2]);
    const out = new StaticArray<f32>(8 * 4);
    priorsTorchvision(ptr(block), ptr(out));
    expectRow(out, 1, 0.5 / 1.2, 0.5 / 1.2, Math.sqrt(1.08), Math.sqrt(1.08), "s' unclipped");
    expectRow(out, 3, 0.5 / 1.2, 0.5 / 1.2, 0.9 / SQRT2, 0.9 * SQRT2, "swapped pair unclipped");
  });
});

// ---------------------------------------------------------------------------------------------
// priorsTfGrid. Block: numLayers, baseH, baseW, interpolatedRatio, reduceLowest, clip,
//   numRatios, ratio…, numLayers + 1 scales, then per layer fmH, fmW.

// two layers: 2×2 (reduced) and 1×1; ratios (1, 2, 0.5); scales (0.2, 0.95, 1.0); interp 1
//   layer 0, per location (stride 0.5, offset 0.25), boxes (w, h) = (s√r, s/√r):
//     (0.1, 1) → (0.1, 0.1); (0.2, 2) → (0.2828427, 0.1414214); (0.2, 0.5) → (0.1414214, 0.2828427)
//   layer 1 at (0.5, 0.5): (0.95, 0.95); (1.3435029, 0.6717514); (0.6717514, 1.3435029);
//     interpolated √(0.95·1.0) = 0.9746794, ratio 1
function tfBlock(clip: f64): StaticArray<f64> {
  return f64s([2, 1, 1, 1, 1, clip, 3, 1, 2, 0.5, 0.2, 0.95, 1.0, 2, 2, 1, 1]);
}

describe("priorsTfGrid", () => {

  it("writes the reduced lowest layer (0.1, 1), (s, 2), (s, 0.5) and the full upper layer", () => {
    const out = new StaticArray<f32>(16 * 4);
    expect<i32>(priorsTfGrid(ptr(tfBlock(0)), ptr(out))).toBe(16, "3 × 4 locations + (3 + 1) × 1");
    const cxs: f64[] = [0.25, 0.75, 0.25, 0.75], cys: f64[] = [0.25, 0.25, 0.75, 0.75];
    for (let loc = 0; loc < 4; loc++) {
      expectRow(out, 3 * loc, cxs[loc], cys[loc], 0.1, 0.1, "(0.1, 1)");
      expectRow(out, 3 * loc + 1, cxs[loc], cys[loc], 0.2 * SQRT2, 0.2 / SQRT2, "(s, 2)");
      expectRow(out, 3 * loc + 2, cxs[loc], cys[loc], 0.2 / SQRT2, 0.2 * SQRT2, "(s, 0.5)");
    }
    expectRow(out, 12, 0.5, 0.5, 0.95, 0.95, "layer 1 ratio 1");
    expectRow(out, 13, 0.5, 0.5, 0.95 * SQRT2, 0.95 / SQRT2, "layer 1 ratio 2");
    expectRow(out, 14, 0.5, 0.5, 0.95 / SQRT2, 0.95 * SQRT2, "layer 1 ratio 0.5");
    expectRow(out, 15, 0.5, 0.5, Math.sqrt(0.95), Math.sqrt(0.95), "interpolated √(s·s_next)");
  });

  it("without reduceLowest gives layer 0 all ratios plus the interpolated box", () => {
    const block = tfBlock(0);
    block[4] = 0;
    // (3 + 1) × 4 + (3 + 1) × 1 = 20
    expect<i32>(priorsTfGrid(ptr(block), 0)).toBe(20, "4 boxes per location on both layers");
    const out = new StaticArray<f32>(20 * 4);
    priorsTfGrid(ptr(block), ptr(out));
    expectRow(out, 0, 0.25, 0.25, 0.2, 0.2, "layer 0 ratio 1 at s = 0.2");
    expectRow(out, 3, 0.25, 0.25, Math.sqrt(0.2 * 0.95), Math.sqrt(0.2 * 0.95), "layer 0 interpolated");
  });

  it("clip clamps corners and re-centres: layer 1's 1.34-wide box becomes (0.5, 0.5, 1, 0.67)", () => {
    const out = new StaticArray<f32>(16 * 4);
    priorsTfGrid(ptr(tfBlock(1)), ptr(out));
    // x: 0.5 ∓ 0.6717514 → (−0.17, 1.17) → (0, 1): w 1, cx 0.5; y within [0, 1], unchanged
    expectRow(out, 13, 0.5, 0.5, 1, 0.95 / SQRT2, "clipped ratio 2");
    expectRow(out, 12, 0.5, 0.5, 0.95, 0.95, "a box inside the image is unchanged");
  });

  // one 2×2 layer, ratio 1, scale 0.8, no interpolation: boxes 0.8 wide at 0.25 / 0.75
  //   clipped x: (0.25 ∓ 0.4) → (0, 0.65): cx 0.325, w 0.65; (0.75 ∓ 0.4) → (0.35, 1): cx 0.675
  it("clip moves the centre of a box cut on one side only", () => {
    const block = f64s([1, 1, 1, 0, 0, 1, 1, 1, 0.8, 1.0, 2, 2]);
    const out = new StaticArray<f32>(4 * 4);
    expect<i32>(priorsTfGrid(ptr(block), ptr(out))).toBe(4, "one box per location");
    expectRow(out, 0, 0.325, 0.325, 0.65, 0.65, "cut on the left and top");
    expectRow(out, 1, 0.675, 0.325, 0.65, 0.65, "cut on the right and top");
    expectRow(out, 3, 0.675, 0.675, 0.65, 0.65, "cut on the right and bottom");
  });

  it("without clip the same boxes keep their centres and 0.8 size", () => {
    const block = f64s([1, 1, 1, 0, 0, 0, 1, 1, 0.8, 1.0, 2, 2]);
    const out = new StaticArray<f32>(4 * 4);
    priorsTfGrid(ptr(block), ptr(out));
    expectRow(out, 0, 0.25, 0.25, 0.8, 0.8, "unclipped");
  });
});

// ---------------------------------------------------------------------------------------------
// priorsMediapipe. Block: inputW, inputH, numLayers, minScale, maxScale, offsetX, offsetY,
//   interpolatedRatio, reduceLowest, fixedSize, numLayers strides, numRatios, ratio…

// BlazeFace (front camera): 128×128, 4 layers, scales 0.1484375…0.75, strides (8, 16, 16, 16),
// ratio 1, interpolated 1, fixed anchor size.
//   stride 8: 16×16 locations × (1 + 1) = 512; stride 16 (three layers share the 8×8 map):
//   64 × 3 × 2 = 384; 512 + 384 = 896.
function blazeFace(fixed: f64): StaticArray<f64> {
  return f64s([128, 128, 4, 0.1484375, 0.75, 0.5, 0.5, 1.0, 0, fixed, 8, 16, 16, 16, 1, 1.0]);
}

describe("priorsMediapipe", () => {
  it("generates BlazeFace's 896 anchors with fixed size 1", () => {
    expect<i32>(priorsMediapipe(ptr(blazeFace(1)), 0)).toBe(896, "512 + 384");
    const out = new StaticArray<f32>(896 * 4);
    expect<i32>(priorsMediapipe(ptr(blazeFace(1)), ptr(out))).toBe(896, "writing gives the same count");
    expectRow(out, 0, 0.5 / 16, 0.5 / 16, 1, 1, "first anchor");
    expectRow(out, 1, 0.5 / 16, 0.5 / 16, 1, 1, "its interpolated twin at the same centre");
    expectRow(out, 2, 1.5 / 16, 0.5 / 16, 1, 1, "x moves fastest");
    expectRow(out, 512, 0.5 / 8, 0.5 / 8, 1, 1, "first anchor of the shared 8×8 map");
    expectRow(out, 517, 0.5 / 8, 0.5 / 8, 1, 1, "six anchors share that centre");
    expectRow(out, 518, 1.5 / 8, 0.5 / 8, 1, 1, "the seventh moves on");
    expectRow(out, 895, 7.5 / 8, 7.5 / 8, 1, 1, "last anchor");
  });

  // scales: layer l = 0.1484375 + 0.6015625·l/3 = (0.1484375, 0.3489583, 0.5494792, 0.75);
  // interpolated √(s_l·s_{l+1}), the last with 1.0: (0.2275928, 0.4378874, 0.6419575, 0.8660254)
  it("without fixed size uses the layer scales and their interpolations, layer by layer", () => {
    const out = new StaticArray<f32>(896 * 4);
    priorsMediapipe(ptr(blazeFace(0)), ptr(out));
    expectRow(out, 0, 0.03125, 0.03125, 0.1484375, 0.1484375, "layer 0 ratio 1");
    expectRow(out, 1, 0.03125, 0.03125, 0.22759284, 0.22759284, "layer 0 interpolated");
    expectRow(out, 512, 0.0625, 0.0625, 0.34895833, 0.34895833, "layer 1");
    expectRow(out, 513, 0.0625, 0.0625, 0.43788735, 0.43788735, "layer 1 interpolated");
    expectRow(out, 514, 0.0625, 0.0625, 0.54947917, 0.54947917, "layer 2");
    expectRow(out, 515, 0.0625, 0.0625, 0.64195746, 0.64195746, "layer 2 interpolated");
    expectRow(out, 516, 0.0625, 0.0625, 0.75, 0.75, "layer 3");
    expectRow(out, 517, 0.0625, 0.0625, 0.8660254, 0.8660254, "layer 3 interpolated with 1.0");
  });

  it("reduceLowest gives layer 0 three boxes (0.1, 1), (s, 2), (s, 0.5) instead", () => {
    const block = blazeFace(0);
    block[8] = 1;
    // 256 × 3 + 384 = 1152
    expect<i32>(priorsMediapipe(ptr(block), 0)).toBe(1152, "three boxes per stride-8 location");
    const out = new StaticArray<f32>(1152 * 4);
    priorsMediapipe(ptr(block), ptr(out));
    expectRow(out, 0, 0.03125, 0.03125, 0.1, 0.1, "(0.1, 1)");
    expectRow(out, 1, 0.03125, 0.03125, 0.1484375 * SQRT2, 0.1484375 / SQRT2, "(s, 2)");
    expectRow(out, 2, 0.03125, 0.03125, 0.1484375 / SQRT2, 0.1484375 * SQRT2, "(s, 0.5)");
  });

  it("uses (min + max)/2 as the scale when there is a single layer", () => {
    // 16×16 input, stride 8 → 2×2 map; scale (0.2 + 0.6)/2 = 0.4; ratio 1, no interpolation
    const block = f64s([16, 16, 1, 0.2, 0.6, 0.5, 0.5, 0, 0, 0, 8, 1, 1.0]);
    const out = new StaticArray<f32>(4 * 4);
    expect<i32>(priorsMediapipe(ptr(block), ptr(out))).toBe(4, "one box per location");
    expectRow(out, 0, 0.25, 0.25, 0.4, 0.4, "single-layer scale");
    expectRow(out, 3, 0.75, 0.75, 0.4, 0.4, "last location");
  });
});

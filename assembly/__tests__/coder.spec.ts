// Box coding: decode / encode with variances and TF scale factors, clip, the log-scale clamp,
// scalar ↔ SIMD bit-identity, encode∘decode round trips, and IoU edge rules.

import {
  ENCODE_EPS, MAX_LOG_SCALE, ORDER_XYWH, ORDER_YXHW,
  boxArea, decodeBox, decodeBoxScalar, decodeBoxSimd, encodeBox, iou
} from "../coder";
import { Rng, bits, expectNear, f32s, ptr } from "./helpers";

// ssd.pytorch variances [0.1, 0.2] are per-component scales (0.1, 0.1, 0.2, 0.2);
// TF / torchvision scale factors (10, 10, 5, 5) are the same scales 1/10, 1/10, 1/5, 1/5.
const SX: f32 = 0.1, SY: f32 = 0.1, SW: f32 = 0.2, SH: f32 = 0.2;
const LN2_OVER_02: f32 = <f32>(Math.LN2 / 0.2); // th · 0.2 = ln 2, so exp(·) = 2

const SCALAR = 0, SIMD = 1, DISPATCH = 2;

function decodeWith(kind: i32, loc: StaticArray<f32>, prior: StaticArray<f32>, order: i32, clip: bool): StaticArray<f32> {
  const out = new StaticArray<f32>(4);
  if (kind == SCALAR) decodeBoxScalar(ptr(loc), ptr(prior), order, SX, SY, SW, SH, clip, ptr(out));
  else if (kind == SIMD) decodeBoxSimd(ptr(loc), ptr(prior), order, SX, SY, SW, SH, clip, ptr(out));
  else decodeBox(ptr(loc), ptr(prior), order, SX, SY, SW, SH, clip, ptr(out));
  return out;
}

function kindName(kind: i32): string {
  return kind == SCALAR ? "decodeBoxScalar" : kind == SIMD ? "decodeBoxSimd" : "decodeBox";
}

function expectCorners(box: StaticArray<f32>, x1: f64, y1: f64, x2: f64, y2: f64, tol: f64, who: string): void {
  expectNear(box[0], x1, tol, who + ": xmin = cx − w/2");
  expectNear(box[1], y1, tol, who + ": ymin = cy − h/2");
  expectNear(box[2], x2, tol, who + ": xmax = cx + w/2");
  expectNear(box[3], y2, tol, who + ": ymax = cy + h/2");
}

/** IoU of two corner boxes through the core's iou, areas from boxArea. */
function iouOf(a: StaticArray<f32>, b: StaticArray<f32>): f32 {
  return iou(
    a[0], a[1], a[2], a[3], boxArea(a[0], a[1], a[2], a[3]),
    b[0], b[1], b[2], b[3], boxArea(b[0], b[1], b[2], b[3])
  );
}

describe("decodeBox: variances [0.1, 0.2], x-first", () => {
  // prior (cx, cy, w, h) = (0.5, 0.5, 0.2, 0.4); offsets (1, −2, 0, ln2/0.2)
  //   cx = 0.5 + 1·0.1·0.2   = 0.52
  //   cy = 0.5 + (−2)·0.1·0.4 = 0.42
  //   w  = 0.2·exp(0·0.2)     = 0.2
  //   h  = 0.4·exp(ln 2)      = 0.8
  //   corners (0.52 − 0.1, 0.42 − 0.4, 0.52 + 0.1, 0.42 + 0.4) = (0.42, 0.02, 0.62, 0.82)
  it("decodes the hand case to (0.42, 0.02, 0.62, 0.82) in all three entry points", () => {
    const prior = f32s([0.5, 0.5, 0.2, 0.4]);
    const loc = f32s([1, -2, 0, LN2_OVER_02]);
    for (let kind = 0; kind < 3; kind++) {
      expectCorners(decodeWith(kind, loc, prior, ORDER_XYWH, false), 0.42, 0.02, 0.62, 0.82, 1e-6, kindName(kind));
    }
  });

  it("decodes zero offsets to the prior itself, in corner form", () => {
    // (0.3, 0.6, 0.2, 0.1) → (0.2, 0.55, 0.4, 0.65)
    const out = decodeWith(SCALAR, f32s([0, 0, 0, 0]), f32s([0.3, 0.6, 0.2, 0.1]), ORDER_XYWH, false);
    expectCorners(out, 0.2, 0.55, 0.4, 0.65, 1e-7, "zero offsets");
  });
});

describe("decodeBox: TF order yxhw, scale factors (10, 10, 5, 5)", () => {
  // The same box as above with the offsets stored TF-style: (ty, tx, th, tw) = (−2, 1, ln2/0.2, 0).
  it("reads (ty, tx, th, tw) and decodes the hand case to the same corners", () => {
    const prior = f32s([0.5, 0.5, 0.2, 0.4]);
    const loc = f32s([-2, 1, LN2_OVER_02, 0]);
    for (let kind = 0; kind < 3; kind++) {
      expectCorners(decodeWith(kind, loc, prior, ORDER_YXHW, false), 0.42, 0.02, 0.62, 0.82, 1e-6, kindName(kind));
    }
  });

  // The same four numbers read x-first mean tx = −2, ty = 1, tw = ln2/0.2, th = 0:
  //   cx = 0.5 − 2·0.1·0.2 = 0.46, cy = 0.5 + 1·0.1·0.4 = 0.54, w = 0.2·2 = 0.4, h = 0.4
  //   corners (0.26, 0.34, 0.66, 0.74)
  it("gives a different box when the same offsets are read x-first", () => {
    const prior = f32s([0.5, 0.5, 0.2, 0.4]);
    const loc = f32s([-2, 1, LN2_OVER_02, 0]);
    for (let kind = 0; kind < 3; kind++) {
      expectCorners(decodeWith(kind, loc, prior, ORDER_XYWH, false), 0.26, 0.34, 0.66, 0.74, 1e-6, kindName(kind));
    }
  });
});

describe("decodeBox: clip", () => {
  // prior (0.1, 0.9, 0.4, 0.4), zero offsets → (−0.1, 0.7, 0.3, 1.1)
  it("clamps corners to [0, 1] when clip is set", () => {
    const prior = f32s([0.1, 0.9, 0.4, 0.4]);
    const loc = f32s([0, 0, 0, 0]);
    for (let kind = 0; kind < 3; kind++) {
      expectCorners(decodeWith(kind, loc, prior, ORDER_XYWH, true), 0, 0.7, 0.3, 1, 1e-7, kindName(kind) + " clipped");
    }
  });

  it("leaves corners outside [0, 1] alone when clip is not set", () => {
    const prior = f32s([0.1, 0.9, 0.4, 0.4]);
    const loc = f32s([0, 0, 0, 0]);
    for (let kind = 0; kind < 3; kind++) {
      expectCorners(decodeWith(kind, loc, prior, ORDER_XYWH, false), -0.1, 0.7, 0.3, 1.1, 1e-7, kindName(kind) + " unclipped");
    }
  });
});

describe("decodeBox: MAX_LOG_SCALE", () => {
  // tw·sw = 1000·0.2 = 200 is clamped to ln(1000/16) = 4.1351666, so w = 0.01·62.5 = 0.625
  //   corners x: 0.5 ∓ 0.3125 = (0.1875, 0.8125); th = 0 keeps h = 0.2: y (0.4, 0.6)
  it("clamps a huge scaled tw to ln(1000/16): w grows by exactly 62.5×", () => {
    expectNear(Math.exp(<f64>MAX_LOG_SCALE), 62.5, 1e-5, "MAX_LOG_SCALE is ln(1000 / 16)");
    const prior = f32s([0.5, 0.5, 0.01, 0.2]);
    const loc = f32s([0, 0, 1000, 0]);
    for (let kind = 0; kind < 3; kind++) {
      expectCorners(decodeWith(kind, loc, prior, ORDER_XYWH, false), 0.1875, 0.4, 0.8125, 0.6, 2e-6, kindName(kind));
    }
  });

  // tw·sw = 20·0.2 = 4 < 4.135: w = 0.01·e^4 = 0.5459815, corners x 0.5 ∓ 0.27299075
  it("does not touch a scaled tw just under the clamp", () => {
    const prior = f32s([0.5, 0.5, 0.01, 0.2]);
    const loc = f32s([0, 0, 20, 0]);
    for (let kind = 0; kind < 3; kind++) {
      expectCorners(decodeWith(kind, loc, prior, ORDER_XYWH, false), 0.22700925, 0.4, 0.77299075, 0.6, 2e-6, kindName(kind));
    }
  });

  it("clamps th the same way in the TF order (lane 2 after the swap)", () => {
    // (ty, tx, th, tw) = (0, 0, 1000, 0): h = 0.01·62.5 = 0.625 → y (0.1875, 0.8125)
    const prior = f32s([0.5, 0.5, 0.2, 0.01]);
    const loc = f32s([0, 0, 1000, 0]);
    for (let kind = 0; kind < 3; kind++) {
      expectCorners(decodeWith(kind, loc, prior, ORDER_YXHW, false), 0.4, 0.1875, 0.6, 0.8125, 2e-6, kindName(kind));
    }
  });
});

describe("decodeBoxSimd vs decodeBoxScalar", () => {
  it("are bit-identical on 20 000 pseudo-random boxes, both orders, clip on and off", () => {
    const rng = new Rng(0x9E3779B9);
    const loc = new StaticArray<f32>(4), prior = new StaticArray<f32>(4);
    const a = new StaticArray<f32>(4), b = new StaticArray<f32>(4);
    let mismatches = 0;
    for (let n = 0; n < 20000; n++) {
      loc[0] = rng.uniform(-8, 8); loc[1] = rng.uniform(-8, 8);
      loc[2] = rng.uniform(-40, 40); loc[3] = rng.uniform(-40, 40); // reaches past the clamp
      prior[0] = rng.uniform(-0.2, 1.2); prior[1] = rng.uniform(-0.2, 1.2);
      prior[2] = rng.uniform(0.001, 1); prior[3] = rng.uniform(0.001, 1);
      const order = n & 1, clip = (n & 2) != 0;
      const sx = rng.uniform(0.05, 0.2), sy = rng.uniform(0.05, 0.2);
      const sw = rng.uniform(0.1, 0.3), sh = rng.uniform(0.1, 0.3);
      decodeBoxScalar(ptr(loc), ptr(prior), order, sx, sy, sw, sh, clip, ptr(a));
      decodeBoxSimd(ptr(loc), ptr(prior), order, sx, sy, sw, sh, clip, ptr(b));
      for (let c = 0; c < 4; c++) if (bits(a[c]) != bits(b[c])) mismatches++;
    }
    expect<i32>(mismatches).toBe(0, "the twins perform the same f32 operations in the same order");
  });

  it("would notice a one-ulp difference (the comparison is on bits, not values)", () => {
    const x: f32 = 0.42;
    expect<u32>(bits(x)).not.toBe(bits(reinterpret<f32>(reinterpret<u32>(x) + 1)), "adjacent floats differ in bits");
  });
});

describe("encodeBox", () => {
  it("inverts the hand case: (0.42, 0.02, 0.62, 0.82) on (0.5, 0.5, 0.2, 0.4) → (1, −2, 0, ln2/0.2)", () => {
    // tx = (0.52 − 0.5)/0.2/0.1 = 1, ty = (0.42 − 0.5)/0.4/0.1 = −2,
    // tw = ln(0.2/0.2)/0.2 = 0, th = ln(0.8/0.4)/0.2 = ln 2/0.2 = 3.4657359
    const out = new StaticArray<f32>(4);
    encodeBox(ptr(f32s([0.42, 0.02, 0.62, 0.82])), ptr(f32s([0.5, 0.5, 0.2, 0.4])), ORDER_XYWH, SX, SY, SW, SH, ptr(out));
    expectNear(out[0], 1, 1e-5, "tx");
    expectNear(out[1], -2, 1e-5, "ty");
    expectNear(out[2], 0, 1e-5, "tw");
    expectNear(out[3], Math.LN2 / 0.2, 1e-5, "th");
  });

  it("writes (ty, tx, th, tw) in the TF order", () => {
    const out = new StaticArray<f32>(4);
    encodeBox(ptr(f32s([0.42, 0.02, 0.62, 0.82])), ptr(f32s([0.5, 0.5, 0.2, 0.4])), ORDER_YXHW, SX, SY, SW, SH, ptr(out));
    expectNear(out[0], -2, 1e-5, "ty comes first");
    expectNear(out[1], 1, 1e-5, "tx second");
    expectNear(out[2], Math.LN2 / 0.2, 1e-5, "th third");
    expectNear(out[3], 0, 1e-5, "tw last");
  });

  it("guards log(0): a zero-width box encodes to the finite ln(ENCODE_EPS)/sw", () => {
    // ln(1e-8)/0.2 = −18.420681/0.2 = −92.103404
    const out = new StaticArray<f32>(4);
    encodeBox(ptr(f32s([0.5, 0.4, 0.5, 0.6])), ptr(f32s([0.5, 0.5, 0.2, 0.2])), ORDER_XYWH, SX, SY, SW, SH, ptr(out));
    expect<f32>(out[2]).toBeFinite("the epsilon keeps log away from −∞");
    expectNear(out[2], Math.log(<f64>ENCODE_EPS) / 0.2, 1e-3, "tw = ln(eps)/0.2");
  });

  it("does not apply the guard to a real box: th of a non-degenerate box is its plain log", () => {
    const out = new StaticArray<f32>(4);
    encodeBox(ptr(f32s([0.5, 0.4, 0.5, 0.6])), ptr(f32s([0.5, 0.5, 0.2, 0.2])), ORDER_XYWH, SX, SY, SW, SH, ptr(out));
    expectNear(out[3], 0, 1e-6, "h = 0.2 = prior h, so th = ln 1 / 0.2 = 0");
  });

  it("round-trips encode ∘ decode within 1e-5 on 5 000 random boxes, both orders", () => {
    const rng = new Rng(12345);
    const box = new StaticArray<f32>(4), prior = new StaticArray<f32>(4);
    const loc = new StaticArray<f32>(4), back = new StaticArray<f32>(4);
    let worst: f64 = 0;
    for (let n = 0; n < 5000; n++) {
      box[0] = rng.uniform(0, 0.5); box[1] = rng.uniform(0, 0.5);
      box[2] = box[0] + rng.uniform(0.02, 0.5); box[3] = box[1] + rng.uniform(0.02, 0.5);
      prior[0] = rng.uniform(0, 1); prior[1] = rng.uniform(0, 1);
      prior[2] = rng.uniform(0.02, 0.5); prior[3] = rng.uniform(0.02, 0.5);
      const order = n & 1;
      encodeBox(ptr(box), ptr(prior), order, SX, SY, SW, SH, ptr(loc));
      decodeBoxScalar(ptr(loc), ptr(prior), order, SX, SY, SW, SH, false, ptr(back));
      for (let c = 0; c < 4; c++) worst = max<f64>(worst, Math.abs(<f64>back[c] - <f64>box[c]));
    }
    expect<f64>(worst).toBeLessThan(1e-5, "encode is the exact inverse of decode up to f32 rounding");
  });
});

describe("iou", () => {
  it("is exactly 1 for identical boxes", () => {
    // inter is computed with the same subtractions and product as the area, so inter = area
    const a = f32s([0.1, 0.2, 0.5, 0.7]);
    expect<f32>(iouOf(a, a)).toBe(1, "inter = areaA = areaB, union = area");
  });

  it("is 0 for disjoint boxes", () => {
    expect<f32>(iouOf(f32s([0, 0, 0.2, 0.2]), f32s([0.5, 0.5, 0.9, 0.9]))).toBe(0, "no overlap, no intersection");
  });

  it("is 0 for boxes that only touch along an edge", () => {
    // [0,0.5]×[0,0.5] and [0.5,1]×[0,0.5]: inter width min(0.5,1) − max(0,0.5) = 0
    expect<f32>(iouOf(f32s([0, 0, 0.5, 0.5]), f32s([0.5, 0, 1, 0.5]))).toBe(0, "a shared edge has zero area");
  });

  it("is positive once touching boxes overlap by a sliver", () => {
    expect<f32>(iouOf(f32s([0, 0, 0.5, 0.5]), f32s([0.49, 0, 1, 0.5]))).toBeGreaterThan(0, "0.01 of overlap is overlap");
  });

  it("matches the hand case 1/7", () => {
    // A = [0,0.4]², B = [0.2,0.6]²: inter 0.2·0.2 = 0.04, union 0.16 + 0.16 − 0.04 = 0.28 → 1/7
    expectNear(iouOf(f32s([0, 0, 0.4, 0.4]), f32s([0.2, 0.2, 0.6, 0.6])), 1.0 / 7.0, 1e-6, "0.04 / 0.28");
  });

  it("is symmetric", () => {
    const a = f32s([0.05, 0.1, 0.45, 0.6]), b = f32s([0.2, 0.3, 0.7, 0.9]);
    expect<u32>(bits(iouOf(a, b))).toBe(bits(iouOf(b, a)), "min/max and + are commutative in IEEE");
  });

  it("gives 0 for a zero-area box inside a real one, never above a threshold", () => {
    // a vertical segment inside [0,1]²: iw = 0, so inter = 0 and 0 / (0 + 1 − 0) = 0
    const v = iouOf(f32s([0.3, 0.3, 0.3, 0.6]), f32s([0, 0, 1, 1]));
    expect<f32>(v).toBe(0, "a zero-area box has no intersection");
    expect<bool>(v > 0.45).toBe(false, "so it cannot suppress or be suppressed");
  });

  it("gives NaN for two identical zero-area boxes, which compares false with any threshold", () => {
    const p = f32s([0.3, 0.3, 0.3, 0.3]);
    const v = iouOf(p, p);
    expect<f32>(v).toBeNaN("0 / (0 + 0 − 0) is 0/0");
    expect<bool>(v > 0.45).toBe(false, "NaN > t is false");
    expect<bool>(v > 0).toBe(false, "NaN > 0 is false too");
  });

  it("is just above 0.45 for a box covering 0.4501 of a unit box", () => {
    // B ⊂ A = [0,1]², B = [0,1]×[0,0.4501]: inter = area B = 0.4501, union = area A = 1
    const v = iouOf(f32s([0, 0, 1, 1]), f32s([0, 0, 1, 0.4501]));
    expectNear(v, 0.4501, 1e-6, "IoU = areaB / areaA for nested boxes");
    expect<bool>(v > <f32>0.45).toBe(true, "0.4501 > 0.45: suppressed at NMS 0.45");
  });

  it("is just below 0.45 for a box covering 0.4499 of a unit box", () => {
    const v = iouOf(f32s([0, 0, 1, 1]), f32s([0, 0, 1, 0.4499]));
    expectNear(v, 0.4499, 1e-6, "IoU = areaB / areaA for nested boxes");
    expect<bool>(v > <f32>0.45).toBe(false, "0.4499 ≤ 0.45: kept at NMS 0.45");
  });

  // Shifted unit squares A = [0,1]², B = [s,1+s]×[0,1]: IoU = (1 − s)/(1 + s).
  //   IoU 0.4501 ⇔ s = 0.5499/1.4501 = 0.3792152…;  IoU 0.4499 ⇔ s = 0.5501/1.4499 = 0.3794055…
  it("is just above 0.45 for unit squares shifted by s = 0.5499/1.4501", () => {
    const s: f32 = 0.37921523;
    const v = iouOf(f32s([0, 0, 1, 1]), f32s([s, 0, 1 + s, 1]));
    expectNear(v, 0.4501, 1e-6, "(1 − s)/(1 + s)");
    expect<bool>(v > <f32>0.45).toBe(true, "above the NMS threshold");
  });

  it("is just below 0.45 for unit squares shifted by s = 0.5501/1.4499", () => {
    const s: f32 = 0.37940548;
    const v = iouOf(f32s([0, 0, 1, 1]), f32s([s, 0, 1 + s, 1]));
    expectNear(v, 0.4499, 1e-6, "(1 − s)/(1 + s)");
    expect<bool>(v > <f32>0.45).toBe(false, "below the NMS threshold");
  });
});

describe("boxArea", () => {
  it("is w·h for a proper box", () => {
    expectNear(boxArea(0.1, 0.2, 0.5, 0.7), 0.2, 1e-7, "0.4 · 0.5");
  });

  it("is 0, not negative, for an inverted box", () => {
    expect<f32>(boxArea(0.5, 0.2, 0.1, 0.7)).toBe(0, "x2 < x1 clamps the width to 0");
  });
});

// resizeToTensor: bilinear resize (half-pixel centres or TF's legacy rule), channel order, mean/std, layout.
//
// Hand case: a 2 × 1 image with pixels p0 = (0, 0, 0) and p1 = (100, 200, 40), resized to 4 × 1.
// Scale 2/4 = 0.5; destination x samples s = (x + 0.5)·0.5 − 0.5, clamped to [0, 1]:
//   x = 0: s = −0.25 → 0    → p0
//   x = 1: s =  0.25        → 0.75·p0 + 0.25·p1 = (25, 50, 10)
//   x = 2: s =  0.75        → 0.25·p0 + 0.75·p1 = (75, 150, 30)
//   x = 3: s =  1.25 → 1    → p1
// With one source row, y never blends.
//
// TF's legacy rule (tfLegacy): s = x·0.5 = 0, 0.5, 1, 1.5 → 1: p0, (50, 100, 20), p1, p1.

import { resizeToTensor, resizeToU8 } from "../resize";
import { ptr } from "./helpers";

function u8s(values: u8[]): StaticArray<u8> {
  const out = new StaticArray<u8>(values.length + 4); // + the 4 readable bytes the contract asks for
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

const tables = new StaticArray<i32>(64);

function expectValues(out: StaticArray<f32>, expected: f32[], why: string): void {
  for (let i = 0; i < expected.length; i++) {
    expect<f32>(out[i]).toBeCloseTo(expected[i], 4, why + " (value " + i.toString() + ")");
  }
}

describe("resizeToTensor", () => {
  it("upsamples an RGB image with half-pixel centres into NCHW planes (SIMD path)", () => {
    const image = u8s([0, 0, 0, 100, 200, 40]);
    const out = new StaticArray<f32>(12);
    resizeToTensor(ptr(image), 2, 1, 3, ptr(out), 4, 1, true, false, false, 0, 0, 0, 1, 1, 1, ptr(tables));
    expectValues(out, [0, 25, 75, 100, 0, 50, 150, 200, 0, 10, 30, 40], "R plane, G plane, B plane");
  });

  it("reverses the channels for BGR and writes NHWC pixel by pixel", () => {
    const image = u8s([0, 0, 0, 100, 200, 40]);
    const out = new StaticArray<f32>(12);
    resizeToTensor(ptr(image), 2, 1, 3, ptr(out), 4, 1, false, true, false, 0, 0, 0, 1, 1, 1, ptr(tables));
    expectValues(out, [0, 0, 0, 10, 50, 25, 30, 150, 75, 40, 200, 100], "(B, G, R) per pixel");
  });

  it("subtracts the mean and multiplies by 1/std per tensor channel", () => {
    const image = u8s([0, 0, 0, 100, 200, 40]);
    const out = new StaticArray<f32>(12);
    resizeToTensor(ptr(image), 2, 1, 3, ptr(out), 4, 1, true, false, false, 10, 20, 30, 0.5, 0.25, 2, ptr(tables));
    // R: ([0, 25, 75, 100] − 10)·0.5, G: ([0, 50, 150, 200] − 20)·0.25, B: ([0, 10, 30, 40] − 30)·2
    expectValues(out, [-5, 7.5, 32.5, 45, -5, 7.5, 32.5, 45, -60, -40, 0, 20], "normalised planes");
  });

  it("RGBA input ignores alpha and equals the RGB result", () => {
    const rgba = u8s([0, 0, 0, 255, 100, 200, 40, 7]);
    const rgb = u8s([0, 0, 0, 100, 200, 40]);
    const a = new StaticArray<f32>(12), b = new StaticArray<f32>(12);
    resizeToTensor(ptr(rgba), 2, 1, 4, ptr(a), 4, 1, true, false, false, 0, 0, 0, 1, 1, 1, ptr(tables));
    resizeToTensor(ptr(rgb), 2, 1, 3, ptr(b), 4, 1, true, false, false, 0, 0, 0, 1, 1, 1, ptr(tables));
    for (let i = 0; i < 12; i++) expect<f32>(a[i]).toBe(b[i], "alpha must not leak into any channel");
  });

  it("grey input (scalar path) is replicated to all three planes", () => {
    const grey = u8s([0, 100]);
    const out = new StaticArray<f32>(12);
    resizeToTensor(ptr(grey), 2, 1, 1, ptr(out), 4, 1, true, false, false, 0, 0, 0, 1, 1, 1, ptr(tables));
    expectValues(out, [0, 25, 75, 100, 0, 25, 75, 100, 0, 25, 75, 100], "three equal planes");
  });

  it("downsamples 4 × 4 to 2 × 2 by averaging 2 × 2 blocks (samples fall between pixels)", () => {
    // scale 2: s = (d + 0.5)·2 − 0.5 = 0.5 and 2.5 → each output is the mean of a 2 × 2 block
    const values: u8[] = [];
    for (let i = 0; i < 16; i++) { values.push(<u8>(i * 10)); values.push(0); values.push(0); }
    const image = u8s(values);
    const out = new StaticArray<f32>(12);
    resizeToTensor(ptr(image), 4, 4, 3, ptr(out), 2, 2, true, false, false, 0, 0, 0, 1, 1, 1, ptr(tables));
    // block means of 10·i: rows (0,1)·cols (0,1) → (0+10+40+50)/4 = 25; cols (2,3) → 45; rows (2,3) → 105, 125
    expectValues(out, [25, 45, 105, 125], "R plane");
  });
});

describe("resizeToTensor with TF's legacy rule (no half-pixel offset)", () => {
  it("upsamples from the top-left corner: p0, halfway, p1, then p1 again past the last pixel (SIMD path)", () => {
    const image = u8s([0, 0, 0, 100, 200, 40]);
    const out = new StaticArray<f32>(12);
    resizeToTensor(ptr(image), 2, 1, 3, ptr(out), 4, 1, true, false, true, 0, 0, 0, 1, 1, 1, ptr(tables));
    expectValues(out, [0, 50, 100, 100, 0, 100, 200, 200, 0, 20, 40, 40], "R plane, G plane, B plane");
  });

  it("downsamples 4 × 4 to 2 × 2 by picking pixels (0, 0), (2, 0), (0, 2), (2, 2), not block means", () => {
    // scale 2: s = d·2 = 0 and 2, whole pixels, so nothing blends
    const values: u8[] = [];
    for (let i = 0; i < 16; i++) { values.push(<u8>(i * 10)); values.push(0); values.push(0); }
    const image = u8s(values);
    const out = new StaticArray<f32>(12);
    resizeToTensor(ptr(image), 4, 4, 3, ptr(out), 2, 2, true, false, true, 0, 0, 0, 1, 1, 1, ptr(tables));
    expectValues(out, [0, 20, 80, 100], "R plane");
  });

  it("5 → 2 on grey (scalar path): s = 0 and 2.5, so pixel 0 and the mean of pixels 2 and 3", () => {
    const grey = u8s([0, 10, 20, 30, 40]);
    const out = new StaticArray<f32>(6);
    resizeToTensor(ptr(grey), 5, 1, 1, ptr(out), 2, 1, false, false, true, 0, 0, 0, 1, 1, 1, ptr(tables));
    expectValues(out, [0, 0, 0, 25, 25, 25], "NHWC, grey replicated");
  });
});

describe("resizeToU8", () => {
  it("rounds the blends half to even: 0.5 → 0, 1.5 → 2, 2.5 → 2 (NCHW)", () => {
    // p0 = (0, 1, 2), p1 = (2, 5, 8) → x = 1 is 0.75·p0 + 0.25·p1 = (0.5, 2, 3.5), x = 2 is (1.5, 4, 6.5)
    const image = u8s([0, 1, 2, 2, 5, 8]);
    const out = new StaticArray<u8>(12);
    resizeToU8(ptr(image), 2, 1, 3, ptr(out), 4, 1, true, false, false, ptr(tables));
    const expected: u8[] = [0, 0, 2, 2, 1, 2, 4, 5, 2, 4, 6, 8];
    for (let i = 0; i < 12; i++) expect<u8>(out[i]).toBe(expected[i], "value " + i.toString());
  });

  it("rounds TF-legacy blends half to even too: (0.5, 1.5, 3.5) → (0, 2, 4)", () => {
    // p0 = (0, 1, 2), p1 = (1, 2, 5); x = 1 samples s = 0.5, halfway
    const image = u8s([0, 1, 2, 1, 2, 5]);
    const out = new StaticArray<u8>(12);
    resizeToU8(ptr(image), 2, 1, 3, ptr(out), 4, 1, true, false, true, ptr(tables));
    const expected: u8[] = [0, 0, 1, 1, 1, 2, 2, 2, 2, 4, 5, 5];
    for (let i = 0; i < 12; i++) expect<u8>(out[i]).toBe(expected[i], "value " + i.toString());
  });

  it("equals rounding resizeToTensor's output, byte for byte, in every layout, channel count and rule", () => {
    let seed: u32 = 12345;
    const values: u8[] = [];
    for (let i = 0; i < 7 * 5 * 4; i++) { seed = seed * 1664525 + 1013904223; values.push(<u8>(seed >> 24)); }
    const image = u8s(values);
    const floats = new StaticArray<f32>(3 * 11 * 6);
    const bytes = new StaticArray<u8>(3 * 11 * 6);
    for (let channels = 1; channels <= 4; channels++) {
      if (channels == 2) continue;
      for (let variant = 0; variant < 8; variant++) {
        const nchw = (variant & 1) != 0, bgr = (variant & 2) != 0, tfLegacy = (variant & 4) != 0;
        resizeToTensor(ptr(image), 7, 5, channels, ptr(floats), 11, 6, nchw, bgr, tfLegacy, 0, 0, 0, 1, 1, 1, ptr(tables));
        resizeToU8(ptr(image), 7, 5, channels, ptr(bytes), 11, 6, nchw, bgr, tfLegacy, ptr(tables));
        for (let i = 0; i < floats.length; i++) {
          expect<u8>(bytes[i]).toBe(<u8>nearest<f32>(floats[i]), "channels " + channels.toString() + ", variant " + variant.toString() + ", value " + i.toString());
        }
      }
    }
  });
});

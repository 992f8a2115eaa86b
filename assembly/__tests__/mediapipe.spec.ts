// MediaPipe's post-processing kernels (mediapipe.ts) on hand-computed cases, the numbers worked
// out from tensors_to_detections_calculator.cc and non_max_suppression_calculator.cc: linear
// decode with keypoints, the ≥ threshold on the best class, and weighted / greedy NMS.

import { candidateKey, keyCode, keyScore } from "../keys";
import { decodeMediapipe, nmsMediapipe, scanMediapipe, sigmoidMediapipe } from "../mediapipe";
import { ACTIVATION_NONE, ACTIVATION_SIGMOID } from "../scores";
import { f32s, ptr, u64s } from "./helpers";

describe("decodeMediapipe", () => {
  it("divides centre and size by the scales with no exp, and decodes keypoints like the centre", () => {
    // prior (0.25, 0.25, 0.5, 0.5); tx = 32 → 32/128·0.5 + 0.25 = 0.375; tw = 128 → w = 0.5
    const loc = f32s([32, 0, 128, 256, -64, 64]);
    const prior = f32s([0.25, 0.25, 0.5, 0.5]);
    const out = new StaticArray<f32>(6);
    expect(decodeMediapipe(ptr(loc), ptr(prior), 0, false, 128, 128, 128, 128, 1, ptr(out))).toBe(true, "a box of positive size is kept");
    expect(out[0]).toBe(0.125); expect(out[1]).toBe(-0.25); expect(out[2]).toBe(0.625); expect(out[3]).toBe(0.75);
    expect(out[4]).toBe(0.0, "keypoint x = −64/128·0.5 + 0.25"); expect(out[5]).toBe(0.5);
  });
  it("reads (y, x, h, w) and keypoints (y, x) in yxhw order", () => {
    const loc = f32s([0, 32, 256, 128, 64, -64]);
    const prior = f32s([0.25, 0.25, 0.5, 0.5]);
    const out = new StaticArray<f32>(6);
    decodeMediapipe(ptr(loc), ptr(prior), 1, false, 128, 128, 128, 128, 1, ptr(out));
    expect(out[0]).toBe(0.125); expect(out[3]).toBe(0.75); expect(out[4]).toBe(0.0); expect(out[5]).toBe(0.5);
  });
  it("exponential sizes: w = e^(tw / w_scale) · pw", () => {
    const loc = f32s([0, 0, 0, 0]);
    const prior = f32s([0.5, 0.5, 0.5, 0.25]);
    const out = new StaticArray<f32>(4);
    decodeMediapipe(ptr(loc), ptr(prior), 0, true, 10, 10, 5, 5, 0, ptr(out));
    expect(out[0]).toBe(0.25); expect(out[1]).toBe(0.375); expect(out[2]).toBe(0.75); expect(out[3]).toBe(0.625);
  });
  it("rejects a negative width, as ConvertToDetections drops it", () => {
    const out = new StaticArray<f32>(4);
    expect(decodeMediapipe(ptr(f32s([0, 0, -1, 64])), ptr(f32s([0.5, 0.5, 0.5, 0.5])), 0, false, 128, 128, 128, 128, 0, ptr(out))).toBe(false);
  });
});

describe("scanMediapipe", () => {
  it("keeps the best class of each prior when ≥ the threshold, best first", () => {
    // 3 priors × 2 classes, no background; thresholds hold the f32 just below 0.5
    const conf = f32s([0.5, 0.25, 0.75, 0.875, 0.125, 0.25]);
    const below: f32 = reinterpret<f32>(reinterpret<u32>(<f32>0.5) - 1);
    const thresholds = f32s([below, below]);
    const keys = new StaticArray<u64>(3);
    const n = scanMediapipe(ptr(conf), 3, 2, -1, ACTIVATION_NONE, ptr(thresholds), ptr(keys), 3);
    expect(n).toBe(2, "prior 2's best is 0.25");
    expect(keyCode(keys[0])).toBe(2 * 1 + 1, "prior 1, class 1 (0.875) first");
    expect(keyCode(keys[1])).toBe(0, "prior 0, class 0 (exactly 0.5) passes");
  });
  it("applies MediaPipe's sigmoid", () => {
    const conf = f32s([0]);
    const thresholds = f32s([0.25]);
    const keys = new StaticArray<u64>(1);
    expect(scanMediapipe(ptr(conf), 1, 1, -1, ACTIVATION_SIGMOID, ptr(thresholds), ptr(keys), 1)).toBe(1);
    expect(keyScore(keys[0])).toBe(0.5);
    expect(sigmoidMediapipe(200)).toBe(1.0);
  });
});

// rows: corners and one keypoint; A = (0.25, 0.25, 0.75, 0.75), B shifted by 0.125 in x
// (IoU 0.6), C far away
function nmsRows(): StaticArray<f32> {
  return f32s([0.25, 0.25, 0.75, 0.75, 0.5, 0.5,   0.375, 0.25, 0.875, 0.75, 0.75, 0.5,   0.0, 0.0, 0.125, 0.125, 0.0, 0.0]);
}
function nmsKeys(): StaticArray<u64> {
  return u64s([candidateKey(0.75, 0, 0, 1), candidateKey(0.25, 1, 0, 1), candidateKey(0.125, 2, 0, 1)]);
}

describe("nmsMediapipe", () => {
  it("weighted: blends overlapping rows by score and keeps the best key", () => {
    const outKeys = new StaticArray<u64>(3);
    let k = nmsKeys();
    let r = nmsRows();
    const outRows = new StaticArray<f32>(18);
    const n = nmsMediapipe(ptr(k), ptr(r), 24, 3, 1, 0.3, true, 10, ptr(outKeys), ptr(outRows));
    expect(n).toBe(2);
    expect(keyCode(outKeys[0])).toBe(0);
    expect(outRows[0]).toBe(0.28125, "0.75·0.25 + 0.25·0.375");
    expect(outRows[2]).toBe(0.78125, "0.75·0.75 + 0.25·0.875");
    expect(outRows[4]).toBe(0.5625, "0.75·0.5 + 0.25·0.75");
    expect(keyCode(outKeys[1])).toBe(2);
    expect(outRows[8]).toBe(0.125, "alone: its own row");
  });
  it("greedy: the overlapped row is dropped, kept rows are unchanged", () => {
    const outKeys = new StaticArray<u64>(3);
    let k = nmsKeys();
    let r = nmsRows();
    const outRows = new StaticArray<f32>(18);
    const n = nmsMediapipe(ptr(k), ptr(r), 24, 3, 1, 0.3, false, 10, ptr(outKeys), ptr(outRows));
    expect(n).toBe(2);
    expect(outRows[0]).toBe(0.25); expect(outRows[2]).toBe(0.75);
    expect(keyCode(outKeys[1])).toBe(2);
  });
  it("an IoU equal to the threshold does not suppress; maxKeep caps the output", () => {
    const outKeys = new StaticArray<u64>(3);
    let k = nmsKeys();
    let r = nmsRows();
    const outRows = new StaticArray<f32>(18);
    expect(nmsMediapipe(ptr(k), ptr(r), 24, 3, 1, 0.6, false, 10, ptr(outKeys), ptr(outRows))).toBe(3);
    k = nmsKeys();
    r = nmsRows();
    expect(nmsMediapipe(ptr(k), ptr(r), 24, 3, 1, 0.6, false, 1, ptr(outKeys), ptr(outRows))).toBe(1);
  });
});

// Ground-truth matching for training targets (ssd.pytorch layers/box_utils.py `match`).
//
// Every ground truth first claims its best prior (forced, whatever the IoU); every other prior
// takes the ground truth it overlaps most and is positive when that IoU is ≥ the threshold.
// Ties go to the lower index. The matched box is encoded with the same coder as inference.

import { boxArea, encodeBox, iou } from "./coder";

/**
 * Priors: `numPriors` rows (cx, cy, w, h) at `priorsPtr`. Truths: `numTruths` boxes
 * (xmin, ymin, xmax, ymax) at `truthsPtr` with i32 labels (1…C−1) at `labelsPtr`.
 * Writes the i32 class per prior at `confOutPtr` (0 = background) and 4 encoded offsets per
 * prior at `locOutPtr`. Scratch: `bestOverlapPtr` (numPriors f32), `bestTruthPtr`
 * (numPriors i32). Returns the number of positive priors.
 */
export function matchPriors(
  priorsPtr: usize, numPriors: i32, truthsPtr: usize, labelsPtr: usize, numTruths: i32,
  threshold: f32, order: i32, sx: f32, sy: f32, sw: f32, sh: f32,
  bestOverlapPtr: usize, bestTruthPtr: usize, confOutPtr: usize, locOutPtr: usize
): i32 {
  for (let p = 0; p < numPriors; p++) {
    store<f32>(bestOverlapPtr + (<usize>p << 2), -1);
    store<i32>(bestTruthPtr + (<usize>p << 2), 0);
  }
  for (let t = 0; t < numTruths; t++) {
    const truth = truthsPtr + (<usize>t << 4);
    const tx1 = load<f32>(truth, 0), ty1 = load<f32>(truth, 4), tx2 = load<f32>(truth, 8), ty2 = load<f32>(truth, 12);
    const truthArea = boxArea(tx1, ty1, tx2, ty2);
    for (let p = 0; p < numPriors; p++) {
      const prior = priorsPtr + (<usize>p << 4);
      const cx = load<f32>(prior, 0), cy = load<f32>(prior, 4), hw = load<f32>(prior, 8) * 0.5, hh = load<f32>(prior, 12) * 0.5;
      const px1 = cx - hw, py1 = cy - hh, px2 = cx + hw, py2 = cy + hh;
      let overlap = iou(tx1, ty1, tx2, ty2, truthArea, px1, py1, px2, py2, boxArea(px1, py1, px2, py2));
      if (!(overlap >= 0)) overlap = 0; // 0/0 for degenerate pairs
      const at = bestOverlapPtr + (<usize>p << 2);
      if (overlap > load<f32>(at)) {
        store<f32>(at, overlap);
        store<i32>(bestTruthPtr + (<usize>p << 2), t);
      }
    }
  }
  // each truth forces its best prior (strictly best; ties to the lower prior index)
  for (let t = 0; t < numTruths; t++) {
    const truth = truthsPtr + (<usize>t << 4);
    const tx1 = load<f32>(truth, 0), ty1 = load<f32>(truth, 4), tx2 = load<f32>(truth, 8), ty2 = load<f32>(truth, 12);
    const truthArea = boxArea(tx1, ty1, tx2, ty2);
    let bestPrior = 0;
    let bestOverlap: f32 = -1;
    for (let p = 0; p < numPriors; p++) {
      const prior = priorsPtr + (<usize>p << 4);
      const cx = load<f32>(prior, 0), cy = load<f32>(prior, 4), hw = load<f32>(prior, 8) * 0.5, hh = load<f32>(prior, 12) * 0.5;
      const px1 = cx - hw, py1 = cy - hh, px2 = cx + hw, py2 = cy + hh;
      let overlap = iou(tx1, ty1, tx2, ty2, truthArea, px1, py1, px2, py2, boxArea(px1, py1, px2, py2));
      if (!(overlap >= 0)) overlap = 0;
      if (overlap > bestOverlap) { bestOverlap = overlap; bestPrior = p; }
    }
    // a later truth forcing the same prior wins, as in ssd.pytorch's loop
    store<f32>(bestOverlapPtr + (<usize>bestPrior << 2), 2);
    store<i32>(bestTruthPtr + (<usize>bestPrior << 2), t);
  }
  let numPositive = 0;
  for (let p = 0; p < numPriors; p++) {
    const t = load<i32>(bestTruthPtr + (<usize>p << 2));
    const positive = numTruths > 0 && load<f32>(bestOverlapPtr + (<usize>p << 2)) >= threshold;
    store<i32>(confOutPtr + (<usize>p << 2), positive ? load<i32>(labelsPtr + (<usize>t << 2)) : 0);
    if (positive) numPositive++;
    const out = locOutPtr + (<usize>p << 4);
    if (numTruths > 0) {
      encodeBox(truthsPtr + (<usize>t << 4), priorsPtr + (<usize>p << 4), order, sx, sy, sw, sh, out);
    } else {
      store<u64>(out, 0);
      store<u64>(out, 0, 8);
    }
  }
  return numPositive;
}

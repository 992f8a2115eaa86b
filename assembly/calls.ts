// The core's exports other than post-processing (pipeline.ts) and the prior generators, in
// their calling convention: an export takes a parameter block's pointer, then a count, then for
// the tracker a second block — `(paramsPtr[, count[, blockPtr]])`, as post-processing takes
// `(planPtr, numImages[, blockPtr])` and the generators `(paramsPtr, outPtr)` — reads the block
// (params.ts: named fields the host writes from src/core/params.ts) and calls its kernel with
// plain arguments. The kernels keep their own typed signatures, which the as-pect specs call.

import { matchPriors as matchKernel } from "./match";
import { MatchParams, ResizeParams, TrackFrame } from "./params";
import { resize } from "./resize";
import { trackerUpdate as trackKernel } from "./track";

/** Matches `numTruths` ground truths to the priors; returns the number of positive priors. */
export function matchPriors(paramsPtr: usize, numTruths: i32): i32 {
  const p = changetype<MatchParams>(paramsPtr);
  return matchKernel(p.priorsPtr, p.numPriors, p.truthsPtr, p.labelsPtr, numTruths,
    p.threshold, p.order, p.scaleX, p.scaleY, p.scaleW, p.scaleH,
    p.bestOverlapPtr, p.bestTruthPtr, p.confOutPtr, p.locOutPtr);
}

/** Writes one image's f32 network input. */
export function resizeToTensor(paramsPtr: usize): void {
  resizeWith(paramsPtr, false);
}

/** Writes one image's uint8 network input (a uint8 input takes mean 0 and std 1: the host checks). */
export function resizeToU8(paramsPtr: usize): void {
  resizeWith(paramsPtr, true);
}

function resizeWith(paramsPtr: usize, u8out: bool): void {
  const p = changetype<ResizeParams>(paramsPtr);
  resize(p.srcPtr, p.width, p.height, p.channels, p.outPtr, p.outW, p.outH, p.nchw != 0, p.bgr != 0, p.tfLegacy != 0,
    p.mean0, p.mean1, p.mean2, p.invStd0, p.invStd1, p.invStd2, p.tablesPtr, u8out);
}

/** One frame of `numDets` detections; returns the number of tracks after it. */
export function trackerUpdate(statePtr: usize, numDets: i32, framePtr: usize): i32 {
  const f = changetype<TrackFrame>(framePtr);
  return trackKernel(statePtr, f.boxesPtr, f.classesPtr, f.scoresPtr, numDets, f.dt, f.scratchPtr);
}

// Parameter blocks of the core's exports other than post-processing (whose block is the Plan of
// plan.ts): matching, pre-processing resize and tracking. Each is an @unmanaged class of 32-bit
// fields laid out in declaration order, four bytes each, so field i is word i; the host writes
// it with writeBlock from the twin field list in src/core/params.ts, and
// tests/core/plan-layout.test.ts fails when the two disagree. The exports that read them are
// in calls.ts.

/** matchPriors: priors, truths and the box coding in; classes and offsets out (match.ts). */
// @ts-ignore: decorator
@unmanaged
export class MatchParams {
  priorsPtr: usize; //  0  numPriors × 4 f32 (cx, cy, w, h)
  numPriors: i32; //  1
  truthsPtr: usize; //  2  numTruths × 4 f32 (xmin, ymin, xmax, ymax)
  labelsPtr: usize; //  3  numTruths i32
  threshold: f32; //  4  IoU for a positive match
  order: i32; //  5  ORDER_XYWH or ORDER_YXHW (coder.ts)
  scaleX: f32; //  6  offset scales (coder.ts)
  scaleY: f32; //  7
  scaleW: f32; //  8
  scaleH: f32; //  9
  bestOverlapPtr: usize; // 10  numPriors f32 scratch
  bestTruthPtr: usize; // 11  numPriors i32 scratch
  confOutPtr: usize; // 12  numPriors i32: class per prior
  locOutPtr: usize; // 13  numPriors × 4 f32: encoded offsets
}

/** resizeToTensor / resizeToU8: one image in, one tensor out (resize.ts; memory contract there). */
// @ts-ignore: decorator
@unmanaged
export class ResizeParams {
  srcPtr: usize; //  0  height × width × channels u8, + 4 readable bytes
  width: i32; //  1
  height: i32; //  2
  channels: i32; //  3  1 grey, 3 RGB, 4 RGBA
  outPtr: usize; //  4  3 · outW · outH f32 (u8 for resizeToU8)
  outW: i32; //  5
  outH: i32; //  6
  nchw: i32; //  7  1: NCHW, 0: NHWC
  bgr: i32; //  8  1: reverse the channel order
  tfLegacy: i32; //  9  1: TF's legacy sampling rule, 0: half-pixel centres
  mean0: f32; // 10  per tensor channel (resizeToTensor only)
  mean1: f32; // 11
  mean2: f32; // 12
  invStd0: f32; // 13  1 / std per tensor channel (resizeToTensor only)
  invStd1: f32; // 14
  invStd2: f32; // 15
  tablesPtr: usize; // 16  3 · (outW + outH) words scratch
}

/**
 * The tracker's state header (track.ts), at the start of the state block the records follow:
 * its options, written once per reset, and the counters trackerUpdate keeps.
 */
// @ts-ignore: decorator
@unmanaged
export class TrackHeader {
  numTracks: i32; //  0  records after the header
  nextId: i32; //  1  the next confirmed track's id
  minHits: i32; //  2  consecutive hits to confirm
  maxAge: i32; //  3  missed frames before deletion
  smoother: i32; //  4  SMOOTH_* of track.ts
  classAware: i32; //  5  1: only same-class pairs match
  iouThreshold: f32; //  6
  smoothA: f32; //  7  one-euro minCutoff, exponential alpha
  smoothB: f32; //  8  one-euro beta
  smoothC: f32; //  9  one-euro dCutoff
  frame: i32; // 10  frames seen
}

/** trackerUpdate's per-frame block: this frame's detections and scratch. */
// @ts-ignore: decorator
@unmanaged
export class TrackFrame {
  boxesPtr: usize; //  0  numDets × 4 f32 (xmin, ymin, xmax, ymax)
  classesPtr: usize; //  1  numDets i32
  scoresPtr: usize; //  2  numDets f32
  dt: f32; //  3  seconds since the previous frame
  scratchPtr: usize; //  4  trackScratchBytes(numTracks, numDets) bytes, 16-byte aligned
}

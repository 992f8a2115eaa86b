// Parameter blocks of the core's exports other than post-processing (whose block is the Plan of
// plan.ts): matching, pre-processing resize, tracking and the prior generators. Each is an
// @unmanaged class whose fields are laid out in declaration order with no header: 32-bit fields
// (four bytes, field i is word i) written by the host with writeBlock, or for the priors f64
// records written with f64Record, from the twin field lists of src/core/params.ts;
// tests/core/plan-layout.test.ts fails when a class and its list disagree. The exports that
// read the 32-bit blocks are in calls.ts; the generators read theirs in priors.ts.

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

// The prior generators' blocks (priors.ts): f64 fields, eight bytes each, as the Python
// references compute in f64. Each family's block is a head, then lists whose lengths the head
// (or a record) gives; a per-map record (…PriorsMap) repeats for every feature map. Lists are
// read by index after their record: `ratio…` is `numRatios` values.

/** priorsSsd: the head; then per map an SsdPriorsMap and its `numRatios` ratios. */
// @ts-ignore: decorator
@unmanaged
export class SsdPriorsHead {
  imageW: f64; //  0
  imageH: f64; //  1
  numMaps: f64; //  2
  offset: f64; //  3  centre offset in cells (0.5)
  clip: f64; //  4  1: clamp every value to [0, 1]
}

/** priorsSsd: one feature map's record. */
// @ts-ignore: decorator
@unmanaged
export class SsdPriorsMap {
  fmW: f64; //  0  feature map width, cells
  fmH: f64; //  1
  stepW: f64; //  2  pixels per cell
  stepH: f64; //  3
  minSize: f64; //  4  pixels
  maxSize: f64; //  5  pixels, ≤ 0: none
  numRatios: f64; //  6  ratios that follow
}

/** priorsTorchvision: the head; then numMaps + 1 scales; then per map a TorchvisionPriorsMap and its ratios. */
// @ts-ignore: decorator
@unmanaged
export class TorchvisionPriorsHead {
  imageW: f64; //  0
  imageH: f64; //  1
  numMaps: f64; //  2
  clip: f64; //  3  1: clamp w and h to [0, 1]
}

/** priorsTorchvision: one feature map's record. */
// @ts-ignore: decorator
@unmanaged
export class TorchvisionPriorsMap {
  fmW: f64; //  0
  fmH: f64; //  1
  step: f64; //  2  pixels per cell, ≤ 0: none (centres (j + 0.5) / fm)
  numRatios: f64; //  3  ratios that follow
}

/** priorsTfGrid: the head; then numRatios ratios, numLayers + 1 scales, and (fmH, fmW) per layer. */
// @ts-ignore: decorator
@unmanaged
export class TfGridPriorsHead {
  numLayers: f64; //  0
  baseH: f64; //  1  base anchor size
  baseW: f64; //  2
  interpolatedRatio: f64; //  3  ≤ 0: none
  reduceLowest: f64; //  4  1: layer 0 has TF's three fixed boxes
  clip: f64; //  5  1: clip corners to [0, 1]
  numRatios: f64; //  6  ratios that follow
}

/** priorsMediapipe: the head; then numLayers strides, the number of ratios and the ratios. */
// @ts-ignore: decorator
@unmanaged
export class MediapipePriorsHead {
  inputW: f64; //  0
  inputH: f64; //  1
  numLayers: f64; //  2
  minScale: f64; //  3
  maxScale: f64; //  4
  offsetX: f64; //  5  anchor offset in cells
  offsetY: f64; //  6
  interpolatedRatio: f64; //  7  ≤ 0: none
  reduceLowest: f64; //  8  1: layer 0 has three fixed boxes
  fixedSize: f64; //  9  1: every anchor 1 × 1
}

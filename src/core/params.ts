/**
 * The parameter blocks of the core's exports other than post-processing, host side: the twins of
 * the @unmanaged classes of assembly/params.ts (their comments say what each field means),
 * written with writeBlock as the plan is (the priors' f64 records with f64Record).
 * tests/core/plan-layout.test.ts fails when a list and its class disagree. Calling convention
 * (assembly/calls.ts): `(paramsPtr[, count[, blockPtr]])`.
 */
import type { BlockValues, FieldType } from './plan.js';

/** matchPriors(paramsPtr, numTruths): assembly/params.ts MatchParams. */
export const MATCH_FIELDS = {
  priorsPtr: 'ptr',
  numPriors: 'i32',
  truthsPtr: 'ptr',
  labelsPtr: 'ptr',
  threshold: 'f32',
  order: 'i32',
  scaleX: 'f32',
  scaleY: 'f32',
  scaleW: 'f32',
  scaleH: 'f32',
  bestOverlapPtr: 'ptr',
  bestTruthPtr: 'ptr',
  confOutPtr: 'ptr',
  locOutPtr: 'ptr',
} as const satisfies Record<string, FieldType>;

/** resizeToTensor(paramsPtr) and resizeToU8(paramsPtr): assembly/params.ts ResizeParams. */
export const RESIZE_FIELDS = {
  srcPtr: 'ptr',
  width: 'i32',
  height: 'i32',
  channels: 'i32',
  outPtr: 'ptr',
  outW: 'i32',
  outH: 'i32',
  nchw: 'i32',
  bgr: 'i32',
  tfLegacy: 'i32',
  mean0: 'f32',
  mean1: 'f32',
  mean2: 'f32',
  invStd0: 'f32',
  invStd1: 'f32',
  invStd2: 'f32',
  tablesPtr: 'ptr',
} as const satisfies Record<string, FieldType>;

/** The tracker's state header at statePtr: assembly/params.ts TrackHeader. */
export const TRACK_HEADER_FIELDS = {
  numTracks: 'i32',
  nextId: 'i32',
  minHits: 'i32',
  maxAge: 'i32',
  smoother: 'i32',
  classAware: 'i32',
  iouThreshold: 'f32',
  smoothA: 'f32',
  smoothB: 'f32',
  smoothC: 'f32',
  frame: 'i32',
} as const satisfies Record<string, FieldType>;

/** Bytes reserved for the tracker's header before its records (assembly/track.ts HEADER_BYTES). */
export const TRACK_HEADER_BYTES = 64;

/** trackerUpdate(statePtr, numDets, framePtr)'s per-frame block: assembly/params.ts TrackFrame. */
export const TRACK_FRAME_FIELDS = {
  boxesPtr: 'ptr',
  classesPtr: 'ptr',
  scoresPtr: 'ptr',
  dt: 'f32',
  scratchPtr: 'ptr',
} as const satisfies Record<string, FieldType>;

/** Bytes a block of `fields` takes (every field is one 32-bit word). */
export function blockBytes(fields: Record<string, FieldType>): number {
  return Object.keys(fields).length * 4;
}

/** Word index of `name` in a block of `fields`, for reading a field back. */
export function wordOf<Fields extends Record<string, FieldType>>(fields: Fields, name: keyof Fields & string): number {
  return Object.keys(fields).indexOf(name);
}

/** A record of the prior generators' f64 blocks: every field one f64. */
export type F64Fields = Record<string, 'f64'>;

/** priorsSsd: assembly/params.ts SsdPriorsHead, then per map SsdPriorsMap and its ratios. */
export const SSD_PRIORS_HEAD = {
  imageW: 'f64',
  imageH: 'f64',
  numMaps: 'f64',
  offset: 'f64',
  clip: 'f64',
} as const satisfies F64Fields;

export const SSD_PRIORS_MAP = {
  fmW: 'f64',
  fmH: 'f64',
  stepW: 'f64',
  stepH: 'f64',
  minSize: 'f64',
  maxSize: 'f64',
  numRatios: 'f64',
} as const satisfies F64Fields;

/** priorsTorchvision: TorchvisionPriorsHead, scales, then per map TorchvisionPriorsMap and its ratios. */
export const TORCHVISION_PRIORS_HEAD = {
  imageW: 'f64',
  imageH: 'f64',
  numMaps: 'f64',
  clip: 'f64',
} as const satisfies F64Fields;

export const TORCHVISION_PRIORS_MAP = {
  fmW: 'f64',
  fmH: 'f64',
  step: 'f64',
  numRatios: 'f64',
} as const satisfies F64Fields;

/** priorsTfGrid: TfGridPriorsHead, then ratios, scales and (fmH, fmW) per layer. */
export const TF_GRID_PRIORS_HEAD = {
  numLayers: 'f64',
  baseH: 'f64',
  baseW: 'f64',
  interpolatedRatio: 'f64',
  reduceLowest: 'f64',
  clip: 'f64',
  numRatios: 'f64',
} as const satisfies F64Fields;

/** priorsMediapipe: MediapipePriorsHead, then strides, the number of ratios and the ratios. */
export const MEDIAPIPE_PRIORS_HEAD = {
  inputW: 'f64',
  inputH: 'f64',
  numLayers: 'f64',
  minScale: 'f64',
  maxScale: 'f64',
  offsetX: 'f64',
  offsetY: 'f64',
  interpolatedRatio: 'f64',
  reduceLowest: 'f64',
  fixedSize: 'f64',
} as const satisfies F64Fields;

/** A record's values in field order, to append to an f64 block: a missing or misspelt field does not compile. */
export function f64Record<Fields extends F64Fields>(fields: Fields, values: BlockValues<Fields>): number[] {
  return Object.keys(fields).map((name) => values[name as keyof Fields]);
}

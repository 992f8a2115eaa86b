/**
 * The parameter blocks of the core's exports other than post-processing, host side: the twins of
 * the @unmanaged classes of assembly/params.ts (their comments say what each field means),
 * written with writeBlock as the plan is. tests/core/plan-layout.test.ts fails when a list and
 * its class disagree. Calling convention (assembly/calls.ts): `(paramsPtr[, count[, blockPtr]])`.
 */
import type { FieldType } from './plan.js';

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

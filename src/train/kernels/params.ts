/**
 * The parameter blocks of the training module's exports, host side: the twins of the @unmanaged
 * classes of assembly/train-params.ts (their comments say what each field means), written with
 * writeBlock as the core's blocks are. tests/core/train-layout.test.ts fails when a list and its
 * class disagree. Calling convention (assembly/train-calls.ts): `(paramsPtr)`.
 */
import type { BlockValues, FieldType } from '../../core/plan.js';

/** The geometry both depthwise gradients end their block with, in this order. */
export const DWCONV_GEOMETRY_FIELDS = {
  numBatch: 'i32',
  inH: 'i32',
  inW: 'i32',
  channels: 'i32',
  multiplier: 'i32',
  outH: 'i32',
  outW: 'i32',
  kh: 'i32',
  kw: 'i32',
  strideH: 'i32',
  strideW: 'i32',
  top: 'i32',
  left: 'i32',
} as const satisfies Record<string, FieldType>;

/** A depthwise gradient's geometry: the forward convolution's sizes, strides and leading pads. */
export type DwconvGeometry = BlockValues<typeof DWCONV_GEOMETRY_FIELDS>;

/** dwconvBackpropInput(paramsPtr): assembly/train-params.ts DwconvInputParams. */
export const DWCONV_INPUT_FIELDS = {
  dyPtr: 'ptr',
  wPtr: 'ptr',
  dxPtr: 'ptr',
  ...DWCONV_GEOMETRY_FIELDS,
} as const satisfies Record<string, FieldType>;

/** dwconvBackpropFilter(paramsPtr): assembly/train-params.ts DwconvFilterParams. */
export const DWCONV_FILTER_FIELDS = {
  xPtr: 'ptr',
  dyPtr: 'ptr',
  dwPtr: 'ptr',
  rowPtr: 'ptr',
  sumsPtr: 'ptr',
  ...DWCONV_GEOMETRY_FIELDS,
} as const satisfies Record<string, FieldType>;

/**
 * The parameter blocks of the uint8 kernels' exports, host side: the twins of the @unmanaged
 * classes of assembly/qparams.ts (their comments say what each field means), written with
 * writeBlock as the core's blocks are (src/core/params.ts). tests/core/plan-layout.test.ts fails
 * when a list and its class disagree. Calling convention (assembly/qcalls.ts): `(paramsPtr)`.
 * A network writes every block once, when it is built (network.ts), into one region of its arena.
 */
import { blockBytes } from '../core/params.js';
import { writeBlock, type BlockValues, type FieldType } from '../core/plan.js';
import type { Arena } from './arena.js';

/** qgemmPack(paramsPtr): assembly/qparams.ts QgemmPackParams. */
export const QGEMM_PACK_FIELDS = {
  wPtr: 'ptr',
  numOut: 'i32',
  numK: 'i32',
  weightZero: 'i32',
  inputZero: 'i32',
  biasPtr: 'ptr',
  scalePtr: 'ptr',
  packedPtr: 'ptr',
} as const satisfies Record<string, FieldType>;

/** qgemm(paramsPtr): assembly/qparams.ts QgemmParams. */
export const QGEMM_FIELDS = {
  xPtr: 'ptr',
  xStride: 'i32',
  numRows: 'i32',
  numK8: 'i32',
  packedPtr: 'ptr',
  numOut: 'i32',
  outPtr: 'ptr',
  outStride: 'i32',
  zeroPoint: 'i32',
  lo: 'i32',
  hi: 'i32',
} as const satisfies Record<string, FieldType>;

/** qconv(paramsPtr): assembly/qparams.ts QconvParams. */
export const QCONV_FIELDS = {
  xPtr: 'ptr',
  inH: 'i32',
  inW: 'i32',
  inC: 'i32',
  kh: 'i32',
  kw: 'i32',
  strideH: 'i32',
  strideW: 'i32',
  padTop: 'i32',
  padLeft: 'i32',
  outH: 'i32',
  outW: 'i32',
  inputZero: 'i32',
  packedPtr: 'ptr',
  numOut: 'i32',
  outPtr: 'ptr',
  zeroPoint: 'i32',
  lo: 'i32',
  hi: 'i32',
  scratchPtr: 'ptr',
} as const satisfies Record<string, FieldType>;

/** qdepthwisePack(paramsPtr): assembly/qparams.ts QdepthwisePackParams. */
export const QDEPTHWISE_PACK_FIELDS = {
  wPtr: 'ptr',
  channels: 'i32',
  taps: 'i32',
  weightZero: 'i32',
  biasPtr: 'ptr',
  scalePtr: 'ptr',
  packedPtr: 'ptr',
} as const satisfies Record<string, FieldType>;

/** qdepthwise(paramsPtr): assembly/qparams.ts QdepthwiseParams. */
export const QDEPTHWISE_FIELDS = {
  xPtr: 'ptr',
  inH: 'i32',
  inW: 'i32',
  channels: 'i32',
  kh: 'i32',
  kw: 'i32',
  strideH: 'i32',
  strideW: 'i32',
  padTop: 'i32',
  padLeft: 'i32',
  outH: 'i32',
  outW: 'i32',
  inputZero: 'i32',
  packedPtr: 'ptr',
  outPtr: 'ptr',
  zeroPoint: 'i32',
  lo: 'i32',
  hi: 'i32',
} as const satisfies Record<string, FieldType>;

/** qadd(paramsPtr): assembly/qparams.ts QaddParams. */
export const QADD_FIELDS = {
  aPtr: 'ptr',
  bPtr: 'ptr',
  outPtr: 'ptr',
  num: 'i32',
  aMultiplier: 'i32',
  bMultiplier: 'i32',
  bias: 'i32',
  shift: 'i32',
  zeroPoint: 'i32',
  lo: 'i32',
  hi: 'i32',
} as const satisfies Record<string, FieldType>;

/** qlookup(paramsPtr): assembly/qparams.ts QlookupParams. */
export const QLOOKUP_FIELDS = {
  xPtr: 'ptr',
  num: 'i32',
  tablePtr: 'ptr',
  outPtr: 'ptr',
} as const satisfies Record<string, FieldType>;

/** The block of each kernel a network runs, by its export's name. */
export const KERNEL_FIELDS = {
  qgemm: QGEMM_FIELDS,
  qconv: QCONV_FIELDS,
  qdepthwise: QDEPTHWISE_FIELDS,
  qadd: QADD_FIELDS,
  qlookup: QLOOKUP_FIELDS,
} as const;

export type KernelName = keyof typeof KERNEL_FIELDS;

/** One kernel call: the kernel and a value for every field of its block. */
export type KernelCall = {
  [K in KernelName]: [K, BlockValues<(typeof KERNEL_FIELDS)[K]>];
}[KernelName];

/** Writes one block into a new arena region; returns its address, the export's argument. */
export function putBlock<Fields extends Record<string, FieldType>>(
  arena: Arena,
  fields: Fields,
  values: BlockValues<Fields>,
): number {
  const ptr = arena.alloc(blockBytes(fields));
  writeBlock(arena.core.memory.buffer, ptr, fields, values);
  return ptr;
}

/**
 * Writes the blocks of `calls` one after another into one new arena region (rather than a
 * 16-byte-aligned region each); returns their addresses, in order.
 */
export function putCallBlocks(arena: Arena, calls: readonly KernelCall[]): number[] {
  const sizes = calls.map(([kernel]) => blockBytes(KERNEL_FIELDS[kernel]));
  let at = arena.alloc(sizes.reduce((sum, bytes) => sum + bytes, 0));
  const buffer = arena.core.memory.buffer;
  return calls.map(([kernel, values], i) => {
    const ptr = at;
    writeBlock<Record<string, FieldType>>(buffer, ptr, KERNEL_FIELDS[kernel], values);
    at += sizes[i];
    return ptr;
  });
}

/**
 * Packing uint8 weights into the arena, once per network: the host side of qgemmPack and
 * qdepthwisePack (layouts in assembly/qgemm.ts and assembly/qdepthwise.ts). The raw weights,
 * bias, scales and the call's parameter block (params.ts) are staged in the arena and released
 * after packing.
 */
import type { Arena } from './arena.js';
import { putBlock, QDEPTHWISE_PACK_FIELDS, QGEMM_PACK_FIELDS } from './params.js';

export interface PackedGemm {
  /** Address of the packed blocks. */
  ptr: number;
  numOut: number;
  numK: number;
  /** ceil(numK / 8): qgemm's numK8. */
  numK8: number;
}

export interface PackedDepthwise {
  ptr: number;
  channels: number;
  taps: number;
}

function checkLength(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new RangeError(`${what} has ${actual} values; ${expected} expected`);
}

/**
 * Packs a convolution's weights w [numOut, numK] (TFLite's [O, kh, kw, I]) for qgemm / qconv,
 * with the zero-point correction −zx·Σ(w − zw) folded into the bias.
 */
export function packGemm(
  arena: Arena,
  w: Uint8Array,
  numOut: number,
  numK: number,
  weightZero: number,
  inputZero: number,
  bias: Int32Array | undefined,
  scale: Float32Array,
): PackedGemm {
  checkLength('conv weights', w.length, numOut * numK);
  checkLength('conv scales', scale.length, numOut);
  if (bias) checkLength('conv bias', bias.length, numOut);
  const e = arena.exports;
  const ptr = arena.alloc(e.qgemmPackedBytes(numOut, numK));
  const mark = arena.mark();
  try {
    const written = e.qgemmPack(
      putBlock(arena, QGEMM_PACK_FIELDS, {
        wPtr: arena.put(w),
        numOut,
        numK,
        weightZero,
        inputZero,
        biasPtr: bias ? arena.put(bias) : 0,
        scalePtr: arena.put(scale),
        packedPtr: ptr,
      }),
    );
    if (written !== e.qgemmPackedBytes(numOut, numK))
      throw new Error(`qgemmPack wrote ${written} bytes, expected ${e.qgemmPackedBytes(numOut, numK)}`);
  } finally {
    arena.release(mark);
  }
  return { ptr, numOut, numK, numK8: (numK + 7) >> 3 };
}

/** Packs depthwise weights w [taps, channels] (TFLite's [1, kh, kw, C]) for qdepthwise. */
export function packDepthwise(
  arena: Arena,
  w: Uint8Array,
  channels: number,
  taps: number,
  weightZero: number,
  bias: Int32Array | undefined,
  scale: Float32Array,
): PackedDepthwise {
  checkLength('depthwise weights', w.length, channels * taps);
  checkLength('depthwise scales', scale.length, channels);
  if (bias) checkLength('depthwise bias', bias.length, channels);
  const e = arena.exports;
  const ptr = arena.alloc(e.qdepthwisePackedBytes(channels, taps));
  const mark = arena.mark();
  try {
    e.qdepthwisePack(
      putBlock(arena, QDEPTHWISE_PACK_FIELDS, {
        wPtr: arena.put(w),
        channels,
        taps,
        weightZero,
        biasPtr: bias ? arena.put(bias) : 0,
        scalePtr: arena.put(scale),
        packedPtr: ptr,
      }),
    );
  } finally {
    arena.release(mark);
  }
  return { ptr, channels, taps };
}

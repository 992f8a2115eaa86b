// The relaxed-SIMD variant of qgemm.ts (asconfig target "int8-relaxed"): the same function, the
// same bytes out, with i32x4.relaxed_dot_i8x16_i7x16_add_s as the inner product (16 products a
// lane group, one instruction where the CPU has VNNI). qgemm.ts hands its three exports over to
// these when the build has relaxed SIMD (ASC_FEATURE_RELAXED_SIMD); other builds never see them.
//
// Why it is exact on every engine: relaxed_dot(a, b, c) leaves one thing implementation-defined,
// whether a lane of `b` with its top bit set reads as signed or unsigned (and x86's pmaddubsw
// saturates its i16 pair sums, which only such lanes can reach). Every `b` here is in [0, 127]
// and every `a` in [−128, 127], so each product is a·b on every engine, a pair sum lies in
// [−32512, 32258] (no saturation) and the lane sums are plain integers. The split:
//
//   x·(w − zw) = xl·(w − 128) + 128·xh·(w − 128) + (128 − zw)·x
//   xl = x & 127 ∈ [0, 127], xh = x >> 7 ∈ {0, 1}   (the i7 operands, computed per row)
//   w − 128 ∈ [−128, 127]                             (the i8 operand, packed once)
//
// so acc = bias' + (H << 7) + L + (128 − zw)·S with H = Σ xh·(w − 128), L = Σ xl·(w − 128) and
// S = Σ_k<numK x the row's sum. All of it is i32 arithmetic mod 2^32: intermediate wrap-around
// cancels, and the result equals TFLite's int32 accumulator whenever that one fits in int32.
// (tests/int8/relaxed.test.ts checks the identity for every x, w and zw.)
//
// Packed weights (qgemmPack here writes them; 16-byte aligned), one block per 4 output channels:
//   bias' i32[4] | scale f32[4] | 128 − zw i32[4] | numK i32, 0 i32[3] | for each 16 k: (w − 128) i8[16] of channel 0, 1, 2, 3
// i.e. 64 + 64·numK16 bytes a block. bias' = bias − zx·Σ(w − zw) as in qgemm.ts. Weights past
// numK (and channels past numOut) are 0: they add nothing whatever x holds there, and S only
// counts k < numK (a lane mask on the last group).
//
// Memory contract as qgemm.ts's, except that a row is read for numK16·16 bytes (at most 15 past
// numK: the host's 16 spare bytes after each tensor and scratch cover the last row). The numK8
// argument of qgemm is not needed: numK is in every block's header.

import { narrowU8, requantize4 } from "./qrequant";

const BLOCK_HEADER: usize = 64;

// @ts-ignore: decorator
@inline
export function qgemmRelaxedPackedBytes(numOut: i32, numK: i32): i32 {
  return ((numOut + 3) >> 2) * (<i32>BLOCK_HEADER + (((numK + 15) >> 4) << 6));
}

// @ts-ignore: decorator
@inline
export function qgemmRelaxedPack(
  wPtr: usize, numOut: i32, numK: i32, weightZero: i32, inputZero: i32,
  biasPtr: usize, scalePtr: usize, packedPtr: usize
): i32 {
  const numK16 = (numK + 15) >> 4;
  const blockBytes = BLOCK_HEADER + (<usize>numK16 << 6);
  const numBlocks = (numOut + 3) >> 2;
  let block = packedPtr;
  for (let b = 0; b < numBlocks; b++, block += blockBytes) {
    for (let j = 0; j < 4; j++) {
      const o = (b << 2) + j;
      let bias = 0, sum = 0;
      let scale: f32 = 0;
      if (o < numOut) {
        bias = biasPtr ? load<i32>(biasPtr + (<usize>o << 2)) : 0;
        scale = load<f32>(scalePtr + (<usize>o << 2));
      }
      for (let k = 0; k < (numK16 << 4); k++) {
        const inside = o < numOut && k < numK;
        const w = inside ? <i32>load<u8>(wPtr + <usize>o * <usize>numK + <usize>k) : 128;
        if (inside) sum += w - weightZero;
        store<i8>(block + BLOCK_HEADER + (<usize>(k >> 4) << 6) + (<usize>j << 4) + <usize>(k & 15), <i8>(w - 128));
      }
      store<i32>(block + (<usize>j << 2), bias - inputZero * sum);
      store<f32>(block + 16 + (<usize>j << 2), scale);
      store<i32>(block + 32 + (<usize>j << 2), o < numOut ? 128 - weightZero : 0);
      store<i32>(block + 48 + (<usize>j << 2), j == 0 ? numK : 0);
    }
  }
  return <i32>(block - packedPtr);
}

/** [Σa, Σb, Σc, Σd]: the horizontal sums of four i32x4, as one vector. */
// @ts-ignore: decorator
@inline
function reduce4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 1, 5), v128.shuffle<i32>(c, d, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 1, 4, 5), v128.shuffle<i32>(ab, cd, 2, 3, 6, 7));
}

/** Σ of the row's first numK bytes (unsigned), in every lane: S of the split above. */
// @ts-ignore: decorator
@inline
function rowSum(x: usize, numK: i32): v128 {
  const full = <usize>(numK >> 4) << 4;
  let sums = i32x4.splat(0);
  for (let k: usize = 0; k < full; k += 16) {
    sums = i32x4.add(sums, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(v128.load(x + k))));
  }
  const rest = numK & 15;
  if (rest) {
    const lanes = i8x16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const tail = v128.and(v128.load(x + full), i8x16.lt_u(lanes, i8x16.splat(<i8>rest)));
    sums = i32x4.add(sums, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(tail)));
  }
  const pairs = i32x4.add(sums, v128.shuffle<i32>(sums, sums, 1, 0, 3, 2));
  return i32x4.add(pairs, v128.shuffle<i32>(pairs, pairs, 2, 3, 0, 1));
}

/**
 * Writes the first `count` bytes (≤ 4) of `word` to `outPtr` (no static staging memory: threads
 * may share this module's memory).
 */
// @ts-ignore: decorator
@inline
function storePartial(outPtr: usize, word: i32, count: i32): void {
  for (let j = 0; j < count; j++) store<u8>(outPtr + j, <u8>(word >>> (j << 3)));
}

// @ts-ignore: decorator
@inline
export function qgemmRelaxed(
  xPtr: usize, xStride: i32, numRows: i32, packedPtr: usize, numOut: i32,
  outPtr: usize, outStride: i32, zeroPoint: i32, lo: i32, hi: i32
): void {
  const numK = load<i32>(packedPtr + 48);
  const numK16 = (numK + 15) >> 4;
  const blockBytes = BLOCK_HEADER + (<usize>numK16 << 6);
  const numBlocks = (numOut + 3) >> 2;
  const zp = i32x4.splat(zeroPoint), lov = i8x16.splat(<i8>lo), hiv = i8x16.splat(<i8>hi);
  const low7 = i8x16.splat(127);
  // one row × four channels, high and low halves: 8 accumulators, few enough for 16 registers
  for (let r = 0; r < numRows; r++) {
    const x0 = xPtr + <usize>r * <usize>xStride;
    const out0 = outPtr + <usize>r * <usize>outStride;
    const sum = rowSum(x0, numK);
    let block = packedPtr;
    for (let b = 0; b < numBlocks; b++, block += blockBytes) {
      let h0 = i32x4.splat(0), h1 = h0, h2 = h0, h3 = h0;
      let l0 = h0, l1 = h0, l2 = h0, l3 = h0;
      let w = block + BLOCK_HEADER;
      for (let k: usize = 0; k < <usize>numK16 << 4; k += 16, w += 64) {
        const v = v128.load(x0 + k);
        const xl = v128.and(v, low7), xh = i8x16.shr_u(v, 7);
        const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
        h0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, xh, h0);
        l0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, xl, l0);
        h1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, xh, h1);
        l1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, xl, l1);
        h2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w2, xh, h2);
        l2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w2, xl, l2);
        h3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w3, xh, h3);
        l3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w3, xl, l3);
      }
      // (H << 7) + L lane by lane, then one horizontal reduction (shift and sums commute mod 2^32)
      let acc = reduce4(i32x4.add(i32x4.shl(h0, 7), l0), i32x4.add(i32x4.shl(h1, 7), l1),
                        i32x4.add(i32x4.shl(h2, 7), l2), i32x4.add(i32x4.shl(h3, 7), l3));
      acc = i32x4.add(acc, i32x4.add(v128.load(block), i32x4.mul(v128.load(block, 32), sum)));
      const s0 = requantize4(acc, v128.load(block, 16), zp);
      const bytes = narrowU8(s0, s0, s0, s0, lov, hiv);
      const c = <usize>b << 2;
      if (<i32>c + 4 <= numOut) v128.store32_lane(out0 + c, bytes, 0);
      else storePartial(out0 + c, i32x4.extract_lane(bytes, 0), numOut - <i32>c);
    }
  }
}

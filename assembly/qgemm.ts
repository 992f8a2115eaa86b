// uint8 GEMM with int32 accumulation: the 1×1 convolution of a quantised network, and the inner
// product of every other convolution (qconv.ts lays its windows out as rows first).
//
//   out[r, o] = requantize(bias'[o] + Σ_k x[r, k] · (w[o, k] − zw))          (qrequant.ts)
//   bias'[o]  = bias[o] − zx · Σ_k (w[o, k] − zw)        folded once, by qgemmPack
//
// which equals TFLite's bias + Σ (x − zx)(w − zw) exactly in int32 (distributivity; every term
// and partial sum stays below 2^31 for K ≤ 16384: |x·(w − zw)| ≤ 255·255).
//
// Packed weights (qgemmPack writes them; 16-byte aligned), one block per 4 output channels:
//   bias' i32[4] | scale f32[4] | for each 8 k: (w − zw) i16[8] of channel 0, 1, 2, 3
// i.e. 32 + 64·numK8 bytes a block, ceil(numOut / 4) blocks (qgemmPackedBytes). Weights past
// numK or numOut are 0, so they add nothing whatever x holds there.
//
// Memory contract of qgemm: row r of x starts at xPtr + r·xStride and is read for numK8·8
// bytes, so the last row needs numK8·8 readable bytes (the host keeps 16 spare bytes after each
// tensor); out[r, o] is written at outPtr + r·outStride + o for o < numOut only.
//
// The relaxed-SIMD build (target "int8-relaxed") packs and multiplies differently, with the same
// bytes out: qgemm-relaxed.ts.
//
// SIMD: x widened to i16 by v128.load8x8_u, i32x4.dot_i16x8_s (pairs of products: at most
// 2·255·255, exact), two rows × four channels of i32x4 partial sums, reduced across lanes once
// per block. Integer addition is associative, so the scalar loop gives identical sums.

import { narrowU8, requantize, requantize4 } from "./qrequant";
import { qgemmRelaxed, qgemmRelaxedPack, qgemmRelaxedPackedBytes } from "./qgemm-relaxed";

const BLOCK_HEADER: usize = 32;

/** Bytes of the packed weights of a GEMM with numOut outputs and numK inputs. */
export function qgemmPackedBytes(numOut: i32, numK: i32): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) return qgemmRelaxedPackedBytes(numOut, numK);
  return ((numOut + 3) >> 2) * (<i32>BLOCK_HEADER + (((numK + 7) >> 3) << 6));
}

/**
 * Packs uint8 weights `w` [numOut, numK] (row-major, TFLite's CONV_2D filter [O, kh, kw, I]
 * read as [O, kh·kw·I]) with their int32 bias (biasPtr, or 0 for none) and per-channel
 * requantisation scales (scalePtr, f32[numOut]) into the layout above. Returns the bytes written.
 */
export function qgemmPack(
  wPtr: usize, numOut: i32, numK: i32, weightZero: i32, inputZero: i32,
  biasPtr: usize, scalePtr: usize, packedPtr: usize
): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) return qgemmRelaxedPack(wPtr, numOut, numK, weightZero, inputZero, biasPtr, scalePtr, packedPtr);
  const numK8 = (numK + 7) >> 3;
  const blockBytes = BLOCK_HEADER + (<usize>numK8 << 6);
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
      for (let k = 0; k < (numK8 << 3); k++) {
        const w = o < numOut && k < numK ? <i32>load<u8>(wPtr + <usize>o * <usize>numK + <usize>k) - weightZero : 0;
        sum += w;
        store<i16>(block + BLOCK_HEADER + (<usize>(k >> 3) << 6) + (<usize>j << 4) + (<usize>(k & 7) << 1), <i16>w);
      }
      store<i32>(block + (<usize>j << 2), bias - inputZero * sum);
      store<f32>(block + 16 + (<usize>j << 2), scale);
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

/**
 * Writes the first `count` bytes (≤ 4) of `word` (one i32 lane of the narrowed bytes, little
 * endian) to `outPtr`. No static staging memory: the kernels may run on shared memory from
 * several threads at once (src/int8/threads.ts).
 */
// @ts-ignore: decorator
@inline
function storePartial(outPtr: usize, word: i32, count: i32): void {
  for (let j = 0; j < count; j++) store<u8>(outPtr + j, <u8>(word >>> (j << 3)));
}

/** Requantises channel `o` of two rows (scalar path). */
// @ts-ignore: decorator
@inline
function storeRequantized(out0: usize, out1: usize, o: i32, acc0: i32, acc1: i32, scale: f32, zeroPoint: i32, lo: i32, hi: i32): void {
  store<u8>(out0 + <usize>o, <u8>requantize(acc0, scale, zeroPoint, lo, hi));
  store<u8>(out1 + <usize>o, <u8>requantize(acc1, scale, zeroPoint, lo, hi));
}

/**
 * out[r, 0..numOut) for rows r < numRows: requantised uint8 GEMM against weights packed by
 * qgemmPack (numK8 = ceil(numK / 8)). Output values are clamped to [lo, hi] ⊆ [0, 255].
 */
export function qgemm(
  xPtr: usize, xStride: i32, numRows: i32, numK8: i32, packedPtr: usize, numOut: i32,
  outPtr: usize, outStride: i32, zeroPoint: i32, lo: i32, hi: i32
): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    qgemmRelaxed(xPtr, xStride, numRows, packedPtr, numOut, outPtr, outStride, zeroPoint, lo, hi);
    return;
  }
  const blockBytes = BLOCK_HEADER + (<usize>numK8 << 6);
  const numBlocks = (numOut + 3) >> 2;
  if (ASC_FEATURE_SIMD) {
    const zp = i32x4.splat(zeroPoint), lov = i8x16.splat(<i8>lo), hiv = i8x16.splat(<i8>hi);
    let r = 0;
    for (; r + 2 <= numRows; r += 2) {
      const x0 = xPtr + <usize>r * <usize>xStride, x1 = x0 + <usize>xStride;
      const out0 = outPtr + <usize>r * <usize>outStride, out1 = out0 + <usize>outStride;
      let block = packedPtr;
      for (let b = 0; b < numBlocks; b++, block += blockBytes) {
        let a00 = i32x4.splat(0), a01 = a00, a02 = a00, a03 = a00;
        let a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        let w = block + BLOCK_HEADER;
        for (let k: usize = 0; k < <usize>numK8 << 3; k += 8, w += 64) {
          const v0 = v128.load8x8_u(x0 + k), v1 = v128.load8x8_u(x1 + k);
          const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
          a00 = i32x4.add(a00, i32x4.dot_i16x8_s(v0, w0));
          a10 = i32x4.add(a10, i32x4.dot_i16x8_s(v1, w0));
          a01 = i32x4.add(a01, i32x4.dot_i16x8_s(v0, w1));
          a11 = i32x4.add(a11, i32x4.dot_i16x8_s(v1, w1));
          a02 = i32x4.add(a02, i32x4.dot_i16x8_s(v0, w2));
          a12 = i32x4.add(a12, i32x4.dot_i16x8_s(v1, w2));
          a03 = i32x4.add(a03, i32x4.dot_i16x8_s(v0, w3));
          a13 = i32x4.add(a13, i32x4.dot_i16x8_s(v1, w3));
        }
        const bias = v128.load(block), scale = v128.load(block, 16);
        const s0 = requantize4(i32x4.add(reduce4(a00, a01, a02, a03), bias), scale, zp);
        const s1 = requantize4(i32x4.add(reduce4(a10, a11, a12, a13), bias), scale, zp);
        const bytes = narrowU8(s0, s1, s0, s1, lov, hiv); // bytes 0–3: row r, 4–7: row r + 1
        const c = <usize>b << 2;
        if (<i32>c + 4 <= numOut) {
          v128.store32_lane(out0 + c, bytes, 0);
          v128.store32_lane(out1 + c, bytes, 1);
        } else {
          storePartial(out0 + c, i32x4.extract_lane(bytes, 0), numOut - <i32>c);
          storePartial(out1 + c, i32x4.extract_lane(bytes, 1), numOut - <i32>c);
        }
      }
    }
    if (r < numRows) {
      const x0 = xPtr + <usize>r * <usize>xStride;
      const out0 = outPtr + <usize>r * <usize>outStride;
      let block = packedPtr;
      for (let b = 0; b < numBlocks; b++, block += blockBytes) {
        let a00 = i32x4.splat(0), a01 = a00, a02 = a00, a03 = a00;
        let w = block + BLOCK_HEADER;
        for (let k: usize = 0; k < <usize>numK8 << 3; k += 8, w += 64) {
          const v0 = v128.load8x8_u(x0 + k);
          a00 = i32x4.add(a00, i32x4.dot_i16x8_s(v0, v128.load(w)));
          a01 = i32x4.add(a01, i32x4.dot_i16x8_s(v0, v128.load(w, 16)));
          a02 = i32x4.add(a02, i32x4.dot_i16x8_s(v0, v128.load(w, 32)));
          a03 = i32x4.add(a03, i32x4.dot_i16x8_s(v0, v128.load(w, 48)));
        }
        const s0 = requantize4(i32x4.add(reduce4(a00, a01, a02, a03), v128.load(block)), v128.load(block, 16), zp);
        const bytes = narrowU8(s0, s0, s0, s0, lov, hiv);
        const c = <usize>b << 2;
        if (<i32>c + 4 <= numOut) v128.store32_lane(out0 + c, bytes, 0);
        else storePartial(out0 + c, i32x4.extract_lane(bytes, 0), numOut - <i32>c);
      }
    }
  } else {
    // two rows × the four channels of a block in locals: each x and w loaded once per use pair
    let r = 0;
    for (; r + 2 <= numRows; r += 2) {
      const x0 = xPtr + <usize>r * <usize>xStride, x1 = x0 + <usize>xStride;
      const out0 = outPtr + <usize>r * <usize>outStride, out1 = out0 + <usize>outStride;
      let block = packedPtr;
      for (let b = 0; b < numBlocks; b++, block += blockBytes) {
        let a00 = load<i32>(block), a01 = load<i32>(block, 4), a02 = load<i32>(block, 8), a03 = load<i32>(block, 12);
        let a10 = a00, a11 = a01, a12 = a02, a13 = a03;
        let w = block + BLOCK_HEADER;
        for (let k: usize = 0; k < <usize>numK8 << 3; k += 8, w += 64) {
          for (let i: usize = 0; i < 8; i++) {
            const v0 = <i32>load<u8>(x0 + k + i), v1 = <i32>load<u8>(x1 + k + i);
            const wi = w + (i << 1);
            const w0 = <i32>load<i16>(wi), w1 = <i32>load<i16>(wi, 16), w2 = <i32>load<i16>(wi, 32), w3 = <i32>load<i16>(wi, 48);
            a00 += v0 * w0; a01 += v0 * w1; a02 += v0 * w2; a03 += v0 * w3;
            a10 += v1 * w0; a11 += v1 * w1; a12 += v1 * w2; a13 += v1 * w3;
          }
        }
        const c = b << 2;
        storeRequantized(out0, out1, c, a00, a10, load<f32>(block, 16), zeroPoint, lo, hi);
        if (c + 1 < numOut) storeRequantized(out0, out1, c + 1, a01, a11, load<f32>(block, 20), zeroPoint, lo, hi);
        if (c + 2 < numOut) storeRequantized(out0, out1, c + 2, a02, a12, load<f32>(block, 24), zeroPoint, lo, hi);
        if (c + 3 < numOut) storeRequantized(out0, out1, c + 3, a03, a13, load<f32>(block, 28), zeroPoint, lo, hi);
      }
    }
    for (; r < numRows; r++) {
      const x0 = xPtr + <usize>r * <usize>xStride;
      const out0 = outPtr + <usize>r * <usize>outStride;
      for (let o = 0; o < numOut; o++) {
        const block = packedPtr + <usize>(o >> 2) * blockBytes, j = <usize>(o & 3);
        let acc = load<i32>(block + (j << 2));
        let w = block + BLOCK_HEADER + (j << 4);
        for (let k: usize = 0; k < <usize>numK8 << 3; k += 8, w += 64) {
          for (let i: usize = 0; i < 8; i++) {
            acc += <i32>load<u8>(x0 + k + i) * <i32>load<i16>(w + (i << 1));
          }
        }
        store<u8>(out0 + <usize>o, <u8>requantize(acc, load<f32>(block + 16 + (j << 2)), zeroPoint, lo, hi));
      }
    }
  }
}

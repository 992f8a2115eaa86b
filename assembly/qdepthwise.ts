// uint8 depthwise convolution (depth multiplier 1; 3×3 stride 1/2 in MobileNet SSDs), NHWC, as
// TFLite's DEPTHWISE_CONV_2D computes it: acc[c] = bias[c] + Σ_taps (x − zx)(w − zw) in int32,
// then qrequant.ts. Taps outside the image are skipped, which is what SAME padding with the
// input zero point gives ((zx − zx)·w = 0).
//
// Packed weights (qdepthwisePack writes them; 16-byte aligned), one block per 8 channels:
//   bias i32[8] | scale f32[8] | for each tap (ky·kw + kx): (w − zw) i16[8]
// i.e. 64 + 16·kh·kw bytes a block, ceil(channels / 8) blocks (qdepthwisePackedBytes);
// channels past `channels` have weight 0.
//
// Memory contract: x is [inH, inW, channels] u8 followed by 16 readable bytes (the SIMD path
// reads channels in groups of 8); out is [outH, outW, channels] u8, written for c < channels only.
//
// SIMD: eight channels at a time, x − zx in i16 (|·| ≤ 255), i32x4.extmul_{low,high}_i16x8_s
// with the packed weights (exact products), i32x4 sums; the scalar loop adds the same integers.

import { narrowU8, requantize, requantize4 } from "./qrequant";

const BLOCK_HEADER: usize = 64;

/** Bytes of the packed weights of a depthwise convolution. */
export function qdepthwisePackedBytes(channels: i32, taps: i32): i32 {
  return ((channels + 7) >> 3) * (<i32>BLOCK_HEADER + (taps << 4));
}

/**
 * Packs uint8 weights `w` [taps, channels] (TFLite's filter [1, kh, kw, C]) with their int32
 * bias (biasPtr, or 0) and per-channel scales (scalePtr, f32[channels]). Returns the bytes written.
 */
export function qdepthwisePack(
  wPtr: usize, channels: i32, taps: i32, weightZero: i32, biasPtr: usize, scalePtr: usize, packedPtr: usize
): i32 {
  const blockBytes = BLOCK_HEADER + (<usize>taps << 4);
  const numBlocks = (channels + 7) >> 3;
  let block = packedPtr;
  for (let b = 0; b < numBlocks; b++, block += blockBytes) {
    for (let j = 0; j < 8; j++) {
      const c = (b << 3) + j;
      const inside = c < channels;
      store<i32>(block + (<usize>j << 2), inside && biasPtr ? load<i32>(biasPtr + (<usize>c << 2)) : 0);
      store<f32>(block + 32 + (<usize>j << 2), inside ? load<f32>(scalePtr + (<usize>c << 2)) : 0);
      for (let t = 0; t < taps; t++) {
        const w = inside ? <i32>load<u8>(wPtr + <usize>t * <usize>channels + <usize>c) - weightZero : 0;
        store<i16>(block + BLOCK_HEADER + (<usize>t << 4) + (<usize>j << 1), <i16>w);
      }
    }
  }
  return <i32>(block - packedPtr);
}

/**
 * A uint8 depthwise convolution with weights packed by qdepthwisePack: out[oy, ox, c] for the
 * given geometry (padTop/padLeft: the SAME padding before the image). Values clamped to [lo, hi].
 */
export function qdepthwise(
  xPtr: usize, inH: i32, inW: i32, channels: i32, kh: i32, kw: i32, strideH: i32, strideW: i32,
  padTop: i32, padLeft: i32, outH: i32, outW: i32, inputZero: i32,
  packedPtr: usize, outPtr: usize, zeroPoint: i32, lo: i32, hi: i32
): void {
  const taps = kh * kw;
  const blockBytes = BLOCK_HEADER + (<usize>taps << 4);
  const numBlocks = (channels + 7) >> 3;
  const pixelBytes = <usize>channels;
  const lineBytes = <usize>inW * pixelBytes;
  let out = outPtr;
  for (let oy = 0; oy < outH; oy++) {
    const iy0 = oy * strideH - padTop;
    const ky0 = max<i32>(0, -iy0), ky1 = min<i32>(kh, inH - iy0);
    for (let ox = 0; ox < outW; ox++, out += pixelBytes) {
      const ix0 = ox * strideW - padLeft;
      const kx0 = max<i32>(0, -ix0), kx1 = min<i32>(kw, inW - ix0);
      const origin = xPtr + <usize>iy0 * lineBytes + <usize>ix0 * pixelBytes; // may lie before xPtr; only valid taps are read
      if (ASC_FEATURE_SIMD) {
        const zx = i16x8.splat(<i16>inputZero), zp = i32x4.splat(zeroPoint);
        const lov = i8x16.splat(<i8>lo), hiv = i8x16.splat(<i8>hi);
        // a 3×3 window wholly inside the image (most pixels): the nine taps unrolled
        const interior = kh == 3 && kw == 3 && ky0 == 0 && kx0 == 0 && ky1 == 3 && kx1 == 3;
        let block = packedPtr;
        for (let b = 0; b < numBlocks; b++, block += blockBytes) {
          const c = <usize>b << 3;
          let accLo = v128.load(block), accHi = v128.load(block, 16);
          if (interior) {
            const r0 = origin + c, r1 = r0 + lineBytes, r2 = r1 + lineBytes;
            const p1 = pixelBytes, p2 = pixelBytes << 1;
            const w = block + BLOCK_HEADER;
            let xv = i16x8.sub(v128.load8x8_u(r0), zx), wv = v128.load(w);
            accLo = i32x4.add(accLo, i32x4.extmul_low_i16x8_s(xv, wv)); accHi = i32x4.add(accHi, i32x4.extmul_high_i16x8_s(xv, wv));
            xv = i16x8.sub(v128.load8x8_u(r0 + p1), zx); wv = v128.load(w, 16);
            accLo = i32x4.add(accLo, i32x4.extmul_low_i16x8_s(xv, wv)); accHi = i32x4.add(accHi, i32x4.extmul_high_i16x8_s(xv, wv));
            xv = i16x8.sub(v128.load8x8_u(r0 + p2), zx); wv = v128.load(w, 32);
            accLo = i32x4.add(accLo, i32x4.extmul_low_i16x8_s(xv, wv)); accHi = i32x4.add(accHi, i32x4.extmul_high_i16x8_s(xv, wv));
            xv = i16x8.sub(v128.load8x8_u(r1), zx); wv = v128.load(w, 48);
            accLo = i32x4.add(accLo, i32x4.extmul_low_i16x8_s(xv, wv)); accHi = i32x4.add(accHi, i32x4.extmul_high_i16x8_s(xv, wv));
            xv = i16x8.sub(v128.load8x8_u(r1 + p1), zx); wv = v128.load(w, 64);
            accLo = i32x4.add(accLo, i32x4.extmul_low_i16x8_s(xv, wv)); accHi = i32x4.add(accHi, i32x4.extmul_high_i16x8_s(xv, wv));
            xv = i16x8.sub(v128.load8x8_u(r1 + p2), zx); wv = v128.load(w, 80);
            accLo = i32x4.add(accLo, i32x4.extmul_low_i16x8_s(xv, wv)); accHi = i32x4.add(accHi, i32x4.extmul_high_i16x8_s(xv, wv));
            xv = i16x8.sub(v128.load8x8_u(r2), zx); wv = v128.load(w, 96);
            accLo = i32x4.add(accLo, i32x4.extmul_low_i16x8_s(xv, wv)); accHi = i32x4.add(accHi, i32x4.extmul_high_i16x8_s(xv, wv));
            xv = i16x8.sub(v128.load8x8_u(r2 + p1), zx); wv = v128.load(w, 112);
            accLo = i32x4.add(accLo, i32x4.extmul_low_i16x8_s(xv, wv)); accHi = i32x4.add(accHi, i32x4.extmul_high_i16x8_s(xv, wv));
            xv = i16x8.sub(v128.load8x8_u(r2 + p2), zx); wv = v128.load(w, 128);
            accLo = i32x4.add(accLo, i32x4.extmul_low_i16x8_s(xv, wv)); accHi = i32x4.add(accHi, i32x4.extmul_high_i16x8_s(xv, wv));
          } else for (let ky = ky0; ky < ky1; ky++) {
            const line = origin + <usize>ky * lineBytes + c;
            const wRow = block + BLOCK_HEADER + (<usize>(ky * kw) << 4);
            for (let kx = kx0; kx < kx1; kx++) {
              const xv = i16x8.sub(v128.load8x8_u(line + <usize>kx * pixelBytes), zx);
              const wv = v128.load(wRow + (<usize>kx << 4));
              accLo = i32x4.add(accLo, i32x4.extmul_low_i16x8_s(xv, wv));
              accHi = i32x4.add(accHi, i32x4.extmul_high_i16x8_s(xv, wv));
            }
          }
          const s0 = requantize4(accLo, v128.load(block, 32), zp);
          const s1 = requantize4(accHi, v128.load(block, 48), zp);
          const bytes = narrowU8(s0, s1, s0, s1, lov, hiv);
          if (<i32>c + 8 <= channels) {
            v128.store64_lane(out + c, bytes, 0);
          } else {
            const low = i64x2.extract_lane(bytes, 0); // no static staging memory: threads share it
            for (let j = 0; j < channels - <i32>c; j++) store<u8>(out + c + j, <u8>(low >>> (<u64>j << 3)));
          }
        }
      } else {
        for (let c = 0; c < channels; c++) {
          const block = packedPtr + <usize>(c >> 3) * blockBytes, j = <usize>(c & 7);
          let acc = load<i32>(block + (j << 2));
          for (let ky = ky0; ky < ky1; ky++) {
            const line = origin + <usize>ky * lineBytes + <usize>c;
            const wRow = block + BLOCK_HEADER + (<usize>(ky * kw) << 4) + (j << 1);
            for (let kx = kx0; kx < kx1; kx++) {
              acc += (<i32>load<u8>(line + <usize>kx * pixelBytes) - inputZero) * <i32>load<i16>(wRow + (<usize>kx << 4));
            }
          }
          store<u8>(out + <usize>c, <u8>requantize(acc, load<f32>(block + 32 + (j << 2)), zeroPoint, lo, hi));
        }
      }
    }
  }
}

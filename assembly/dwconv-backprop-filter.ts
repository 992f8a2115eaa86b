// The filter gradient of a float32 depthwise convolution (TensorFlow's
// DepthwiseConv2dNativeBackpropFilter), NHWC, dilation 1:
//
//   dw[kh, kw, c, m] = Σ_{n, oh, ow} x[n, oh·sh + kh − top, ow·sw + kw − left, c] · dy[n, oh, ow, c·M + m]
//
// (zero where the window lies in the padding), M the depth multiplier. Each value sums N·OH·OW
// terms (45 000 for a 150×150 MobileNet layer at batch 2, where one float32 sum drifts), so the
// terms of one output row (n, oh) are summed in float32 into `rowPtr`, and each row's partial
// sums are added into float64 totals (`sumsPtr`); dw is written from those once, as float32.
//
// Memory contract: x [N, H, W, C], dy [N, OH, OW, C·M], dw [KH, KW, C, M] float32; scratch
// rowPtr (KH·KW·C·M float32) and sumsPtr (KH·KW·C·M float64, 8-byte aligned); none overlapping.
// Nothing is allocated.
//
// SIMD (M = 1, every MobileNet layer): four channels at a time (the row sums f32x4, promoted
// two lanes at a time into the f64 totals), then a scalar tail. M > 1 takes the scalar loop in
// both builds.

/** Writes dw for the given geometry (top/left: the padding before the image). */
export function dwconvBackpropFilter(
  xPtr: usize, dyPtr: usize, dwPtr: usize, rowPtr: usize, sumsPtr: usize, numBatch: i32, inH: i32, inW: i32,
  channels: i32, multiplier: i32, outH: i32, outW: i32, kh: i32, kw: i32, strideH: i32, strideW: i32, top: i32, left: i32
): void {
  const outC = channels * multiplier;
  const numW = kh * kw * outC;
  memory.fill(sumsPtr, 0, <usize>numW << 3);
  const pixelBytes = <usize>channels << 2, dyPixelBytes = <usize>outC << 2;
  const vectorEnd = ASC_FEATURE_SIMD && multiplier == 1 ? channels & ~3 : 0;
  for (let n = 0; n < numBatch; n++) {
    const xImage = xPtr + <usize>n * <usize>inH * <usize>inW * pixelBytes;
    for (let oh = 0; oh < outH; oh++) {
      memory.fill(rowPtr, 0, <usize>numW << 2);
      const dyLine = dyPtr + (<usize>n * <usize>outH + <usize>oh) * <usize>outW * dyPixelBytes;
      const ih0 = oh * strideH - top;
      const kh0 = max<i32>(0, -ih0), kh1 = min<i32>(kh, inH - ih0);
      for (let y = kh0; y < kh1; y++) {
        const xLine = xImage + <usize>(ih0 + y) * <usize>inW * pixelBytes;
        for (let x = 0; x < kw; x++) {
          // valid ow: 0 ≤ ow·sw + x − left < W
          const offset = x - left;
          const owLo = offset >= 0 ? 0 : (-offset + strideW - 1) / strideW;
          const owHi = min<i32>(outW, offset >= inW ? 0 : (inW - 1 - offset) / strideW + 1);
          const row = rowPtr + <usize>(y * kw + x) * dyPixelBytes;
          for (let ow = owLo; ow < owHi; ow++) {
            const xv = xLine + <usize>(ow * strideW + offset) * pixelBytes;
            const dy = dyLine + <usize>ow * dyPixelBytes;
            if (multiplier == 1) {
              let c = 0;
              if (ASC_FEATURE_SIMD) {
                for (; c < vectorEnd; c += 4) {
                  const at = <usize>c << 2;
                  v128.store(row + at, f32x4.add(v128.load(row + at), f32x4.mul(v128.load(xv + at), v128.load(dy + at))));
                }
              }
              for (; c < channels; c++) {
                const at = <usize>c << 2;
                store<f32>(row + at, load<f32>(row + at) + load<f32>(xv + at) * load<f32>(dy + at));
              }
            } else {
              for (let c = 0, o = 0; c < channels; c++) {
                const value = load<f32>(xv + (<usize>c << 2));
                for (let m = 0; m < multiplier; m++, o++) {
                  const at = row + (<usize>o << 2);
                  store<f32>(at, load<f32>(at) + value * load<f32>(dy + (<usize>o << 2)));
                }
              }
            }
          }
        }
      }
      // the row's partial sums into the float64 totals
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        for (; i + 4 <= numW; i += 4) {
          const part = v128.load(rowPtr + (<usize>i << 2));
          const total = sumsPtr + (<usize>i << 3);
          v128.store(total, f64x2.add(v128.load(total), f64x2.promote_low_f32x4(part)));
          v128.store(total + 16, f64x2.add(v128.load(total + 16), f64x2.promote_low_f32x4(i32x4.shuffle(part, part, 2, 3, 0, 1))));
        }
      }
      for (; i < numW; i++) {
        const total = sumsPtr + (<usize>i << 3);
        store<f64>(total, load<f64>(total) + <f64>load<f32>(rowPtr + (<usize>i << 2)));
      }
    }
  }
  for (let i = 0; i < numW; i++) store<f32>(dwPtr + (<usize>i << 2), <f32>load<f64>(sumsPtr + (<usize>i << 3)));
}

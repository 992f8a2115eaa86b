// The input gradient of a float32 depthwise convolution (TensorFlow's
// DepthwiseConv2dNativeBackpropInput), NHWC, dilation 1:
//
//   dx[n, ih, iw, c] = Σ_{kh, kw, m} dy[n, oh, ow, c·M + m] · w[kh, kw, c, m]
//                      over ih = oh·sh + kh − top, iw = ow·sw + kw − left,
//
// M the depth multiplier (filter [KH, KW, C, M], output channel c·M + m, TensorFlow's layout).
// Scatter form: dx is zeroed, then each output position's dy row is multiplied into the input
// rows its window covers, channels innermost (NHWC rows and the filter's [C, M] plane are both
// contiguous there). Each dx value sums at most KH·KW·M terms, in float32.
//
// Memory contract: dy [N, OH, OW, C·M], w [KH, KW, C, M] and dx [N, H, W, C] float32, 4-byte
// aligned, not overlapping. Nothing is allocated.
//
// SIMD (M = 1, every MobileNet layer): four channels at a time, then a scalar tail. M > 1 takes
// the scalar loop in both builds.

/**
 * Writes dx for the given geometry (top/left: the padding before the image; OH, OW: the output
 * size the forward convolution had).
 */
export function dwconvBackpropInput(
  dyPtr: usize, wPtr: usize, dxPtr: usize, numBatch: i32, inH: i32, inW: i32, channels: i32, multiplier: i32,
  outH: i32, outW: i32, kh: i32, kw: i32, strideH: i32, strideW: i32, top: i32, left: i32
): void {
  const outC = channels * multiplier;
  memory.fill(dxPtr, 0, <usize>numBatch * <usize>inH * <usize>inW * <usize>channels << 2);
  const pixelBytes = <usize>channels << 2, dyPixelBytes = <usize>outC << 2;
  const vectorEnd = ASC_FEATURE_SIMD && multiplier == 1 ? channels & ~3 : 0;
  let dyRow = dyPtr;
  for (let n = 0; n < numBatch; n++) {
    const dxImage = dxPtr + <usize>n * <usize>inH * <usize>inW * pixelBytes;
    for (let oh = 0; oh < outH; oh++) {
      const ih0 = oh * strideH - top;
      const kh0 = max<i32>(0, -ih0), kh1 = min<i32>(kh, inH - ih0);
      for (let ow = 0; ow < outW; ow++, dyRow += dyPixelBytes) {
        const iw0 = ow * strideW - left;
        const kw0 = max<i32>(0, -iw0), kw1 = min<i32>(kw, inW - iw0);
        for (let y = kh0; y < kh1; y++) {
          const dxLine = dxImage + <usize>(ih0 + y) * <usize>inW * pixelBytes;
          for (let x = kw0; x < kw1; x++) {
            const dx = dxLine + <usize>(iw0 + x) * pixelBytes;
            const w = wPtr + <usize>(y * kw + x) * dyPixelBytes;
            if (multiplier == 1) {
              let c = 0;
              if (ASC_FEATURE_SIMD) {
                for (; c < vectorEnd; c += 4) {
                  const at = <usize>c << 2;
                  v128.store(dx + at, f32x4.add(v128.load(dx + at), f32x4.mul(v128.load(dyRow + at), v128.load(w + at))));
                }
              }
              for (; c < channels; c++) {
                const at = <usize>c << 2;
                store<f32>(dx + at, load<f32>(dx + at) + load<f32>(dyRow + at) * load<f32>(w + at));
              }
            } else {
              for (let c = 0, o = 0; c < channels; c++) {
                let sum: f32 = 0;
                for (let m = 0; m < multiplier; m++, o++) {
                  sum += load<f32>(dyRow + (<usize>o << 2)) * load<f32>(w + (<usize>o << 2));
                }
                const at = dx + (<usize>c << 2);
                store<f32>(at, load<f32>(at) + sum);
              }
            }
          }
        }
      }
    }
  }
}

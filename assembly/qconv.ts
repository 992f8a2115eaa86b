// uint8 convolution of any kernel size and stride (3×3 stride 1/2 in MobileNet SSDs, also 1×1
// with a stride), NHWC, as TFLite's CONV_2D computes it: acc = bias + Σ (x − zx)(w − zw) in
// int32, then qrequant.ts. Padding cells hold the input zero point (SAME padding), so they add
// (zx − zx)·(w − zw) = 0, as in TFLite.
//
// One output row at a time: its windows are copied into `scratchPtr` as rows of numK8·8 bytes
// (k = (ky·kw + kx)·inC + c, TFLite's filter order [O, kh, kw, I], cells outside the image
// filled with zx), then qgemm.ts multiplies them with the weights packed by qgemmPack (with
// numK = kh·kw·inC and the same zx, so its folded bias expects exactly these zx cells).
//
// Memory contract: x is [inH, inW, inC] u8; out is [outH, outW, numOut] u8; scratchPtr has
// outW·numK8·8 + 16 bytes. A 1×1 stride-1 convolution without padding should call qgemm on x
// directly (its rows are already the windows).

import { qgemm } from "./qgemm";

/** Copies one output row's windows into scratch rows of `rowBytes` bytes. */
function windowsOfRow(
  xPtr: usize, inH: i32, inW: i32, inC: i32, kh: i32, kw: i32, strideW: i32, padLeft: i32,
  iy0: i32, outW: i32, inputZero: i32, scratchPtr: usize, rowBytes: usize
): void {
  const cellBytes = <usize>inC;
  for (let ox = 0; ox < outW; ox++) {
    const row = scratchPtr + <usize>ox * rowBytes;
    const ix0 = ox * strideW - padLeft;
    let at = row;
    for (let ky = 0; ky < kh; ky++) {
      const iy = iy0 + ky;
      const inside = <u32>iy < <u32>inH;
      const line = xPtr + <usize>iy * <usize>inW * cellBytes;
      for (let kx = 0; kx < kw; kx++, at += cellBytes) {
        const ix = ix0 + kx;
        if (inside && <u32>ix < <u32>inW) {
          const from = line + <usize>ix * cellBytes;
          if (cellBytes <= 4) {
            for (let c: usize = 0; c < cellBytes; c++) store<u8>(at + c, load<u8>(from + c));
          } else {
            memory.copy(at, from, cellBytes);
          }
        } else {
          memory.fill(at, <u8>inputZero, cellBytes);
        }
      }
    }
    // k ≥ numK meets zero weights; keep the bytes defined anyway
    memory.fill(at, 0, row + rowBytes - at);
  }
}

/**
 * A uint8 convolution with weights packed by qgemmPack(numK = kh·kw·inC, inputZero = zx):
 * out[oy, ox, o] for the given geometry (padTop/padLeft: TFLite's SAME padding before the
 * image, the rest implied by outH/outW). Values are clamped to [lo, hi].
 */
export function qconv(
  xPtr: usize, inH: i32, inW: i32, inC: i32, kh: i32, kw: i32, strideH: i32, strideW: i32,
  padTop: i32, padLeft: i32, outH: i32, outW: i32, inputZero: i32,
  packedPtr: usize, numOut: i32, outPtr: usize, zeroPoint: i32, lo: i32, hi: i32, scratchPtr: usize
): void {
  const numK8 = (kh * kw * inC + 7) >> 3;
  const rowBytes = <usize>numK8 << 3;
  const outRowBytes = <usize>outW * <usize>numOut;
  for (let oy = 0; oy < outH; oy++) {
    windowsOfRow(xPtr, inH, inW, inC, kh, kw, strideW, padLeft, oy * strideH - padTop, outW, inputZero, scratchPtr, rowBytes);
    qgemm(scratchPtr, <i32>rowBytes, outW, numK8, packedPtr, numOut, outPtr + <usize>oy * outRowBytes, numOut, zeroPoint, lo, hi);
  }
}

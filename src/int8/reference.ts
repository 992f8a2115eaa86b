/**
 * Plain-TypeScript reference of the uint8 kernels (assembly/qgemm.ts, qconv.ts, qdepthwise.ts,
 * qadd.ts): TensorFlow Lite's arithmetic as XNNPACK computes it, written the obvious way —
 * int32 accumulation of (x − zx)(w − zw) + bias, then requantisation in f32 — for tests. NHWC
 * layout, batch 1; padding cells hold the input zero point.
 */
import { roundHalfEven } from '../convert/tflite/arithmetic.js';

const f32 = Math.fround;

/** XNNPACK's conv requantisation scale: f32(f32(sx · sw) / sy). */
export function convScale(inputScale: number, weightScale: number, outputScale: number): number {
  return f32(f32(f32(inputScale) * f32(weightScale)) / f32(outputScale));
}

/** clamp(roundHalfEven(f32(f32(acc) · scale)) + zeroPoint, lo, hi). */
export function requantize(acc: number, scale: number, zeroPoint: number, lo = 0, hi = 255): number {
  return Math.min(hi, Math.max(lo, roundHalfEven(f32(f32(acc) * scale)) + zeroPoint));
}

export interface ConvGeometry {
  inH: number;
  inW: number;
  inC: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  outH: number;
  outW: number;
}

/** TFLite's SAME padding: output size and the padding before the image, per axis. */
export function samePadding(input: number, kernel: number, stride: number): { out: number; before: number } {
  const out = Math.ceil(input / stride);
  const total = Math.max((out - 1) * stride + kernel - input, 0);
  return { out, before: Math.floor(total / 2) };
}

export interface QuantOperands {
  inputZero: number;
  weightZero: number;
  /** int32 bias per output channel, or undefined. */
  bias: Int32Array | undefined;
  /** Requantisation scale per output channel (convScale). */
  scale: Float32Array;
  outputZero: number;
  lo?: number;
  hi?: number;
}

/** CONV_2D: x [inH, inW, inC], w [numOut, kh, kw, inC] → [outH, outW, numOut]. */
export function referenceConv(
  x: Uint8Array,
  w: Uint8Array,
  numOut: number,
  g: ConvGeometry,
  q: QuantOperands,
): Uint8Array {
  const out = new Uint8Array(g.outH * g.outW * numOut);
  for (let oy = 0; oy < g.outH; oy++)
    for (let ox = 0; ox < g.outW; ox++)
      for (let o = 0; o < numOut; o++) {
        let acc = q.bias ? q.bias[o] : 0;
        for (let ky = 0; ky < g.kh; ky++)
          for (let kx = 0; kx < g.kw; kx++) {
            const iy = oy * g.strideH - g.padTop + ky,
              ix = ox * g.strideW - g.padLeft + kx;
            const inside = iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW;
            for (let c = 0; c < g.inC; c++) {
              const xv = inside ? x[(iy * g.inW + ix) * g.inC + c] : q.inputZero;
              acc += (xv - q.inputZero) * (w[((o * g.kh + ky) * g.kw + kx) * g.inC + c] - q.weightZero);
            }
          }
        out[(oy * g.outW + ox) * numOut + o] = requantize(acc, q.scale[o], q.outputZero, q.lo, q.hi);
      }
  return out;
}

/** DEPTHWISE_CONV_2D (multiplier 1): x [inH, inW, C], w [kh, kw, C] → [outH, outW, C]. */
export function referenceDepthwise(x: Uint8Array, w: Uint8Array, g: ConvGeometry, q: QuantOperands): Uint8Array {
  const C = g.inC;
  const out = new Uint8Array(g.outH * g.outW * C);
  for (let oy = 0; oy < g.outH; oy++)
    for (let ox = 0; ox < g.outW; ox++)
      for (let c = 0; c < C; c++) {
        let acc = q.bias ? q.bias[c] : 0;
        for (let ky = 0; ky < g.kh; ky++)
          for (let kx = 0; kx < g.kw; kx++) {
            const iy = oy * g.strideH - g.padTop + ky,
              ix = ox * g.strideW - g.padLeft + kx;
            if (iy < 0 || iy >= g.inH || ix < 0 || ix >= g.inW) continue; // a zx cell adds 0
            acc += (x[(iy * g.inW + ix) * C + c] - q.inputZero) * (w[(ky * g.kw + kx) * C + c] - q.weightZero);
          }
        out[(oy * g.outW + ox) * C + c] = requantize(acc, q.scale[c], q.outputZero, q.lo, q.hi);
      }
  return out;
}

/** ADD with XNNPACK's parameters (xnnpackAddParams): floor((bias + a·ma + b·mb + 2^(s−1)) / 2^s) + zy. */
export function referenceAdd(
  a: Uint8Array,
  b: Uint8Array,
  p: { aMultiplier: number; bMultiplier: number; bias: number; shift: number; rounding: number },
  outputZero: number,
  lo = 0,
  hi = 255,
): Uint8Array {
  return Uint8Array.from(a, (qa, i) => {
    const acc = p.bias + qa * p.aMultiplier + b[i] * p.bMultiplier + p.rounding;
    return Math.min(hi, Math.max(lo, Math.floor(acc / 2 ** p.shift) + outputZero));
  });
}

/**
 * The integer arithmetic of uint8 (asymmetric, per-tensor) TFLite ops, written out two ways:
 *
 * - `xnnpack…`: what XNNPACK's QU8 operators compute. TensorFlow Lite in tfjs-tflite applies the
 *   XNNPACK delegate by default, so CONV_2D, DEPTHWISE_CONV_2D, ADD and LOGISTIC in the reference
 *   outputs follow these (checked bit for bit by check-arithmetic.ts).
 * - `tfliteBuiltin…`: TFLite's own built-in kernels (reference_ops, gemmlowp fixed point with
 *   double rounding), what TFLite computes without the delegate (e.g. TFLite's Python
 *   interpreter with `experimental_op_resolver_type=BUILTIN_WITHOUT_DEFAULT_DELEGATES`).
 *
 * They differ by one step in some outputs (1.0 % of conv and 2.7 % of depthwise values here), so a converted model
 * that is to equal the reference exactly must follow the XNNPACK column.
 */

const f32 = Math.fround;

/** Round half to even (what XNNPACK's magic-bias / lrintf rounding gives in the default FP mode). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x),
    fraction = x - floor;
  if (fraction !== 0.5) return fraction < 0.5 ? floor : floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

export const clampU8 = (x: number, min = 0, max = 255) => Math.min(max, Math.max(min, x));

// ---------------------------------------------------------------------------------------------
// Convolution requantisation: int32 accumulator (bias + Σ (x − zx)(w − zw)) → uint8

/**
 * XNNPACK QU8 conv / depthwise conv (its "fp32" requantisation, as in XNNPACK's qu8
 * `*-minmax-fp32-*` micro-kernels): scale = fp32(input_scale · filter_scale / output_scale), then
 * out = clamp(roundHalfEven(fp32(fp32(acc) · scale)) + output_zero_point). The scale computed
 * in float32 step by step or in double then rounded gave the same outputs on this model.
 */
export function xnnpackConvScale(inputScale: number, filterScale: number, outputScale: number): number {
  return f32(f32(f32(inputScale) * f32(filterScale)) / f32(outputScale));
}
export function xnnpackRequantize(acc: number, scale: number, outputZeroPoint: number, min = 0, max = 255): number {
  return clampU8(roundHalfEven(f32(f32(acc) * scale)) + outputZeroPoint, min, max);
}

/** tflite::QuantizeMultiplier: real multiplier → (Q31 int multiplier, power-of-two shift). */
export function quantizeMultiplier(real: number): { multiplier: bigint; shift: number } {
  if (real === 0) return { multiplier: 0n, shift: 0 };
  let shift = Math.floor(Math.log2(real)) + 1; // frexp: real = m · 2^shift, m in [0.5, 1)
  let q = Math.round((real / 2 ** shift) * 2 ** 31);
  if (q === 2 ** 31) {
    q /= 2;
    shift++;
  }
  return { multiplier: BigInt(q), shift };
}

/** gemmlowp SaturatingRoundingDoublingHighMul (int32 · Q31, rounded, half away from zero). */
function roundingDoublingHighMul(a: number, b: bigint): number {
  const ab = BigInt(a) * b;
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates, like C++
}

/** gemmlowp RoundingDivideByPOT: x / 2^exponent, rounded half away from zero. */
function roundingDivideByPot(x: number, exponent: number): number {
  if (exponent === 0) return x;
  const mask = (1 << exponent) - 1,
    remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** tflite::MultiplyByQuantizedMultiplier (the double-rounding form TFLite uses by default). */
export function multiplyByQuantizedMultiplier(x: number, m: { multiplier: bigint; shift: number }): number {
  const left = m.shift > 0 ? m.shift : 0,
    right = m.shift > 0 ? 0 : -m.shift;
  return roundingDivideByPot(roundingDoublingHighMul(x * 2 ** left, m.multiplier), right);
}

export function tfliteBuiltinRequantize(
  acc: number,
  m: { multiplier: bigint; shift: number },
  outputZeroPoint: number,
  min = 0,
  max = 255,
): number {
  return clampU8(multiplyByQuantizedMultiplier(acc, m) + outputZeroPoint, min, max);
}

// ---------------------------------------------------------------------------------------------
// ADD of two uint8 tensors

export interface XnnpackAddParams {
  aMultiplier: number;
  bMultiplier: number;
  shift: number;
}

/**
 * XNNPACK QU8 add (as XNNPACK's qu8 add parameter set-up builds it): fp32 ratios
 * a_scale/out_scale and b_scale/out_scale become integer multipliers with 20 significant bits
 * at a common shift; out = ((acc + 2^(shift−1)) >> shift) + out_zp, acc = (a − za)·ma + (b − zb)·mb,
 * i.e. one rounding, half up.
 */
export function xnnpackAddParams(aScale: number, bScale: number, outputScale: number): XnnpackAddParams {
  const aRatio = f32(f32(aScale) / f32(outputScale)),
    bRatio = f32(f32(bScale) / f32(outputScale));
  const exponent = (new Uint32Array(new Float32Array([Math.max(aRatio, bRatio)]).buffer)[0] >>> 23) - 127;
  const shift = 20 - exponent;
  return { aMultiplier: roundHalfEven(aRatio * 2 ** shift), bMultiplier: roundHalfEven(bRatio * 2 ** shift), shift };
}
export function xnnpackAdd(
  a: number,
  za: number,
  b: number,
  zb: number,
  p: XnnpackAddParams,
  outputZeroPoint: number,
): number {
  const acc = (a - za) * p.aMultiplier + (b - zb) * p.bMultiplier;
  return clampU8(Math.floor((acc + 2 ** (p.shift - 1)) / 2 ** p.shift) + outputZeroPoint);
}

/** TFLite built-in uint8 ADD (reference_ops::Add, left shift 20, three quantised multipliers). */
export function tfliteBuiltinAddParams(aScale: number, bScale: number, outputScale: number) {
  const leftShift = 20,
    twiceMax = 2 * Math.max(aScale, bScale);
  return {
    leftShift,
    a: quantizeMultiplier(aScale / twiceMax),
    b: quantizeMultiplier(bScale / twiceMax),
    out: quantizeMultiplier(twiceMax / (2 ** leftShift * outputScale)),
  };
}
export function tfliteBuiltinAdd(
  a: number,
  za: number,
  b: number,
  zb: number,
  p: ReturnType<typeof tfliteBuiltinAddParams>,
  outputZeroPoint: number,
): number {
  const sa = multiplyByQuantizedMultiplier((a - za) * 2 ** p.leftShift, p.a);
  const sb = multiplyByQuantizedMultiplier((b - zb) * 2 ** p.leftShift, p.b);
  return clampU8(multiplyByQuantizedMultiplier(sa + sb, p.out) + outputZeroPoint);
}

// ---------------------------------------------------------------------------------------------
// LOGISTIC: a 256-entry table (both TFLite and XNNPACK build one; they agreed on this model)

export function logisticTable(
  inputScale: number,
  inputZeroPoint: number,
  outputScale: number,
  outputZeroPoint: number,
): Uint8Array {
  const table = new Uint8Array(256);
  for (let q = 0; q < 256; q++) {
    const x = inputScale * (q - inputZeroPoint);
    table[q] = clampU8(Math.round(1 / (1 + Math.exp(-x)) / outputScale) + outputZeroPoint);
  }
  return table;
}

/**
 * TensorFlow Lite's integer arithmetic for uint8 tensors, as numbers the converter bakes into
 * ONNX constants. Each function says which TFLite kernel it reproduces; all float steps are
 * float32 (Math.fround after each operation), as the C++ computes them.
 */

const f32 = Math.fround;

/** Round half to even, as C's lrintf in the default rounding mode. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Round half away from zero, as C's std::round. */
export function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
}

export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/**
 * XNNPACK's uint8 ADD (xnn_init_qu8_add_minmax_scalar_params and the qu8 vadd kernels), which
 * TFLite's XNNPACK delegate runs: each input's scale ratio a_scale / out_scale (f32) becomes an
 * integer multiplier at a shared shift chosen from the larger ratio's exponent, so that
 *   out = clamp(((bias + a·aMultiplier + b·bMultiplier + 2^(shift−1)) >> shift) + zeroPoint)
 * with an arithmetic (flooring) shift and bias = −(aMultiplier·aZero + bMultiplier·bZero).
 */
export function xnnpackAddParams(a: QuantParams, b: QuantParams, out: QuantParams) {
  const aRatio = f32(f32(a.scale) / f32(out.scale));
  const bRatio = f32(f32(b.scale) / f32(out.scale));
  const maxRatio = Math.max(aRatio, bRatio);
  if (!(maxRatio >= 2 ** -10 && maxRatio < 2 ** 8)) {
    throw new RangeError(`ADD: input/output scale ratio ${maxRatio} is outside XNNPACK's range [2^-10, 2^8)`);
  }
  const exponent = Math.floor(Math.log2(maxRatio));
  const shift = 20 - exponent; // multipliers below 2^21
  const aMultiplier = roundHalfEven(aRatio * 2 ** shift);
  const bMultiplier = roundHalfEven(bRatio * 2 ** shift);
  const bias = -(aMultiplier * a.zeroPoint + bMultiplier * b.zeroPoint);
  return { aMultiplier, bMultiplier, bias, shift, rounding: 2 ** (shift - 1) };
}

/** The integer result of xnnpackAddParams' formula for one pair (the reference for tests). */
export function xnnpackAdd(
  qa: number,
  qb: number,
  a: QuantParams,
  b: QuantParams,
  out: QuantParams,
  min = 0,
  max = 255,
): number {
  const p = xnnpackAddParams(a, b, out);
  const acc = p.bias + qa * p.aMultiplier + qb * p.bMultiplier + p.rounding;
  return Math.min(max, Math.max(min, Math.floor(acc / 2 ** p.shift) + out.zeroPoint));
}

/**
 * TFLite's CONCATENATION of a uint8 input whose quantisation differs from the output's
 * (reference_ops::ConcatenationWithScaling): scale = in_scale · (1 / out_scale) and
 * bias = −in_zero · scale in f32, out = clamp(round(q·scale + bias) + out_zero), std::round.
 */
export function concatRequantParams(input: QuantParams, out: QuantParams) {
  const scale = f32(f32(input.scale) * f32(1 / f32(out.scale)));
  const bias = f32(-input.zeroPoint * scale);
  return { scale, bias };
}

/**
 * The 256-entry table of TFLite's uint8 LOGISTIC (kernels/activations.cc, PopulateLookupTable):
 * dequantise in f32, 1 / (1 + exp(−x)) in f32, times 1 / out_scale, std::round, + zero point,
 * clamped to [0, 255].
 */
export function logisticTable(input: QuantParams, out: QuantParams): Uint8Array {
  const table = new Uint8Array(256);
  const inverseScale = f32(1 / f32(out.scale));
  for (let q = 0; q < 256; q++) {
    const x = f32(f32(input.scale) * (q - input.zeroPoint));
    const sigmoid = f32(1 / f32(1 + f32(Math.exp(-x))));
    const value = roundHalfAway(f32(sigmoid * inverseScale)) + out.zeroPoint;
    table[q] = Math.min(255, Math.max(0, value));
  }
  return table;
}

/** The quantised bounds [min, max] of a fused activation on an output with these parameters. */
export function activationRange(activation: string, out: QuantParams, qmin = 0, qmax = 255): [number, number] {
  const quantize = (v: number) => out.zeroPoint + roundHalfAway(f32(v / out.scale));
  if (activation === 'NONE') return [qmin, qmax];
  if (activation === 'RELU') return [Math.max(qmin, quantize(0)), qmax];
  if (activation === 'RELU6') return [Math.max(qmin, quantize(0)), Math.min(qmax, quantize(6))];
  if (activation === 'RELU_N1_TO_1') return [Math.max(qmin, quantize(-1)), Math.min(qmax, quantize(1))];
  throw new RangeError(`fused activation ${activation} is not supported on quantised tensors`);
}

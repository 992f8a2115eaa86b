/**
 * e^x exactly as the wasm core computes it (assembly/expf.ts), in TypeScript: for host code that
 * must agree with the core bit for bit (the uint8 score thresholds of Postprocessor.runQuantized)
 * and for the plain-TypeScript reference.
 */
const f32 = Math.fround;

// see: assembly/expf.ts — the same constants and the same order of operations.
const EXP_MIN = -87;
const EXP_MAX = 88;
const LOG2E = f32(1.4426950408889634); // log2(e), Math.LOG2E
const LN2_HI = f32(0.693359375);
const LN2_LO = f32(-2.1219444e-4);
const P = [1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1].map(f32);

const bits = new Int32Array(1);
const asFloat = new Float32Array(bits.buffer);

/** e^x as the core computes it (Cephes expf, argument clamped to [−87, 88]). */
export function expf(x: number): number {
  x = Math.min(Math.max(x, EXP_MIN), EXP_MAX);
  const n = Math.floor(f32(f32(x * LOG2E) + 0.5));
  const r = f32(f32(x - f32(n * LN2_HI)) - f32(n * LN2_LO));
  let p = f32(f32(P[0] * r) + P[1]);
  for (let i = 2; i < P.length; i++) p = f32(f32(p * r) + P[i]);
  p = f32(f32(f32(p * f32(r * r)) + r) + 1);
  bits[0] = (n + 127) << 23;
  return f32(p * asFloat[0]);
}

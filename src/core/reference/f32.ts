/**
 * Single-precision arithmetic for the reference implementation.
 *
 * The core computes in f32. Rounding each f64 result of +, −, ×, ÷ to f32 with Math.fround
 * gives exactly the f32 result (f64 has more than twice f32's precision), so the reference
 * reproduces the core bit for bit and the two can be compared detection by detection.
 */
export const f32 = Math.fround;

// e^x as the core computes it: production code (the uint8 score thresholds) needs it too
export { expf } from '../expf.js';

// Small helpers shared by the specs. Not a spec itself (as-pect compiles only *.spec.ts as
// entries), so it holds no `describe`/`it`.

/** The address of a StaticArray's first element, for the core's pointer ABI. */
// @ts-ignore: decorator
@inline
export function ptr<T>(a: StaticArray<T>): usize {
  return changetype<usize>(a);
}

/** A StaticArray<f32> holding `values`. */
export function f32s(values: f32[]): StaticArray<f32> {
  const out = new StaticArray<f32>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

/** A StaticArray<f64> holding `values` (the priors' parameter blocks are f64). */
export function f64s(values: f64[]): StaticArray<f64> {
  const out = new StaticArray<f64>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

/** A StaticArray<i32> holding `values`. */
export function i32s(values: i32[]): StaticArray<i32> {
  const out = new StaticArray<i32>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

/** A StaticArray<u64> holding `values`. */
export function u64s(values: u64[]): StaticArray<u64> {
  const out = new StaticArray<u64>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

/** The raw bits of an f32, so that bit-identity can be asserted with toBe. */
// @ts-ignore: decorator
@inline
export function bits(x: f32): u32 {
  return reinterpret<u32>(x);
}

/** Asserts |actual − expected| ≤ tolerance, with the reason in `message`. */
export function expectNear(actual: f64, expected: f64, tolerance: f64, message: string): void {
  expect<f64>(Math.abs(actual - expected)).toBeLessThanOrEqual(
    tolerance, message + " (got " + actual.toString() + ", expected " + expected.toString() + ")"
  );
}

/** Deterministic xorshift32, so a failing random case can be replayed from its seed. */
export class Rng {
  constructor(public state: u32) {}

  nextU32(): u32 {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x;
    return x;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: f32, hi: f32): f32 {
    return lo + (hi - lo) * (<f32>(this.nextU32() >>> 8) * (<f32>1.0 / <f32>16777216.0));
  }

  /** Uniform integer in [0, n). */
  below(n: i32): i32 {
    return <i32>(this.nextU32() % <u32>n);
  }
}

/** A StaticArray<u8> holding `values` plus 16 spare bytes (the uint8 kernels' read contract). */
export function u8s(values: i32[]): StaticArray<u8> {
  const out = new StaticArray<u8>(values.length + 16);
  for (let i = 0; i < values.length; i++) out[i] = <u8>values[i];
  return out;
}

/** The first `n` bytes of `a` as a comma-separated list, for one readable toBe per tensor. */
export function listU8(a: StaticArray<u8>, n: i32): string {
  let s = "";
  for (let i = 0; i < n; i++) s += (i ? "," : "") + a[i].toString();
  return s;
}

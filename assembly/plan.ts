// Reading the plan block the host writes (word map in pipeline.ts, layout in src/core/plan.ts).

/** Word `i` of the plan as an i32. */
// @ts-ignore: decorator
@inline
export function word(planPtr: usize, i: i32): i32 {
  return load<i32>(planPtr + (<usize>i << 2));
}
/** Word `i` of the plan as an f32. */
// @ts-ignore: decorator
@inline
export function real(planPtr: usize, i: i32): f32 {
  return load<f32>(planPtr + (<usize>i << 2));
}
/** Word `i` of the plan as a pointer. */
// @ts-ignore: decorator
@inline
export function ptr(planPtr: usize, i: i32): usize {
  return <usize>load<u32>(planPtr + (<usize>i << 2));
}

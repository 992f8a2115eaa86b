/**
 * OneHot for the tfjs wasm backend, replacing the one tfjs-backend-wasm 4.22.0 ships: that one
 * writes int32 values whatever the dtype, so `tf.oneHot(labels, C, 1, 0, 'float32')` there holds
 * the bit pattern of int 1 (1.4e-45) where it should hold 1 — MultiBoxLoss's confidence term came
 * out as ~1e-42 on wasm. This one writes the asked-for dtype, as tfjs's cpu kernel does: `onValue`
 * at each in-range index, `offValue` elsewhere (a row of an out-of-range index is all `offValue`).
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

function oneHotWasm(args: { inputs: { indices: TensorInfo }; backend: BackendWasm; attrs: NamedAttrMap }): TensorInfo {
  const {
    inputs: { indices },
    backend,
  } = args;
  const { dtype, depth, onValue, offValue } = args.attrs as unknown as {
    dtype: 'float32' | 'int32';
    depth: number;
    onValue: number;
    offValue: number;
  };
  if (dtype !== 'float32' && dtype !== 'int32')
    throw new Error(`OneHot (wasm, ssd-edge): dtype ${dtype} is not supported`);
  const out = backend.makeOutput([...indices.shape, depth], dtype);
  // Views after the allocation: it may grow (and so detach) the wasm heap.
  const index = backend.typedArrayFromHeap(indices);
  const values = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  values.fill(offValue);
  for (let i = 0; i < index.length; i++) {
    const k = index[i];
    if (k >= 0 && k < depth) values[i * depth + k] = onValue;
  }
  return out;
}

export const oneHotWasmConfig: KernelConfig = {
  kernelName: 'OneHot',
  backendName: 'wasm',
  kernelFunc: oneHotWasm as unknown as KernelFunc,
};

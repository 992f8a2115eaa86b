/**
 * MaxPoolGrad for the tfjs wasm backend, replacing the one tfjs-backend-wasm 4.22.0 ships: that
 * one loses gradients — e.g. a 2×2/2 'valid' pool over a random 6×6 input sends nothing to some
 * windows' maxima (tests/train/kernels shows it against the cpu backend).
 *
 * Each output cell's gradient goes to the first maximum of its window in row-major order (a strict
 * `>` scan, padding cells skipped as −∞), exactly as tfjs's cpu kernel (`maxPoolPositions`)
 * chooses it. A JS loop over the wasm heap: one pass over the windows, O(output · window).
 */
import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

interface MaxPoolGradAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function maxPoolGradWasm(args: {
  inputs: { dy: TensorInfo; input: TensorInfo };
  backend: BackendWasm;
  attrs: NamedAttrMap;
}): TensorInfo {
  const {
    inputs: { dy, input },
    backend,
  } = args;
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolGradAttrs;
  if (input.dtype !== 'float32' || dy.dtype !== 'float32')
    throw new Error('MaxPoolGrad (wasm, ssd-edge): input and dy must be float32');
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: OH,
    outWidth: OW,
    strideHeight: sh,
    strideWidth: sw,
    effectiveFilterHeight: FH,
    effectiveFilterWidth: FW,
  } = info;
  const top = info.padInfo.top,
    left = info.padInfo.left;
  const dx = backend.makeOutput(input.shape, 'float32');
  // Views after the allocation: it may grow (and so detach) the wasm heap.
  const xv = backend.typedArrayFromHeap(input) as Float32Array;
  const dyv = backend.typedArrayFromHeap(dy) as Float32Array;
  const dxv = backend.typedArrayFromHeap(dx) as Float32Array;
  dxv.fill(0);
  for (let n = 0; n < N; n++) {
    const xBase = n * H * W * C;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - top,
        hLo = Math.max(0, h0),
        hHi = Math.min(H, h0 + FH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * sw - left,
          wLo = Math.max(0, w0),
          wHi = Math.min(W, w0 + FW);
        const dyBase = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) {
          let best = -Infinity,
            at = -1;
          for (let h = hLo; h < hHi; h++) {
            for (let w = wLo, i = xBase + (h * W + wLo) * C + c; w < wHi; w++, i += C) {
              if (xv[i] > best) {
                best = xv[i];
                at = i;
              }
            }
          }
          if (at >= 0) dxv[at] += dyv[dyBase + c];
        }
      }
    }
  }
  return dx;
}

export const maxPoolGradWasmConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGradWasm as unknown as KernelFunc,
};

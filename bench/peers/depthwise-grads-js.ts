/**
 * Peer for bench/depthwise-grads.bench.ts: the plain-JS depthwise-convolution gradient kernels
 * ssd-edge registered for tfjs-wasm before they moved into the training module's SIMD wasm kernels
 * (src/train/kernels/depthwise-conv2d-backprop-*.ts), kept verbatim as the "before" of the
 * benchmark: JS loops over tfjs's wasm heap, scatter form for dx, float64 sums for dW.
 */
import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapF32 } from '../../src/train/kernels/conv2d-backprop-filter.js';
import {
  checkNoDilation,
  type DepthwiseBackpropAttrs,
} from '../../src/train/kernels/depthwise-conv2d-backprop-input.js';

interface BackpropInputAttrs extends DepthwiseBackpropAttrs {
  inputShape: [number, number, number, number];
}

interface BackpropFilterAttrs extends DepthwiseBackpropAttrs {
  filterShape: [number, number, number, number];
}

function depthwiseBackpropInputJs(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: BackendWasm;
  attrs: NamedAttrMap;
}): TensorInfo {
  const {
    inputs: { dy, filter },
    backend,
  } = args;
  const { strides, pad, dilations, dimRoundingMode, inputShape } = args.attrs as unknown as BackpropInputAttrs;
  const kernel = 'DepthwiseConv2dNativeBackpropInput';
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32')
    throw new Error(`${kernel} (wasm, ssd-edge): dy and filter must be float32`);
  checkNoDilation(kernel, dilations);
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
  );
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: Ci,
    outHeight: OH,
    outWidth: OW,
    outChannels: Co,
    filterHeight: KH,
    filterWidth: KW,
    strideHeight: sh,
    strideWidth: sw,
  } = info;
  const top = info.padInfo.top,
    left = info.padInfo.left;
  const M = Co / Ci;
  const dx = backend.makeOutput([...inputShape], 'float32');
  // Views after the allocation: it may grow (and so detach) the wasm heap.
  const dxv = heapF32(backend, dx),
    dyv = heapF32(backend, dy),
    wv = heapF32(backend, filter);
  dxv.fill(0);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const dyBase = ((n * OH + oh) * OW + ow) * Co;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh + kh - top;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw + kw - left;
            if (iw < 0 || iw >= W) continue;
            const dxBase = ((n * H + ih) * W + iw) * Ci,
              wBase = (kh * KW + kw) * Co;
            if (M === 1) {
              for (let c = 0; c < Ci; c++) dxv[dxBase + c] += dyv[dyBase + c] * wv[wBase + c];
            } else {
              for (let ci = 0, o = 0; ci < Ci; ci++) {
                let sum = 0;
                for (let m = 0; m < M; m++, o++) sum += dyv[dyBase + o] * wv[wBase + o];
                dxv[dxBase + ci] += sum;
              }
            }
          }
        }
      }
    }
  }
  return dx;
}

export const depthwiseBackpropInputJsConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInputJs as unknown as KernelFunc,
};

function depthwiseBackpropFilterJs(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: BackendWasm;
  attrs: NamedAttrMap;
}): TensorInfo {
  const {
    inputs: { x, dy },
    backend,
  } = args;
  const { strides, pad, dilations, dimRoundingMode, filterShape } = args.attrs as unknown as BackpropFilterAttrs;
  const kernel = 'DepthwiseConv2dNativeBackpropFilter';
  if (x.dtype !== 'float32' || dy.dtype !== 'float32')
    throw new Error(`${kernel} (wasm, ssd-edge): x and dy must be float32`);
  checkNoDilation(kernel, dilations);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
  );
  const {
    batchSize: N,
    inHeight: H,
    inWidth: W,
    inChannels: Ci,
    outHeight: OH,
    outWidth: OW,
    outChannels: Co,
    filterHeight: KH,
    filterWidth: KW,
    strideHeight: sh,
    strideWidth: sw,
  } = info;
  const top = info.padInfo.top,
    left = info.padInfo.left;
  const M = Co / Ci;
  const sums = new Float64Array(KH * KW * Co);
  const xv = heapF32(backend, x),
    dyv = heapF32(backend, dy);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const dyBase = ((n * OH + oh) * OW + ow) * Co;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh + kh - top;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw + kw - left;
            if (iw < 0 || iw >= W) continue;
            const xBase = ((n * H + ih) * W + iw) * Ci,
              wBase = (kh * KW + kw) * Co;
            if (M === 1) {
              for (let c = 0; c < Ci; c++) sums[wBase + c] += xv[xBase + c] * dyv[dyBase + c];
            } else {
              for (let ci = 0, o = 0; ci < Ci; ci++) {
                const value = xv[xBase + ci];
                for (let m = 0; m < M; m++, o++) sums[wBase + o] += value * dyv[dyBase + o];
              }
            }
          }
        }
      }
    }
  }
  return backend.makeOutput([...filterShape], 'float32', undefined, Float32Array.from(sums));
}

export const depthwiseBackpropFilterJsConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilterJs as unknown as KernelFunc,
};

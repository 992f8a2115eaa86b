/**
 * Conv2DBackpropInput for the tfjs wasm backend, replacing tfjs-backend-wasm's own (correct, but a
 * direct loop: the largest kernel of an SSD300 training step on wasm, ~60% of it at width 1/16).
 *
 *   dx[n, ih, iw, ci] = Σ dy[n, oh, ow, co] · W[kh, kw, ci, co]   over ih = oh·sh + kh − top, iw = ow·sw + kw − left
 *
 * computed per block of output positions m = (n, oh, ow) as one matrix product and a col2im:
 *   dcols [B, K] = dy [B, Co] · Wᵀ [Co, K],   K = kh·kw·Ci,
 * by the wasm backend's own BatchMatMul (XNNPACK; neither operand transposed, its fast path), then
 * a JS loop adds each row's K values into the Ci-long runs of dx its window covers (col2im).
 * Blocks bound dcols to COLS_LIMIT floats. NHWC only, no dilations (as tf.conv2d's gradient).
 * Stride 1 (every SSD300 layer but four extras) goes through the backend's forward Conv2D instead
 * (viaForwardConv).
 */
import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { COLS_LIMIT, heapF32, type ConvBackpropAttrs } from './conv2d-backprop-filter.js';

interface BackpropInputAttrs extends ConvBackpropAttrs {
  inputShape: [number, number, number, number];
}

/**
 * Stride 1: dx is the forward convolution of dy with the filter rotated by 180° and its channel
 * axes swapped, Wr[kh, kw, co, ci] = W[KH−1−kh, KW−1−kw, ci, co], padded by K − 1 − pad on each
 * side; it runs on the backend's own Conv2D (XNNPACK), far faster than the col2im loop.
 */
function viaForwardConv(
  dy: TensorInfo,
  filter: TensorInfo,
  backend: BackendWasm,
  [KH, KW, Ci, Co]: number[],
  [padH, padW]: [number, number][],
  dimRoundingMode: ConvBackpropAttrs['dimRoundingMode'],
): TensorInfo {
  const rotated = backend.makeOutput([KH, KW, Co, Ci], 'float32');
  {
    const w = heapF32(backend, filter),
      r = heapF32(backend, rotated);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const src = (kh * KW + kw) * Ci * Co,
          dst = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * Co * Ci;
        for (let ci = 0; ci < Ci; ci++) for (let co = 0; co < Co; co++) r[dst + co * Ci + ci] = w[src + ci * Co + co];
      }
    }
  }
  const conv2d = tf.getKernel('Conv2D', 'wasm')!.kernelFunc;
  try {
    return conv2d({
      inputs: { x: dy, filter: rotated },
      backend,
      attrs: {
        strides: [1, 1],
        pad: [[0, 0], padH, padW, [0, 0]],
        dataFormat: 'NHWC',
        dilations: [1, 1],
        ...(dimRoundingMode ? { dimRoundingMode } : {}),
      },
    }) as TensorInfo;
  } finally {
    backend.disposeData(rotated.dataId);
  }
}

function conv2DBackpropInputWasm(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: BackendWasm;
  attrs: NamedAttrMap;
}): TensorInfo {
  const {
    inputs: { dy, filter },
    backend,
  } = args;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as BackpropInputAttrs;
  if (dataFormat !== 'NHWC')
    throw new Error(`Conv2DBackpropInput (wasm, ssd-edge): dataFormat ${dataFormat} is not supported; use NHWC`);
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32')
    throw new Error('Conv2DBackpropInput (wasm, ssd-edge): dy and filter must be float32');
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
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
  const K = KH * KW * Ci;
  const rowsTotal = N * OH;
  const bottom = info.padInfo.bottom,
    right = info.padInfo.right;
  if (sh === 1 && sw === 1 && N > 0 && Ci > 0 && Co > 0 && top < KH && bottom < KH && left < KW && right < KW) {
    return viaForwardConv(
      dy,
      filter,
      backend,
      [KH, KW, Ci, Co],
      [
        [KH - 1 - top, KH - 1 - bottom],
        [KW - 1 - left, KW - 1 - right],
      ],
      dimRoundingMode,
    );
  }
  const dx = backend.makeOutput([...inputShape], 'float32');
  heapF32(backend, dx).fill(0);
  if (rowsTotal * OW === 0 || K === 0) return dx;
  const matMul = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;

  // Wᵀ [1, Co, K] from W [K, Co].
  const filterT = backend.makeOutput([1, Co, K], 'float32');
  {
    const w = heapF32(backend, filter),
      wt = heapF32(backend, filterT);
    for (let k = 0; k < K; k++) for (let co = 0; co < Co; co++) wt[co * K + k] = w[k * Co + co];
  }
  const rowsPerBlock = Math.max(1, Math.min(rowsTotal, Math.floor(COLS_LIMIT / (K * OW))));
  for (let row0 = 0; row0 < rowsTotal; row0 += rowsPerBlock) {
    const rows = Math.min(rowsPerBlock, rowsTotal - row0);
    const B = rows * OW;
    const whole = rows === rowsTotal;
    const dyBlock = whole
      ? { dataId: dy.dataId, shape: [1, B, Co], dtype: 'float32' as const }
      : backend.makeOutput([1, B, Co], 'float32');
    if (!whole) heapF32(backend, dyBlock).set(heapF32(backend, dy).subarray(row0 * OW * Co, (row0 + rows) * OW * Co));
    const dcols = matMul({
      inputs: { a: dyBlock, b: filterT },
      backend,
      attrs: { transposeA: false, transposeB: false },
    }) as TensorInfo;
    if (!whole) backend.disposeData(dyBlock.dataId);
    // Views after every allocation: an allocation may grow (and so detach) the wasm heap.
    const cols = heapF32(backend, dcols),
      dxv = heapF32(backend, dx);
    let o = 0;
    for (let r = row0; r < row0 + rows; r++) {
      const n = (r / OH) | 0,
        oh = r - n * OH;
      for (let ow = 0; ow < OW; ow++, o += K) {
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh + kh - top;
          if (ih < 0 || ih >= H) continue;
          const rowBase = (n * H + ih) * W;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw + kw - left;
            if (iw < 0 || iw >= W) continue;
            const dst = (rowBase + iw) * Ci,
              src = o + (kh * KW + kw) * Ci;
            for (let ci = 0; ci < Ci; ci++) dxv[dst + ci] += cols[src + ci];
          }
        }
      }
    }
    backend.disposeData(dcols.dataId);
  }
  backend.disposeData(filterT.dataId);
  return dx;
}

export const conv2DBackpropInputWasmConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInputWasm as unknown as KernelFunc,
};

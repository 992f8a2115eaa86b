/**
 * Conv2DBackpropFilter for the tfjs wasm backend, which ships without it (so tf.conv2d cannot be
 * trained there as shipped).
 *
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·sh + kh − top, ow·sw + kw − left, ci] · dy[n, oh, ow, co]
 *
 * computed as one matrix product per block of output positions m = (n, oh, ow):
 *   dW [K, Co] += colsᵀ [K, B] · dy [B, Co],   K = kh·kw·Ci (the HWIO order of the filter),
 * where colsᵀ is the transposed im2col of x (zeros where the window lies in the padding), written
 * by a tight JS loop straight into a wasm heap tensor, and the product is the wasm backend's own
 * BatchMatMul kernel (XNNPACK). Neither operand is transposed: the wasm BatchMatMul runs ~10×
 * slower with transposeA or transposeB (measured: ~3 vs ~31 GFLOPS). Blocks bound the im2col
 * buffer to COLS_LIMIT floats; blocks after the first are summed into the first block's output.
 *
 * Like tfjs's cpu kernel, it takes no dilations (tf.conv2d's gradient allows dilation 1 only) and
 * supports NHWC only.
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

/** Most floats of one block's im2col buffer (32 MiB). */
export const COLS_LIMIT = 1 << 23;

/** The attributes both convolution-gradient kernels receive. */
export interface ConvBackpropAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

interface BackpropFilterAttrs extends ConvBackpropAttrs {
  filterShape: [number, number, number, number];
}

/** A float32 tensor's data as a view on the wasm heap. */
export function heapF32(backend: BackendWasm, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

function conv2DBackpropFilterWasm(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: BackendWasm;
  attrs: NamedAttrMap;
}): TensorInfo {
  const {
    inputs: { x, dy },
    backend,
  } = args;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as BackpropFilterAttrs;
  if (dataFormat !== 'NHWC')
    throw new Error(`Conv2DBackpropFilter (wasm, ssd-edge): dataFormat ${dataFormat} is not supported; use NHWC`);
  if (x.dtype !== 'float32' || dy.dtype !== 'float32')
    throw new Error('Conv2DBackpropFilter (wasm, ssd-edge): x and dy must be float32');
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
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
  const rowsTotal = N * OH; // (n, oh) rows of OW output positions each
  const M = rowsTotal * OW;
  const matMul = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
  if (M === 0 || K === 0) return backend.makeOutput(filterShape, 'float32', undefined, new Float32Array(K * Co));

  const rowsPerBlock = Math.max(1, Math.min(rowsTotal, Math.floor(COLS_LIMIT / (K * OW))));
  // Valid ow range per kw: 0 ≤ ow·sw + kw − left < W.
  const owLo = new Int32Array(KW),
    owHi = new Int32Array(KW);
  for (let kw = 0; kw < KW; kw++) {
    const off = kw - left;
    owLo[kw] = Math.min(OW, Math.max(0, Math.ceil(-off / sw)));
    owHi[kw] = Math.max(owLo[kw], Math.min(OW, Math.floor((W - 1 - off) / sw) + 1));
  }

  let result: TensorInfo | undefined;
  for (let row0 = 0; row0 < rowsTotal; row0 += rowsPerBlock) {
    const rows = Math.min(rowsPerBlock, rowsTotal - row0);
    const B = rows * OW;
    const whole = rows === rowsTotal;
    const cols = backend.makeOutput([1, K, B], 'float32');
    const dyBlock = whole
      ? { dataId: dy.dataId, shape: [1, B, Co], dtype: 'float32' as const }
      : backend.makeOutput([1, B, Co], 'float32');
    // Views after every allocation: an allocation may grow (and so detach) the wasm heap.
    const xv = heapF32(backend, x),
      colsv = heapF32(backend, cols);
    if (!whole) heapF32(backend, dyBlock).set(heapF32(backend, dy).subarray(row0 * OW * Co, (row0 + rows) * OW * Co));
    let o = 0;
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const lo = owLo[kw],
          hi = owHi[kw],
          colOff = (kw - left) * Ci;
        for (let ci = 0; ci < Ci; ci++) {
          for (let r = row0; r < row0 + rows; r++) {
            const n = (r / OH) | 0,
              oh = r - n * OH;
            const ih = oh * sh + kh - top;
            if (ih < 0 || ih >= H) {
              colsv.fill(0, o, o + OW);
              o += OW;
              continue;
            }
            const base = (n * H + ih) * W * Ci + colOff + ci;
            let ow = 0;
            for (; ow < lo; ow++) colsv[o++] = 0;
            for (let src = base + lo * sw * Ci, step = sw * Ci; ow < hi; ow++, src += step) colsv[o++] = xv[src];
            for (; ow < OW; ow++) colsv[o++] = 0;
          }
        }
      }
    }
    const product = matMul({
      inputs: { a: cols, b: dyBlock },
      backend,
      attrs: { transposeA: false, transposeB: false },
    }) as TensorInfo;
    backend.disposeData(cols.dataId);
    if (!whole) backend.disposeData(dyBlock.dataId);
    if (result === undefined) {
      result = product;
    } else {
      const acc = heapF32(backend, result),
        add = heapF32(backend, product);
      for (let i = 0; i < acc.length; i++) acc[i] += add[i];
      backend.disposeData(product.dataId);
    }
  }
  return { dataId: result!.dataId, shape: [...filterShape], dtype: 'float32' };
}

export const conv2DBackpropFilterWasmConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm as unknown as KernelFunc,
};

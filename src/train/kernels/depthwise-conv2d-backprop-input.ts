/**
 * DepthwiseConv2dNativeBackpropInput for the tfjs wasm backend, which ships without it (so
 * tf.depthwiseConv2d, and with it every MobileNet, cannot be trained there as shipped).
 *
 *   dx[n, ih, iw, ci] = Σ_{kh, kw, m} dy[n, oh, ow, ci·M + m] · W[kh, kw, ci, m]
 *                       over ih = oh·sh + kh − top, iw = ow·sw + kw − left,
 *
 * M the depth multiplier (the filter is `[KH, KW, Ci, M]`, output channel ci·M + m, as TensorFlow
 * lays it out). Computed in scatter form: each output position's dy row is multiplied into the
 * KH·KW input rows its window covers, the channel loop innermost (both NHWC rows and the filter's
 * [Ci, M] plane are contiguous there). A depthwise convolution has only KH·KW·M multiply-adds per
 * input value, so a JS loop over the wasm heap is the whole kernel: no matrix product to hand to
 * XNNPACK. Each dx value sums at most KH·KW·M terms, in float32.
 *
 * Like tfjs's own gradient (which asserts it), dilation 1 only; NHWC only (the op has no dataFormat).
 */
import { backend_util, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapF32 } from './conv2d-backprop-filter.js';

/** The attributes both depthwise-gradient kernels receive. */
export interface DepthwiseBackpropAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

interface BackpropInputAttrs extends DepthwiseBackpropAttrs {
  inputShape: [number, number, number, number];
}

/** Throws unless every dilation is 1 (what tfjs's depthwise gradient itself asserts). */
export function checkNoDilation(kernel: string, dilations: DepthwiseBackpropAttrs['dilations']): void {
  const [dh, dw] = dilations === undefined ? [1, 1] : typeof dilations === 'number' ? [dilations, dilations] : dilations;
  if (dh !== 1 || dw !== 1) throw new RangeError(`${kernel} (wasm, ssd-edge): dilations [${dh}, ${dw}] are not supported; only 1 (as tfjs's own depthwise gradient)`);
}

function depthwiseConv2dNativeBackpropInputWasm(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: BackendWasm; attrs: NamedAttrMap }): TensorInfo {
  const { inputs: { dy, filter }, backend } = args;
  const { strides, pad, dilations, dimRoundingMode, inputShape } = args.attrs as unknown as BackpropInputAttrs;
  const kernel = 'DepthwiseConv2dNativeBackpropInput';
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') throw new Error(`${kernel} (wasm, ssd-edge): dy and filter must be float32`);
  checkNoDilation(kernel, dilations);
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad,
                                              dimRoundingMode, true);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co,
          filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const M = Co / Ci;
  const dx = backend.makeOutput([...inputShape], 'float32');
  // Views after the allocation: it may grow (and so detach) the wasm heap.
  const dxv = heapF32(backend, dx), dyv = heapF32(backend, dy), wv = heapF32(backend, filter);
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
            const dxBase = ((n * H + ih) * W + iw) * Ci, wBase = (kh * KW + kw) * Co;
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

export const depthwiseConv2dNativeBackpropInputWasmConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInputWasm as unknown as KernelFunc,
};

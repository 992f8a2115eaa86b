/**
 * DepthwiseConv2dNativeBackpropFilter for the tfjs wasm backend, which ships without it.
 *
 *   dW[kh, kw, ci, m] = Σ_{n, oh, ow} x[n, oh·sh + kh − top, ow·sw + kw − left, ci] · dy[n, oh, ow, ci·M + m]
 *
 * (zero where the window lies in the padding), the filter `[KH, KW, Ci, M]`, M the depth
 * multiplier. One pass over the output positions, the channel loop innermost; the sums run in a
 * float64 accumulator the size of the filter (each sums N·OH·OW terms, 45 000 for a 150×150
 * MobileNet layer at batch 2, where float32 accumulation would drift), written out as float32
 * once. Dilation 1 only (as tfjs's own depthwise gradient); NHWC only.
 */
import { backend_util, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapF32 } from './conv2d-backprop-filter.js';
import { checkNoDilation, type DepthwiseBackpropAttrs } from './depthwise-conv2d-backprop-input.js';

interface BackpropFilterAttrs extends DepthwiseBackpropAttrs {
  filterShape: [number, number, number, number];
}

function depthwiseConv2dNativeBackpropFilterWasm(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: BackendWasm; attrs: NamedAttrMap }): TensorInfo {
  const { inputs: { x, dy }, backend } = args;
  const { strides, pad, dilations, dimRoundingMode, filterShape } = args.attrs as unknown as BackpropFilterAttrs;
  const kernel = 'DepthwiseConv2dNativeBackpropFilter';
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error(`${kernel} (wasm, ssd-edge): x and dy must be float32`);
  checkNoDilation(kernel, dilations);
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad,
                                              dimRoundingMode, true);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co,
          filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const M = Co / Ci;
  const sums = new Float64Array(KH * KW * Co);
  const xv = heapF32(backend, x), dyv = heapF32(backend, dy);
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
            const xBase = ((n * H + ih) * W + iw) * Ci, wBase = (kh * KW + kw) * Co;
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

export const depthwiseConv2dNativeBackpropFilterWasmConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilterWasm as unknown as KernelFunc,
};

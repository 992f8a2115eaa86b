/**
 * DepthwiseConv2dNativeBackpropInput for the tfjs wasm backend, which ships without it (so
 * tf.depthwiseConv2d, and with it every MobileNet, cannot be trained there as shipped).
 *
 *   dx[n, ih, iw, ci] = Σ_{kh, kw, m} dy[n, oh, ow, ci·M + m] · W[kh, kw, ci, m]
 *                       over ih = oh·sh + kh − top, iw = ow·sw + kw − left,
 *
 * M the depth multiplier (the filter is `[KH, KW, Ci, M]`, output channel ci·M + m, as TensorFlow
 * lays it out). A depthwise convolution has only KH·KW·M multiply-adds per input value: no matrix
 * product to hand to XNNPACK. The sum runs in ssd-edge's SIMD wasm kernel
 * (assembly/dwconv-backprop-input.ts), on copies of dy and the filter in that module's memory
 * (training-core.ts); dx is copied back into a tfjs tensor.
 *
 * Like tfjs's own gradient (which asserts it), dilation 1 only; NHWC only (the op has no dataFormat).
 */
import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { blockBytes } from '../../core/params.js';
import { writeBlock } from '../../core/plan.js';
import { heapF32 } from './conv2d-backprop-filter.js';
import { DWCONV_INPUT_FIELDS, type DwconvGeometry } from './params.js';
import { scratchF32, trainingCore } from './training-core.js';

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
  const [dh, dw] =
    dilations === undefined ? [1, 1] : typeof dilations === 'number' ? [dilations, dilations] : dilations;
  if (dh !== 1 || dw !== 1)
    throw new RangeError(
      `${kernel} (wasm, ssd-edge): dilations [${dh}, ${dw}] are not supported; only 1 (as tfjs's own depthwise gradient)`,
    );
}

/** The geometry fields of a depthwise gradient's block, from tfjs's description of the forward convolution. */
export function dwconvGeometry(info: backend_util.Conv2DInfo): DwconvGeometry {
  return {
    numBatch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    channels: info.inChannels,
    multiplier: info.outChannels / info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    kh: info.filterHeight,
    kw: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

function depthwiseConv2dNativeBackpropInputWasm(args: {
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
  const core = trainingCore(kernel);
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
  );
  const geometry = dwconvGeometry(info);
  const { numBatch: N, inH: H, inW: W, channels: Ci, outH: OH, outW: OW, kh: KH, kw: KW } = geometry;
  const Co = Ci * geometry.multiplier;
  const dx = backend.makeOutput([...inputShape], 'float32');
  const dxSize = N * H * W * Ci;
  if (dxSize === 0) return dx;
  // params: the kernel's block, the first region of the scratch (as matcher.ts lays out its own)
  const [params, dyCore, filterCore, dxCore] = scratchF32(
    core,
    [blockBytes(DWCONV_INPUT_FIELDS) / 4, N * OH * OW * Co, KH * KW * Co, dxSize],
    `a ${kernel} of [${inputShape.join(', ')}]`,
  );
  dyCore.set(heapF32(backend, dy));
  filterCore.set(heapF32(backend, filter));
  writeBlock(core.memory.buffer, params.byteOffset, DWCONV_INPUT_FIELDS, {
    dyPtr: dyCore.byteOffset,
    wPtr: filterCore.byteOffset,
    dxPtr: dxCore.byteOffset,
    ...geometry,
  });
  core.exports.dwconvBackpropInput(params.byteOffset);
  heapF32(backend, dx).set(dxCore);
  return dx;
}

export const depthwiseConv2dNativeBackpropInputWasmConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInputWasm as unknown as KernelFunc,
};

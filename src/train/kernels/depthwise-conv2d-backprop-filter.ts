/**
 * DepthwiseConv2dNativeBackpropFilter for the tfjs wasm backend, which ships without it.
 *
 *   dW[kh, kw, ci, m] = Σ_{n, oh, ow} x[n, oh·sh + kh − top, ow·sw + kw − left, ci] · dy[n, oh, ow, ci·M + m]
 *
 * (zero where the window lies in the padding), the filter `[KH, KW, Ci, M]`, M the depth
 * multiplier. The sum runs in ssd-edge's SIMD wasm kernel (assembly/dwconv-backprop-filter.ts: float32
 * sums per output row, float64 totals, since each value sums N·OH·OW terms), on copies of x and dy
 * in that module's memory (training-core.ts). Dilation 1 only (as tfjs's own depthwise gradient);
 * NHWC only.
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
import { checkNoDilation, dwconvGeometry, type DepthwiseBackpropAttrs } from './depthwise-conv2d-backprop-input.js';
import { DWCONV_FILTER_FIELDS } from './params.js';
import { scratchF32, trainingCore } from './training-core.js';

interface BackpropFilterAttrs extends DepthwiseBackpropAttrs {
  filterShape: [number, number, number, number];
}

function depthwiseConv2dNativeBackpropFilterWasm(args: {
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
  const core = trainingCore(kernel);
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
  );
  const geometry = dwconvGeometry(info);
  const { numBatch: N, inH: H, inW: W, channels: Ci, outH: OH, outW: OW, kh: KH, kw: KW } = geometry;
  const Co = Ci * geometry.multiplier;
  const numW = KH * KW * Co;
  const dw = backend.makeOutput([...filterShape], 'float32');
  if (numW === 0) return dw;
  // sums: numW float64 totals, held as 2·numW floats of a 16-byte-aligned region
  // params: the kernel's block, the first region of the scratch (as matcher.ts lays out its own)
  const [params, xCore, dyCore, dwCore, rowCore, sumsCore] = scratchF32(
    core,
    [blockBytes(DWCONV_FILTER_FIELDS) / 4, N * H * W * Ci, N * OH * OW * Co, numW, numW, 2 * numW],
    `a ${kernel} of [${x.shape.join(', ')}]`,
  );
  xCore.set(heapF32(backend, x));
  dyCore.set(heapF32(backend, dy));
  writeBlock(core.memory.buffer, params.byteOffset, DWCONV_FILTER_FIELDS, {
    xPtr: xCore.byteOffset,
    dyPtr: dyCore.byteOffset,
    dwPtr: dwCore.byteOffset,
    rowPtr: rowCore.byteOffset,
    sumsPtr: sumsCore.byteOffset,
    ...geometry,
  });
  core.exports.dwconvBackpropFilter(params.byteOffset);
  heapF32(backend, dw).set(dwCore);
  return dw;
}

export const depthwiseConv2dNativeBackpropFilterWasmConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilterWasm as unknown as KernelFunc,
};

// The training build's kernel exports in the core's calling convention (calls.ts): an export
// takes its parameter block's pointer — `(paramsPtr)` — reads the block (train-params.ts: named
// fields the host writes from src/train/kernels/params.ts) and calls its kernel with plain
// arguments. The kernels keep their own typed signatures, which the as-pect specs call.

import { dwconvBackpropFilter as filterKernel } from "./dwconv-backprop-filter";
import { dwconvBackpropInput as inputKernel } from "./dwconv-backprop-input";
import { DwconvFilterParams, DwconvInputParams } from "./train-params";

/** Writes dx, the input gradient of a depthwise convolution. */
export function dwconvBackpropInput(paramsPtr: usize): void {
  const p = changetype<DwconvInputParams>(paramsPtr);
  inputKernel(p.dyPtr, p.wPtr, p.dxPtr, p.numBatch, p.inH, p.inW, p.channels, p.multiplier,
    p.outH, p.outW, p.kh, p.kw, p.strideH, p.strideW, p.top, p.left);
}

/** Writes dw, the filter gradient of a depthwise convolution. */
export function dwconvBackpropFilter(paramsPtr: usize): void {
  const p = changetype<DwconvFilterParams>(paramsPtr);
  filterKernel(p.xPtr, p.dyPtr, p.dwPtr, p.rowPtr, p.sumsPtr, p.numBatch, p.inH, p.inW, p.channels, p.multiplier,
    p.outH, p.outW, p.kh, p.kw, p.strideH, p.strideW, p.top, p.left);
}

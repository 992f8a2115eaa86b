// The uint8 kernels' exports in the core's calling convention (see calls.ts): an export that
// would take more than three arguments takes its parameter block's pointer (qparams.ts: named
// fields the host writes from src/int8/params.ts), reads the block and calls its kernel with
// plain arguments. The kernels keep their own typed signatures, which the as-pect specs and
// qconv.ts (on qgemm) call directly. qgemmPackedBytes and qdepthwisePackedBytes take two counts
// and are exported as they are.

import { qadd as addKernel } from "./qadd";
import { qconv as convKernel } from "./qconv";
import { qdepthwise as depthwiseKernel, qdepthwisePack as depthwisePackKernel } from "./qdepthwise";
import { qgemm as gemmKernel, qgemmPack as gemmPackKernel } from "./qgemm";
import { qlookup as lookupKernel } from "./qlookup";
import {
  QaddParams, QconvParams, QdepthwiseParams, QdepthwisePackParams, QgemmPackParams, QgemmParams, QlookupParams
} from "./qparams";

/** Packs a GEMM's or convolution's weights; returns the bytes written. */
export function qgemmPack(paramsPtr: usize): i32 {
  const p = changetype<QgemmPackParams>(paramsPtr);
  return gemmPackKernel(p.wPtr, p.numOut, p.numK, p.weightZero, p.inputZero, p.biasPtr, p.scalePtr, p.packedPtr);
}

/** One requantised uint8 GEMM. */
export function qgemm(paramsPtr: usize): void {
  const p = changetype<QgemmParams>(paramsPtr);
  gemmKernel(p.xPtr, p.xStride, p.numRows, p.numK8, p.packedPtr, p.numOut, p.outPtr, p.outStride, p.zeroPoint, p.lo, p.hi);
}

/** One uint8 convolution. */
export function qconv(paramsPtr: usize): void {
  const p = changetype<QconvParams>(paramsPtr);
  convKernel(p.xPtr, p.inH, p.inW, p.inC, p.kh, p.kw, p.strideH, p.strideW, p.padTop, p.padLeft, p.outH, p.outW,
    p.inputZero, p.packedPtr, p.numOut, p.outPtr, p.zeroPoint, p.lo, p.hi, p.scratchPtr);
}

/** Packs a depthwise convolution's weights; returns the bytes written. */
export function qdepthwisePack(paramsPtr: usize): i32 {
  const p = changetype<QdepthwisePackParams>(paramsPtr);
  return depthwisePackKernel(p.wPtr, p.channels, p.taps, p.weightZero, p.biasPtr, p.scalePtr, p.packedPtr);
}

/** One uint8 depthwise convolution. */
export function qdepthwise(paramsPtr: usize): void {
  const p = changetype<QdepthwiseParams>(paramsPtr);
  depthwiseKernel(p.xPtr, p.inH, p.inW, p.channels, p.kh, p.kw, p.strideH, p.strideW, p.padTop, p.padLeft,
    p.outH, p.outW, p.inputZero, p.packedPtr, p.outPtr, p.zeroPoint, p.lo, p.hi);
}

/** One uint8 ADD. */
export function qadd(paramsPtr: usize): void {
  const p = changetype<QaddParams>(paramsPtr);
  addKernel(p.aPtr, p.bPtr, p.outPtr, p.num, p.aMultiplier, p.bMultiplier, p.bias, p.shift, p.zeroPoint, p.lo, p.hi);
}

/** One table lookup. */
export function qlookup(paramsPtr: usize): void {
  const p = changetype<QlookupParams>(paramsPtr);
  lookupKernel(p.xPtr, p.num, p.tablePtr, p.outPtr);
}

// Parameter blocks of the uint8 kernels' exports (qcalls.ts), one per export that would otherwise
// take more than three arguments. Each is an @unmanaged class laid out in declaration order with
// no header, every field a 32-bit word (field i is word i), written by the host with writeBlock
// from the twin field lists of src/int8/params.ts; tests/core/plan-layout.test.ts fails when a
// class and its list disagree. The network writes its blocks once, when it is built
// (src/int8/network.ts), so a run passes one pointer per kernel call. The kernels' own memory
// contracts are in their files (qgemm.ts, qconv.ts, qdepthwise.ts, qadd.ts, qlookup.ts).

/** qgemmPack: uint8 weights [numOut, numK], bias and scales in; packed blocks out (qgemm.ts). */
// @ts-ignore: decorator
@unmanaged
export class QgemmPackParams {
  wPtr: usize; //  0  numOut × numK u8, row-major
  numOut: i32; //  1
  numK: i32; //  2
  weightZero: i32; //  3
  inputZero: i32; //  4  folded into the bias
  biasPtr: usize; //  5  numOut i32, or 0 for none
  scalePtr: usize; //  6  numOut f32 requantisation scales
  packedPtr: usize; //  7  qgemmPackedBytes(numOut, numK) bytes, 16-byte aligned
}

/** qgemm: numRows rows of x times the packed weights, requantised (qgemm.ts). */
// @ts-ignore: decorator
@unmanaged
export class QgemmParams {
  xPtr: usize; //  0  row r at xPtr + r·xStride
  xStride: i32; //  1  bytes
  numRows: i32; //  2
  numK8: i32; //  3  ceil(numK / 8)
  packedPtr: usize; //  4  qgemmPack's blocks
  numOut: i32; //  5
  outPtr: usize; //  6  out[r, o] at outPtr + r·outStride + o
  outStride: i32; //  7  bytes
  zeroPoint: i32; //  8  output zero point
  lo: i32; //  9  clamp, ⊆ [0, 255]
  hi: i32; // 10
}

/** qconv: a k×k convolution, NHWC, weights packed by qgemmPack (qconv.ts). */
// @ts-ignore: decorator
@unmanaged
export class QconvParams {
  xPtr: usize; //  0  inH × inW × inC u8
  inH: i32; //  1
  inW: i32; //  2
  inC: i32; //  3
  kh: i32; //  4
  kw: i32; //  5
  strideH: i32; //  6
  strideW: i32; //  7
  padTop: i32; //  8  SAME padding before the image (rows)
  padLeft: i32; //  9  (columns)
  outH: i32; // 10
  outW: i32; // 11
  inputZero: i32; // 12  what padding cells hold
  packedPtr: usize; // 13  qgemmPack(numK = kh·kw·inC, inputZero)
  numOut: i32; // 14
  outPtr: usize; // 15  outH × outW × numOut u8
  zeroPoint: i32; // 16  output zero point
  lo: i32; // 17  clamp, ⊆ [0, 255]
  hi: i32; // 18
  scratchPtr: usize; // 19  outW · numK8 · 8 + 16 bytes, this call's alone
}

/** qdepthwisePack: uint8 weights [taps, channels], bias and scales in; packed blocks out (qdepthwise.ts). */
// @ts-ignore: decorator
@unmanaged
export class QdepthwisePackParams {
  wPtr: usize; //  0  taps × channels u8
  channels: i32; //  1
  taps: i32; //  2  kh·kw
  weightZero: i32; //  3
  biasPtr: usize; //  4  channels i32, or 0 for none
  scalePtr: usize; //  5  channels f32 requantisation scales
  packedPtr: usize; //  6  qdepthwisePackedBytes(channels, taps) bytes, 16-byte aligned
}

/** qdepthwise: a depthwise convolution (multiplier 1), NHWC, weights packed by qdepthwisePack (qdepthwise.ts). */
// @ts-ignore: decorator
@unmanaged
export class QdepthwiseParams {
  xPtr: usize; //  0  inH × inW × channels u8, + 16 readable bytes
  inH: i32; //  1
  inW: i32; //  2
  channels: i32; //  3
  kh: i32; //  4
  kw: i32; //  5
  strideH: i32; //  6
  strideW: i32; //  7
  padTop: i32; //  8  SAME padding before the image (rows)
  padLeft: i32; //  9  (columns)
  outH: i32; // 10
  outW: i32; // 11
  inputZero: i32; // 12
  packedPtr: usize; // 13  qdepthwisePack's blocks
  outPtr: usize; // 14  outH × outW × channels u8
  zeroPoint: i32; // 15  output zero point
  lo: i32; // 16  clamp, ⊆ [0, 255]
  hi: i32; // 17
}

/** qadd: XNNPACK's uint8 ADD of two tensors of one shape (qadd.ts; the host's xnnpackAddParams). */
// @ts-ignore: decorator
@unmanaged
export class QaddParams {
  aPtr: usize; //  0  num u8
  bPtr: usize; //  1  num u8
  outPtr: usize; //  2  num u8 (may alias a or b)
  num: i32; //  3
  aMultiplier: i32; //  4
  bMultiplier: i32; //  5
  bias: i32; //  6  −(aMultiplier·za + bMultiplier·zb) + 2^(shift−1)
  shift: i32; //  7
  zeroPoint: i32; //  8  output zero point
  lo: i32; //  9  clamp, ⊆ [0, 255]
  hi: i32; // 10
}

/** qlookup: a 256-entry uint8 table applied to num bytes (qlookup.ts). */
// @ts-ignore: decorator
@unmanaged
export class QlookupParams {
  xPtr: usize; //  0  num u8
  num: i32; //  1
  tablePtr: usize; //  2  256 u8
  outPtr: usize; //  3  num u8 (may alias x)
}

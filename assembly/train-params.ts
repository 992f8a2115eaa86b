// Parameter blocks of the training build's exports (train.ts): the depthwise-convolution
// gradients. Each is an @unmanaged class whose 32-bit fields are laid out in declaration order
// with no header (field i is word i), written by the host with writeBlock from the twin field
// lists of src/train/kernels/params.ts; tests/core/train-layout.test.ts fails when a class and its
// list disagree. The exports that read them are in train-calls.ts. Both blocks end in the same
// geometry fields, in the same order, so the host writes that part from one list.

/** dwconvBackpropInput: dy and the filter in, dx out (dwconv-backprop-input.ts; memory contract there). */
// @ts-ignore: decorator
@unmanaged
export class DwconvInputParams {
  dyPtr: usize; //  0  numBatch × outH × outW × channels·multiplier f32
  wPtr: usize; //  1  kh × kw × channels × multiplier f32
  dxPtr: usize; //  2  numBatch × inH × inW × channels f32, written
  numBatch: i32; //  3
  inH: i32; //  4  the forward convolution's input size
  inW: i32; //  5
  channels: i32; //  6  input channels
  multiplier: i32; //  7  depth multiplier: output channels per input channel
  outH: i32; //  8  the forward convolution's output size
  outW: i32; //  9
  kh: i32; // 10  filter size
  kw: i32; // 11
  strideH: i32; // 12
  strideW: i32; // 13
  top: i32; // 14  padding before the image, rows
  left: i32; // 15  padding before the image, columns
}

/** dwconvBackpropFilter: x and dy in, dw out, two scratch regions (dwconv-backprop-filter.ts; memory contract there). */
// @ts-ignore: decorator
@unmanaged
export class DwconvFilterParams {
  xPtr: usize; //  0  numBatch × inH × inW × channels f32
  dyPtr: usize; //  1  numBatch × outH × outW × channels·multiplier f32
  dwPtr: usize; //  2  kh × kw × channels × multiplier f32, written
  rowPtr: usize; //  3  kh·kw·channels·multiplier f32 scratch
  sumsPtr: usize; //  4  kh·kw·channels·multiplier f64 scratch, 8-byte aligned
  numBatch: i32; //  5
  inH: i32; //  6
  inW: i32; //  7
  channels: i32; //  8
  multiplier: i32; //  9
  outH: i32; // 10
  outW: i32; // 11
  kh: i32; // 12
  kw: i32; // 13
  strideH: i32; // 14
  strideW: i32; // 15
  top: i32; // 16
  left: i32; // 17
}

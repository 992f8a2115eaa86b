/**
 * Tensors of a PyTorch checkpoint: a view (offset, size, stride, in elements) of a storage (raw
 * little-endian bytes of one element type). Values are read on demand, as float32.
 */
import { PthFormatError } from './errors.js';

export type TorchDtype =
  'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** The storage classes a state dict names (torch.FloatStorage, ...), by their element type. */
export const STORAGE_DTYPES: Readonly<Record<string, TorchDtype>> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

export const ELEMENT_SIZE: Readonly<Record<TorchDtype, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** A storage: `numel` elements of `dtype`. `bytes` is filled when the file's storage records are read. */
export interface TorchStorage {
  kind: 'storage';
  key: string;
  dtype: TorchDtype;
  numel: number;
  /** Where it was saved ('cpu', 'cuda:0', ...): informational, everything loads on the CPU. */
  location: string;
  bytes?: Uint8Array;
}

/** IEEE half → float. see: IEEE 754-2008 binary16 */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1,
    exponent = (h >> 10) & 0x1f,
    fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 is the upper half of a float32. */
const BF16_WORD = new Uint32Array(1);
const BF16_FLOAT = new Float32Array(BF16_WORD.buffer);
function bfloat16ToFloat(b: number): number {
  BF16_WORD[0] = b << 16;
  return BF16_FLOAT[0];
}

/** The most elements one tensor may have (1 GiB of float32): a stride-0 view could otherwise claim any size. */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

export class TorchTensor {
  readonly dtype: TorchDtype;

  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {
    if (shape.length !== stride.length) throw new PthFormatError(`a tensor has size [${shape}] but stride [${stride}]`);
    this.dtype = storage.dtype;
    const numel = shape.reduce((n, d) => n * d, 1);
    if (numel > MAX_TENSOR_ELEMENTS)
      throw new PthFormatError(
        `a tensor of size [${shape}] has ${numel} elements; at most ${MAX_TENSOR_ELEMENTS} are read`,
      );
    // The last element read must lie inside the storage.
    const last = shape.some((d) => d === 0) ? -1 : offset + shape.reduce((sum, d, i) => sum + (d - 1) * stride[i], 0);
    if (last >= storage.numel) {
      throw new PthFormatError(
        `a tensor of size [${shape}] at offset ${offset} reads element ${last} of storage '${storage.key}', which has ${storage.numel}`,
      );
    }
  }

  get numel(): number {
    return this.shape.reduce((n, d) => n * d, 1);
  }

  /** The values in row-major order of `shape`, as float32 (integers and booleans converted). */
  float32(): Float32Array {
    const { storage } = this;
    const bytes = storage.bytes;
    if (!bytes) throw new PthFormatError(`storage '${storage.key}' has no data (the file ended before its record)`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const size = ELEMENT_SIZE[this.dtype];
    const read: (i: number) => number = {
      float32: (i: number) => view.getFloat32(i * size, true),
      float64: (i: number) => view.getFloat64(i * size, true),
      float16: (i: number) => halfToFloat(view.getUint16(i * size, true)),
      bfloat16: (i: number) => bfloat16ToFloat(view.getUint16(i * size, true)),
      int64: (i: number) => Number(view.getBigInt64(i * size, true)),
      int32: (i: number) => view.getInt32(i * size, true),
      int16: (i: number) => view.getInt16(i * size, true),
      int8: (i: number) => view.getInt8(i * size),
      uint8: (i: number) => view.getUint8(i * size),
      bool: (i: number) => (view.getUint8(i * size) ? 1 : 0),
    }[this.dtype];
    const out = new Float32Array(this.numel);
    const { shape, stride, offset } = this;
    const contiguous = shape.every(
      (_, i) => shape[i] === 1 || stride[i] === shape.slice(i + 1).reduce((n, d) => n * d, 1),
    );
    if (contiguous && this.dtype === 'float32' && (bytes.byteOffset + offset * 4) % 4 === 0) {
      out.set(new Float32Array(bytes.buffer, bytes.byteOffset + offset * 4, out.length));
      return out;
    }
    if (contiguous) {
      for (let i = 0; i < out.length; i++) out[i] = read(offset + i);
      return out;
    }
    // Row-major walk over the index space, the storage index following the strides.
    const index = new Array<number>(shape.length).fill(0);
    let position = offset;
    for (let i = 0; i < out.length; i++) {
      out[i] = read(position);
      for (let axis = shape.length - 1; axis >= 0; axis--) {
        if (++index[axis] < shape[axis]) {
          position += stride[axis];
          break;
        }
        position -= (shape[axis] - 1) * stride[axis];
        index[axis] = 0;
      }
    }
    return out;
  }
}

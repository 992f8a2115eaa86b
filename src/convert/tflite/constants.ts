/**
 * A TFLite constant tensor's values: raw bytes, or float32 (dequantised, widened from float16).
 * Shared by the ONNX conversion and the model reader that browsers load without it.
 */
import { TfliteFormatError, type TfliteTensor } from './read.js';

export function typedData(tensor: TfliteTensor): Uint8Array {
  if (!tensor.data)
    throw new TfliteFormatError(`tensor ${tensor.index} '${tensor.name}' should be a constant but has no data`);
  return tensor.data;
}

const BYTES: Record<string, number> = { float32: 4, float16: 2, int32: 4, uint8: 1, int8: 1, int64: 8 };

/** A constant as float32 values: dequantised when quantised, widened from float16. */
export function constantFloats(tensor: TfliteTensor): Float32Array {
  const data = typedData(tensor);
  const count = tensor.shape.reduce((n, d) => n * d, 1);
  if (data.length !== count * (BYTES[tensor.type] ?? NaN)) {
    throw new TfliteFormatError(
      `tensor ${tensor.index} '${tensor.name}' has ${data.length} bytes for ${tensor.type}[${tensor.shape}]`,
    );
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(count);
  const q = tensor.quantization;
  const axis = q?.axis ?? 0;
  const inner = tensor.shape.slice(axis + 1).reduce((n, d) => n * d, 1);
  const channels = tensor.shape[axis] ?? 1;
  for (let i = 0; i < count; i++) {
    let raw: number;
    switch (tensor.type) {
      case 'float32':
        raw = view.getFloat32(4 * i, true);
        break;
      case 'float16':
        raw = halfToFloat(view.getUint16(2 * i, true));
        break;
      case 'uint8':
        raw = data[i];
        break;
      case 'int8':
        raw = view.getInt8(i);
        break;
      case 'int32':
        raw = view.getInt32(4 * i, true);
        break;
      default:
        throw new TfliteFormatError(`tensor '${tensor.name}': constants of type ${tensor.type} are not supported`);
    }
    if (q && tensor.type !== 'float32' && tensor.type !== 'float16') {
      const c = q.scale.length === 1 ? 0 : Math.floor(i / inner) % channels;
      raw = Math.fround((raw - q.zeroPoint[c]) * q.scale[c]);
    }
    out[i] = raw;
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

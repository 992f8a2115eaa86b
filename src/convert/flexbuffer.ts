/**
 * A reader of FlexBuffers maps, the schema-less format TFLite uses for a custom operator's
 * options (`TFLite_Detection_PostProcess`'s thresholds and scales). Enough of the format for
 * such options: a root map whose values are numbers, booleans, strings or vectors of numbers.
 * Format: https://flatbuffers.dev/flexbuffers/ (the buffer ends with the root value, its packed
 * type and its byte width; offsets point backwards).
 */

export type FlexValue = number | boolean | string | null | FlexValue[] | { [key: string]: FlexValue };

const NULL = 0,
  INT = 1,
  UINT = 2,
  FLOAT = 3,
  KEY = 4,
  STRING = 5,
  INDIRECT_INT = 6,
  INDIRECT_UINT = 7,
  INDIRECT_FLOAT = 8,
  MAP = 9,
  VECTOR = 10,
  VECTOR_INT = 11,
  VECTOR_UINT = 12,
  VECTOR_FLOAT = 13,
  VECTOR_KEY = 14,
  BOOL = 26,
  VECTOR_BOOL = 36;

class Reader {
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private check(at: number, size: number): void {
    if (!(at >= 0 && at + size <= this.bytes.length)) {
      throw new RangeError(
        `custom options: value at bytes ${at}..${at + size} lies outside their ${this.bytes.length} bytes (corrupt FlexBuffer)`,
      );
    }
  }

  uint(at: number, width: number): number {
    this.check(at, width);
    if (width === 1) return this.view.getUint8(at);
    if (width === 2) return this.view.getUint16(at, true);
    if (width === 4) return this.view.getUint32(at, true);
    return Number(this.view.getBigUint64(at, true));
  }

  int(at: number, width: number): number {
    this.check(at, width);
    if (width === 1) return this.view.getInt8(at);
    if (width === 2) return this.view.getInt16(at, true);
    if (width === 4) return this.view.getInt32(at, true);
    return Number(this.view.getBigInt64(at, true));
  }

  float(at: number, width: number): number {
    this.check(at, width);
    if (width === 4) return this.view.getFloat32(at, true);
    if (width === 8) return this.view.getFloat64(at, true);
    throw new RangeError(`custom options: a ${width}-byte float (corrupt FlexBuffer)`);
  }

  private indirect(at: number, parentWidth: number): number {
    return at - this.uint(at, parentWidth);
  }

  private key(at: number): string {
    let end = at;
    while (end < this.bytes.length && this.bytes[end] !== 0) end++;
    this.check(at, end - at + 1);
    return new TextDecoder().decode(this.bytes.subarray(at, end));
  }

  /** The value at `at`, stored with `parentWidth` bytes and packed type `packed`. */
  value(at: number, parentWidth: number, packed: number, depth = 0): FlexValue {
    if (depth > 16) throw new RangeError('custom options: FlexBuffer nested too deeply (corrupt)');
    const type = packed >> 2;
    const width = 1 << (packed & 3);
    switch (type) {
      case NULL:
        return null;
      case INT:
        return this.int(at, parentWidth);
      case UINT:
        return this.uint(at, parentWidth);
      case FLOAT:
        return this.float(at, parentWidth);
      case BOOL:
        return this.uint(at, parentWidth) !== 0;
      case INDIRECT_INT:
        return this.int(this.indirect(at, parentWidth), width);
      case INDIRECT_UINT:
        return this.uint(this.indirect(at, parentWidth), width);
      case INDIRECT_FLOAT:
        return this.float(this.indirect(at, parentWidth), width);
      case KEY:
        return this.key(this.indirect(at, parentWidth));
      case STRING: {
        const start = this.indirect(at, parentWidth);
        const length = this.uint(start - width, width);
        this.check(start, length);
        return new TextDecoder().decode(this.bytes.subarray(start, start + length));
      }
      case MAP:
      case VECTOR: {
        const start = this.indirect(at, parentWidth);
        const length = this.uint(start - width, width);
        this.check(start, length * (width + 1));
        const items = Array.from({ length }, (_, i) =>
          this.value(start + i * width, width, this.uint(start + length * width + i, 1), depth + 1),
        );
        if (type === VECTOR) return items;
        const keysAt = start - 3 * width;
        const keys = this.keys(this.indirect(keysAt, width), this.uint(start - 2 * width, width));
        if (keys.length !== length)
          throw new RangeError(
            `custom options: a map with ${keys.length} keys and ${length} values (corrupt FlexBuffer)`,
          );
        return Object.fromEntries(keys.map((k, i) => [k, items[i]]));
      }
      case VECTOR_INT:
      case VECTOR_UINT:
      case VECTOR_FLOAT:
      case VECTOR_BOOL:
      case VECTOR_KEY: {
        const start = this.indirect(at, parentWidth);
        const length = this.uint(start - width, width);
        this.check(start, length * width);
        return Array.from({ length }, (_, i) => {
          const element = start + i * width;
          if (type === VECTOR_INT) return this.int(element, width);
          if (type === VECTOR_FLOAT) return this.float(element, width);
          if (type === VECTOR_BOOL) return this.uint(element, width) !== 0;
          if (type === VECTOR_KEY) return this.key(this.indirect(element, width));
          return this.uint(element, width);
        });
      }
      default:
        throw new RangeError(`custom options: FlexBuffer value type ${type} is not supported`);
    }
  }

  private keys(at: number, width: number): string[] {
    const length = this.uint(at - width, width);
    this.check(at, length * width);
    return Array.from({ length }, (_, i) => this.key(this.indirect(at + i * width, width)));
  }
}

/** The root value of a FlexBuffer (for TFLite custom options: a map of option name → value). */
export function readFlexbuffer(bytes: Uint8Array): FlexValue {
  if (bytes.length < 3) throw new RangeError(`custom options: ${bytes.length} bytes is too short for a FlexBuffer`);
  const reader = new Reader(bytes);
  const rootWidth = bytes[bytes.length - 1];
  if (![1, 2, 4, 8].includes(rootWidth))
    throw new RangeError(`custom options: root width ${rootWidth} (not a FlexBuffer)`);
  const packed = bytes[bytes.length - 2];
  return reader.value(bytes.length - 2 - rootWidth, rootWidth, packed);
}

/**
 * A bounds-checked reader of FlatBuffers binaries (the TFLite model format), enough for reading
 * tables, scalars, strings and vectors by field index. No generated code: the TFLite schema's
 * field numbers live in tflite/schema.ts. Every offset is checked against the buffer, so a
 * truncated or corrupt file is a RangeError naming what was being read, never a garbage read.
 * Format: https://flatbuffers.dev/internals/ — a table starts with an int32 offset back to its
 * vtable (uint16 vtable size, uint16 table size, then one uint16 offset per field, 0 = absent);
 * reference fields hold a uint32 offset forward from the field's own position.
 */

export class FlatbufferError extends RangeError {}

export class Table {
  private readonly view: DataView;
  private readonly vtable: number;
  private readonly vtableSize: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly position: number,
    readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    check(bytes, position, 4, what);
    this.vtable = position - this.view.getInt32(position, true);
    check(bytes, this.vtable, 4, `${what} vtable`);
    this.vtableSize = this.view.getUint16(this.vtable, true);
    if (this.vtableSize < 4 || this.vtableSize % 2 !== 0)
      throw new FlatbufferError(`${what}: malformed vtable (size ${this.vtableSize})`);
    check(bytes, this.vtable, this.vtableSize, `${what} vtable`);
  }

  /** Byte position of field `index`, or 0 when the field is absent. */
  private field(index: number): number {
    const at = 4 + 2 * index;
    if (at + 2 > this.vtableSize) return 0;
    const offset = this.view.getUint16(this.vtable + at, true);
    return offset === 0 ? 0 : this.position + offset;
  }

  has(index: number): boolean {
    return this.field(index) !== 0;
  }

  private scalar<T>(index: number, size: number, fallback: T, read: (at: number) => T): T {
    const at = this.field(index);
    if (at === 0) return fallback;
    check(this.bytes, at, size, `${this.what} field ${index}`);
    return read(at);
  }

  int8(index: number, fallback = 0): number {
    return this.scalar(index, 1, fallback, (at) => this.view.getInt8(at));
  }
  uint8(index: number, fallback = 0): number {
    return this.scalar(index, 1, fallback, (at) => this.view.getUint8(at));
  }
  bool(index: number, fallback = false): boolean {
    return this.scalar(index, 1, fallback, (at) => this.view.getUint8(at) !== 0);
  }
  int32(index: number, fallback = 0): number {
    return this.scalar(index, 4, fallback, (at) => this.view.getInt32(at, true));
  }
  uint32(index: number, fallback = 0): number {
    return this.scalar(index, 4, fallback, (at) => this.view.getUint32(at, true));
  }
  float32(index: number, fallback = 0): number {
    return this.scalar(index, 4, fallback, (at) => this.view.getFloat32(at, true));
  }

  /** Target of the reference field `index` (a table, vector or string), or 0 when absent. */
  private reference(index: number): number {
    const at = this.field(index);
    if (at === 0) return 0;
    check(this.bytes, at, 4, `${this.what} field ${index}`);
    return at + this.view.getUint32(at, true);
  }

  table(index: number, what: string): Table | undefined {
    const at = this.reference(index);
    return at === 0 ? undefined : new Table(this.bytes, at, what);
  }

  string(index: number): string | undefined {
    const at = this.reference(index);
    if (at === 0) return undefined;
    const length = vectorLength(this.bytes, this.view, at, `${this.what} string ${index}`, 1);
    return new TextDecoder().decode(this.bytes.subarray(at + 4, at + 4 + length));
  }

  /** A vector of tables; [] when absent. */
  tables(index: number, what: string): Table[] {
    const at = this.reference(index);
    if (at === 0) return [];
    const length = vectorLength(this.bytes, this.view, at, what, 4);
    return Array.from({ length }, (_, i) => {
      const element = at + 4 + 4 * i;
      return new Table(this.bytes, element + this.view.getUint32(element, true), `${what}[${i}]`);
    });
  }

  /** A vector of scalars as a copy (unaligned data allowed); empty when absent. */
  int32s(index: number): Int32Array {
    return this.numbers(
      index,
      4,
      (n) => new Int32Array(n),
      (v, at) => v.getInt32(at, true),
    );
  }
  float32s(index: number): Float32Array {
    return this.numbers(
      index,
      4,
      (n) => new Float32Array(n),
      (v, at) => v.getFloat32(at, true),
    );
  }
  int64s(index: number): number[] {
    return Array.from(
      this.numbers(
        index,
        8,
        (n) => new Float64Array(n),
        (v, at) => Number(v.getBigInt64(at, true)),
      ),
    );
  }

  /** A vector of bytes as a view into the buffer (no copy); empty when absent. */
  bytesOf(index: number): Uint8Array {
    const at = this.reference(index);
    if (at === 0) return new Uint8Array(0);
    const length = vectorLength(this.bytes, this.view, at, `${this.what} bytes ${index}`, 1);
    return this.bytes.subarray(at + 4, at + 4 + length);
  }

  private numbers<A extends { [i: number]: number }>(
    index: number,
    size: number,
    make: (n: number) => A,
    read: (view: DataView, at: number) => number,
  ): A {
    const at = this.reference(index);
    if (at === 0) return make(0);
    const length = vectorLength(this.bytes, this.view, at, `${this.what} field ${index}`, size);
    const values = make(length);
    for (let i = 0; i < length; i++) values[i] = read(this.view, at + 4 + size * i);
    return values;
  }
}

function check(bytes: Uint8Array, at: number, size: number, what: string): void {
  if (!(at >= 0 && at + size <= bytes.length)) {
    throw new FlatbufferError(
      `${what} lies outside the file (bytes ${at}..${at + size} of ${bytes.length}): the file is truncated or corrupt`,
    );
  }
}

function vectorLength(bytes: Uint8Array, view: DataView, at: number, what: string, elementSize: number): number {
  check(bytes, at, 4, what);
  const length = view.getUint32(at, true);
  check(bytes, at + 4, length * elementSize, what);
  return length;
}

/** The root table of a FlatBuffers file; `identifier` (4 characters) is checked when given. */
export function rootTable(bytes: Uint8Array, what: string, identifier?: string): Table {
  if (bytes.length < 8)
    throw new FlatbufferError(`${what}: ${bytes.length} bytes is too short to be a FlatBuffers file`);
  if (identifier !== undefined) {
    const found = new TextDecoder('latin1').decode(bytes.subarray(4, 8));
    if (found !== identifier) {
      throw new FlatbufferError(
        `${what}: file identifier is '${printable(found)}', expected '${identifier}' — not a ${what} file`,
      );
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return new Table(bytes, view.getUint32(0, true), what);
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

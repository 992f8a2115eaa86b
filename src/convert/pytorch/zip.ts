/**
 * A minimal zip reader for PyTorch's archive format (torch.save since 1.6): the central
 * directory is read from the end-of-central-directory record (zip64 included, for archives over
 * 4 GiB or 65 535 entries) and each entry's data is a view into the file, no copy. PyTorch
 * stores every record uncompressed (method 0) and 64-byte aligned; a deflated entry (an archive
 * repacked by another zip tool) is reported by name.
 * see: PKWARE APPNOTE.TXT 6.3 §4.3; pytorch caffe2/serialize/inline_container.cc
 */
import { PthFormatError } from './errors.js';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate, ... */
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the local file header. */
  headerOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
/** The EOCD record is 22 bytes plus a comment of at most 65 535. */
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

/** Whether the bytes start like a zip archive (a local file header). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export class ZipArchive {
  readonly entries: ReadonlyMap<string, ZipEntry>;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.entries = this.readCentralDirectory();
  }

  private u16(at: number): number {
    return this.view.getUint16(at, true);
  }
  private u32(at: number): number {
    return this.view.getUint32(at, true);
  }
  private u64(at: number): number {
    const value = this.view.getBigUint64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER))
      throw new PthFormatError(`zip: a 64-bit size ${value} is beyond what this reader addresses`);
    return Number(value);
  }

  private findEocd(): number {
    const end = this.bytes.length;
    for (let at = end - EOCD_SIZE; at >= Math.max(0, end - EOCD_SIZE - MAX_COMMENT); at--) {
      if (this.u32(at) === EOCD_SIGNATURE) return at;
    }
    throw new PthFormatError(
      `zip: no end-of-central-directory record in the last ${Math.min(end, EOCD_SIZE + MAX_COMMENT)} bytes ` +
        `(a truncated archive? ${end} bytes)`,
    );
  }

  private readCentralDirectory(): Map<string, ZipEntry> {
    if (this.bytes.length < EOCD_SIZE)
      throw new PthFormatError(`zip: ${this.bytes.length} bytes are too few for an archive (a truncated file?)`);
    const eocd = this.findEocd();
    let count = this.u16(eocd + 10);
    let directorySize = this.u32(eocd + 12);
    let directoryOffset = this.u32(eocd + 16);
    if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
      const locator = eocd - 20;
      if (locator < 0 || this.u32(locator) !== ZIP64_LOCATOR_SIGNATURE)
        throw new PthFormatError('zip: the archive needs zip64 but has no zip64 locator');
      const record = this.u64(locator + 8);
      if (record + 56 > this.bytes.length || this.u32(record) !== ZIP64_EOCD_SIGNATURE)
        throw new PthFormatError('zip: the zip64 end record is missing');
      count = this.u64(record + 32);
      directorySize = this.u64(record + 40);
      directoryOffset = this.u64(record + 48);
    }
    if (directoryOffset + directorySize > this.bytes.length) {
      throw new PthFormatError(
        `zip: the central directory (${directorySize} bytes at ${directoryOffset}) lies beyond the file's ${this.bytes.length} bytes`,
      );
    }
    const entries = new Map<string, ZipEntry>();
    const decoder = new TextDecoder();
    let at = directoryOffset;
    for (let i = 0; i < count; i++) {
      if (at + 46 > directoryOffset + directorySize || this.u32(at) !== CENTRAL_SIGNATURE) {
        throw new PthFormatError(`zip: central directory entry ${i} of ${count} is damaged`);
      }
      const method = this.u16(at + 10);
      let compressedSize = this.u32(at + 20);
      let size = this.u32(at + 24);
      const nameLength = this.u16(at + 28),
        extraLength = this.u16(at + 30),
        commentLength = this.u16(at + 32);
      let headerOffset = this.u32(at + 42);
      const name = decoder.decode(this.bytes.subarray(at + 46, at + 46 + nameLength));
      // zip64 extended information (tag 1): the 0xffffffff fields, in order, as 64-bit values.
      let extra = at + 46 + nameLength;
      const extraEnd = extra + extraLength;
      while (extra + 4 <= extraEnd) {
        const tag = this.u16(extra),
          length = this.u16(extra + 2);
        if (tag === 1) {
          let field = extra + 4;
          if (size === 0xffffffff) {
            size = this.u64(field);
            field += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = this.u64(field);
            field += 8;
          }
          if (headerOffset === 0xffffffff) {
            headerOffset = this.u64(field);
          }
        }
        extra += 4 + length;
      }
      entries.set(name, { name, method, compressedSize, size, headerOffset });
      at = extraEnd + commentLength;
    }
    return entries;
  }

  /** The entry's bytes: a view into the archive. */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) throw new PthFormatError(`zip: no entry '${name}' in the archive`);
    if (entry.method !== 0) {
      throw new PthFormatError(
        `zip: entry '${name}' is compressed (method ${entry.method}${entry.method === 8 ? ', deflate' : ''}); ` +
          `PyTorch writes its archives uncompressed: load the file in PyTorch and torch.save it again, or unzip and re-zip it with 'zip -0'`,
      );
    }
    const at = entry.headerOffset;
    if (at + 30 > this.bytes.length || this.u32(at) !== LOCAL_SIGNATURE)
      throw new PthFormatError(`zip: the local header of '${name}' is damaged`);
    const start = at + 30 + this.u16(at + 26) + this.u16(at + 28);
    if (start + entry.size > this.bytes.length) {
      throw new PthFormatError(
        `zip: entry '${name}' (${entry.size} bytes at ${start}) runs past the end of the file (${this.bytes.length} bytes): truncated?`,
      );
    }
    return this.bytes.subarray(start, start + entry.size);
  }
}

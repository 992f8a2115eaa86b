/**
 * The linear-memory arena of a uint8 network: one core instance whose memory from heapBase on
 * is laid out by the host, once, at load. Regions are 16-byte aligned and followed by 16 spare
 * readable bytes (the kernels read whole 8- and 16-byte groups at a tensor's end). Nothing is
 * freed: a network reserves everything it needs while it is built and never allocates per run.
 *
 * ```
 * heapBase ─► packed weights and tables (per op, in graph order) │ activation pool │ im2col scratch
 *            │ the kernel calls' parameter blocks
 * ```
 * (network.ts: activations share the pool by lifetime; weights are staged above the top while
 * they are packed, then released; params.ts writes the blocks.)
 */
import type { Core, CoreExports } from '../core/loader.js';

const WASM_PAGE = 65536;
/** Spare readable bytes after every region. */
export const REGION_SLACK = 16;

export class Arena {
  readonly exports: CoreExports;
  private top: number;

  constructor(readonly core: Core) {
    this.exports = core.exports;
    this.top = core.heapBase;
  }

  /** Reserves `bytes` (16-byte aligned, plus REGION_SLACK spare bytes); grows memory as needed. */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`arena: cannot reserve ${bytes} bytes`);
    const ptr = this.top;
    this.top = (ptr + bytes + REGION_SLACK + 15) & ~15;
    const memory = this.core.memory;
    if (this.top > memory.buffer.byteLength) memory.grow(Math.ceil((this.top - memory.buffer.byteLength) / WASM_PAGE));
    return ptr;
  }

  /** The current top, to hand to release() once temporary regions are done with. */
  mark(): number {
    return this.top;
  }

  /** Frees every region reserved after `mark` (staging copies of weights, for instance). */
  release(mark: number): void {
    if (mark < this.core.heapBase || mark > this.top)
      throw new RangeError(`arena: release(${mark}) outside [${this.core.heapBase}, ${this.top}]`);
    this.top = mark;
  }

  /** Bytes reserved so far (from heapBase). */
  get used(): number {
    return this.top - this.core.heapBase;
  }

  /** A fresh view of `length` bytes at `ptr` (views die when memory grows: make them after alloc). */
  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.core.memory.buffer, ptr, length);
  }

  /** Copies `data` into a new region; returns its address. */
  put(data: Uint8Array | Int32Array | Float32Array): number {
    const ptr = this.alloc(data.byteLength);
    this.u8(ptr, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return ptr;
  }
}

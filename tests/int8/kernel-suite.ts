/**
 * The uint8 kernel checks shared by every build (kernels.test.ts: SIMD and baseline;
 * relaxed.test.ts: relaxed SIMD): each kernel against the plain-TypeScript reference
 * (src/int8/reference.ts) on random shapes, strides, zero points and scales — every output byte
 * must be identical.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { xnnpackAddParams } from '../../src/convert/tflite/arithmetic.js';
import type { Core } from '../../src/core/loader.js';
import { Arena } from '../../src/int8/arena.js';
import { packDepthwise, packGemm } from '../../src/int8/pack.js';
import {
  convScale,
  referenceAdd,
  referenceConv,
  referenceDepthwise,
  samePadding,
  type ConvGeometry,
  type QuantOperands,
} from '../../src/int8/reference.js';
import { random } from '../helpers.js';

const CASES = Number(process.env.SSD_INT8_CASES ?? 150);

type Rand = () => number;
const int = (rand: Rand, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const bytes = (rand: Rand, n: number) => Uint8Array.from({ length: n }, () => int(rand, 0, 255));

/** Operands with scales that spread the outputs over [0, 255] for this accumulator size. */
function operands(rand: Rand, numOut: number, numK: number): QuantOperands {
  const inputZero = int(rand, 0, 255),
    weightZero = int(rand, 0, 255);
  // |acc| grows like K·E|x − zx|·E|w − zw|: aim at a few hundred output steps, so that most values
  // land inside [0, 255] and rounding, not saturation, is what the cases exercise
  const typical = numK * (Math.abs(127.5 - inputZero) + 64) * (Math.abs(127.5 - weightZero) + 64) * 2;
  const scale = Float32Array.from({ length: numOut }, () =>
    convScale(0.02 * (0.5 + rand()), 0.01 * (0.5 + rand()), ((0.02 * typical * 0.01) / 300) * (0.3 + 2 * rand())),
  );
  const bias = rand() < 0.8 ? Int32Array.from({ length: numOut }, () => int(rand, -40000, 40000)) : undefined;
  const clamp = rand() < 0.3;
  return {
    inputZero,
    weightZero,
    bias,
    scale,
    outputZero: int(rand, 0, 255),
    lo: clamp ? int(rand, 0, 60) : 0,
    hi: clamp ? int(rand, 190, 255) : 255,
  };
}

function geometry(rand: Rand, kernel: number, stride: number, inC: number): ConvGeometry {
  const inH = int(rand, 1, 13),
    inW = int(rand, 1, 13);
  const y = samePadding(inH, kernel, stride),
    x = samePadding(inW, kernel, stride);
  return {
    inH,
    inW,
    inC,
    kh: kernel,
    kw: kernel,
    strideH: stride,
    strideW: stride,
    padTop: y.before,
    padLeft: x.before,
    outH: y.out,
    outW: x.out,
  };
}

/** Registers the kernel checks for one build; `load` makes a fresh core of that build. */
export function kernelSuite(build: string, load: () => Promise<Core>): void {
  describe(`uint8 kernels, ${build} build`, () => {
    let arena: Arena;
    before(async () => {
      arena = new Arena(await load());
    });

    /** Runs `body` with the arena reset afterwards, so the cases do not pile up. */
    function scoped<T>(body: () => T): T {
      const mark = arena.mark();
      try {
        return body();
      } finally {
        arena.release(mark);
      }
    }

    it(`1×1 convolution (qgemm) equals the reference on ${CASES} random GEMMs`, () => {
      for (let i = 0; i < CASES; i++)
        scoped(() => {
          const rand = random(100 + i);
          const rows = int(rand, 1, 40),
            numK = int(rand, 1, 70),
            numOut = int(rand, 1, 23);
          const q = operands(rand, numOut, numK);
          const x = bytes(rand, rows * numK),
            w = bytes(rand, numOut * numK);
          const packed = packGemm(arena, w, numOut, numK, q.weightZero, q.inputZero, q.bias, q.scale);
          const xPtr = arena.put(x),
            outPtr = arena.alloc(rows * numOut);
          arena.exports.qgemm(
            xPtr,
            numK,
            rows,
            packed.numK8,
            packed.ptr,
            numOut,
            outPtr,
            numOut,
            q.outputZero,
            q.lo!,
            q.hi!,
          );
          const g: ConvGeometry = {
            inH: 1,
            inW: rows,
            inC: numK,
            kh: 1,
            kw: 1,
            strideH: 1,
            strideW: 1,
            padTop: 0,
            padLeft: 0,
            outH: 1,
            outW: rows,
          };
          assert.deepEqual(
            arena.u8(outPtr, rows * numOut),
            referenceConv(x, w, numOut, g, q),
            `case ${i}: ${rows}×${numK} · ${numK}×${numOut}`,
          );
        });
    });

    it(`convolution (qconv: 3×3 and 1×1, stride 1 and 2, SAME padding) equals the reference on ${CASES} random cases`, () => {
      for (let i = 0; i < CASES; i++)
        scoped(() => {
          const rand = random(5000 + i);
          const kernel = rand() < 0.75 ? 3 : 1,
            stride = rand() < 0.5 ? 1 : 2;
          const g = geometry(rand, kernel, stride, int(rand, 1, 20));
          const numOut = int(rand, 1, 19),
            numK = g.kh * g.kw * g.inC;
          const q = operands(rand, numOut, numK);
          const x = bytes(rand, g.inH * g.inW * g.inC),
            w = bytes(rand, numOut * numK);
          const packed = packGemm(arena, w, numOut, numK, q.weightZero, q.inputZero, q.bias, q.scale);
          const xPtr = arena.put(x),
            outPtr = arena.alloc(g.outH * g.outW * numOut),
            scratch = arena.alloc(g.outW * packed.numK8 * 8);
          arena.exports.qconv(
            xPtr,
            g.inH,
            g.inW,
            g.inC,
            g.kh,
            g.kw,
            g.strideH,
            g.strideW,
            g.padTop,
            g.padLeft,
            g.outH,
            g.outW,
            q.inputZero,
            packed.ptr,
            numOut,
            outPtr,
            q.outputZero,
            q.lo!,
            q.hi!,
            scratch,
          );
          assert.deepEqual(
            arena.u8(outPtr, g.outH * g.outW * numOut),
            referenceConv(x, w, numOut, g, q),
            `case ${i}: ${kernel}×${kernel}/${stride} on ${g.inH}×${g.inW}×${g.inC} → ${numOut}`,
          );
        });
    });

    it(`3×3 depthwise convolution (stride 1 and 2) equals the reference on ${CASES} random cases`, () => {
      for (let i = 0; i < CASES; i++)
        scoped(() => {
          const rand = random(9000 + i);
          const g = geometry(rand, 3, rand() < 0.5 ? 1 : 2, int(rand, 1, 41));
          const C = g.inC;
          const q = operands(rand, C, 9);
          const x = bytes(rand, g.inH * g.inW * C),
            w = bytes(rand, 9 * C);
          const packed = packDepthwise(arena, w, C, 9, q.weightZero, q.bias, q.scale);
          const xPtr = arena.put(x),
            outPtr = arena.alloc(g.outH * g.outW * C);
          arena.exports.qdepthwise(
            xPtr,
            g.inH,
            g.inW,
            C,
            3,
            3,
            g.strideH,
            g.strideW,
            g.padTop,
            g.padLeft,
            g.outH,
            g.outW,
            q.inputZero,
            packed.ptr,
            outPtr,
            q.outputZero,
            q.lo!,
            q.hi!,
          );
          assert.deepEqual(
            arena.u8(outPtr, g.outH * g.outW * C),
            referenceDepthwise(x, w, g, q),
            `case ${i}: stride ${g.strideH} on ${g.inH}×${g.inW}×${C}`,
          );
        });
    });

    it(`ADD equals the reference (XNNPACK's rescaling) on ${CASES} random cases`, () => {
      for (let i = 0; i < CASES; i++)
        scoped(() => {
          const rand = random(13000 + i);
          const num = int(rand, 1, 300);
          const qa = { scale: 0.05 + 0.4 * rand(), zeroPoint: int(rand, 0, 255) },
            qb = { scale: 0.05 + 0.4 * rand(), zeroPoint: int(rand, 0, 255) };
          const qy = { scale: (qa.scale + qb.scale) * (0.4 + 0.8 * rand()), zeroPoint: int(rand, 0, 255) };
          const p = xnnpackAddParams(qa, qb, qy);
          const a = bytes(rand, num),
            b = bytes(rand, num);
          const clamp = rand() < 0.3;
          const lo = clamp ? int(rand, 0, 60) : 0,
            hi = clamp ? int(rand, 190, 255) : 255;
          const aPtr = arena.put(a),
            bPtr = arena.put(b),
            outPtr = arena.alloc(num);
          arena.exports.qadd(
            aPtr,
            bPtr,
            outPtr,
            num,
            p.aMultiplier,
            p.bMultiplier,
            p.bias + p.rounding,
            p.shift,
            qy.zeroPoint,
            lo,
            hi,
          );
          assert.deepEqual(
            arena.u8(outPtr, num),
            referenceAdd(a, b, p, qy.zeroPoint, lo, hi),
            `case ${i}: ${num} values`,
          );
        });
    });

    it('table lookup (LOGISTIC) maps every byte through the table, in place too', () =>
      scoped(() => {
        const rand = random(77);
        const table = bytes(rand, 256),
          x = bytes(rand, 1000);
        const tablePtr = arena.put(table),
          xPtr = arena.put(x),
          outPtr = arena.alloc(1000);
        arena.exports.qlookup(xPtr, 1000, tablePtr, outPtr);
        assert.deepEqual(
          arena.u8(outPtr, 1000),
          Uint8Array.from(x, (v) => table[v]),
        );
        arena.exports.qlookup(xPtr, 1000, tablePtr, xPtr);
        assert.deepEqual(
          arena.u8(xPtr, 1000),
          Uint8Array.from(x, (v) => table[v]),
          'in place',
        );
      }));
  });
}

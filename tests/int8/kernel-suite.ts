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
  putBlock,
  QADD_FIELDS,
  QCONV_FIELDS,
  QDEPTHWISE_FIELDS,
  QGEMM_FIELDS,
  QLOOKUP_FIELDS,
} from '../../src/int8/params.js';
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

/** A convolution geometry as qdepthwise's block names it: its input channels are its channels. */
function depthwiseWindow({ inC, ...window }: ConvGeometry) {
  return { ...window, channels: inC };
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
            putBlock(arena, QGEMM_FIELDS, {
              xPtr,
              xStride: numK,
              numRows: rows,
              numK8: packed.numK8,
              packedPtr: packed.ptr,
              numOut,
              outPtr,
              outStride: numOut,
              zeroPoint: q.outputZero,
              lo: q.lo!,
              hi: q.hi!,
            }),
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
            putBlock(arena, QCONV_FIELDS, {
              ...g,
              xPtr,
              inputZero: q.inputZero,
              packedPtr: packed.ptr,
              numOut,
              outPtr,
              zeroPoint: q.outputZero,
              lo: q.lo!,
              hi: q.hi!,
              scratchPtr: scratch,
            }),
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
            putBlock(arena, QDEPTHWISE_FIELDS, {
              ...depthwiseWindow(g),
              xPtr,
              inputZero: q.inputZero,
              packedPtr: packed.ptr,
              outPtr,
              zeroPoint: q.outputZero,
              lo: q.lo!,
              hi: q.hi!,
            }),
          );
          assert.deepEqual(
            arena.u8(outPtr, g.outH * g.outW * C),
            referenceDepthwise(x, w, g, q),
            `case ${i}: stride ${g.strideH} on ${g.inH}×${g.inW}×${C}`,
          );
        });
    });

    it('convolution and depthwise convolution with unequal sides (kh ≠ kw, strideH ≠ strideW, padTop ≠ padLeft) equal the reference: each block field reaches its parameter', () => {
      // [inH, inW, kh, kw, strideH, strideW]: every pair of row/column fields differs somewhere
      const shapes = [
        [7, 9, 5, 3, 1, 2],
        [8, 6, 3, 5, 2, 1],
        [5, 11, 1, 3, 2, 1],
        [10, 4, 3, 1, 1, 2],
      ];
      shapes.forEach(([inH, inW, kh, kw, strideH, strideW], i) =>
        scoped(() => {
          const rand = random(17000 + i);
          const y = samePadding(inH, kh, strideH),
            x = samePadding(inW, kw, strideW);
          const inC = int(rand, 1, 12),
            numOut = int(rand, 1, 9);
          const g: ConvGeometry = {
            inH,
            inW,
            inC,
            kh,
            kw,
            strideH,
            strideW,
            padTop: y.before,
            padLeft: x.before,
            outH: y.out,
            outW: x.out,
          };
          const label = `${inH}×${inW}, ${kh}×${kw} kernel, strides ${strideH}, ${strideW}, padding ${g.padTop}, ${g.padLeft}`;
          const input = bytes(rand, inH * inW * inC);
          const xPtr = arena.put(input);

          const q = operands(rand, numOut, kh * kw * inC);
          const w = bytes(rand, numOut * kh * kw * inC);
          const packed = packGemm(arena, w, numOut, kh * kw * inC, q.weightZero, q.inputZero, q.bias, q.scale);
          const convOut = arena.alloc(g.outH * g.outW * numOut);
          const scratchPtr = arena.alloc(g.outW * packed.numK8 * 8);
          arena.exports.qconv(
            putBlock(arena, QCONV_FIELDS, {
              ...g,
              xPtr,
              inputZero: q.inputZero,
              packedPtr: packed.ptr,
              numOut,
              outPtr: convOut,
              zeroPoint: q.outputZero,
              lo: q.lo!,
              hi: q.hi!,
              scratchPtr,
            }),
          );
          assert.deepEqual(
            arena.u8(convOut, g.outH * g.outW * numOut),
            referenceConv(input, w, numOut, g, q),
            `qconv ${label}`,
          );

          const qd = operands(rand, inC, kh * kw);
          const wd = bytes(rand, kh * kw * inC);
          const packedDw = packDepthwise(arena, wd, inC, kh * kw, qd.weightZero, qd.bias, qd.scale);
          const dwOut = arena.alloc(g.outH * g.outW * inC);
          arena.exports.qdepthwise(
            putBlock(arena, QDEPTHWISE_FIELDS, {
              ...depthwiseWindow(g),
              xPtr,
              inputZero: qd.inputZero,
              packedPtr: packedDw.ptr,
              outPtr: dwOut,
              zeroPoint: qd.outputZero,
              lo: qd.lo!,
              hi: qd.hi!,
            }),
          );
          assert.deepEqual(
            arena.u8(dwOut, g.outH * g.outW * inC),
            referenceDepthwise(input, wd, g, qd),
            `qdepthwise ${label}`,
          );
        }),
      );
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
            putBlock(arena, QADD_FIELDS, {
              aPtr,
              bPtr,
              outPtr,
              num,
              aMultiplier: p.aMultiplier,
              bMultiplier: p.bMultiplier,
              bias: p.bias + p.rounding,
              shift: p.shift,
              zeroPoint: qy.zeroPoint,
              lo,
              hi,
            }),
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
        arena.exports.qlookup(putBlock(arena, QLOOKUP_FIELDS, { xPtr, num: 1000, tablePtr, outPtr }));
        assert.deepEqual(
          arena.u8(outPtr, 1000),
          Uint8Array.from(x, (v) => table[v]),
        );
        arena.exports.qlookup(putBlock(arena, QLOOKUP_FIELDS, { xPtr, num: 1000, tablePtr, outPtr: xPtr }));
        assert.deepEqual(
          arena.u8(xPtr, 1000),
          Uint8Array.from(x, (v) => table[v]),
          'in place',
        );
      }));
  });
}

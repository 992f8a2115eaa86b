/**
 * The relaxed-SIMD kernels (assembly/qgemm-relaxed.ts, src/int8/relaxed.ts):
 * - the operand split is exact for every x, w and weight zero point, with every relaxed-dot operand
 *   in the range where the instruction is deterministic (plain TypeScript, exhaustive);
 * - on an engine with relaxed SIMD, every kernel equals the scalar reference on random cases, a GEMM
 *   meeting every (x, w) byte pair at all weight zero points equals it too, and the whole network
 *   equals TensorFlow Lite's heads byte for byte on the five sample photos.
 * Node 20 needs `--experimental-wasm-relaxed-simd`, and `--no-liftoff` (its baseline compiler gets
 * the relaxed dot wrong: the load-time probe refuses it, checked below), so without relaxed SIMD
 * this file runs itself again in a child node with those flags.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { Arena } from '../../src/int8/arena.js';
import { AUTO_PREFERS_RELAXED, chooseInt8Build } from '../../src/int8/kernels.js';
import { createTfliteInt8Network } from '../../src/int8/network.js';
import { packGemm } from '../../src/int8/pack.js';
import { putBlock, QGEMM_FIELDS } from '../../src/int8/params.js';
import { referenceConv, type ConvGeometry } from '../../src/int8/reference.js';
import { instantiateRelaxedCore, relaxedSimdSupport } from '../../src/int8/relaxed.js';
import { readTfliteCocoFixtures } from '../tflite-reference/fixtures.js';
import { kernelSuite } from './kernel-suite.js';

const CHILD = 'SSD_INT8_RELAXED_CHILD';
const FLAGS = ['--experimental-wasm-relaxed-simd', '--no-liftoff'];
const MODEL = new URL('../../../models/mobilenet_ssd_v2_coco_quant_postprocess.tflite', import.meta.url);

describe('relaxed SIMD operand split (qgemm-relaxed.ts)', () => {
  it('x·(w − zw) = xl·(w − 128) + 128·xh·(w − 128) + (128 − zw)·x for every x, w, zw, operands in range', () => {
    let checked = 0;
    for (let x = 0; x < 256; x++) {
      const xl = x & 127,
        xh = x >> 7;
      assert.ok(xl >= 0 && xl <= 127 && (xh === 0 || xh === 1), `x ${x}: i7 operands ${xl}, ${xh}`);
      for (let w = 0; w < 256; w++) {
        const a = w - 128; // the packed i8 operand
        assert.ok(a >= -128 && a <= 127);
        const split = xl * a + 128 * xh * a;
        for (let zw = 0; zw < 256; zw++) {
          if (split + (128 - zw) * x !== x * (w - zw)) assert.fail(`x ${x}, w ${w}, zw ${zw}`);
          checked++;
        }
      }
    }
    assert.equal(checked, 256 ** 3);
  });

  it('a pair of products never leaves i16 (x86 saturates pair sums there)', () => {
    // every a ∈ [−128, 127] times every b ∈ [0, 127]: the extremes of one product, doubled
    let lo = 0,
      hi = 0;
    for (let a = -128; a <= 127; a++)
      for (let b = 0; b <= 127; b++) {
        lo = Math.min(lo, a * b);
        hi = Math.max(hi, a * b);
      }
    assert.deepEqual([2 * lo, 2 * hi], [-32512, 32258]); // the spec test's extremes
    assert.ok(2 * lo >= -32768 && 2 * hi <= 32767);
  });
});

const support = relaxedSimdSupport();

if (support !== 'ok' && process.env[CHILD]) {
  it('the child node has relaxed SIMD', () =>
    assert.fail(`relaxed SIMD is '${support}' with ${process.execArgv.join(' ')}`));
} else if (support !== 'ok') {
  describe('relaxed SIMD on an engine without it (or with a wrong one)', () => {
    it("build 'relaxed' is refused with the reason; 'auto' runs SIMD and says why", async () => {
      assert.throws(() => chooseInt8Build('relaxed', 1), /build 'relaxed' was requested but this engine/);
      const auto = chooseInt8Build('auto', 1);
      assert.equal(auto.build, 'simd');
      assert.match(auto.reason, /^wasm SIMD kernels \(this engine/);
      await assert.rejects(instantiateRelaxedCore(), /relaxed SIMD|relaxed integer dot/);
    });

    it('Node with only --experimental-wasm-relaxed-simd: the probe runs the instruction, not just validates it', () => {
      const script = `import { relaxedSimdSupport } from ${JSON.stringify(new URL('../../src/int8/relaxed.js', import.meta.url).href)};
        console.log(relaxedSimdSupport());`;
      const child = spawnSync(
        process.execPath,
        ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', script],
        { encoding: 'utf8' },
      );
      assert.equal(child.status, 0, child.stderr);
      // Node 20's Liftoff computes the relaxed dot wrong on this machine ('wrong'); a fixed engine says 'ok'
      assert.match(child.stdout.trim(), /^(ok|wrong)$/);
    });

    it(`the relaxed kernels pass their checks in a child node (${FLAGS.join(' ')})`, () => {
      const env: NodeJS.ProcessEnv = { ...process.env, [CHILD]: '1' };
      delete env.NODE_TEST_CONTEXT; // set by a parent `node --test`: the child would report to it instead of printing
      const child = spawnSync(
        process.execPath,
        [...FLAGS, '--test', '--test-reporter=spec', fileURLToPath(import.meta.url)],
        { encoding: 'utf8', env },
      );
      assert.equal(child.status, 0, `child failed:\n${child.stdout}\n${child.stderr}`);
      assert.match(child.stdout, /relaxed build/); // the kernel suite ran there
    });
  });
} else {
  kernelSuite('relaxed', () => instantiateRelaxedCore());

  describe('relaxed SIMD kernels, every byte pair', () => {
    let arena: Arena;
    before(async () => {
      arena = new Arena(await instantiateRelaxedCore());
    });

    it('a GEMM meeting every (x, w) byte pair, at weight and input zero points 0, 1, 127, 128, 129, 255, equals the reference', () => {
      const rows = 256,
        numK = 19,
        numOut = 256;
      // k = 0 holds x = row and w = channel: every pair; the other k vary both
      const x = Uint8Array.from({ length: rows * numK }, (_, i) => (Math.floor(i / numK) + 37 * (i % numK)) & 255);
      const w = Uint8Array.from({ length: numOut * numK }, (_, i) => (Math.floor(i / numK) + 101 * (i % numK)) & 255);
      const scale = Float32Array.from({ length: numOut }, (_, o) => Math.fround(1 / (1500 + 7 * o)));
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
      for (const weightZero of [0, 1, 127, 128, 129, 255]) {
        for (const inputZero of [0, 128, 255]) {
          const mark = arena.mark();
          const bias = Int32Array.from({ length: numOut }, (_, o) => ((o * 7919) % 20001) - 10000);
          const packed = packGemm(arena, w, numOut, numK, weightZero, inputZero, bias, scale);
          const xPtr = arena.put(x),
            out = arena.alloc(rows * numOut);
          arena.exports.qgemm(
            putBlock(arena, QGEMM_FIELDS, {
              xPtr,
              xStride: numK,
              numRows: rows,
              numK8: packed.numK8,
              packedPtr: packed.ptr,
              numOut,
              outPtr: out,
              outStride: numOut,
              zeroPoint: 128,
              lo: 0,
              hi: 255,
            }),
          );
          const expected = referenceConv(x, w, numOut, g, { inputZero, weightZero, bias, scale, outputZero: 128 });
          assert.ok(
            Buffer.from(arena.u8(out, rows * numOut)).equals(Buffer.from(expected)),
            `zw ${weightZero}, zx ${inputZero}`,
          );
          arena.release(mark);
        }
      }
    });
  });

  describe('relaxed SIMD network on SSD MobileNet V2 COCO (uint8)', () => {
    it("build 'relaxed': both heads equal TensorFlow Lite's on every sample photo, byte for byte", async () => {
      const net = await createTfliteInt8Network(new Uint8Array(readFileSync(MODEL)), { build: 'relaxed' });
      assert.equal(net.build, 'relaxed');
      assert.match(net.buildReason, /^relaxed-SIMD kernels/);
      const fixtures = await readTfliteCocoFixtures();
      assert.ok(fixtures.length >= 5, `${fixtures.length} fixtures`);
      for (const f of fixtures) {
        const { boxEncodings, classPredictions } = net.runHeads(f.input);
        assert.ok(Buffer.from(boxEncodings).equals(Buffer.from(f.boxEncodings)), `${f.name}: box encodings differ`);
        assert.ok(
          Buffer.from(classPredictions).equals(Buffer.from(f.classPredictions)),
          `${f.name}: class predictions differ`,
        );
      }
    });

    it("build 'relaxed' with threads: 2 runs on one thread and says why (the two-thread build is SIMD)", async () => {
      const net = await createTfliteInt8Network(new Uint8Array(readFileSync(MODEL)), { build: 'relaxed', threads: 2 });
      try {
        assert.deepEqual([net.build, net.threads], ['relaxed', 1]);
        assert.equal(net.threadsReason, 'the threaded build has wasm SIMD kernels, not relaxed SIMD');
      } finally {
        await net.dispose();
      }
    });

    it(`'auto' picks ${AUTO_PREFERS_RELAXED ? 'relaxed SIMD' : 'SIMD'} on one thread and SIMD on two, saying which`, () => {
      const one = chooseInt8Build('auto', 1),
        two = chooseInt8Build('auto', 2);
      assert.equal(one.build, AUTO_PREFERS_RELAXED ? 'relaxed' : 'simd');
      assert.match(
        one.reason,
        AUTO_PREFERS_RELAXED
          ? /^relaxed-SIMD kernels/
          : /^wasm SIMD kernels \(the engine has relaxed SIMD, measured no faster/,
      );
      assert.deepEqual(two, { build: 'simd', reason: 'wasm SIMD kernels (the two-thread build is SIMD)' });
    });
  });
}

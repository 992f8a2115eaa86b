/**
 * The training module's float32 depthwise-gradient kernels (assembly/dwconv-backprop-input.ts,
 * …-filter.ts; dist/wasm/ssd-train.*.wasm), SIMD and baseline builds, against a plain-TypeScript reference written in the other (gather)
 * form in float64: random shapes with channel counts off the 4-lane grid (the scalar tails),
 * strides 1 to 3, asymmetric pads larger than the kernel's reach, depth multipliers 1 to 3, and
 * batches. The SIMD and baseline builds must also agree with each other. The kernels are called
 * through their exports, with the parameter blocks the host writes (src/train/kernels/params.ts).
 * Error measure: max |core − reference| / max(1, max |reference|).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { CoreBuild } from '../../../src/core/loader.js';
import { blockBytes } from '../../../src/core/params.js';
import { writeBlock } from '../../../src/core/plan.js';
import { DWCONV_FILTER_FIELDS, DWCONV_INPUT_FIELDS, type DwconvGeometry } from '../../../src/train/kernels/params.js';
import {
  instantiateTrainingCore,
  scratchF32,
  type TrainingCore as Core,
} from '../../../src/train/kernels/training-core.js';
import { mulberry32 } from '../../../src/util/random.js';

const TOLERANCE = 2e-6;

interface Geometry {
  n: number;
  h: number;
  w: number;
  c: number;
  m: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
  oh: number;
  ow: number;
}

type Rand = () => number;
const int = (rand: Rand, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const randomArray = (rand: Rand, size: number) => Float32Array.from({ length: size }, () => rand() * 2 - 1);

function geometry(rand: Rand, i: number): Geometry {
  const kh = int(rand, 1, 5),
    kw = int(rand, 1, 5),
    sh = 1 + (i % 3),
    sw = int(rand, 1, 3);
  const h = int(rand, 1, 14),
    w = int(rand, 1, 14);
  const top = int(rand, 0, kh),
    left = int(rand, 0, kw),
    bottom = int(rand, 0, kh),
    right = int(rand, 0, kw);
  const oh = Math.max(0, Math.floor((h + top + bottom - kh) / sh) + 1),
    ow = Math.max(0, Math.floor((w + left + right - kw) / sw) + 1);
  return {
    n: int(rand, 1, 3),
    h,
    w,
    c: [1, 3, 4, 5, 8, 11, 16][i % 7],
    m: [1, 1, 2, 3][i % 4],
    kh,
    kw,
    sh,
    sw,
    top,
    left,
    oh,
    ow,
  };
}

/** dx in gather form: each input position sums the (output position, tap) pairs that read it. */
function referenceInput(g: Geometry, dy: Float32Array, filter: Float32Array): Float64Array {
  const dx = new Float64Array(g.n * g.h * g.w * g.c),
    co = g.c * g.m;
  for (let n = 0; n < g.n; n++)
    for (let ih = 0; ih < g.h; ih++)
      for (let iw = 0; iw < g.w; iw++)
        for (let c = 0; c < g.c; c++) {
          let sum = 0;
          for (let y = 0; y < g.kh; y++)
            for (let x = 0; x < g.kw; x++) {
              const ty = ih + g.top - y,
                tx = iw + g.left - x;
              if (ty % g.sh !== 0 || tx % g.sw !== 0) continue;
              const oh = ty / g.sh,
                ow = tx / g.sw;
              if (oh < 0 || oh >= g.oh || ow < 0 || ow >= g.ow) continue;
              for (let m = 0; m < g.m; m++)
                sum += dy[((n * g.oh + oh) * g.ow + ow) * co + c * g.m + m] * filter[(y * g.kw + x) * co + c * g.m + m];
            }
          dx[((n * g.h + ih) * g.w + iw) * g.c + c] = sum;
        }
  return dx;
}

/** dW straight from its definition, in float64. */
function referenceFilter(g: Geometry, x: Float32Array, dy: Float32Array): Float64Array {
  const co = g.c * g.m,
    dw = new Float64Array(g.kh * g.kw * co);
  for (let y = 0; y < g.kh; y++)
    for (let xx = 0; xx < g.kw; xx++)
      for (let c = 0; c < g.c; c++)
        for (let m = 0; m < g.m; m++) {
          let sum = 0;
          for (let n = 0; n < g.n; n++)
            for (let oh = 0; oh < g.oh; oh++)
              for (let ow = 0; ow < g.ow; ow++) {
                const ih = oh * g.sh + y - g.top,
                  iw = ow * g.sw + xx - g.left;
                if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) continue;
                sum += x[((n * g.h + ih) * g.w + iw) * g.c + c] * dy[((n * g.oh + oh) * g.ow + ow) * co + c * g.m + m];
              }
          dw[((y * g.kw + xx) * g.c + c) * g.m + m] = sum;
        }
  return dw;
}

/** The kernels' block geometry (src/train/kernels/params.ts) of a test geometry. */
function blockGeometry(g: Geometry): DwconvGeometry {
  return {
    numBatch: g.n,
    inH: g.h,
    inW: g.w,
    channels: g.c,
    multiplier: g.m,
    outH: g.oh,
    outW: g.ow,
    kh: g.kh,
    kw: g.kw,
    strideH: g.sh,
    strideW: g.sw,
    top: g.top,
    left: g.left,
  };
}

function runInput(core: Core, g: Geometry, dy: Float32Array, filter: Float32Array): Float32Array {
  // a poisoned dx region: the kernel must overwrite every value
  const [params, dyC, fC, dxC] = scratchF32(
    core,
    [blockBytes(DWCONV_INPUT_FIELDS) / 4, dy.length, filter.length, g.n * g.h * g.w * g.c],
    'a test',
  );
  dyC.set(dy);
  fC.set(filter);
  dxC.fill(Number.NaN);
  writeBlock(core.memory.buffer, params.byteOffset, DWCONV_INPUT_FIELDS, {
    dyPtr: dyC.byteOffset,
    wPtr: fC.byteOffset,
    dxPtr: dxC.byteOffset,
    ...blockGeometry(g),
  });
  core.exports.dwconvBackpropInput(params.byteOffset);
  return dxC.slice();
}

function runFilter(core: Core, g: Geometry, x: Float32Array, dy: Float32Array): Float32Array {
  const numW = g.kh * g.kw * g.c * g.m;
  const [params, xC, dyC, dwC, rowC, sumsC] = scratchF32(
    core,
    [blockBytes(DWCONV_FILTER_FIELDS) / 4, x.length, dy.length, numW, numW, 2 * numW],
    'a test',
  );
  xC.set(x);
  dyC.set(dy);
  dwC.fill(Number.NaN);
  rowC.fill(Number.NaN);
  sumsC.fill(Number.NaN);
  writeBlock(core.memory.buffer, params.byteOffset, DWCONV_FILTER_FIELDS, {
    xPtr: xC.byteOffset,
    dyPtr: dyC.byteOffset,
    dwPtr: dwC.byteOffset,
    rowPtr: rowC.byteOffset,
    sumsPtr: sumsC.byteOffset,
    ...blockGeometry(g),
  });
  core.exports.dwconvBackpropFilter(params.byteOffset);
  return dwC.slice();
}

function relativeError(got: Float32Array, expected: Float64Array): number {
  assert.equal(got.length, expected.length);
  let diff = 0,
    scale = 1;
  for (let i = 0; i < got.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return Number.isNaN(diff) || got.some(Number.isNaN) ? Number.POSITIVE_INFINITY : diff / scale;
}

const BUILDS: CoreBuild[] = ['simd', 'baseline'];
const cores = new Map<CoreBuild, Core>();

before(async () => {
  for (const build of BUILDS) cores.set(build, await instantiateTrainingCore(build));
});

describe("the training module's depthwise-convolution gradients equal the plain-TypeScript reference", () => {
  for (const build of BUILDS) {
    it(`${build}: dx and dW on 120 random geometries (strides 1–3, asymmetric pads, multipliers 1–3, channel tails)`, () => {
      const core = cores.get(build)!;
      assert.equal(core.exports.simdEnabled() !== 0, build === 'simd', 'the build under test');
      const rand = mulberry32(101);
      let worstInput = 0,
        worstFilter = 0,
        nonZero = 0,
        unequalSides = 0;
      for (let i = 0; i < 120; i++) {
        const g = geometry(rand, i);
        const x = randomArray(rand, g.n * g.h * g.w * g.c),
          dy = randomArray(rand, g.n * g.oh * g.ow * g.c * g.m);
        const filter = randomArray(rand, g.kh * g.kw * g.c * g.m);
        const label = JSON.stringify(g);
        const expectedDx = referenceInput(g, dy, filter),
          expectedDw = referenceFilter(g, x, dy);
        if (expectedDw.some((v) => v !== 0)) nonZero++;
        if (g.h !== g.w && g.kh !== g.kw && g.sh !== g.sw && g.top !== g.left && g.oh !== g.ow) unequalSides++;
        const errorInput = relativeError(runInput(core, g, dy, filter), expectedDx);
        const errorFilter = relativeError(runFilter(core, g, x, dy), expectedDw);
        assert.ok(errorInput <= TOLERANCE, `${build} dx ${label}: error ${errorInput}`);
        assert.ok(errorFilter <= TOLERANCE, `${build} dW ${label}: error ${errorFilter}`);
        worstInput = Math.max(worstInput, errorInput);
        worstFilter = Math.max(worstFilter, errorFilter);
      }
      assert.ok(nonZero > 100, `most geometries have a non-zero gradient (${nonZero})`);
      // where every row/column pair differs, a block field read for its twin changes the result
      assert.ok(unequalSides >= 10, `${unequalSides} geometries have unequal sides in every pair`);
      console.log(
        `${build}: worst relative error dx ${worstInput.toExponential(2)}, dW ${worstFilter.toExponential(2)}`,
      );
    });
  }

  it('dW of a MobileNet-sized layer (x [2, 150, 150, 16], 3×3, stride 1, SAME) keeps float64 accuracy over 45 000 terms', () => {
    const g: Geometry = {
      n: 2,
      h: 150,
      w: 150,
      c: 16,
      m: 1,
      kh: 3,
      kw: 3,
      sh: 1,
      sw: 1,
      top: 1,
      left: 1,
      oh: 150,
      ow: 150,
    };
    const rand = mulberry32(7);
    // all-positive terms: one float32 running sum over 45 000 of them drifts by ~2e-6 relative
    const x = Float32Array.from({ length: g.n * g.h * g.w * g.c }, () => rand());
    const dy = Float32Array.from({ length: g.n * g.oh * g.ow * g.c }, () => rand());
    const expected = referenceFilter(g, x, dy);
    for (const build of BUILDS) {
      const got = runFilter(cores.get(build)!, g, x, dy);
      let worst = 0;
      for (let i = 0; i < got.length; i++)
        worst = Math.max(worst, Math.abs(got[i] - expected[i]) / Math.abs(expected[i]));
      assert.ok(worst <= 1e-6, `${build}: relative error ${worst} per value`);
    }
  });

  it('the SIMD and baseline builds agree on a stride-2 MobileNet layer to rounding', () => {
    const g: Geometry = {
      n: 1,
      h: 38,
      w: 38,
      c: 24,
      m: 1,
      kh: 3,
      kw: 3,
      sh: 2,
      sw: 2,
      top: 0,
      left: 0,
      oh: 19,
      ow: 19,
    };
    const rand = mulberry32(9);
    const x = randomArray(rand, g.n * g.h * g.w * g.c),
      dy = randomArray(rand, g.n * g.oh * g.ow * g.c),
      filter = randomArray(rand, 9 * g.c);
    const [simd, baseline] = BUILDS.map((build) => cores.get(build)!);
    assert.deepEqual(
      runInput(simd, g, dy, filter),
      runInput(baseline, g, dy, filter),
      'dx: same products and sums in the same order',
    );
    assert.deepEqual(
      runFilter(simd, g, x, dy),
      runFilter(baseline, g, x, dy),
      'dW: same products and sums in the same order',
    );
  });
});

/**
 * ssd-edge's depthwise-convolution gradient kernels on the wasm backend
 * (DepthwiseConv2dNativeBackpropInput and …Filter, which tfjs-backend-wasm lacks) equal the cpu
 * backend's: tf.depthwiseConv2d on random configurations — kernels 1, 3 and 5, strides 1 and 2,
 * 'same', 'valid', numeric and explicit asymmetric pads, depth multipliers 1 and 2, dilation 1 —,
 * tf.fused.depthwiseConv2d with bias and ReLU6 (how the MobileNet SSD calls it), a geometry
 * whose every height differs from its width (filter, stride, pad, input, output), and a
 * MobileNet-sized layer (the filter gradient sums 45 000 terms per value).
 * Error measure, per gradient tensor: max |wasm − cpu| / max |cpu|.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initTraining } from '../../../src/train/tfjs.js';
import { mulberry32 } from '../../../src/util/random.js';

const TOLERANCE = 1e-4;

before(async () => {
  tf.enableProdMode();
  await initTraining({ backend: 'wasm', log: () => {} });
});

async function on(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const tensors = tf.tidy(fn);
  const values = tensors.map((t) => t.dataSync() as Float32Array);
  tf.dispose(tensors);
  return values;
}

function relativeError(got: Float32Array, expected: Float32Array): number {
  assert.equal(got.length, expected.length);
  let diff = 0,
    scale = 0;
  for (let i = 0; i < got.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** The gradients `grads` computes on wasm and on cpu agree; returns the worst relative error. */
async function compare(label: string, grads: () => tf.Tensor[]): Promise<number> {
  const wasm = await on('wasm', grads);
  const cpu = await on('cpu', grads);
  await tf.setBackend('wasm');
  let worst = 0;
  wasm.forEach((g, i) => {
    assert.ok(g.every(Number.isFinite), `${label}: gradient ${i} is not finite`);
    assert.ok(
      cpu[i].some((v) => v !== 0),
      `${label}: gradient ${i} is all zero on cpu`,
    );
    const error = relativeError(g, cpu[i]);
    assert.ok(error <= TOLERANCE, `${label}: gradient ${i} differs from cpu's by ${error.toExponential(2)} (relative)`);
    worst = Math.max(worst, error);
  });
  return worst;
}

const randomArray = (rand: () => number, size: number) => Float32Array.from({ length: size }, () => rand() * 2 - 1);
const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)];
const int = (rand: () => number, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const wave = (y: tf.Tensor, f: (t: tf.Tensor) => tf.Tensor) => tf.reshape(f(tf.range(0, y.size)), y.shape);

type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];
interface DepthwiseCase {
  n: number;
  h: number;
  w: number;
  c: number;
  multiplier: number;
  k: number;
  stride: number;
  pad: Pad;
}

const describeCase = (c: DepthwiseCase) =>
  `x [${c.n}, ${c.h}, ${c.w}, ${c.c}], filter ${c.k}×${c.k}×${c.c}×${c.multiplier}, stride ${c.stride}, pad ${JSON.stringify(c.pad)}`;

function depthwiseCases(count: number, seed: number): DepthwiseCase[] {
  const rand = mulberry32(seed);
  const cases: DepthwiseCase[] = [];
  for (let i = 0; i < count; i++) {
    const k = pick(rand, [1, 3, 3, 5]),
      stride = i % 2 === 0 ? 2 : 1;
    const kind = ['same', 'valid', 'number', 'explicit'][(i >> 1) % 4];
    const pad: Pad =
      kind === 'same'
        ? 'same'
        : kind === 'valid'
          ? 'valid'
          : kind === 'number'
            ? int(rand, 0, 2)
            : [
                [0, 0],
                [int(rand, 0, 2), int(rand, 0, 2)],
                [int(rand, 0, 2), int(rand, 0, 2)],
                [0, 0],
              ];
    cases.push({
      n: int(rand, 1, 2),
      h: int(rand, 5, 19),
      w: int(rand, 5, 19),
      c: int(rand, 1, 12),
      multiplier: i % 3 === 2 ? 2 : 1,
      k,
      stride,
      pad,
    });
  }
  return cases;
}

function filterOf(c: DepthwiseCase): [number, number, number, number] {
  return [c.k, c.k, c.c, c.multiplier];
}

describe("wasm depthwise-convolution gradients equal the cpu backend's", () => {
  it('registers DepthwiseConv2dNativeBackpropInput and …Filter for wasm', () => {
    assert.ok(tf.getKernel('DepthwiseConv2dNativeBackpropInput', 'wasm'));
    assert.ok(tf.getKernel('DepthwiseConv2dNativeBackpropFilter', 'wasm'));
  });

  it('tf.depthwiseConv2d: dx and dfilter, 40 random configurations (strides 1, 2; same, valid, numeric, explicit; multipliers 1, 2)', async () => {
    const rand = mulberry32(21);
    let worst = 0;
    const seen = new Set<string>();
    for (const c of depthwiseCases(40, 7)) {
      const x = randomArray(rand, c.n * c.h * c.w * c.c),
        f = randomArray(rand, c.k * c.k * c.c * c.multiplier);
      const probe = tf.depthwiseConv2d(
        tf.zeros([c.n, c.h, c.w, c.c]) as tf.Tensor4D,
        tf.zeros(filterOf(c)) as tf.Tensor4D,
        c.stride,
        c.pad,
      );
      if (probe.size === 0) {
        probe.dispose();
        continue;
      }
      const r = randomArray(rand, probe.size),
        yShape = probe.shape;
      probe.dispose();
      seen.add(`${c.stride}/${typeof c.pad === 'object' ? 'explicit' : typeof c.pad}/${c.multiplier}`);
      worst = Math.max(
        worst,
        await compare(describeCase(c), () =>
          tf.grads((xt: tf.Tensor, ft: tf.Tensor) =>
            tf.sum(
              tf.mul(tf.depthwiseConv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.stride, c.pad), tf.tensor(r, yShape)),
            ),
          )([tf.tensor4d(x, [c.n, c.h, c.w, c.c]), tf.tensor4d(f, filterOf(c))]),
        ),
      );
    }
    for (const stride of [1, 2])
      for (const m of [1, 2]) {
        assert.ok(
          [...seen].some((s) => s.startsWith(`${stride}/`) && s.endsWith(`/${m}`)),
          `stride ${stride}, multiplier ${m} covered`,
        );
      }
    console.log(`depthwiseConv2d: worst relative error ${worst.toExponential(2)} over ${seen.size} kinds of case`);
  });

  it('tf.fused.depthwiseConv2d with bias and relu6 (how the MobileNet SSD calls it): dx, dfilter, dbias', async () => {
    const rand = mulberry32(22);
    let worst = 0;
    for (const c of depthwiseCases(8, 8)) {
      const x = randomArray(rand, c.n * c.h * c.w * c.c).map((v) => 4 * v),
        f = randomArray(rand, c.k * c.k * c.c * c.multiplier);
      const b = randomArray(rand, c.c * c.multiplier);
      worst = Math.max(
        worst,
        await compare(`fused ${describeCase(c)}`, () =>
          tf.grads((xt: tf.Tensor, ft: tf.Tensor, bt: tf.Tensor) => {
            const y = tf.fused.depthwiseConv2d({
              x: xt as tf.Tensor4D,
              filter: ft as tf.Tensor4D,
              bias: bt,
              strides: c.stride,
              pad: c.pad as 'same',
              activation: 'relu6',
            });
            return tf.sum(tf.mul(y, wave(y, tf.sin)));
          })([tf.tensor4d(x, [c.n, c.h, c.w, c.c]), tf.tensor4d(f, filterOf(c)), tf.tensor1d(b)]),
        ),
      );
    }
    console.log(`fused depthwiseConv2d + relu6: worst relative error ${worst.toExponential(2)}`);
  });

  it('unequal sides in every pair (2×3 filter, strides [2, 1], pads top 1 / left 0, 11×9 input) and the transpose', async () => {
    // every height differs from its width (input, output, filter, stride, leading pad), so the
    // adapter writing a field of the kernel's block from its twin would change dx or dfilter
    const rand = mulberry32(24);
    const cases = [
      { h: 11, w: 9, kh: 2, kw: 3, strides: [2, 1], pads: [1, 0] },
      { h: 9, w: 11, kh: 3, kw: 2, strides: [1, 2], pads: [0, 1] },
    ] as const;
    for (const { h, w, kh, kw, strides, pads } of cases) {
      const n = 2,
        c = 5,
        multiplier = 2;
      const pad: Pad = [
        [0, 0],
        [pads[0], 0],
        [pads[1], 0],
        [0, 0],
      ];
      const filterShape: [number, number, number, number] = [kh, kw, c, multiplier];
      const x = randomArray(rand, n * h * w * c),
        f = randomArray(rand, kh * kw * c * multiplier);
      const label = `x [${n}, ${h}, ${w}, ${c}], filter ${kh}×${kw}×${c}×${multiplier}, strides [${strides.join(', ')}], pad ${JSON.stringify(pad)}`;
      const outShape = tf.tidy(
        () =>
          tf.depthwiseConv2d(
            tf.zeros([n, h, w, c]) as tf.Tensor4D,
            tf.zeros(filterShape) as tf.Tensor4D,
            [...strides],
            pad,
          ).shape,
      );
      assert.notEqual(outShape[1], outShape[2], `${label}: the output is not square (${outShape.join('×')})`);
      await compare(label, () =>
        tf.grads((xt: tf.Tensor, ft: tf.Tensor) => {
          const out = tf.depthwiseConv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, [...strides], pad);
          return tf.sum(tf.mul(out, wave(out, tf.sin)));
        })([tf.tensor4d(x, [n, h, w, c]), tf.tensor4d(f, filterShape)]),
      );
    }
  });

  it('a MobileNet-sized layer: x [2, 150, 150, 8], 3×3 stride 1 same, and its stride-2 twin', async () => {
    const rand = mulberry32(23);
    for (const stride of [1, 2]) {
      const c: DepthwiseCase = { n: 2, h: 150, w: 150, c: 8, multiplier: 1, k: 3, stride, pad: 'same' };
      const x = randomArray(rand, c.n * c.h * c.w * c.c),
        f = randomArray(rand, 9 * c.c);
      const error = await compare(describeCase(c), () =>
        tf.grads((xt: tf.Tensor, ft: tf.Tensor) => {
          const y = tf.depthwiseConv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.stride, c.pad);
          return tf.sum(tf.mul(y, wave(y, tf.cos)));
        })([tf.tensor4d(x, [c.n, c.h, c.w, c.c]), tf.tensor4d(f, filterOf(c))]),
      );
      console.log(`depthwiseConv2d, 150×150, stride ${stride}: relative error ${error.toExponential(2)}`);
    }
  });

  it('refuses dilations other than 1, naming them', async () => {
    await tf.setBackend('wasm');
    const dy = tf.zeros([1, 4, 4, 2]),
      filter = tf.zeros([3, 3, 2, 1]);
    assert.throws(
      () =>
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, {
          strides: 1,
          pad: 'same',
          dilations: [2, 2],
          inputShape: [1, 4, 4, 2],
        } as unknown as tf.NamedAttrMap),
      /dilations \[2, 2\]/,
    );
    tf.dispose([dy, filter]);
  });
});

/**
 * The wasm backend's training gradients equal the cpu backend's: tf.conv2d (ssd-edge's
 * Conv2DBackpropFilter and Conv2DBackpropInput) on ~30 random configurations —
 * strides 1 and 2, 'same', 'valid', numeric and explicit asymmetric padding, kernels 1 and 3 —,
 * the dilated (atrous, space-to-batch) convolution SSD300's conv6 runs, with dilations 2 and 6,
 * max pooling (MaxPoolGrad) as SSD300 pools, ceil mode included, and tf.oneHot (forward).
 * Error measure, per gradient tensor: max |wasm − cpu| / max |cpu|.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { applyConv, type ConvLayer } from '../../../src/model/layers.js';
import { COLS_LIMIT } from '../../../src/train/kernels/index.js';
import { initTraining } from '../../../src/train/tfjs.js';
import { mulberry32 } from '../../../src/util/random.js';

const TOLERANCE = 1e-4;

before(async () => {
  tf.enableProdMode();
  await initTraining({ backend: 'wasm', log: () => {} });
});

/** Runs `fn` on `backend` and returns its tensors' values. */
async function on(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const tensors = tf.tidy(fn);
  const values = tensors.map((t) => t.dataSync() as Float32Array);
  tf.dispose(tensors);
  return values;
}

export function relativeError(got: Float32Array, expected: Float32Array): number {
  assert.equal(got.length, expected.length);
  let diff = 0,
    scale = 0;
  for (let i = 0; i < got.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Compares the gradients `grads` computes on wasm and on cpu; returns the worst relative error. */
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

/** Fixed, varied weights shaped like `y` (dy of Σ y·wave). */
const wave = (y: tf.Tensor, f: (t: tf.Tensor) => tf.Tensor) => tf.reshape(f(tf.range(0, y.size)), y.shape);

type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];

interface ConvCase {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  stride: number;
  pad: Pad;
}

function describeCase(c: ConvCase): string {
  return `x [${c.n}, ${c.h}, ${c.w}, ${c.ci}], filter ${c.k}×${c.k}×${c.ci}×${c.co}, stride ${c.stride}, pad ${JSON.stringify(c.pad)}`;
}

function convCases(count: number, seed: number): ConvCase[] {
  const rand = mulberry32(seed);
  const cases: ConvCase[] = [];
  for (let i = 0; i < count; i++) {
    const k = pick(rand, [1, 3]),
      stride = i % 2 === 0 ? 2 : 1; // half of them stride 2
    const kind = ['same', 'valid', 'number', 'explicit'][i % 4];
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
      ci: int(rand, 1, 8),
      co: int(rand, 1, 8),
      k,
      stride,
      pad,
    });
  }
  return cases;
}

describe("wasm training gradients equal the cpu backend's", () => {
  it('tf.conv2d: dx and dfilter, 32 random configurations (strides 1, 2; same, valid, numeric, explicit pads)', async () => {
    const rand = mulberry32(11);
    let worst = 0;
    for (const c of convCases(32, 5)) {
      const x = randomArray(rand, c.n * c.h * c.w * c.ci),
        f = randomArray(rand, c.k * c.k * c.ci * c.co);
      const probe = tf.conv2d(
        tf.zeros([c.n, c.h, c.w, c.ci]) as tf.Tensor4D,
        tf.zeros([c.k, c.k, c.ci, c.co]) as tf.Tensor4D,
        c.stride,
        c.pad,
      );
      const r = randomArray(rand, probe.size),
        yShape = probe.shape;
      probe.dispose();
      worst = Math.max(
        worst,
        await compare(describeCase(c), () => {
          const loss = (xt: tf.Tensor, ft: tf.Tensor) =>
            tf.sum(tf.mul(tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.stride, c.pad), tf.tensor(r, yShape)));
          return tf.grads(loss)([tf.tensor4d(x, [c.n, c.h, c.w, c.ci]), tf.tensor4d(f, [c.k, c.k, c.ci, c.co])]);
        }),
      );
    }
    console.log(`conv2d: worst relative error ${worst.toExponential(2)}`);
  });

  it('tf.conv2d on a large input: the filter gradient summed over several im2col blocks (COLS_LIMIT)', async () => {
    const rand = mulberry32(15);
    const c: ConvCase = { n: 2, h: 90, w: 85, ci: 128, co: 2, k: 3, stride: 1, pad: 'same' };
    assert.ok(c.n * c.h * c.w * c.k * c.k * c.ci > 2 * COLS_LIMIT, 'the case needs several blocks');
    const x = randomArray(rand, c.n * c.h * c.w * c.ci),
      f = randomArray(rand, c.k * c.k * c.ci * c.co);
    const error = await compare(describeCase(c), () =>
      tf.grads((xt: tf.Tensor, ft: tf.Tensor) => {
        const y = tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.stride, c.pad);
        return tf.sum(tf.mul(y, wave(y, tf.sin)));
      })([tf.tensor4d(x, [c.n, c.h, c.w, c.ci]), tf.tensor4d(f, [c.k, c.k, c.ci, c.co])]),
    );
    console.log(`conv2d, blocked: relative error ${error.toExponential(2)}`);
  });

  it('tf.fused.conv2d with bias and relu (how SSD300 calls it): dx, dfilter, dbias', async () => {
    const rand = mulberry32(12);
    let worst = 0;
    for (const c of convCases(8, 6)) {
      const x = randomArray(rand, c.n * c.h * c.w * c.ci),
        f = randomArray(rand, c.k * c.k * c.ci * c.co),
        b = randomArray(rand, c.co);
      worst = Math.max(
        worst,
        await compare(`fused ${describeCase(c)}`, () =>
          tf.grads((xt: tf.Tensor, ft: tf.Tensor, bt: tf.Tensor) => {
            const y = tf.fused.conv2d({
              x: xt as tf.Tensor4D,
              filter: ft as tf.Tensor4D,
              bias: bt,
              strides: c.stride,
              pad: c.pad,
              activation: 'relu',
            });
            return tf.sum(tf.mul(y, wave(y, tf.sin)));
          })([tf.tensor4d(x, [c.n, c.h, c.w, c.ci]), tf.tensor4d(f, [c.k, c.k, c.ci, c.co]), tf.tensor1d(b)]),
        ),
      );
    }
    console.log(`fused conv2d: worst relative error ${worst.toExponential(2)}`);
  });

  it('dilated convolution as SSD300 runs it (space-to-batch), dilations 2 and 6', async () => {
    const rand = mulberry32(13);
    let worst = 0;
    for (let i = 0; i < 8; i++) {
      const d = i % 2 === 0 ? 6 : 2,
        k = 3,
        n = int(rand, 1, 2),
        h = int(rand, 5, 19),
        w = int(rand, 5, 19);
      const ci = int(rand, 1, 8),
        co = int(rand, 1, 8),
        pad = d - int(rand, 0, 1);
      const x = randomArray(rand, n * h * w * ci),
        f = randomArray(rand, k * k * ci * co),
        b = randomArray(rand, co);
      const label = `atrous x [${n}, ${h}, ${w}, ${ci}], filter 3×3×${ci}×${co}, dilation ${d}, pad ${pad}`;
      worst = Math.max(
        worst,
        await compare(label, () =>
          tf.grads((xt: tf.Tensor, ft: tf.Tensor, bt: tf.Tensor) => {
            const layer = {
              kind: 'conv',
              name: 'probe',
              kernel: k,
              stride: 1,
              pad,
              dilation: d,
              relu: i % 4 < 2,
              filter: ft,
              bias: bt,
            } as unknown as ConvLayer;
            const y = applyConv(xt as tf.Tensor4D, layer);
            return tf.sum(tf.mul(y, wave(y, tf.cos)));
          })([tf.tensor4d(x, [n, h, w, ci]), tf.tensor4d(f, [k, k, ci, co]), tf.tensor1d(b)]),
        ),
      );
    }
    console.log(`atrous conv: worst relative error ${worst.toExponential(2)}`);
  });

  it('tf.oneHot (a forward kernel replaced too): float32 and int32, out-of-range indices, on and off values', async () => {
    const labels = [0, 3, 1, -1, 2, 4, 3];
    for (const [dtype, onValue, offValue] of [
      ['float32', 1, 0],
      ['float32', 0.9, 0.025],
      ['int32', 1, 0],
      ['int32', 7, -2],
    ] as const) {
      const run = () => [tf.oneHot(tf.tensor1d(labels, 'int32'), 4, onValue, offValue, dtype)];
      const [wasm] = await on('wasm', run),
        [cpu] = await on('cpu', run);
      await tf.setBackend('wasm');
      assert.deepEqual([...wasm], [...cpu], `oneHot ${dtype} on ${onValue} off ${offValue}`);
      assert.equal(cpu[1 * 4 + 3], dtype === 'float32' ? Math.fround(onValue) : onValue);
    }
  });

  it('tf.maxPool (MaxPoolGrad): 2×2/2, ceil-mode 2×2/2 with explicit end padding, 3×3/1 pad 1, same and valid', async () => {
    const rand = mulberry32(14);
    let worst = 0;
    for (let i = 0; i < 10; i++) {
      const n = int(rand, 1, 2),
        h = int(rand, 5, 19),
        w = int(rand, 5, 19),
        c = int(rand, 1, 8);
      const [size, stride, pad]: [number, number, Pad] = [
        [2, 2, 'valid'],
        [
          2,
          2,
          [
            [0, 0],
            [0, h % 2],
            [0, w % 2],
            [0, 0],
          ],
        ],
        [
          3,
          1,
          [
            [0, 0],
            [1, 1],
            [1, 1],
            [0, 0],
          ],
        ],
        [3, 2, 'same'],
        [2, 1, 'valid'],
      ][i % 5] as [number, number, Pad];
      const x = randomArray(rand, n * h * w * c);
      worst = Math.max(
        worst,
        await compare(`maxPool x [${n}, ${h}, ${w}, ${c}], ${size}×${size}/${stride}, pad ${JSON.stringify(pad)}`, () =>
          tf.grads((xt: tf.Tensor) => {
            const y = tf.maxPool(xt as tf.Tensor4D, size, stride, pad as 'same');
            return tf.sum(tf.mul(y, wave(y, tf.sin)));
          })([tf.tensor4d(x, [n, h, w, c])]),
        ),
      );
    }
    console.log(`maxPool: worst relative error ${worst.toExponential(2)}`);
  });
});

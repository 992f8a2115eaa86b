/**
 * The networks train under tfjs-node's padding rules. tfjs-node (TensorFlow's kernels) accepts only
 * 'valid' and 'same' padding; it cannot be installed here (its install downloads libtensorflow), so
 * a test backend enforces the rule instead: 'strictpad', the cpu backend's kernels with every kernel
 * that takes a `pad` (convolutions, depthwise convolutions, pools, forward and backward) refusing
 * anything but 'valid' and 'same'. Under the 'sameOrValid' padding rule (what initTraining sets
 * for node and node-gpu) a forward and backward pass of SSD300 (batch norm, ceil-mode pool3,
 * pool5, the atrous conv6, stride-2 extras), the mini SSD and SSD MobileNet V2 runs there, with
 * the values and gradients of the cpu backend under the default rule; under the default rule the
 * same SSD300 step throws there. About 2 minutes on 2 busy cores (the cpu backend at 300×300).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { sameOrValid, setPaddingRule } from '../../src/model/layers.js';
import { createMiniSsd } from '../../src/model/mini.js';
import { createMobilenetSsd } from '../../src/model/mobilenet-ssd.js';
import { createSsd300 } from '../../src/model/ssd300.js';
import { initTraining } from '../../src/train/tfjs.js';
import { mulberry32 } from '../../src/util/random.js';

const STRICT = 'strictpad';
/** Kernels with a `pad` attribute that ran on the strict backend. */
const padded = new Set<string>();

before(async () => {
  tf.enableProdMode();
  await initTraining({ backend: 'cpu', log: () => {} }); // the gradients
  tf.registerBackend(STRICT, () => new MathBackendCPU());
  for (const config of tf.getKernelsForBackend('cpu')) {
    const run = config.kernelFunc;
    tf.registerKernel({
      ...config,
      backendName: STRICT,
      kernelFunc: (args) => {
        if (args.attrs !== undefined && 'pad' in args.attrs) {
          const pad = args.attrs.pad;
          if (pad !== 'valid' && pad !== 'same') {
            throw new Error(
              `${config.kernelName}: padding ${JSON.stringify(pad)}: tfjs-node accepts only 'valid' and 'same'`,
            );
          }
          padded.add(config.kernelName);
        }
        return run(args);
      },
    });
  }
});
after(async () => {
  setPaddingRule('any');
  await tf.setBackend('cpu');
  tf.removeBackend(STRICT);
});

/** The outputs and the gradient of Σ outputs·wave over every trainable variable, on `backend` under `rule`. */
async function step(
  backend: string,
  rule: 'any' | 'sameOrValid',
  variables: tf.Variable[],
  forward: () => tf.Tensor[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  setPaddingRule(rule);
  try {
    const { value, grads } = tf.variableGrads(
      () =>
        tf.addN(
          forward().map((y) => {
            const wave = tf.reshape(tf.sin(tf.range(0, y.size)), y.shape);
            return tf.sum(tf.mul(y, wave));
          }),
        ) as tf.Scalar,
      variables,
    );
    const out = [value, ...variables.map((v) => grads[v.name])].map((t) => t.dataSync().slice() as Float32Array);
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  } finally {
    setPaddingRule('any');
  }
}

function relativeError(got: Float32Array, expected: Float32Array): number {
  let diff = 0,
    scale = 0;
  for (let i = 0; i < got.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

async function agree(label: string, variables: tf.Variable[], forward: () => tf.Tensor[]): Promise<number> {
  const strict = await step(STRICT, 'sameOrValid', variables, forward);
  const cpu = await step('cpu', 'any', variables, forward);
  let worst = 0;
  strict.forEach((values, i) => {
    const error = relativeError(values, cpu[i]);
    assert.ok(
      error <= 1e-4,
      `${label}: ${i === 0 ? 'value' : `gradient of ${variables[i - 1].name}`} differs by ${error.toExponential(2)}`,
    );
    worst = Math.max(worst, error);
  });
  return worst;
}

const randomImages = (shape: [number, number, number, number], seed: number) => {
  const rand = mulberry32(seed);
  return tf.tensor4d(
    Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rand() * 2 - 1),
    shape,
  );
};

describe("training under tfjs-node's padding rules (a strict test backend)", () => {
  it('sameOrValid: SAME where it pads as the layer does, VALID without padding, explicit pads otherwise', () => {
    assert.equal(sameOrValid([38, 38], 3, 1, [1, 1, 1, 1]), 'same'); // SSD300 3×3 convs and heads
    assert.equal(sameOrValid([19, 19], 3, 2, [1, 1, 1, 1]), 'same'); // conv8_2: 19 → 10
    assert.deepEqual(sameOrValid([10, 10], 3, 2, [1, 1, 1, 1]), [
      [1, 1],
      [1, 1],
    ]); // conv9_2: SAME would pad 0 before, 1 after
    assert.equal(sameOrValid([75, 75], 2, 2, [0, 0, 1, 1]), 'same'); // pool3, ceil mode: 75 → 38
    assert.equal(sameOrValid([19, 19], 3, 1, [1, 1, 1, 1]), 'same'); // pool5
    assert.equal(sameOrValid([19, 19], 1, 1, [0, 0, 0, 0]), 'valid'); // 1×1 convs
    assert.deepEqual(sameOrValid([96, 128], 3, 2, [1, 1, 1, 1]), [
      [1, 1],
      [1, 1],
    ]); // the mini SSD's stride-2 convs on even sizes
    assert.deepEqual(sameOrValid([5, 5], 3, 1, [0, 0, 0, 0]), 'valid');
  });

  it('SSD300 (width 1/32, batch norm): the default rule throws on the strict backend', async () => {
    const net = createSsd300({ numClasses: 3, width: 1 / 32, batchNorm: true, seed: 2 });
    const images = randomImages([1, 300, 300, 3], 4);
    try {
      await assert.rejects(
        step(STRICT, 'any', [...net.trainableVariables.values()], () => {
          const { loc, conf } = net.apply(images);
          return [loc, conf];
        }),
        /padding .*tfjs-node accepts only 'valid' and 'same'/,
      );
    } finally {
      net.dispose();
      images.dispose();
    }
  });

  it('SSD300 (width 1/32, batch norm, training mode): runs on the strict backend under sameOrValid, equal to cpu', async () => {
    padded.clear();
    const net = createSsd300({ numClasses: 3, width: 1 / 32, batchNorm: true, seed: 2 });
    const images = randomImages([1, 300, 300, 3], 4);
    try {
      const worst = await agree('SSD300', [...net.trainableVariables.values()], () => {
        const batchStats: import('../../src/model/layers.js').BatchStats[] = [];
        const { loc, conf } = net.apply(images, { training: true, batchStats });
        for (const s of batchStats) tf.dispose([s.mean, s.variance]);
        return [loc, conf];
      });
      for (const kernel of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPool', 'MaxPoolGrad']) {
        assert.ok(padded.has(kernel), `${kernel} ran (with its padding checked): ${[...padded].join(', ')}`);
      }
      console.log(
        `SSD300 under sameOrValid on the strict backend vs cpu: worst relative error ${worst.toExponential(2)}; checked ${[...padded].sort().join(', ')}`,
      );
    } finally {
      net.dispose();
      images.dispose();
    }
  });

  it('the mini SSD and SSD MobileNet V2 (width 0.35, batch norm) run on the strict backend, equal to cpu', async () => {
    padded.clear();
    const mini = createMiniSsd({ width: 0.5, seed: 1 });
    const mobile = createMobilenetSsd({ numClasses: 3, width: 0.35, batchNorm: true, seed: 1 });
    const small = randomImages([1, 96, 128, 3], 5),
      large = randomImages([1, 300, 300, 3], 6);
    try {
      const worstMini = await agree('mini SSD', [...mini.trainableVariables.values()], () => {
        const { objectness, offsets } = mini.apply(small);
        return [objectness, offsets];
      });
      const worstMobile = await agree('SSD MobileNet V2', [...mobile.trainableVariables.values()], () => {
        const { loc, conf } = mobile.apply(large);
        return [loc, conf];
      });
      for (const kernel of [
        'DepthwiseConv2dNativeBackpropFilter',
        'DepthwiseConv2dNativeBackpropInput',
        'Conv2DBackpropFilter',
      ]) {
        assert.ok(padded.has(kernel), `${kernel} ran (with its padding checked): ${[...padded].join(', ')}`);
      }
      console.log(
        `mini SSD ${worstMini.toExponential(2)}, SSD MobileNet V2 ${worstMobile.toExponential(2)} (worst relative error vs cpu)`,
      );
    } finally {
      mini.dispose();
      mobile.dispose();
      tf.dispose([small, large]);
    }
  });
});

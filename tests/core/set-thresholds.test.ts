/**
 * Postprocessor.setThresholds: the same instance with new thresholds gives what a postprocessor
 * made with them gives, on float and on uint8 heads; a bad value changes nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPostprocessor, type Quantization } from '../../src/core/postprocessor.js';
import { presets } from '../../src/core/presets.js';
import { mulberry32 } from '../../src/util/random.js';

const P = 1917,
  C = 91;
const config = { ...presets.tfSsdMobilenetV1Coco, tfliteNms: undefined, scoreThreshold: 0.3, nmsThreshold: 0.6 };

/** Seeded heads with a few hundred confident rows, so thresholds and NMS both matter. */
function heads() {
  const rand = mulberry32(7);
  const loc = Float32Array.from({ length: P * 4 }, () => (rand() - 0.5) * 2);
  const conf = Float32Array.from({ length: P * C }, () => (rand() < 0.0005 ? -1 + 5 * rand() : -4 - 6 * rand()));
  return { loc, conf };
}

async function fresh(
  scoreThreshold: number,
  nmsThreshold: number,
  run: (post: Awaited<ReturnType<typeof createPostprocessor>>) => unknown,
) {
  const post = await createPostprocessor({ ...config, scoreThreshold, nmsThreshold });
  try {
    return run(post);
  } finally {
    post.dispose();
  }
}

describe('Postprocessor.setThresholds', () => {
  const { loc, conf } = heads();
  const quant: Quantization = { scale: 0.05, zeroPoint: 140 };
  const q = (values: Float32Array, quantization: Quantization) =>
    Uint8Array.from(values, (v) =>
      Math.max(0, Math.min(255, Math.round(v / quantization.scale) + quantization.zeroPoint)),
    );
  const locQ = q(loc, { scale: 0.01, zeroPoint: 128 }),
    confQ = q(conf, quant);

  it('equals a postprocessor made with the new thresholds, on float and uint8 heads, setting after setting', async () => {
    const post = await createPostprocessor(config);
    try {
      const sizes = new Set<number>();
      for (const [score, nms] of [
        [0.9, 0.6],
        [0.5, 0.2],
        [0.95, 0.9],
        [0.3, 0.6],
      ]) {
        post.setThresholds({ scoreThreshold: score, nmsThreshold: nms });
        const found = post.run(loc, conf)[0];
        assert.deepEqual(found, await fresh(score, nms, (p) => p.run(loc, conf)[0]), `float at ${score}, ${nms}`);
        assert.deepEqual(
          post.runQuantized(locQ, { scale: 0.01, zeroPoint: 128 }, confQ, quant)[0],
          await fresh(score, nms, (p) => p.runQuantized(locQ, { scale: 0.01, zeroPoint: 128 }, confQ, quant)[0]),
          `uint8 at ${score}, ${nms}`,
        );
        assert.equal(post.config.nmsThreshold, Math.fround(nms));
        sizes.add(found.length);
      }
      assert.equal(sizes.size, 4, `each setting keeps a different number of detections: ${[...sizes]}`);
    } finally {
      post.dispose();
    }
  });

  it('one field at a time; a bad value or key throws and changes nothing', async () => {
    const post = await createPostprocessor(config);
    try {
      post.setThresholds({ nmsThreshold: 0.2 });
      assert.equal(post.config.thresholds[5], Math.fround(0.3), 'the score threshold kept');
      assert.throws(
        () => post.setThresholds({ scoreThreshold: 1.5 }),
        (e: Error) => e instanceof RangeError && /scoreThreshold.*1\.5/.test(e.message),
      );
      assert.throws(
        () => post.setThresholds({ nmsThresold: 0.1 } as never),
        /unknown key 'nmsThresold'; did you mean 'nmsThreshold'/,
      );
      assert.deepEqual(post.run(loc, conf)[0], await fresh(0.3, 0.2, (p) => p.run(loc, conf)[0]));
      post.dispose();
      assert.throws(() => post.setThresholds({ nmsThreshold: 0.3 }), /disposed/);
    } finally {
      post.dispose();
    }
  });
});

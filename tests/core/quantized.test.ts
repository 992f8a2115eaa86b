/**
 * runQuantized: a quantised model's uint8 heads post-processed without dequantising them first.
 * The uint8 score threshold must be exactly "the dequantised, activated score passes": checked
 * through the core itself on every one of the 256 bytes, for several thresholds, activations and
 * modes, and on the COCO detector's real heads (tests/fixtures/tflite-coco) against
 * dequantise-then-run(), detection for detection.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createPostprocessor, dequantize, type Quantization } from '../../src/core/postprocessor.js';
import type { PostprocessConfig } from '../../src/core/types.js';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { random } from '../helpers.js';
import { readTfliteCocoFixtures } from '../tflite-reference/fixtures.js';

/** 256 small boxes on a 16 × 16 grid that never overlap: NMS keeps every candidate. */
const GRID = Float32Array.from({ length: 256 * 4 }, (_, i) => {
  const prior = i >> 2,
    k = i & 3;
  return k === 0 ? ((prior % 16) + 0.5) / 16 : k === 1 ? (Math.floor(prior / 16) + 0.5) / 16 : 0.02;
});

type Mode = 'plain' | 'fast' | 'regular';

function gridConfig(mode: Mode, activation: 'none' | 'sigmoid', threshold: number): PostprocessConfig {
  return {
    priors: GRID,
    numClasses: 3,
    backgroundClass: 0,
    scoreActivation: activation,
    scoreThreshold: threshold,
    nmsThreshold: 0.5,
    topK: 256,
    keepTopK: 512,
    boxCoding: mode === 'plain' ? { variances: [0.1, 0.2] } : { scaleFactors: [10, 10, 5, 5], order: 'yxhw' },
    ...(mode === 'plain'
      ? {}
      : {
          tfliteNms:
            mode === 'fast'
              ? { useRegularNms: false, maxClassesPerDetection: 2 }
              : { useRegularNms: true, detectionsPerClass: 256 },
        }),
  };
}

/** Prior q has byte q in class 1 and 255 − q in class 2; the background column is random. */
function everyByte(seed: number): { loc: Uint8Array; conf: Uint8Array } {
  const rand = random(seed);
  const conf = new Uint8Array(256 * 3);
  for (let q = 0; q < 256; q++) conf.set([Math.floor(rand() * 256), q, 255 - q], 3 * q);
  const loc = Uint8Array.from({ length: 256 * 4 }, () => 100 + Math.floor(rand() * 56));
  return { loc, conf };
}

const SCORES: Record<'none' | 'sigmoid', { quant: Quantization; thresholds: number[] }> = {
  // the COCO heads: sigmoid scores on a 1/256 grid; 0.25 and 0.5 sit exactly on it
  none: { quant: { scale: 1 / 256, zeroPoint: 0 }, thresholds: [0, 1e-8, 0.01, 0.25, 0.5, 0.7, 0.996, 0.999] },
  // logits in [−6.4, 6.35]
  sigmoid: { quant: { scale: 0.05, zeroPoint: 128 }, thresholds: [0, 0.01, 0.3, 0.5, 0.75, 0.99, 0.999] },
};
const LOC_QUANT: Quantization = { scale: 0.09133967, zeroPoint: 179 };

describe('runQuantized: thresholding uint8 scores', () => {
  for (const build of ['simd', 'baseline'] as const) {
    for (const activation of ['none', 'sigmoid'] as const) {
      it(`${build}, ${activation}: q ≥ the uint8 threshold iff the dequantised score passes, for all 256 bytes (plain, TFLite fast and regular)`, async () => {
        const { quant, thresholds } = SCORES[activation];
        const { loc, conf } = everyByte(7);
        for (const mode of ['plain', 'fast', 'regular'] as const) {
          for (const threshold of thresholds) {
            const post = await createPostprocessor(gridConfig(mode, activation, threshold), { build });
            const gates = post.quantizedThresholds(quant);
            assert.ok(gates !== null);
            assert.equal(gates[0], 256, 'the background never passes');
            const floats = post.run(dequantize(loc, LOC_QUANT), dequantize(conf, quant))[0];
            const quantized = post.runQuantized(loc, LOC_QUANT, conf, quant)[0];
            assert.deepEqual(quantized, floats, `${mode} at ${threshold}: runQuantized differs from dequantise + run`);
            // which bytes passed, class by class, in the float path (the fast mode reports each anchor's best class first)
            for (const classId of [1, 2]) {
              const passed = new Set(
                floats
                  .filter(
                    (d) =>
                      d.classId === classId &&
                      (mode !== 'fast' || d === floats.find((e) => e.priorIndex === d.priorIndex)),
                  )
                  .map((d) => (classId === 1 ? d.priorIndex! : 255 - d.priorIndex!)),
              );
              for (let q = 0; q < 256; q++) {
                // the fast mode thresholds an anchor's best class only: the larger byte (class 1 on a tie)
                const seen = mode !== 'fast' || (classId === 1 ? q >= 255 - q : q > 255 - q);
                if (!seen) continue;
                assert.equal(
                  passed.has(q),
                  q >= gates[classId],
                  `${mode}, threshold ${threshold}, class ${classId}: byte ${q} ${passed.has(q) ? 'passes' : 'fails'} in float, uint8 threshold ${gates[classId]}`,
                );
              }
            }
            post.dispose();
          }
        }
      });
    }
  }

  it('the uint8 threshold of the COCO heads: 1/256 steps, ≥ for TFLite', async () => {
    const fast = (threshold: number) => createPostprocessor(gridConfig('fast', 'none', threshold));
    const plain = (threshold: number) => createPostprocessor(gridConfig('plain', 'none', threshold));
    const quant = SCORES.none.quant;
    assert.equal((await fast(1e-8)).quantizedThresholds(quant)![1], 1);
    assert.equal((await fast(0)).quantizedThresholds(quant)![1], 0, 'TFLite: score ≥ 0 passes every byte');
    assert.equal((await plain(0)).quantizedThresholds(quant)![1], 1, 'ssd-edge: score > 0 needs byte 1');
    assert.equal((await fast(0.5)).quantizedThresholds(quant)![1], 128, '128/256 = 0.5 ≥ 0.5');
    assert.equal((await plain(0.5)).quantizedThresholds(quant)![1], 129, '128/256 = 0.5 is not > 0.5');
    assert.equal((await plain(0.999)).quantizedThresholds(quant)![1], 256, 'no byte reaches 0.999');
  });

  it('softmax scores and MediaPipe take the plain path, with the same detections', async () => {
    const post = await createPostprocessor({ ...gridConfig('plain', 'none', 0.3), scoreActivation: 'softmax' });
    assert.equal(post.quantizedThresholds(SCORES.none.quant), null);
    const { loc, conf } = everyByte(3);
    const quant = { scale: 0.05, zeroPoint: 100 };
    assert.deepEqual(
      post.runQuantized(loc, LOC_QUANT, conf, quant),
      post.run(dequantize(loc, LOC_QUANT), dequantize(conf, quant)),
    );
  });

  it('a batch, rows that all fail, and bad arguments', async () => {
    const post = await createPostprocessor(gridConfig('regular', 'sigmoid', 0.75));
    const quant = SCORES.sigmoid.quant;
    const a = everyByte(1),
      b = everyByte(2);
    const none = new Uint8Array(256 * 3); // every score sigmoid(−6.4): no candidate at all
    const loc = Uint8Array.from([...a.loc, ...b.loc, ...a.loc]),
      conf = Uint8Array.from([...a.conf, ...none, ...b.conf]);
    const expected = post.run(dequantize(loc, LOC_QUANT), dequantize(conf, quant));
    assert.deepEqual(expected[1], []);
    assert.deepEqual(post.runQuantized(loc, LOC_QUANT, conf, quant, 3), expected);
    assert.throws(
      () => post.runQuantized(new Float32Array(4) as unknown as Uint8Array, LOC_QUANT, conf, quant),
      /Uint8Arrays/,
    );
    assert.throws(
      () => post.runQuantized(loc, { scale: 0, zeroPoint: 0 }, conf, quant),
      /locQuant .* finite scale > 0/,
    );
    assert.throws(
      () => post.runQuantized(loc, LOC_QUANT, conf, { scale: 1, zeroPoint: 300 }),
      /confQuant .* zero point in \[0, 255\]/,
    );
    assert.throws(() => post.runQuantized(loc.subarray(4), LOC_QUANT, conf, quant), /loc has/);
    post.dispose();
    assert.throws(() => post.runQuantized(loc, LOC_QUANT, conf, quant), /disposed/);
  });
});

describe("runQuantized on the COCO detector's real uint8 heads", () => {
  const metadata = readSsdEdgeMetadata(
    readFileSync(new URL('../../../models/ssd-mobilenet-v2-coco.onnx', import.meta.url)),
  )!;
  for (const build of ['simd', 'baseline'] as const) {
    it(`${build}: equals dequantise + run() on every fixture photo, at the model's threshold and at 0.3 and 0.6`, async () => {
      const fixtures = await readTfliteCocoFixtures();
      assert.equal(fixtures.length, 5);
      for (const threshold of [undefined, 0.3, 0.6]) {
        const config = {
          ...metadata.postprocess,
          ...(threshold === undefined ? {} : { scoreThreshold: threshold }),
        } as PostprocessConfig;
        const post = await createPostprocessor(config, { build });
        for (const fixture of fixtures) {
          const { boxEncodings, classPredictions } = fixture.json.heads;
          const locQuant = {
            scale: boxEncodings.quantization!.scale[0],
            zeroPoint: boxEncodings.quantization!.zeroPoint[0],
          };
          const confQuant = {
            scale: classPredictions.quantization!.scale[0],
            zeroPoint: classPredictions.quantization!.zeroPoint[0],
          };
          assert.deepEqual([locQuant.zeroPoint, confQuant.scale, confQuant.zeroPoint], [179, 1 / 256, 0]);
          const expected = post.run(
            dequantize(fixture.boxEncodings, locQuant),
            dequantize(fixture.classPredictions, confQuant),
          );
          const actual = post.runQuantized(fixture.boxEncodings, locQuant, fixture.classPredictions, confQuant);
          assert.deepEqual(actual, expected, `${fixture.name} at threshold ${threshold ?? 'of the model'}`);
          if (threshold === undefined)
            assert.equal(actual[0].length, 20, `${fixture.name}: the model returns 20 detections`);
        }
        post.dispose();
      }
    });
  }
});

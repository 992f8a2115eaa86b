/**
 * TensorFlow Lite's TFLite_Detection_PostProcess NMS (`tfliteNms`) through the public API:
 * a hand-computed end-to-end case whose expected numbers come from reading
 * tensorflow/lite/kernels/detection_postprocess.cc, the reference's partial sort against
 * libstdc++ output (tests/fixtures/tflite), both wasm builds against the reference on random
 * inputs, and the config errors.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createPostprocessor, type PostprocessConfig } from '../../src/index.js';
import { referenceDetect } from '../../src/core/reference/detect.js';
import { decreasingPartialArgSort } from '../../src/core/reference/tflite.js';
import { fixtureUrl } from '../fixtures.js';
import { assertSameDetections, normal, random } from '../helpers.js';

const TFLITE_PARITY = Number(process.env.SSD_PARITY_TFLITE ?? 600);

/** TFLite anchors are (ycenter, xcenter, h, w); ssd-edge priors are (cx, cy, w, h). */
const anchor = (y: number, x: number, h: number, w: number) => [x, y, w, h];

// Four anchors, box encodings (ty, tx, th, tw) with TF's scales 10, 10, 5, 5.
//   A0 (y .5, x .5, h .5, w .5), (1, −2, 0, 0): ycenter = 1/10·.5 + .5 = .55, xcenter = .4,
//      half sizes .25 → (xmin, ymin, xmax, ymax) = (.15, .3, .65, .8)
//   A1 (y .5, x .5, h .5, w .5), zeros → (.25, .25, .75, .75)
//      IoU(A0, A1) = (.4·.45) / (.25 + .25 − .18) = .5625
//   A2 (y .2, x .8, h .2, w .2), (0, 0, 5·ln 2, 0): half_h = .5·e^{ln 2}·.2 = .2 → (.7, 0, .9, .4)
//   A3 (y .9, x .1, h .1, w .1), zeros → (.05, .85, .15, .95)
// Scores (already sigmoid; column 0 background), threshold .3, IoU threshold .5:
//   A0 (.1, .2, .8, .4)   A1 (.1, .9, .1, .05)   A2 (.1, .25, .25, .35)   A3 (.9, .29, .1, .1)
const PRIORS = [
  anchor(0.5, 0.5, 0.5, 0.5),
  anchor(0.5, 0.5, 0.5, 0.5),
  anchor(0.2, 0.8, 0.2, 0.2),
  anchor(0.9, 0.1, 0.1, 0.1),
];
const LOC = [
  [1, -2, 0, 0],
  [0, 0, 0, 0],
  [0, 0, 5 * Math.LN2, 0],
  [0, 0, 0, 0],
];
const CONF = [
  [0.1, 0.2, 0.8, 0.4],
  [0.1, 0.9, 0.1, 0.05],
  [0.1, 0.25, 0.25, 0.35],
  [0.9, 0.29, 0.1, 0.1],
];
const BOX_A0 = [0.15, 0.3, 0.65, 0.8],
  BOX_A1 = [0.25, 0.25, 0.75, 0.75],
  BOX_A2 = [0.7, 0, 0.9, 0.4];

function handConfig(tfliteNms: PostprocessConfig['tfliteNms']): PostprocessConfig {
  return {
    priors: Float32Array.from(PRIORS.flat()),
    numClasses: 4,
    backgroundClass: 0,
    boxCoding: { scaleFactors: [10, 10, 5, 5], order: 'yxhw' },
    scoreActivation: 'none',
    scoreThreshold: 0.3,
    nmsThreshold: 0.5,
    topK: 4,
    keepTopK: 10,
    tfliteNms,
  };
}

function assertDetections(
  found: { classId: number; priorIndex: number; score: number; box: number[] }[],
  expected: [classId: number, prior: number, score: number, box: number[]][],
): void {
  assert.deepEqual(
    found.map((d) => [d.classId, d.priorIndex]),
    expected.map(([c, p]) => [c, p]),
  );
  found.forEach((d, i) => {
    assert.equal(d.score, Math.fround(expected[i][2]), `detection ${i} score`);
    d.box.forEach((v, j) =>
      assert.ok(Math.abs(v - expected[i][3][j]) < 1e-6, `detection ${i} box[${j}] ${v}, expected ${expected[i][3][j]}`),
    );
  });
}

describe('TFLite_Detection_PostProcess, hand-computed', () => {
  it('fast NMS: max scores .9 (A1), .8 (A0), .35 (A2); A0 overlaps A1 by .5625 > .5; two classes per anchor', async () => {
    for (const build of ['simd', 'baseline'] as const) {
      const post = await createPostprocessor(handConfig({ useRegularNms: false, maxClassesPerDetection: 2 }), {
        build,
      });
      const [found] = post.run(Float32Array.from(LOC.flat()), Float32Array.from(CONF.flat()));
      // A1: classes 1 (.9) and 2 (.1); A2: class 3 (.35), then the tie .25/.25 → libstdc++
      // partial_sort of (.25, .25, .35) with k = 2 gives indices 2, 0 (g++ prints 2,0): class 1
      assertDetections(found, [
        [1, 1, 0.9, BOX_A1],
        [2, 1, 0.1, BOX_A1],
        [3, 2, 0.35, BOX_A2],
        [1, 2, 0.25, BOX_A2],
      ]);
    }
  });

  it('regular NMS: per class ≥ .3, then the merged best', async () => {
    for (const build of ['simd', 'baseline'] as const) {
      const post = await createPostprocessor(handConfig({ useRegularNms: true }), { build });
      const [found] = post.run(Float32Array.from(LOC.flat()), Float32Array.from(CONF.flat()));
      // class 1: A1 .9; class 2: A0 .8 (A1 has another class, no suppression); class 3: A0 .4, A2 .35
      assertDetections(found, [
        [1, 1, 0.9, BOX_A1],
        [2, 0, 0.8, BOX_A0],
        [3, 0, 0.4, BOX_A0],
        [3, 2, 0.35, BOX_A2],
      ]);
    }
  });

  it('the reference gives the same numbers', async () => {
    const post = await createPostprocessor(handConfig({ useRegularNms: false, maxClassesPerDetection: 2 }));
    const [found] = referenceDetect(post.config, Float32Array.from(LOC.flat()), Float32Array.from(CONF.flat()));
    assertDetections(found, [
      [1, 1, 0.9, BOX_A1],
      [2, 1, 0.1, BOX_A1],
      [3, 2, 0.35, BOX_A2],
      [1, 2, 0.25, BOX_A2],
    ]);
  });
});

describe('the reference partial sort is libstdc++ std::partial_sort', () => {
  it('on the cases printed by g++ (tests/fixtures/tflite/partial-sort.cc)', () => {
    const { cases } = JSON.parse(readFileSync(fixtureUrl('tflite/partial-sort.json'), 'utf8')) as {
      cases: { k: number; values: number[]; order: number[] }[];
    };
    assert.ok(cases.length > 200);
    for (const { k, values, order } of cases) {
      assert.deepEqual(decreasingPartialArgSort(values.map(Math.fround), k), order, `values ${values} k ${k}`);
    }
  });
});

describe('TFLite NMS: wasm builds match the reference', () => {
  it(`on ${TFLITE_PARITY} random small configurations (both modes, ties common)`, async () => {
    for (let i = 0; i < TFLITE_PARITY; i++) {
      const rand = random(50_000 + i);
      const pick = <T>(values: readonly T[]): T => values[Math.floor(rand() * values.length)];
      const numPriors = 1 + Math.floor(rand() * 80);
      const numClasses = 2 + Math.floor(rand() * 9);
      const priors = Float32Array.from({ length: numPriors * 4 }, (_, j) =>
        (j & 3) < 2 ? rand() : pick([0, rand() * 0.5, rand()]),
      );
      const activation = pick(['sigmoid', 'none', 'none', 'softmax'] as const);
      const config: PostprocessConfig = {
        priors,
        numClasses,
        backgroundClass: pick([0, -1]),
        boxCoding:
          rand() < 0.8
            ? { scaleFactors: [10, 10, 5, 5], order: pick(['yxhw', 'xywh'] as const) }
            : { variances: [0.1, 0.2] },
        scoreActivation: activation,
        scoreThreshold: pick([0, 0.25, 0.5, 0.6, rand()]),
        nmsThreshold: pick([0.3, 0.5, 0.6, 1, Math.max(rand(), 1e-3)]),
        topK: pick([numPriors, 1 + Math.floor(rand() * numPriors)]),
        keepTopK: 1 + Math.floor(rand() * 30),
        clip: rand() < 0.3,
        tfliteNms: {
          useRegularNms: rand() < 0.5,
          maxClassesPerDetection: pick([1, 1, 2, 3, 20]),
          detectionsPerClass: pick([1, 2, 5, 100]),
        },
      };
      const batch = 1 + Math.floor(rand() * 2);
      // quantised scores make exact ties (and scores exactly at the threshold) common
      const conf = Float32Array.from(
        { length: batch * numPriors * numClasses },
        activation === 'none' ? () => Math.round(rand() * 8) / 8 : () => Math.round(normal(rand) * 4) / 4,
      );
      // some zero offsets: boxes equal to their priors, zero-area ones among them
      const loc = Float32Array.from({ length: batch * numPriors * 4 }, () => (rand() < 0.3 ? 0 : normal(rand)));
      for (const build of ['simd', 'baseline'] as const) {
        const post = await createPostprocessor(config, { build });
        const expected = referenceDetect(post.config, loc, conf, batch);
        const found = post.run(loc, conf, batch);
        for (let b = 0; b < batch; b++) {
          assertSameDetections(
            found[b],
            expected[b],
            `${build} config #${i} image ${b} ` + JSON.stringify({ ...config, priors: `${numPriors} priors` }),
          );
        }
      }
    }
  });

  it('on SSD MobileNet V2 COCO shapes (1917 anchors × 91 columns, sigmoid logits), both modes', async () => {
    const rand = random(77);
    const numPriors = 1917,
      numClasses = 91;
    const priors = Float32Array.from({ length: numPriors * 4 }, (_, j) => ((j & 3) < 2 ? rand() : 0.05 + 0.5 * rand()));
    for (const useRegularNms of [false, true]) {
      const config: PostprocessConfig = {
        priors,
        numClasses,
        boxCoding: { scaleFactors: [10, 10, 5, 5], order: 'yxhw' },
        scoreActivation: 'sigmoid',
        scoreThreshold: 0.3,
        nmsThreshold: 0.6,
        topK: numPriors,
        keepTopK: 100,
        tfliteNms: { useRegularNms, maxClassesPerDetection: useRegularNms ? 1 : 3, detectionsPerClass: 100 },
      };
      const [simd, base] = await Promise.all([
        createPostprocessor(config, { build: 'simd' }),
        createPostprocessor(config, { build: 'baseline' }),
      ]);
      for (let n = 0; n < 4; n++) {
        const loc = Float32Array.from({ length: numPriors * 4 }, () => normal(rand));
        const conf = Float32Array.from({ length: numPriors * numClasses }, () => normal(rand) * 2 - 3);
        const [expected] = referenceDetect(simd.config, loc, conf);
        assert.ok(expected.length > 10, `a busy image (${expected.length} detections)`);
        assertSameDetections(simd.run(loc, conf)[0], expected, `simd regular=${useRegularNms} #${n}`);
        assertSameDetections(base.run(loc, conf)[0], expected, `baseline regular=${useRegularNms} #${n}`);
      }
    }
  });
});

describe('tfliteNms config errors', () => {
  const base = (): PostprocessConfig => handConfig({ useRegularNms: false });
  const rejects = async (config: PostprocessConfig, kind: typeof RangeError | typeof TypeError, pattern: RegExp) =>
    assert.rejects(
      createPostprocessor(config),
      (e: unknown) => e instanceof kind && pattern.test((e as Error).message),
    );

  it('names the conflicting option', async () => {
    await rejects({ ...base(), classAgnostic: true }, RangeError, /classAgnostic cannot be combined with tfliteNms/);
    await rejects(
      { ...base(), softNms: { method: 'linear' } },
      RangeError,
      /softNms cannot be combined with tfliteNms/,
    );
  });

  it('checks the TFLite-specific ranges', async () => {
    await rejects({ ...base(), backgroundClass: 3 }, RangeError, /backgroundClass is 3; with tfliteNms it must be 0/);
    await rejects({ ...base(), scoreThreshold: [0.1, 0.2, 0.3, 0.4] }, RangeError, /one number with tfliteNms/);
    await rejects(
      { ...base(), nmsThreshold: 0 },
      RangeError,
      /nmsThreshold is 0; with tfliteNms it must be in \(0, 1\]/,
    );
    await rejects(
      { ...base(), tfliteNms: { useRegularNms: false, maxClassesPerDetection: 0 } },
      RangeError,
      /tfliteNms.maxClassesPerDetection is 0/,
    );
    await rejects(
      { ...base(), tfliteNms: { useRegularNms: true, detectionsPerClass: 2.5 } },
      RangeError,
      /tfliteNms.detectionsPerClass is 2.5/,
    );
    await rejects({ ...base(), tfliteNms: {} as never }, TypeError, /tfliteNms.useRegularNms must be true/);
  });
});

/**
 * Both wasm builds against the plain-TypeScript reference: on thousands of random inputs the
 * detections must be identical — same classes, priors and order, and (since all three round
 * every step to f32 the same way) bit-identical scores and boxes.
 */
import assert from 'node:assert/strict';
import { describe, it, before } from 'node:test';
import { createPostprocessor, presets, type PostprocessConfig, type Postprocessor } from '../../src/index.js';
import { referenceDetect } from '../../src/core/reference/detect.js';
import { makeScenario, type ScenarioName } from '../../bench/scenarios.js';
import { assertSameDetections, normal, random } from '../helpers.js';

const SSD300_INPUTS = Number(process.env.SSD_PARITY_SSD300 ?? 2000);
const SMALL_INPUTS = Number(process.env.SSD_PARITY_SMALL ?? 3000);

describe('wasm builds match the reference', () => {
  let simd: Postprocessor;
  let baseline: Postprocessor;
  before(async () => {
    simd = await createPostprocessor(presets.ssd300Voc, { build: 'simd' });
    baseline = await createPostprocessor(presets.ssd300Voc, { build: 'baseline' });
  });

  it(`on ${SSD300_INPUTS} SSD300-VOC-shaped inputs (realistic, crowded, dense, adversarial, random logits)`, () => {
    const kinds: (ScenarioName | 'random')[] = ['realistic', 'crowded', 'dense', 'adversarial', 'random'];
    for (let i = 0; i < SSD300_INPUTS; i++) {
      const kind = kinds[i % kinds.length];
      let loc: Float32Array, conf: Float32Array;
      if (kind === 'random') {
        const rand = random(1000 + i);
        const scale = 1 + 6 * rand();
        loc = Float32Array.from({ length: 8732 * 4 }, () => normal(rand));
        conf = Float32Array.from({ length: 8732 * 21 }, () => normal(rand) * scale);
      } else {
        ({ loc, conf } = makeScenario(kind, simd.priors, 21, i));
      }
      const expected = referenceDetect(simd.config, loc, conf)[0];
      assertSameDetections(simd.run(loc, conf)[0], expected, `simd ${kind} #${i}`);
      assertSameDetections(baseline.run(loc, conf)[0], expected, `baseline ${kind} #${i}`);
    }
  });

  it('on dense SSD300 outputs with every keepTopK cut, per class and class-agnostic, greedy and soft NMS', async () => {
    // dense outputs keep far more than keepTopK boxes, so the per-list early stop (a list ends
    // at its first key below the weakest of the best keepTopK so far) cuts most lists short
    const variants: PostprocessConfig[] = [1, 7, 50, 200].flatMap((keepTopK) => [
      { ...presets.ssd300Voc, keepTopK },
      { ...presets.ssd300Voc, keepTopK, topK: 400, classAgnostic: true },
      { ...presets.ssd300Voc, keepTopK, topK: 60, softNms: { method: 'linear' as const } },
    ]);
    for (const [v, config] of variants.entries()) {
      const [simdPost, basePost] = await Promise.all([
        createPostprocessor(config, { build: 'simd' }),
        createPostprocessor(config, { build: 'baseline' }),
      ]);
      for (let seed = 0; seed < 3; seed++) {
        const { loc, conf } = makeScenario('dense', simdPost.priors, 21, 500 + 10 * v + seed);
        const expected = referenceDetect(simdPost.config, loc, conf)[0];
        // the cuts below 200 are reached (class-agnostic NMS of 400 keeps fewer than 200)
        if (config.keepTopK < 200) assert.equal(expected.length, config.keepTopK, `variant #${v} fills keepTopK`);
        const context = `dense seed ${500 + 10 * v + seed}, keepTopK ${config.keepTopK}${config.classAgnostic ? ', class-agnostic' : ''}${config.softNms ? ', soft-NMS' : ''}`;
        assertSameDetections(simdPost.run(loc, conf)[0], expected, `simd ${context}`);
        assertSameDetections(basePost.run(loc, conf)[0], expected, `baseline ${context}`);
      }
      simdPost.dispose();
      basePost.dispose();
    }
  });

  it('on class thresholds equal to a softmax score and one ulp below it (the bound before the division is safe)', async () => {
    const { loc, conf } = makeScenario('dense', simd.priors, 21, 77);
    const found = referenceDetect(simd.config, loc, conf)[0];
    const nextDown = (x: number) => {
      const b = new Float32Array([x]);
      new Int32Array(b.buffer)[0]--;
      return b[0];
    };
    for (const target of [found[0], found[50], found[199]]) {
      for (const [threshold, kept] of [
        [target.score, false],
        [nextDown(target.score), true],
      ] as const) {
        const thresholds = new Float32Array(21).fill(0.01);
        thresholds[target.classId] = threshold;
        const config = { ...presets.ssd300Voc, scoreThreshold: thresholds };
        const expected = referenceDetect((await createPostprocessor(config)).config, loc, conf)[0];
        const has = (dets: typeof expected) =>
          dets.some((d) => d.priorIndex === target.priorIndex && d.classId === target.classId);
        assert.equal(
          has(expected),
          kept,
          `the reference ${kept ? 'keeps' : 'drops'} a score ${kept ? 'one ulp above' : 'equal to'} its threshold`,
        );
        for (const build of ['simd', 'baseline'] as const) {
          const post = await createPostprocessor(config, { build });
          assertSameDetections(
            post.run(loc, conf)[0],
            expected,
            `${build}, class ${target.classId} threshold ${threshold}`,
          );
          post.dispose();
        }
      }
    }
  });

  it('on keys interleaved across 20 class lists under heavy suppression, with keepTopK below, at and above the kept total', async () => {
    // The core merges the class lists best key first (a tournament of their best keys) and stops
    // at keepTopK kept: a merge that takes a key from the wrong list puts records out of order,
    // or keeps the wrong ones at the cut. 6 clusters of 12 priors in a chain (0.03 apart, IoU
    // 0.74 to a neighbour, 0.38 three apart): each class keeps a few per cluster, which ones
    // depending on its score order; random scores interleave the 20 lists' keys.
    const numClasses = 21;
    const priors = new Float32Array(6 * 12 * 4);
    for (let k = 0; k < 6; k++) {
      for (let j = 0; j < 12; j++) {
        priors.set([0.2 + 0.3 * (k % 3) + 0.03 * j - 0.15, 0.3 + 0.4 * Math.floor(k / 3), 0.2, 0.2], (k * 12 + j) * 4);
      }
    }
    const numPriors = priors.length / 4;
    const rand = random(2026);
    const conf = Float32Array.from({ length: numPriors * numClasses }, () => 0.02 + 0.98 * rand());
    const loc = Float32Array.from({ length: numPriors * 4 }, () => normal(rand) * 0.1);
    const base: PostprocessConfig = {
      priors,
      numClasses,
      scoreActivation: 'none',
      scoreThreshold: 0.01,
      nmsThreshold: 0.45,
      topK: 200,
      keepTopK: numPriors * numClasses,
    };
    const probe = await createPostprocessor(base);
    const all = referenceDetect(probe.config, loc, conf)[0];
    probe.dispose();
    const candidates = numPriors * (numClasses - 1);
    assert.ok(
      all.length > 150 && all.length < candidates / 2,
      `heavy suppression: ${all.length} of ${candidates} kept`,
    );
    assert.ok(
      new Set(all.slice(0, 40).map((d) => d.classId)).size >= 15,
      'the best 40 kept come from 15 lists or more',
    );
    const variants: PostprocessConfig[] = [1, 17, 100, all.length - 1, all.length, all.length + 50].flatMap(
      (keepTopK) => [
        { ...base, keepTopK },
        // topK 30: each list is cut to its best 30 before NMS
        { ...base, keepTopK, topK: 30 },
        // no background, topK 1: 21 lists of one key, whose tournament (2 · 21 − 1 keys) needs
        // more room than the 21 keys of soft-NMS: the host must reserve it
        { ...base, keepTopK, backgroundClass: -1, topK: 1 },
      ],
    );
    for (const config of variants) {
      const [simdPost, basePost] = await Promise.all([
        createPostprocessor(config, { build: 'simd' }),
        createPostprocessor(config, { build: 'baseline' }),
      ]);
      const expected = referenceDetect(simdPost.config, loc, conf)[0];
      const context = `keepTopK ${config.keepTopK}, topK ${config.topK}, background ${config.backgroundClass ?? 0}`;
      assertSameDetections(simdPost.run(loc, conf)[0], expected, `simd ${context}`);
      assertSameDetections(basePost.run(loc, conf)[0], expected, `baseline ${context}`);
      simdPost.dispose();
      basePost.dispose();
    }
  });

  it(`on ${SMALL_INPUTS} random small configurations (every option, random shapes)`, async () => {
    for (let i = 0; i < SMALL_INPUTS; i++) {
      const rand = random(i + 1);
      const pick = <T>(values: readonly T[]): T => values[Math.floor(rand() * values.length)];
      const numPriors = 1 + Math.floor(rand() * 120);
      const numClasses = 1 + Math.floor(rand() * 12);
      const backgroundClass = numClasses === 1 ? -1 : pick([0, 0, -1, numClasses - 1]);
      // priors: random boxes, some of them degenerate (zero width or height)
      const priors = Float32Array.from({ length: numPriors * 4 }, (_, j) =>
        (j & 3) < 2 ? rand() : pick([0, rand() * 0.5, rand() * 0.5, rand()]),
      );
      const activation = pick(['softmax', 'sigmoid', 'none'] as const);
      const config: PostprocessConfig = {
        priors,
        numClasses,
        backgroundClass,
        boxCoding:
          rand() < 0.5
            ? { variances: [0.1, 0.2] }
            : { scaleFactors: [10, 10, 5, 5], order: pick(['xywh', 'yxhw'] as const) },
        scoreActivation: activation,
        scoreThreshold:
          rand() < 0.3
            ? Float32Array.from({ length: numClasses }, () => rand() * 0.3)
            : pick([0, 0.01, 0.05, 0.3, rand()]),
        nmsThreshold: pick([0, 0.3, 0.45, 0.5, 1, rand()]),
        topK: 1 + Math.floor(rand() * 40),
        keepTopK: 1 + Math.floor(rand() * 60),
        classAgnostic: rand() < 0.2,
        softNms: rand() < 0.2 ? { method: pick(['linear', 'gaussian'] as const), sigma: 0.1 + rand() } : undefined,
        clip: rand() < 0.5,
      };
      const batch = 1 + Math.floor(rand() * 3);
      const logitScale = pick([0.1, 1, 4, 20]);
      // quantised values make exact score ties common
      const quantum = rand() < 0.3 ? 0.25 : 0;
      const sample = () => {
        const v = normal(rand) * logitScale;
        return quantum ? Math.round(v / quantum) * quantum : v;
      };
      const conf = Float32Array.from(
        { length: batch * numPriors * numClasses },
        activation === 'none' ? () => (quantum ? Math.round(rand() * 8) / 8 : rand()) : sample,
      );
      const loc = Float32Array.from({ length: batch * numPriors * 4 }, () => normal(rand) * pick([0.1, 1, 3]));
      const [simdPost, basePost] = await Promise.all([
        createPostprocessor(config, { build: 'simd' }),
        createPostprocessor(config, { build: 'baseline' }),
      ]);
      const expected = referenceDetect(simdPost.config, loc, conf, batch);
      const fromSimd = simdPost.run(loc, conf, batch);
      const fromBase = basePost.run(loc, conf, batch);
      for (let b = 0; b < batch; b++) {
        const context = `config #${i} image ${b} (${JSON.stringify({ ...config, priors: `${numPriors} priors` })})`;
        assertSameDetections(fromSimd[b], expected[b], `simd ${context}`);
        assertSameDetections(fromBase[b], expected[b], `baseline ${context}`);
      }
    }
  });
});

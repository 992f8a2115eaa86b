/**
 * Bad input gives an Error that names the problem — never a wasm trap or a wrong answer —
 * and the postprocessor keeps working after a rejected call.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createPostprocessor, presets, type PostprocessConfig, type Postprocessor } from '../../src/index.js';
import { referenceDetect } from '../../src/core/reference/detect.js';
import { makeScenario } from '../../bench/scenarios.js';
import { assertSameDetections } from '../helpers.js';

const P = 8732,
  C = 21;

describe('run() rejects bad input and keeps working', () => {
  let post: Postprocessor;
  let loc: Float32Array, conf: Float32Array;
  before(async () => {
    post = await createPostprocessor('ssd300Voc');
    ({ loc, conf } = makeScenario('realistic', post.priors, C, 7));
  });

  /** The call must throw `type` with a message matching `message`, then a good call must still work. */
  function rejects(call: () => unknown, type: ErrorConstructor, message: RegExp): void {
    assert.throws(call, (error: Error) => {
      assert.ok(error instanceof type, `expected ${type.name}, got ${error.name}: ${error.message}`);
      assert.match(error.message, message);
      return true;
    });
    assertSameDetections(post.run(loc, conf)[0], referenceDetect(post.config, loc, conf)[0], 'after a rejected call');
  }

  it('loc of the wrong length, naming the expected size', () => {
    rejects(
      () => post.run(loc.subarray(0, 7668), conf),
      RangeError,
      /loc has 7668 values, not a whole number of images/,
    );
    rejects(
      () => post.run(loc.subarray(0, P * 4 - 4), conf, 1),
      RangeError,
      /loc has 34924 values; preset 'ssd300Voc' needs 1 × 8732 priors × 4 = 34928/,
    );
  });

  it('conf of the wrong length, hinting at numClasses', () => {
    rejects(
      () => post.run(loc, new Float32Array(P * 81)),
      RangeError,
      /conf has 707292 values; .* 1 × 8732 priors × 21 classes = 183372 \(it has 81 per prior: is numClasses right\?\)/,
    );
  });

  it('a batch that does not match the lengths', () => {
    rejects(() => post.run(loc, conf, 2), RangeError, /loc has 34928 values; .* needs 2 × 8732 priors × 4 = 69856/);
    rejects(() => post.run(loc, conf, 0), RangeError, /batch is 0; it must be an integer ≥ 1/);
    rejects(() => post.run(loc, conf, 1.5), RangeError, /batch is 1.5/);
  });

  for (const [name, value] of [
    ['NaN', NaN],
    ['+Infinity', Infinity],
    ['-Infinity', -Infinity],
  ] as const) {
    it(`${name} in conf, located by image, prior and class`, () => {
      const bad = conf.slice();
      bad[5 * C + 3] = value;
      rejects(
        () => post.run(loc, bad),
        RangeError,
        new RegExp(
          `conf\\[108\\] \\(image 0, prior 5, class 3\\) is ${name.replace('+', '')}; model outputs must be finite`,
        ),
      );
    });
    it(`${name} in loc, located by image, prior and offset`, () => {
      const bad = loc.slice();
      bad[P * 4 - 1] = value;
      rejects(
        () => post.run(bad, conf),
        RangeError,
        /loc\[34927\] \(image 0, prior 8731, offset 3\) is .*Infinity|NaN/,
      );
    });
  }

  it('a non-finite value in the second image of a batch', () => {
    const batchConf = new Float32Array(2 * P * C);
    batchConf.set(conf);
    batchConf.set(conf, P * C);
    batchConf[P * C + 10] = NaN;
    const batchLoc = new Float32Array(2 * P * 4);
    batchLoc.set(loc);
    batchLoc.set(loc, P * 4);
    rejects(() => post.run(batchLoc, batchConf, 2), RangeError, /conf\[183382\] \(image 1, prior 0, class 10\) is NaN/);
  });

  it('inputs that are not arrays', () => {
    rejects(() => post.run(null as unknown as Float32Array, conf), TypeError, /loc must be a Float32Array .* got null/);
    rejects(() => post.run(loc, 42 as unknown as Float32Array), TypeError, /conf must be a Float32Array .* got number/);
  });

  it('a disposed postprocessor says so', async () => {
    const other = await createPostprocessor('ssd300Voc');
    other.dispose();
    assert.throws(() => other.run(loc, conf), /disposed/);
  });
});

// The SSD modes check loc and conf for NaN and ±∞ inside the score scan, after the run; TFLite's
// and MediaPipe's before it. The message must not depend on which.
describe('run() finds a non-finite value wherever it sits, in every mode', () => {
  const notFinite = (name: string, index: number, where: string, value: string) =>
    new RegExp(`^RangeError: ${name}\\[${index}\\] \\(${where}\\) is ${value}; model outputs must be finite$`);

  for (const activation of ['softmax', 'sigmoid', 'none'] as const) {
    it(`${activation}: the first and last values, a background column, loc of a prior with no candidate`, async () => {
      const post = await createPostprocessor({ ...presets.ssd300Voc, scoreActivation: activation });
      const { loc, conf } = makeScenario('realistic', post.priors, C, 7);
      const truth = referenceDetect(post.config, loc, conf)[0];
      // prior 100 of the realistic scenario is background: none of its classes passes
      assert.ok(!truth.some((d) => d.priorIndex === 100));
      const cases: [tensor: 'loc' | 'conf', index: number, where: string][] = [
        ['conf', 0, 'image 0, prior 0, class 0'],
        ['conf', 100 * C, 'image 0, prior 100, class 0'], // sigmoid and none never read it
        ['conf', 100 * C + 20, 'image 0, prior 100, class 20'],
        ['conf', P * C - 1, 'image 0, prior 8731, class 20'],
        ['loc', 0, 'image 0, prior 0, offset 0'],
        ['loc', 400 + 2, 'image 0, prior 100, offset 2'],
      ];
      for (const [tensor, index, where] of cases) {
        for (const [value, text] of [
          [NaN, 'NaN'],
          [Infinity, 'Infinity'],
          [-Infinity, '-Infinity'],
        ] as const) {
          const bad = { loc: loc.slice(), conf: conf.slice() };
          bad[tensor][index] = value;
          assert.throws(() => post.run(bad.loc, bad.conf), notFinite(tensor, index, where, text));
        }
      }
      // loc is reported before conf, as findNonFinite scans them
      const both = { loc: loc.slice(), conf: conf.slice() };
      both.loc[P * 4 - 1] = NaN;
      both.conf[0] = NaN;
      assert.throws(
        () => post.run(both.loc, both.conf),
        notFinite('loc', P * 4 - 1, 'image 0, prior 8731, offset 3', 'NaN'),
      );
      assertSameDetections(post.run(loc, conf)[0], truth, 'after the rejected calls');
    });
  }

  it('finite logits whose sum overflows f32 are no error: the same detections as the reference', async () => {
    const post = await createPostprocessor('ssd300Voc');
    const { loc, conf } = makeScenario('realistic', post.priors, C, 7);
    conf[100 * C + 1] = 3e38; // prior 100 becomes class 1 with probability 1
    conf[100 * C + 2] = 3e38;
    const found = post.run(loc, conf)[0];
    assert.ok(found.some((d) => d.priorIndex === 100 && d.classId === 1));
    assertSameDetections(found, referenceDetect(post.config, loc, conf)[0], 'after a false alarm');
  });

  it("TFLite's and MediaPipe's modes (checked before the run) give the same message", async () => {
    const priors = new Float32Array([0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 0.5, 0.5]);
    const common = { priors, scoreThreshold: 0.3, nmsThreshold: 0.5, topK: 2, keepTopK: 4 };
    const tflite = await createPostprocessor({
      ...common,
      numClasses: 3,
      backgroundClass: 0,
      boxCoding: { scaleFactors: [10, 10, 5, 5], order: 'yxhw' },
      scoreActivation: 'sigmoid',
      tfliteNms: { useRegularNms: false, maxClassesPerDetection: 1, detectionsPerClass: 1 },
    });
    assert.throws(
      () => tflite.run(new Float32Array(8), [0, 0, 0, 0, 0, NaN]),
      notFinite('conf', 5, 'image 0, prior 1, class 2', 'NaN'),
    );
    const mediapipe = await createPostprocessor({
      ...common,
      numClasses: 1,
      backgroundClass: -1,
      boxCoding: { linearScales: [128, 128, 128, 128], order: 'xywh' },
      keypoints: { count: 1 },
      scoreActivation: 'none',
    });
    assert.throws(
      () => mediapipe.run([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Infinity], [0.9, 0.1]),
      notFinite('loc', 11, 'image 0, prior 1, offset 5', 'Infinity'),
    );
  });
});

describe('createPostprocessor rejects bad configurations', () => {
  const base = presets.ssd300Voc;
  const cases: [string, PostprocessConfig | string, ErrorConstructor, RegExp][] = [
    [
      'an unknown preset, listing the valid ones',
      'ssd300Coco',
      RangeError,
      /unknown preset 'ssd300Coco'; valid presets: ssd300Voc, ssd512Voc, torchvisionSsd300Coco, tfSsdMobilenetV1Coco/,
    ],
    [
      'a score threshold above 1',
      { ...base, scoreThreshold: 1.5 },
      RangeError,
      /scoreThreshold is 1.5; it must be in \[0, 1\]/,
    ],
    ['a negative score threshold', { ...base, scoreThreshold: -0.1 }, RangeError, /scoreThreshold is -0.1/],
    ['a NaN score threshold', { ...base, scoreThreshold: NaN }, RangeError, /scoreThreshold is NaN/],
    [
      'per-class thresholds of the wrong count',
      { ...base, scoreThreshold: [0.1, 0.2] },
      RangeError,
      /scoreThreshold has 2 values; it needs one per class \(21\)/,
    ],
    [
      'a per-class threshold out of range',
      { ...base, scoreThreshold: Array.from({ length: 21 }, (_, c) => (c === 4 ? 2 : 0.1)) },
      RangeError,
      /scoreThreshold\[4\] is 2/,
    ],
    [
      'an NMS threshold above 1',
      { ...base, nmsThreshold: 1.01 },
      RangeError,
      /nmsThreshold is 1.01; it must be in \[0, 1\]/,
    ],
    ['topK of 0', { ...base, topK: 0 }, RangeError, /topK is 0; it must be an integer ≥ 1/],
    ['a negative topK', { ...base, topK: -5 }, RangeError, /topK is -5/],
    ['keepTopK of 0', { ...base, keepTopK: 0 }, RangeError, /keepTopK is 0/],
    ['empty priors', { ...base, priors: new Float32Array(0) }, RangeError, /priors is empty/],
    [
      'priors not in rows of 4',
      { ...base, priors: new Float32Array(10) },
      RangeError,
      /priors has 10 values, not a multiple of 4/,
    ],
    [
      'a NaN prior',
      { ...base, priors: Float32Array.of(0.5, 0.5, NaN, 0.1) },
      RangeError,
      /priors\[2\] \(prior 0\) is NaN/,
    ],
    ['a background class out of range', { ...base, backgroundClass: 21 }, RangeError, /backgroundClass is 21/],
    ['an unknown activation', { ...base, scoreActivation: 'relu' as 'none' }, RangeError, /scoreActivation is 'relu'/],
    ['zero variances', { ...base, boxCoding: { variances: [0, 0.2] } }, RangeError, /boxCoding.variances\[0\] is 0/],
    [
      'an unknown box order',
      { ...base, boxCoding: { scaleFactors: [10, 10, 5, 5], order: 'xyxy' as 'xywh' } },
      RangeError,
      /boxCoding.order is 'xyxy'/,
    ],
    [
      'labels of the wrong count',
      { ...base, labels: ['a', 'b'] },
      RangeError,
      /labels has 2 entries; it needs one per class \(21\)/,
    ],
    ['a soft-NMS sigma of 0', { ...base, softNms: { method: 'gaussian', sigma: 0 } }, RangeError, /softNms.sigma is 0/],
    [
      'only a background class',
      { ...base, numClasses: 1, labels: undefined, scoreThreshold: 0.01 },
      RangeError,
      /numClasses is 1 and that class is the background/,
    ],
    ['a fractional class count', { ...base, numClasses: 2.5 }, RangeError, /numClasses is 2.5/],
  ];
  for (const [what, config, type, message] of cases) {
    it(what, async () => {
      await assert.rejects(createPostprocessor(config), (error: Error) => {
        assert.ok(error instanceof type, `expected ${type.name}, got ${error.name}: ${error.message}`);
        assert.match(error.message, message);
        return true;
      });
    });
  }
  it('a config that is not an object', async () => {
    await assert.rejects(createPostprocessor(undefined as unknown as string), TypeError);
  });
});

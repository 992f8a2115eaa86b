/**
 * Strict post-processing options (issue 11): a misspelled key is an error naming the nearest
 * known key, wrong types and wrong lengths are rejected, and messages say what was wrong.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createPostprocessor,
  generatePriors,
  presets,
  type PostprocessConfig,
  type PriorConfig,
  type SsdPriorConfig,
} from '../../src/index.js';
import { instantiateCore } from '../../src/core/loader.js';

const P = 8732,
  C = 21;

async function rejectsConfig(config: unknown, type: ErrorConstructor, message: RegExp): Promise<void> {
  await assert.rejects(createPostprocessor(config as PostprocessConfig), (error: Error) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${error.name}: ${error.message}`);
    assert.match(error.message, message);
    return true;
  });
}

describe('PostprocessConfig is strict', () => {
  for (const [typo, meant] of [
    ['nmsThresold', 'nmsThreshold'],
    ['scoreTreshold', 'scoreThreshold'],
    ['classAgnostc', 'classAgnostic'],
    ['keeptopk', 'keepTopK'],
  ] as const) {
    it(`rejects '${typo}', suggesting '${meant}'`, async () => {
      await rejectsConfig(
        { ...presets.ssd300Voc, [typo]: 0.5 },
        TypeError,
        new RegExp(`the PostprocessConfig has an unknown key '${typo}'; did you mean '${meant}'\\?`),
      );
    });
  }

  it('rejects a key that resembles nothing, listing the known keys', async () => {
    await rejectsConfig(
      { ...presets.ssd300Voc, colour: 'red' },
      TypeError,
      /unknown key 'colour'; \(known keys: priors, numClasses, /,
    );
  });

  it('rejects unknown keys inside boxCoding, softNms and tfliteNms', async () => {
    await rejectsConfig(
      { ...presets.ssd300Voc, boxCoding: { variances: [0.1, 0.2], varience: 1 } },
      TypeError,
      /boxCoding has an unknown key 'varience'; did you mean 'variances'\?/,
    );
    await rejectsConfig(
      { ...presets.ssd300Voc, softNms: { method: 'linear', sigm: 0.5 } },
      TypeError,
      /softNms has an unknown key 'sigm'; did you mean 'sigma'\?/,
    );
    await rejectsConfig(
      { ...presets.ssd300Voc, tfliteNms: { useRegularNms: true, detectionPerClass: 5 } },
      TypeError,
      /tfliteNms has an unknown key 'detectionPerClass'; did you mean 'detectionsPerClass'\?/,
    );
  });

  it('rejects unknown keys inside a PriorConfig, for every family', async () => {
    const ssd = presets.ssd300Voc.priors as SsdPriorConfig;
    const { minSizes, ...withoutMinSizes } = ssd;
    await rejectsConfig(
      { ...presets.ssd300Voc, priors: { ...withoutMinSizes, minSize: minSizes } },
      TypeError,
      /PriorConfig \(family 'ssd'\) has an unknown key 'minSize'; did you mean 'minSizes'\?/,
    );
    const typos: [PriorConfig, string, string][] = [
      [presets.torchvisionSsd300Coco.priors as PriorConfig, 'scale', 'scales'],
      [presets.tfSsdMobilenetV1Coco.priors as PriorConfig, 'aspectRatio', 'aspectRatios'],
      [
        {
          family: 'mediapipe',
          inputSize: 128,
          numLayers: 4,
          minScale: 0.15,
          maxScale: 0.75,
          strides: [8, 16, 16, 16],
          aspectRatios: [1],
          fixedAnchorSize: true,
        },
        'anchorOffsetx',
        'anchorOffsetX',
      ],
    ];
    for (const [config, typo, meant] of typos) {
      await assert.rejects(
        generatePriors({ ...config, [typo]: 1 } as PriorConfig),
        (error: Error) =>
          error instanceof TypeError &&
          new RegExp(
            `PriorConfig \\(family '${config.family}'\\) has an unknown key '${typo}'; did you mean '${meant}'\\?`,
          ).test(error.message),
      );
      assert.ok((await generatePriors(config)).length > 0, `${config.family}: the config itself is accepted`);
    }
  });

  it('rejects unknown keys inside keypoints', async () => {
    const blazeface = {
      ...presets.tfSsdMobilenetV1Coco,
      scoreActivation: 'sigmoid',
      keypoints: { count: 6, cuont: 1 },
    };
    await rejectsConfig(blazeface, TypeError, /keypoints has an unknown key 'cuont'; did you mean 'count'\?/);
  });

  it('rejects non-boolean flags', async () => {
    await rejectsConfig(
      { ...presets.ssd300Voc, classAgnostic: 'false' },
      TypeError,
      /classAgnostic must be true or false, got 'false' \(string\)/,
    );
    await rejectsConfig({ ...presets.ssd300Voc, clip: 1 }, TypeError, /clip must be true or false, got 1 \(number\)/);
  });

  it('checks the number of scale factors and variances', async () => {
    for (const scaleFactors of [
      [10, 10, 5],
      [10, 10, 5, 5, 1],
    ]) {
      await rejectsConfig(
        { ...presets.ssd300Voc, boxCoding: { scaleFactors, order: 'xywh' } },
        RangeError,
        new RegExp(`boxCoding.scaleFactors has ${scaleFactors.length} values; it needs exactly 4`),
      );
    }
    await rejectsConfig(
      { ...presets.ssd300Voc, boxCoding: { variances: [0.1] } },
      RangeError,
      /boxCoding.variances has 1 values; it needs exactly 2/,
    );
    await rejectsConfig(
      { ...presets.ssd300Voc, boxCoding: { variances: 0.1 } },
      TypeError,
      /boxCoding.variances must be an array of 2 numbers, got number/,
    );
  });

  it('priors given as a plain array: says to make it a Float32Array', async () => {
    await rejectsConfig(
      { ...presets.ssd300Voc, priors: [0.5, 0.5, 0.1, 0.1] },
      TypeError,
      /priors is a plain array of 4 values; pass new Float32Array\(priors\)/,
    );
    await rejectsConfig({ ...presets.ssd300Voc, priors: null }, TypeError, /priors must be a Float32Array .* got null/);
  });

  it('still accepts every preset as is', async () => {
    const priorCounts = { ssd300Voc: 8732, ssd512Voc: 24564, torchvisionSsd300Coco: 8732, tfSsdMobilenetV1Coco: 1917 };
    for (const [name, preset] of Object.entries(presets)) {
      const post = await createPostprocessor(preset);
      assert.equal(post.config.numPriors, priorCounts[name as keyof typeof priorCounts], `${name}: priors`);
      assert.equal(post.config.numClasses, preset.numClasses, `${name}: classes`);
      post.dispose();
    }
  });
});

describe('run() input types', () => {
  it('a null element in a plain-array input is rejected, not read as 0', async () => {
    const post = await createPostprocessor('ssd300Voc');
    const loc: (number | null)[] = new Array<number>(P * 4).fill(0);
    const conf = new Array<number>(P * C).fill(0);
    loc[17] = null;
    assert.throws(() => post.run(loc as number[], conf), /loc\[17\] is null; model outputs must be numbers/);
    const badConf: unknown[] = conf.slice();
    badConf[5] = '0.5';
    assert.throws(() => post.run(new Float32Array(P * 4), badConf as number[]), /conf\[5\] is string/);
    assert.equal(post.run(new Float32Array(P * 4), conf).length, 1, 'plain arrays of numbers still work');
  });

  it("batch given as the string '1' is named as a string", async () => {
    const post = await createPostprocessor('ssd300Voc');
    assert.throws(
      () => post.run(new Float32Array(P * 4), new Float32Array(P * C), '1' as unknown as number),
      (error: Error) =>
        error instanceof TypeError && /batch is the string '1'; it must be a number/.test(error.message),
    );
  });
});

describe('the core says how much memory it asked for and why', () => {
  it('a refused grow names the size and the purpose', async () => {
    const core = await instantiateCore();
    assert.throws(
      () => core.scratch(5 * 2 ** 30, 'a test of 5 GiB'),
      (error: Error) => {
        assert.ok(error instanceof RangeError, error.message);
        assert.match(
          error.message,
          /needs 5\d{3}\.\d MiB of WebAssembly memory for a test of 5 GiB \(it has [\d.]+ MiB; wasm32 allows at most 4096 MiB\)/,
        );
        return true;
      },
    );
  });
});

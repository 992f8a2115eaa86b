/**
 * Priors of every family against golden files made independently (tests/fixtures/priors:
 * the real torchvision, faithful Python ports of ssd.pytorch, TF OD API and MediaPipe, and
 * MediaPipe's own golden files), for both the wasm core and the TypeScript reference.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generatePriors, presets, type PriorConfig } from '../../src/index.js';
import { priorRows as referencePriors } from '../../src/core/prior-rows.js';
import { priorFixtures, readPriorFixture } from '../fixtures.js';

/** Golden files printed with 6 significant digits (MediaPipe's) need a looser tolerance. */
function toleranceFor(name: string): number {
  return name.startsWith('mediapipeGolden') ? 1e-5 : 1e-6;
}

function maxDifference(a: Float32Array, b: Float32Array): { value: number; index: number } {
  let value = 0,
    index = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= value)) {
      value = d;
      index = i;
    }
  }
  return { value, index };
}

describe('priors match golden values', () => {
  for (const fixture of priorFixtures()) {
    const golden = readPriorFixture(fixture);
    it(`${fixture.name}: ${fixture.count} priors (${fixture.source.split(',')[0]})`, async () => {
      assert.equal(golden.length, fixture.count * 4, 'fixture file holds count rows of 4');
      for (const [who, priors] of [
        ['wasm', await generatePriors(fixture.config)],
        ['reference', referencePriors(fixture.config)],
      ] as const) {
        assert.equal(
          priors.length / 4,
          fixture.count,
          `${who} generates ${priors.length / 4} priors, expected ${fixture.count}`,
        );
        const { value, index } = maxDifference(priors, golden);
        assert.ok(
          value <= toleranceFor(fixture.name),
          `${who} differs by ${value} at value ${index} (prior ${index >> 2}): ${priors[index]} vs golden ${golden[index]}`,
        );
      }
    });
  }

  it('the presets use exactly the golden configurations', async () => {
    const byName = new Map(priorFixtures().map((f) => [f.name, f]));
    const pairs: [PriorConfig, string][] = [
      [presets.ssd300Voc.priors as PriorConfig, 'ssd300Voc'],
      [presets.ssd512Voc.priors as PriorConfig, 'ssd512Voc'],
      [presets.torchvisionSsd300Coco.priors as PriorConfig, 'torchvisionSsd300'],
      [presets.tfSsdMobilenetV1Coco.priors as PriorConfig, 'tfSsdMobilenetV1'],
    ];
    for (const [config, name] of pairs) {
      const golden = readPriorFixture(byName.get(name)!);
      const priors = await generatePriors(config);
      assert.equal(priors.length, golden.length, `${name} preset count`);
      assert.ok(maxDifference(priors, golden).value <= 1e-6, `${name} preset priors equal the golden file`);
    }
  });

  it('counts of the four families: 8732, 24564, 1917, 896', async () => {
    const counts = await Promise.all(
      [presets.ssd300Voc, presets.ssd512Voc, presets.tfSsdMobilenetV1Coco].map(
        async (p) => (await generatePriors(p.priors as PriorConfig)).length / 4,
      ),
    );
    assert.deepEqual(counts, [8732, 24564, 1917]);
    const blazeFace = priorFixtures().find((f) => f.name === 'mediapipeBlazeFace')!;
    assert.equal((await generatePriors(blazeFace.config)).length / 4, 896);
  });
});

describe('invalid prior configurations are rejected with a clear error', () => {
  const ssd = presets.ssd300Voc.priors as PriorConfig & { family: 'ssd' };
  const cases: [string, unknown, RegExp][] = [
    [
      'unknown family',
      { family: 'yolo' },
      /unknown family 'yolo'; valid families: ssd, torchvision, tfGrid, mediapipe/,
    ],
    ['no feature maps', { ...ssd, featureMaps: [] }, /featureMaps must list at least one/],
    ['steps of the wrong length', { ...ssd, steps: [8, 16] }, /steps has 2 entries; it needs 6/],
    ['a zero min size', { ...ssd, minSizes: [0, 60, 111, 162, 213, 264] }, /minSizes\[0\] is 0/],
    ['a fractional feature map', { ...ssd, featureMaps: [38.5, 19, 10, 5, 3, 1] }, /featureMaps\[0\] width is 38.5/],
    [
      'a negative aspect ratio',
      { ...ssd, aspectRatios: [[-2], [2, 3], [2, 3], [2, 3], [2], [2]] },
      /aspectRatios\[0\]\[0\] is -2/,
    ],
    [
      'torchvision scales one short',
      { ...(presets.torchvisionSsd300Coco.priors as object), scales: [0.1, 0.2] },
      /scales has 2 entries; it needs 7/,
    ],
  ];
  for (const [what, config, message] of cases) {
    it(what, async () => {
      await assert.rejects(generatePriors(config as PriorConfig), (error: Error) => {
        assert.ok(error instanceof RangeError || error instanceof TypeError, `${error.name}: ${error.message}`);
        assert.match(error.message, message);
        return true;
      });
    });
  }
  it('a config that is not an object', async () => {
    await assert.rejects(generatePriors(null as unknown as PriorConfig), TypeError);
  });
});

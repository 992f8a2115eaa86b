/**
 * MobileNet SSDs at input sizes other than 300 and 320: the rule (300, or a multiple of 32 from 128
 * to 640) with its errors, the feature maps against a hand walk of TF's SAME padding, the anchors at
 * 192 against the golden file of the TF anchor generator's port (tests/fixtures/priors,
 * tfSsdMobilenetV2At192, made by tools/golden/priors.py), and the tfjs networks' output rows
 * (tfjs's own convolution shapes) against the anchors' count at the smallest sizes. Seconds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { priorRows as referencePriors } from '../../src/core/prior-rows.js';
import { generatePriors } from '../../src/index.js';
import {
  createMobilenetSsd,
  isMobilenetSsdInputSize,
  MOBILENET_SSD_INPUT_SIZES,
  mobilenetSsdFeatureMaps,
  mobilenetSsdPostprocess,
  mobilenetSsdPriors,
  type MobilenetSsdOptions,
} from '../../src/model/mobilenet-ssd.js';
import { priorFixtures, readPriorFixture } from '../fixtures.js';
import { useTfjsBackend } from './tfjs.js';

await useTfjsBackend('wasm');

const RULE = /a MobileNet SSD takes 300, or a multiple of 32 from 128 to 640/;

describe('MobileNet SSD input sizes', () => {
  it('the rule: 300, or a multiple of 32 from 128 to 640; anything else is refused by name', () => {
    assert.deepEqual(
      [...MOBILENET_SSD_INPUT_SIZES],
      [128, 160, 192, 224, 256, 288, 300, 320, 352, 384, 416, 448, 480, 512, 544, 576, 608, 640],
    );
    for (const ok of [128, 192, 300, 320, 640]) assert.ok(isMobilenetSsdInputSize(ok), `${ok}`);
    for (const bad of [96, 100, 176, 250, 299, 304, 300.5, 672, '192', Number.NaN])
      assert.ok(!isMobilenetSsdInputSize(bad), `${String(bad)}`);
    assert.throws(() => createMobilenetSsd({ numClasses: 3, inputSize: 250 }), /inputSize is 250; /);
    assert.throws(() => createMobilenetSsd({ numClasses: 3, inputSize: 96 }), RULE);
    assert.throws(() => createMobilenetSsd({ numClasses: 3, inputSize: 672, lite: true }), RULE);
    assert.throws(() => mobilenetSsdPriors(176), /inputSize is 176; a MobileNet SSD takes/);
    assert.throws(() => mobilenetSsdPostprocess(3, undefined, { inputSize: 304 }), /inputSize is 304/);
  });

  it('feature maps: ceil(size / 16), then halvings rounded up (TF SAME padding), never below 1', () => {
    // by hand: 192 / 16 = 12 → 6 → 3 → ⌈1.5⌉ = 2 → 1 → 1; 300 / 16 = 18.75 → 19 → ⌈9.5⌉ = 10 → 5 → 3 → 2 → 1
    const expected: [number, number[]][] = [
      [128, [8, 4, 2, 1, 1, 1]],
      [160, [10, 5, 3, 2, 1, 1]],
      [192, [12, 6, 3, 2, 1, 1]],
      [224, [14, 7, 4, 2, 1, 1]],
      [300, [19, 10, 5, 3, 2, 1]],
      [320, [20, 10, 5, 3, 2, 1]],
      [640, [40, 20, 10, 5, 3, 2]],
    ];
    for (const [size, maps] of expected) {
      assert.deepEqual(mobilenetSsdFeatureMaps(size), maps, `${size}`);
      assert.deepEqual(mobilenetSsdPriors(size).featureMaps, maps, `${size}: the anchors' maps`);
    }
    for (const size of MOBILENET_SSD_INPUT_SIZES) assert.ok(mobilenetSsdFeatureMaps(size).every((m) => m >= 1));
  });

  it("192: the anchors are the TF anchor generator's (golden file tfSsdMobilenetV2At192, 738 rows, within 1e-6)", async () => {
    const fixture = priorFixtures().find((f) => f.name === 'tfSsdMobilenetV2At192')!;
    assert.ok(fixture, 'the fixture is listed in tests/fixtures/priors/manifest.json');
    const golden = readPriorFixture(fixture);
    const config = mobilenetSsdPriors(192);
    assert.deepEqual(config.featureMaps, (fixture.config as unknown as { featureMaps: number[] }).featureMaps);
    for (const [who, priors] of [
      ['wasm', await generatePriors(config)],
      ['reference', referencePriors(config)],
    ] as const) {
      assert.equal(priors.length, golden.length, `${who}: ${priors.length / 4} anchors, golden ${fixture.count}`);
      let worst = 0;
      for (let i = 0; i < priors.length; i++) worst = Math.max(worst, Math.abs(priors[i] - golden[i]));
      assert.ok(worst <= 1e-6, `${who}: max |Δ| ${worst}`);
    }
    assert.equal(fixture.count, 738);
  });

  for (const [what, options] of [
    ['SSD MobileNet V2, 192', { inputSize: 192 }],
    ['SSDLite MobileNet V2, 160', { inputSize: 160, lite: true }],
    ['SSDLite MobileNet V2, 128', { inputSize: 128, lite: true }],
    ['SSD MobileNet V1, 224', { inputSize: 224, version: 1 }],
  ] as [string, Partial<MobilenetSsdOptions>][]) {
    it(`${what}: the network's output rows (tfjs's convolution shapes) are its anchors' count`, () => {
      const size = options.inputSize!;
      const net = createMobilenetSsd({ numClasses: 3, width: 0.35, seed: 2, ...options });
      try {
        const anchors = referencePriors(mobilenetSsdPriors(size)).length / 4;
        const { loc, conf } = net.apply(tf.zeros([1, size, size, 3]));
        assert.deepEqual(
          [loc.shape, conf.shape],
          [
            [1, anchors, 4],
            [1, anchors, 3],
          ],
        );
        assert.equal(net.numPriors, anchors);
        assert.deepEqual(
          net.layers.sources.map((s) => s.featureMap),
          mobilenetSsdFeatureMaps(size),
        );
        assert.deepEqual(net.priors, mobilenetSsdPriors(size));
        tf.dispose([loc, conf]);
        assert.throws(() => net.apply(tf.zeros([1, 300, 300, 3])), new RegExp(`needs \\[N, ${size}, ${size}, 3\\]`));
      } finally {
        net.dispose();
      }
    });
  }
});

/** Input presets: one per post-processing preset, valid, sized like the preset's priors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { presets } from '../../src/core/presets.js';
import { inputPresets } from '../../src/runtime/input-presets.js';
import { validatePreprocessSpec } from '../../src/runtime/preprocess.js';

describe('input presets', () => {
  it('exist for every post-processing preset, are valid, and match its input size', () => {
    assert.deepEqual(Object.keys(inputPresets).sort(), Object.keys(presets).sort());
    for (const [name, spec] of Object.entries(inputPresets)) {
      validatePreprocessSpec(spec);
      const priors = presets[name as keyof typeof presets].priors;
      const imageSize = 'imageSize' in priors ? priors.imageSize : 300; // tfGrid anchors are relative: 300 per pipeline.config
      assert.deepEqual(spec.size, [imageSize, imageSize], name);
    }
  });

  it('ssd.pytorch: RGB minus (123, 117, 104), as voc0712.py flips its BGR-mean-subtracted image', () => {
    assert.deepEqual(inputPresets.ssd300Voc, {
      size: [300, 300],
      channels: 'rgb',
      mean: [123, 117, 104],
      std: [1, 1, 1],
      layout: 'nchw',
    });
    assert.deepEqual(inputPresets.ssd512Voc.size, [512, 512]);
  });

  it('torchvision: image_mean × 255 ≈ (123, 117, 104), image_std × 255 = 1', () => {
    const { mean, std, channels, layout } = inputPresets.torchvisionSsd300Coco;
    mean.forEach((m, i) => assert.ok(Math.abs(m - [123, 117, 104][i]) < 0.01, `mean[${i}] = ${m}`));
    assert.deepEqual([std, channels, layout], [[1, 1, 1], 'rgb', 'nchw']);
  });

  it('TF OD API: (x − 127.5) / 127.5, NHWC', () => {
    assert.deepEqual(inputPresets.tfSsdMobilenetV1Coco, {
      size: [300, 300],
      channels: 'rgb',
      mean: [127.5, 127.5, 127.5],
      std: [127.5, 127.5, 127.5],
      layout: 'nhwc',
    });
  });
});

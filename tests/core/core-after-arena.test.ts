/**
 * coreAfterArena: the post-processor's core lent for transient work (the detector's
 * pre-processing). Its scratch lies past the arena, follows the arena when a larger batch moves
 * it, and garbage written there never reaches a detection.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coreAfterArena, createPostprocessor } from '../../src/core/postprocessor.js';
import { presets } from '../../src/core/presets.js';
import { mulberry32 } from '../../src/util/random.js';

const P = 8732,
  C = 21;

function heads(images: number) {
  const rand = mulberry32(3);
  const loc = Float32Array.from({ length: images * P * 4 }, () => rand() - 0.5);
  const conf = Float32Array.from({ length: images * P * C }, () => (rand() < 0.002 ? 4 + 4 * rand() : -2 * rand()));
  return { loc, conf };
}

describe('coreAfterArena', () => {
  it('lends the memory past the arena: scribbling there changes no detection; a larger batch moves it', async () => {
    const post = await createPostprocessor({ ...presets.ssd300Voc, scoreThreshold: 0.3 });
    const core = coreAfterArena(post);
    const one = heads(1),
      three = heads(3);
    const expected = post.run(one.loc, one.conf);
    assert.ok(expected[0].length > 5, `${expected[0].length} detections`);
    const base = core.heapBase;
    assert.ok(base >= post.priors.length * 4 + P * C * 4, `scratch at ${base}, past the priors and one image's scores`);
    const scribble = () => {
      const at = core.scratch(8 << 20, 'a test');
      new Uint8Array(core.memory.buffer, at, 8 << 20).fill(0xff); // NaN floats, were they ever read
      return at;
    };
    assert.equal(scribble(), base);
    assert.deepEqual(post.run(one.loc, one.conf), expected);
    const batch = post.run(three.loc, three.conf);
    assert.ok(
      core.heapBase > base,
      `a batch of 3 moves the scratch past its larger arena (${core.heapBase} > ${base})`,
    );
    scribble();
    assert.deepEqual(post.run(three.loc, three.conf), batch);
    assert.deepEqual(post.run(one.loc, one.conf), expected);
    post.dispose();
    assert.throws(() => core.scratch(16), /disposed/);
  });

  it('takes only a postprocessor made by createPostprocessor', () => {
    assert.throws(
      () => coreAfterArena({} as never),
      /coreAfterArena takes a postprocessor made by createPostprocessor/,
    );
  });
});

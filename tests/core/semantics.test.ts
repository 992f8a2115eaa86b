/**
 * The stated tie and edge rules, end to end through the public API, on hand-built inputs
 * (activation 'none' so the scores are exactly the numbers written here).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPostprocessor, type PostprocessConfig } from '../../src/index.js';

// Priors chosen so that zero offsets decode to simple boxes: (cx, cy, w, h) → corners.
const box = (x1: number, y1: number, x2: number, y2: number) => [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1];

async function detect(priorBoxes: number[][], scores: number[][], overrides: Partial<PostprocessConfig> = {}) {
  const numClasses = scores[0].length;
  const post = await createPostprocessor({
    priors: Float32Array.from(priorBoxes.flat()),
    numClasses,
    backgroundClass: 0,
    scoreActivation: 'none',
    scoreThreshold: 0.5,
    nmsThreshold: 0.45,
    topK: 10,
    keepTopK: 10,
    ...overrides,
  });
  const loc = new Float32Array(priorBoxes.length * 4);
  return post.run(loc, Float32Array.from(scores.flat()))[0].map((d) => [d.priorIndex, d.classId, d.score]);
}

describe('stated semantics', () => {
  it('a score equal to the threshold does not pass; one just above does', async () => {
    const found = await detect(
      [box(0, 0, 0.1, 0.1), box(0.5, 0.5, 0.6, 0.6)],
      [
        [0, 0.5],
        [0, Math.fround(0.5000001)],
      ],
    );
    assert.deepEqual(
      found.map(([p]) => p),
      [1],
    );
  });

  it('IoU exactly at the NMS threshold keeps both boxes; above it suppresses', async () => {
    // A = [0, 0, 1, 0.5] and B = [0, 0, 1, x]: IoU = x / 0.5 for x < 0.5 → x = 0.25 gives IoU 0.5
    const threshold = 0.5;
    let found = await detect(
      [box(0, 0, 1, 0.5), box(0, 0, 1, 0.25)],
      [
        [0, 0.9],
        [0, 0.8],
      ],
      { nmsThreshold: threshold },
    );
    assert.deepEqual(
      found.map(([p]) => p),
      [0, 1],
      'IoU == threshold: not suppressed',
    );
    found = await detect(
      [box(0, 0, 1, 0.5), box(0, 0, 1, 0.3)],
      [
        [0, 0.9],
        [0, 0.8],
      ],
      { nmsThreshold: threshold },
    );
    assert.deepEqual(
      found.map(([p]) => p),
      [0],
      'IoU 0.6 > 0.5: suppressed',
    );
  });

  it('equal scores: the lower prior index ranks first and survives NMS', async () => {
    const found = await detect(
      [box(0, 0, 0.5, 0.5), box(0, 0, 0.5, 0.5), box(0.6, 0.6, 0.9, 0.9)],
      [
        [0, 0.7],
        [0, 0.7],
        [0, 0.7],
      ],
    );
    assert.deepEqual(
      found.map(([p]) => p),
      [0, 2],
      'identical boxes with equal scores: prior 0 kept, prior 1 suppressed',
    );
  });

  it('equal scores across classes: lower prior first, then lower class', async () => {
    const found = await detect(
      [box(0, 0, 0.2, 0.2), box(0.5, 0.5, 0.7, 0.7)],
      [
        [0, 0.6, 0.6],
        [0, 0.6, 0.8],
      ],
    );
    assert.deepEqual(found, [
      [1, 2, Math.fround(0.8)],
      [0, 1, Math.fround(0.6)],
      [0, 2, Math.fround(0.6)],
      [1, 1, Math.fround(0.6)],
    ]);
  });

  it('a zero-area box never suppresses another and is never suppressed', async () => {
    const found = await detect(
      [box(0.3, 0.3, 0.3, 0.3), box(0.2, 0.2, 0.4, 0.4), box(0.3, 0.3, 0.3, 0.3)],
      [
        [0, 0.9],
        [0, 0.8],
        [0, 0.7],
      ],
      { nmsThreshold: 0 },
    );
    assert.deepEqual(
      found.map(([p]) => p),
      [0, 1, 2],
    );
  });

  it('topK bounds candidates per class before NMS; keepTopK bounds the image', async () => {
    const priors = Array.from({ length: 6 }, (_, i) => box(i * 0.15, 0, i * 0.15 + 0.1, 0.1));
    const scores = priors.map((_, i) => [0, 0.9 - i * 0.05, 0.6 + i * 0.05]);
    const found = await detect(priors, scores, { topK: 2, keepTopK: 3 });
    // class 1 keeps priors 0, 1 (0.9, 0.85); class 2 keeps priors 5, 4 (0.85, 0.8); best 3 overall
    assert.deepEqual(
      found.map(([p, c]) => [p, c]),
      [
        [0, 1],
        [1, 1],
        [5, 2],
      ],
    );
  });

  it('class-agnostic NMS lets a box of one class suppress another class', async () => {
    const priors = [box(0, 0, 0.5, 0.5), box(0, 0, 0.5, 0.5)];
    const scores = [
      [0, 0.9, 0],
      [0, 0, 0.8],
    ];
    assert.equal((await detect(priors, scores)).length, 2, 'per-class NMS keeps both');
    assert.deepEqual(
      (await detect(priors, scores, { classAgnostic: true })).map(([p, c]) => [p, c]),
      [[0, 1]],
    );
  });

  it('soft-NMS decays instead of removing (linear: s·(1 − IoU))', async () => {
    // IoU of [0, 0, 1, 0.5] and [0, 0, 1, 0.4] is 0.8
    const found = await detect(
      [box(0, 0, 1, 0.5), box(0, 0, 1, 0.4)],
      [
        [0, 0.9],
        [0, 0.8],
      ],
      { softNms: { method: 'linear' }, scoreThreshold: 0.1 },
    );
    assert.equal(found.length, 2);
    assert.ok(Math.abs((found[1][2] as number) - 0.8 * 0.2) < 1e-6, `decayed score ${found[1][2]}, expected 0.16`);
  });

  it('softmax with a background class: the background never becomes a detection', async () => {
    const post = await createPostprocessor({
      priors: Float32Array.from(box(0, 0, 1, 1)),
      numClasses: 3,
      scoreThreshold: 0.01,
      nmsThreshold: 0.45,
      topK: 5,
      keepTopK: 5,
    });
    const found = post.run(new Float32Array(4), Float32Array.of(Math.log(6), Math.log(3), Math.log(1)))[0];
    // softmax(ln 6, ln 3, ln 1) = (0.6, 0.3, 0.1)
    assert.deepEqual(
      found.map((d) => d.classId),
      [1, 2],
    );
    assert.ok(Math.abs(found[0].score - 0.3) < 1e-6 && Math.abs(found[1].score - 0.1) < 1e-6);
  });

  it('does not allocate per call: wasm memory stays the same size over many runs', async () => {
    const post = await createPostprocessor({
      priors: Float32Array.from(box(0, 0, 1, 1)),
      numClasses: 3,
      scoreThreshold: 0.01,
      nmsThreshold: 0.45,
      topK: 5,
      keepTopK: 5,
    });
    const memory = (post as unknown as { core: { memory: WebAssembly.Memory } }).core.memory;
    post.run(new Float32Array(4), Float32Array.of(1, 2, 3));
    const size = memory.buffer.byteLength;
    for (let i = 0; i < 2000; i++) post.run(new Float32Array(4), Float32Array.of(1, 2, i % 7));
    assert.equal(memory.buffer.byteLength, size);
  });
});

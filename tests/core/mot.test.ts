/** The tracking metrics used by `npm run bench:track`: hand cases for MOTA, IDF1, switches. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate, GreedyIouTracker, makeScene, type Box, type Frame, type Labeled } from '../../bench/mot.js';

const A: Box = [0, 0, 0.1, 0.1],
  B: Box = [0.5, 0.5, 0.6, 0.6];
const frame = (truths: Labeled[]): Frame => ({ timestampMs: 0, truths, detections: [] });

describe('MOT metrics', () => {
  it('a perfect tracker scores MOTA 1 and IDF1 1', () => {
    const frames = [0, 1, 2].map(() =>
      frame([
        { id: 1, classId: 1, box: A },
        { id: 2, classId: 1, box: B },
      ]),
    );
    const m = evaluate(
      frames,
      frames.map((f) => f.truths.map((t) => ({ ...t, id: t.id + 10 }))),
    );
    assert.deepEqual([m.mota, m.idf1, m.idSwitches, m.falseNegatives, m.falsePositives], [1, 1, 0, 0, 0]);
  });

  it('counts one switch when a truth moves to another hypothesis id, and IDF1 drops', () => {
    // 4 frames of one object; hypotheses: id 7, 7, 8, 8 ⇒ 1 switch; MOTA = 1 − 1/4; IDTP = 2 ⇒ IDF1 = 4/8
    const frames = [0, 1, 2, 3].map(() => frame([{ id: 1, classId: 1, box: A }]));
    const m = evaluate(
      frames,
      [7, 7, 8, 8].map((id) => [{ id, classId: 1, box: A }]),
    );
    assert.equal(m.idSwitches, 1);
    assert.equal(m.mota, 0.75);
    assert.equal(m.idf1, 0.5);
  });

  it('counts misses and false positives (IoU < 0.5 is both)', () => {
    const frames = [frame([{ id: 1, classId: 1, box: A }])];
    const m = evaluate(frames, [[{ id: 1, classId: 1, box: [0.05, 0, 0.15, 0.1] }]]); // IoU 1/3
    assert.deepEqual([m.falseNegatives, m.falsePositives, m.mota], [1, 1, -1]);
  });

  it('the synthetic scenes are seeded and the greedy baseline follows a clean sequence', () => {
    const options = { seed: 9, frames: 50, objects: 3, missRate: 0, falsePositives: 0, noise: 0 };
    assert.deepEqual(makeScene(options), makeScene(options), 'same seed, same scene');
    const frames = makeScene(options);
    const greedy = new GreedyIouTracker(1, 0, 0.3);
    const m = evaluate(
      frames,
      frames.map((f) => greedy.update(f.detections)),
    );
    assert.ok(m.mota > 0.9, `MOTA ${m.mota} on noise-free detections`);
  });
});

/** FrameTracking: the per-frame rule shared by detector.track()'s worker and `detect clip.mp4`. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTracker } from '../../src/core/tracker.js';
import { FrameTracking } from '../../src/stream/frame-tracking.js';

/** A box moving right by 0.02 a frame. */
const dog = (frame: number) => ({
  classId: 18,
  label: 'dog',
  score: 0.9,
  box: [0.1 + 0.02 * frame, 0.2, 0.4 + 0.02 * frame, 0.8],
});

describe('FrameTracking', () => {
  it('tracking: tracks with ids on detected frames, constant-velocity predictions between', async () => {
    const frames = new FrameTracking(await createTracker({ minHits: 1, smoother: 'none' }));
    assert.equal(frames.tracking, true);
    const first = frames.detected([dog(0)], 0);
    assert.deepEqual(
      first.map((o) => [o.trackId, o.label, o.state]),
      [[1, 'dog', 'confirmed']],
    );
    frames.detected([dog(2)], 200);
    const between = frames.between(300);
    assert.equal(between.length, 1);
    assert.equal(between[0].state, 'predicted');
    assert.equal(between[0].trackId, 1);
    assert.ok(Math.abs(between[0].box[0] - (0.1 + 0.02 * 3)) < 1e-6, `moved on: ${between[0].box}`);
    // a timestamp that goes back starts afresh: no tracks to predict, ids from 1 again
    assert.deepEqual(frames.between(100), []);
    assert.deepEqual(
      frames.detected([dog(0)], 150).map((o) => o.trackId),
      [1],
    );
  });

  it('without tracking: plain detections, and the last ones stand between; switching tracking resets', async () => {
    const frames = new FrameTracking(await createTracker({ minHits: 1 }), false);
    const found = frames.detected([dog(0)], 0);
    assert.deepEqual(found, [{ classId: 18, label: 'dog', score: 0.9, box: [0.1, 0.2, 0.4, 0.8] }]);
    assert.deepEqual(frames.between(100), found);
    frames.tracking = true;
    assert.deepEqual(frames.between(200), [], 'tracking on: nothing to predict yet');
    assert.deepEqual(
      frames.detected([dog(3)], 300).map((o) => o.trackId),
      [1],
    );
  });
});

/** The tracker: wasm (SIMD and baseline) against the plain-TypeScript reference, API and errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTracker, type TrackInput } from '../../src/index.js';
import { frameSeconds, packDetections, resolveTrackerOptions, type TrackerOptions } from '../../src/core/tracker.js';
import { ReferenceTracker, type Box4 } from '../../src/core/reference/track.js';
import { random, normal } from '../helpers.js';

const STATE_NAMES = ['tentative', 'confirmed', 'lost'];

/** A random scene: objects moving with constant velocity, noisy boxes, misses, false positives. */
function randomSequence(seed: number, frames: number, objects: number): TrackInput[][] {
  const rand = random(seed);
  const things = Array.from({ length: objects }, () => ({
    x: rand() * 0.8,
    y: rand() * 0.8,
    w: 0.03 + rand() * 0.2,
    h: 0.03 + rand() * 0.2,
    vx: (rand() - 0.5) * 0.02,
    vy: (rand() - 0.5) * 0.02,
    cls: 1 + Math.floor(rand() * 3),
  }));
  const out: TrackInput[][] = [];
  for (let f = 0; f < frames; f++) {
    const dets: TrackInput[] = [];
    for (const o of things) {
      o.x += o.vx;
      o.y += o.vy;
      if (rand() < 0.1) continue; // missed
      const n = () => normal(rand) * 0.004;
      const x1 = o.x + n(),
        y1 = o.y + n();
      dets.push({ classId: o.cls, score: 0.3 + 0.7 * rand(), box: [x1, y1, x1 + o.w + n(), y1 + o.h + n()] });
    }
    for (let k = 0; k < 2; k++) {
      if (rand() < 0.3) {
        const x = rand() * 0.9,
          y = rand() * 0.9;
        dets.push({
          classId: 1 + Math.floor(rand() * 3),
          score: rand(),
          box: [x, y, x + 0.02 + rand() * 0.1, y + 0.02 + rand() * 0.1],
        });
      }
    }
    // shuffle so that order carries no information
    for (let i = dets.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [dets[i], dets[j]] = [dets[j], dets[i]];
    }
    out.push(dets);
  }
  return out;
}

async function assertParity(
  options: TrackerOptions,
  seed: number,
  frames: number,
  objects: number,
  build: 'simd' | 'baseline',
) {
  const tracker = await createTracker({ ...options, build, includeTentative: true });
  const params = resolveTrackerOptions(options);
  const reference = new ReferenceTracker(params);
  const sequence = randomSequence(seed, frames, objects);
  const rand = random(seed ^ 0x5eed);
  let time = 1000 * rand();
  let previous: number | undefined;
  let compared = 0;
  for (let f = 0; f < frames; f++) {
    time += 20 + 30 * rand(); // uneven frame times
    const actual = tracker.update(sequence[f], time);
    const packed = packDetections(sequence[f]);
    const boxes = Array.from(
      { length: packed.classes.length },
      (_, i) => [...packed.boxes.subarray(4 * i, 4 * i + 4)] as Box4,
    );
    const expected = reference.update(
      { boxes, classes: [...packed.classes], scores: [...packed.scores] },
      frameSeconds(time, previous),
    );
    previous = time;
    const context = `seed ${seed}, ${build}, ${JSON.stringify(options)}, frame ${f}`;
    assert.equal(actual.length, expected.length, `${context}: ${actual.length} tracks, reference ${expected.length}`);
    expected.forEach((e, i) => {
      const a = actual[i];
      assert.deepStrictEqual(
        [
          a.trackId,
          a.classId,
          a.state,
          a.age,
          a.hits,
          a.timeSinceUpdate,
          a.detectionIndex,
          a.score,
          ...a.box,
          ...a.smoothedBox,
        ],
        [
          e.id,
          e.classId,
          STATE_NAMES[e.state],
          e.age,
          e.hits,
          e.timeSinceUpdate,
          e.detIndex,
          e.score,
          ...e.box,
          ...e.smoothedBox,
        ],
        `${context}: track ${i}`,
      );
      compared++;
    });
  }
  tracker.dispose();
  return compared;
}

describe('tracker parity: wasm equals the reference bit for bit', () => {
  for (const build of ['simd', 'baseline'] as const) {
    for (const smoother of ['kalman', 'one-euro', 'exponential', 'none'] as const) {
      it(`${build}, ${smoother}: 12 random sequences of 60 frames`, async () => {
        let compared = 0;
        for (let seed = 1; seed <= 12; seed++) {
          const options: TrackerOptions = {
            smoother,
            minHits: 1 + (seed % 3),
            maxAge: seed % 5,
            classAware: seed % 4 !== 0,
            iouThreshold: [0.3, 0.1, 0.5][seed % 3],
          };
          compared += await assertParity(options, seed * 7919, 60, 2 + seed * 3, build);
        }
        assert.ok(compared > 1000, `compared ${compared} track states`);
      });
    }
  }
});

describe('tracker: behaviour', () => {
  const box = (x: number, y: number, w = 0.1, h = 0.1): TrackInput => ({
    classId: 1,
    score: 0.9,
    box: [x, y, x + w, y + h],
  });

  it('confirms after minHits, keeps the id through maxAge misses, then drops the track', async () => {
    const tracker = await createTracker({ minHits: 3, maxAge: 2 });
    assert.deepEqual(tracker.update([box(0.1, 0.1)], 0), [], 'frame 1: tentative, not reported');
    assert.deepEqual(tracker.update([box(0.11, 0.1)], 33), [], 'frame 2: still tentative');
    let tracks = tracker.update([box(0.12, 0.1)], 66);
    assert.equal(tracks.length, 1);
    assert.equal(tracks[0].trackId, 1);
    assert.equal(tracks[0].state, 'confirmed');
    assert.equal(tracks[0].hits, 3);
    tracks = tracker.update([], 100);
    assert.equal(tracks[0].state, 'lost', 'first miss: coasting');
    assert.ok(Math.abs(tracks[0].box[0] - 0.13) < 0.005, `predicted xmin ${tracks[0].box[0]} keeps moving right`);
    assert.equal(tracker.update([], 133)[0].timeSinceUpdate, 2);
    assert.deepEqual(tracker.update([], 166), [], 'third miss > maxAge 2: gone');
    tracks = tracker.update([box(0.16, 0.1)], 200);
    assert.deepEqual(tracks, [], 'a new tentative track, not the old id');
    assert.equal(tracker.frame, 7);
  });

  it('keeps identities of two crossing objects of different classes', async () => {
    const tracker = await createTracker({ minHits: 1 });
    for (let f = 0; f <= 20; f++) {
      const a = { classId: 1, score: 0.9, box: [0.1 + 0.03 * f, 0.4, 0.2 + 0.03 * f, 0.5] };
      const b = { classId: 2, score: 0.8, box: [0.7 - 0.03 * f, 0.42, 0.8 - 0.03 * f, 0.52] };
      const tracks = tracker.update(f % 2 ? [b, a] : [a, b], f * 33);
      const byClass = new Map(tracks.map((t) => [t.classId, t.trackId]));
      assert.deepEqual(
        [...byClass.entries()].sort(),
        [
          [1, 1],
          [2, 2],
        ],
        `frame ${f}`,
      );
    }
  });

  it('labels tracks from options.labels, returns tentative tracks when asked, resets ids', async () => {
    const tracker = await createTracker({ labels: ['bg', 'person'], includeTentative: true });
    const [t] = tracker.update([box(0.2, 0.2)], 5);
    assert.equal(t.label, 'person');
    assert.equal(t.state, 'tentative');
    assert.equal(t.trackId, 0);
    tracker.reset();
    assert.deepEqual(tracker.update([], 1), [], 'reset forgets tracks and the last timestamp');
  });

  it('smooths: one-euro and exponential boxes lag a jittering detection, none returns it', async () => {
    for (const smoother of ['one-euro', 'exponential', 'none'] as const) {
      const tracker = await createTracker({ minHits: 1, smoother });
      let jitter = 0,
        smoothJitter = 0,
        last: number[] | undefined;
      for (let f = 0; f < 30; f++) {
        const dx = f % 2 ? 0.01 : -0.01;
        const [t] = tracker.update([box(0.4 + dx, 0.4)], f * 33);
        if (last) {
          jitter += 0.02;
          smoothJitter += Math.abs(t.smoothedBox[0] - last[0]);
        }
        last = t.smoothedBox;
      }
      if (smoother === 'none') assert.ok(Math.abs(smoothJitter - jitter) < 1e-5, 'none: the raw box');
      else assert.ok(smoothJitter < 0.6 * jitter, `${smoother}: smoothed jitter ${smoothJitter} vs ${jitter}`);
    }
  });
});

describe('tracker: bad options and inputs', () => {
  it('rejects bad options with the value and the rule', async () => {
    await assert.rejects(createTracker({ minHits: 0 }), /minHits is 0; it must be an integer ≥ 1/);
    await assert.rejects(createTracker({ maxAge: 1.5 }), /maxAge is 1.5/);
    await assert.rejects(createTracker({ iouThreshold: NaN }), /iouThreshold is NaN/);
    await assert.rejects(
      createTracker({ smoother: 'median' as never }),
      /smoother is 'median'; it must be one of 'kalman'/,
    );
    await assert.rejects(createTracker({ smoother: 'one-euro', oneEuro: { minCutoff: 0 } }), /minCutoff is 0/);
    await assert.rejects(createTracker({ exponential: { alpha: 2 } }), /alpha is 2/);
    await assert.rejects(createTracker({ classAware: 'yes' as never }), TypeError);
  });

  it('rejects unknown keys, at the top and inside oneEuro and exponential, suggesting the nearest', async () => {
    const typo = (options: object, message: RegExp) =>
      assert.rejects(
        createTracker(options as TrackerOptions),
        (error: Error) => error instanceof TypeError && message.test(error.message),
      );
    await typo({ maxAges: 5 }, /tracker options has an unknown key 'maxAges'; did you mean 'maxAge'\?/);
    await typo(
      { smoother: 'one-euro', oneEuro: { minCutoff: 1, betta: 2 } },
      /oneEuro has an unknown key 'betta'; did you mean 'beta'\?/,
    );
    await typo(
      { smoother: 'exponential', exponential: { alfa: 0.5 } },
      /exponential has an unknown key 'alfa'; did you mean 'alpha'\?/,
    );
    (
      await createTracker({ smoother: 'one-euro', oneEuro: { minCutoff: 1 }, build: 'auto', wasmBaseUrl: undefined })
    ).dispose();
  });

  it('rejects NaN boxes, negative sizes, bad classes and scores, non-monotonic timestamps', async () => {
    const tracker = await createTracker();
    const good: TrackInput = { classId: 1, score: 0.5, box: [0, 0, 0.1, 0.1] };
    assert.throws(() => tracker.update([{ ...good, box: [0, NaN, 0.1, 0.1] }], 0), /detections\[0\]\.box\[1\] is NaN/);
    assert.throws(
      () => tracker.update([good, { ...good, box: [0.5, 0, 0.4, 0.1] }], 0),
      /detections\[1\]\.box .*width -0\.1.*xmax > xmin/,
    );
    assert.throws(() => tracker.update([{ ...good, box: [0, 0, 0.1] }], 0), TypeError);
    assert.throws(() => tracker.update([{ ...good, classId: -1 }], 0), /classId is -1/);
    assert.throws(() => tracker.update([{ ...good, score: Infinity }], 0), /score is Infinity/);
    assert.throws(() => tracker.update(null as never, 0), TypeError);
    assert.throws(() => tracker.update([], NaN), /timestampMs is NaN/);
    tracker.update([good], 100);
    assert.throws(() => tracker.update([good], 100), /timestampMs 100 is not after the previous frame's 100/);
    assert.throws(() => tracker.update([good], 50), /not after/);
    assert.equal(tracker.frame, 1, 'rejected frames change nothing');
    tracker.dispose();
    assert.throws(() => tracker.update([], 200), /disposed/);
  });
});

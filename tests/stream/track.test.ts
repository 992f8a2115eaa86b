/**
 * track()'s pacing on the page, with a fake worker and fake frames (Node, no browser): latest
 * frame wins with never more than two frames held, every frame closed exactly once, detection
 * every N-th frame, stop() and bad input releasing everything. The real worker runs in
 * tests/browser/track.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Extrapolator } from '../../src/stream/predict.js';
import type { FromWorker, ToWorker } from '../../src/stream/protocol.js';
import { percentile, RateMeter, StageWindow } from '../../src/stream/stats.js';
import { startTracking, type TrackResult, type WorkerPort } from '../../src/stream/track.js';

/** Stands in for an ImageBitmap: close() empties it, as the real one does. */
class FakeFrame {
  closed = 0;
  constructor(
    public width = 320,
    public height = 240,
    readonly id = 0,
  ) {}
  close(): void {
    this.closed++;
    this.width = 0;
    this.height = 0;
  }
}

interface FakeWorker extends WorkerPort {
  received: ToWorker[];
  terminated: boolean;
}

/** Answers init at once and each frame after `delayMs`, closing the frame as the real worker does. */
function fakeWorker(delayMs: number, fail?: (message: ToWorker) => string | undefined): FakeWorker {
  const worker: FakeWorker = {
    received: [],
    terminated: false,
    onmessage: null,
    onerror: null,
    postMessage(message: ToWorker) {
      worker.received.push(message);
      const reply = (data: FromWorker) =>
        setTimeout(() => worker.onmessage?.({ data } as MessageEvent<FromWorker>), delayMs);
      if (message.type === 'init') reply({ type: 'ready', backend: 'wasm', threads: 1, coreBuild: 'simd', loadMs: 1 });
      else if (message.type === 'stop') reply({ type: 'stopped' });
      else if (message.type === 'frame') {
        const image = message.image as unknown as FakeFrame | undefined;
        const error = fail?.(message);
        const width = image?.width ?? 320,
          height = image?.height ?? 240;
        image?.close();
        reply(
          error
            ? { type: 'error', index: message.index, message: error, name: 'Error' }
            : {
                type: 'result',
                index: message.index,
                timestampMs: message.timestampMs,
                detected: image !== undefined,
                width,
                height,
                objects: [
                  {
                    trackId: 1,
                    classId: 3,
                    label: 'car',
                    score: 0.9,
                    box: [0.25, 0.25, 0.5, 0.75],
                    state: 'confirmed',
                  },
                ],
                stages: { inference: delayMs, worker: delayMs + 1 },
              },
        );
      }
    },
    terminate() {
      worker.terminated = true;
    },
  };
  return worker;
}

const recipe = {
  model: new Uint8Array(0),
  config: { priors: new Float32Array(0), numClasses: 2, scoreThreshold: 0.5, nmsThreshold: 0.5, topK: 1, keepTopK: 1 },
  preprocess: {
    size: [300, 300] as [number, number],
    mean: [0, 0, 0] as [number, number, number],
    std: [1, 1, 1] as [number, number, number],
    layout: 'nchw' as const,
  },
  backend: 'wasm' as const,
  profile: 'default' as const,
  maxImagePixels: 1e8,
} as unknown as Parameters<typeof startTracking>[0];

function* framesOf(frames: FakeFrame[], stepMs = 33): Generator<{ image: ImageBitmap; timestampMs: number }> {
  for (const [i, frame] of frames.entries()) yield { image: frame as unknown as ImageBitmap, timestampMs: i * stepMs };
}

const makeFrames = (n: number) => Array.from({ length: n }, (_, i) => new FakeFrame(320, 240, i));

describe('track() pacing (fake worker)', () => {
  it('latest frame wins: 30 frames offered at once to a slow worker, at most 2 held, the rest dropped, each closed once', async () => {
    const frames = makeFrames(30);
    const worker = fakeWorker(15);
    const results: TrackResult[] = [];
    const handle = await startTracking(
      recipe,
      framesOf(frames),
      (r) => results.push(r),
      { pacing: 'latest' },
      { createWorker: () => worker },
    );
    const summary = await handle.done;
    assert.equal(summary.reason, 'ended');
    assert.ok(summary.maxQueue <= 2, `max queue ${summary.maxQueue}`);
    assert.ok(results.every((r) => r.queue <= 2));
    assert.equal(summary.results + summary.dropped, 30, 'every frame either answered or dropped');
    assert.ok(summary.dropped >= 25, `only ${summary.dropped} dropped: the frames came all at once`);
    assert.equal(results.at(-1)!.frame, 29, 'the last frame (the latest) is always processed');
    assert.deepEqual(
      frames.map((f) => f.closed),
      frames.map(() => 1),
      'each frame closed exactly once',
    );
    assert.ok(worker.terminated);
    assert.equal(handle.framesHeld, 0);
  });

  it("pacing 'all': none dropped, results in order, boxes in source pixels, stats on the result", async () => {
    const frames = makeFrames(8);
    const results: TrackResult[] = [];
    const handle = await startTracking(
      recipe,
      framesOf(frames),
      (r) => results.push(r),
      {},
      { createWorker: () => fakeWorker(2) },
    );
    const summary = await handle.done;
    assert.deepEqual(
      results.map((r) => r.frame),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.deepEqual(
      results.map((r) => r.timestampMs),
      [0, 33, 66, 99, 132, 165, 198, 231],
    );
    assert.equal(summary.dropped, 0);
    assert.equal(summary.maxQueue, 1);
    const last = results.at(-1)!;
    assert.deepEqual(last.objects[0].box, [80, 60, 160, 180]);
    assert.deepEqual(last.objects[0].normalizedBox, [0.25, 0.25, 0.5, 0.75]);
    assert.equal(last.objects[0].trackId, 1);
    assert.equal(last.objects[0].cssBox, undefined, 'no element, no CSS box');
    assert.equal(last.timings.inference?.p50, 2);
    assert.ok(last.timings.latency!.p95 >= last.timings.latency!.p50);
    assert.ok(last.fps > 0);
  });

  it('every: 3 sends pixels on frames 0, 3, 6 and only timestamps between (closed on the page)', async () => {
    const frames = makeFrames(7);
    const worker = fakeWorker(1);
    const results: TrackResult[] = [];
    await (
      await startTracking(
        recipe,
        framesOf(frames),
        (r) => results.push(r),
        { every: 3 },
        { createWorker: () => worker },
      )
    ).done;
    const sent = worker.received.filter((m): m is Extract<ToWorker, { type: 'frame' }> => m.type === 'frame');
    assert.deepEqual(
      sent.map((m) => m.image !== undefined),
      [true, false, false, true, false, false, true],
    );
    assert.deepEqual(
      results.map((r) => r.detected),
      [true, false, false, true, false, false, true],
    );
    assert.ok(frames.every((f) => f.closed === 1));
  });

  it('stop() mid-run: done resolves "stopped", the waiting frame and the source released, the worker terminated', async () => {
    let pulled = 0;
    const made: FakeFrame[] = [];
    async function* endless() {
      for (;;) {
        await new Promise((r) => setTimeout(r, 2));
        const frame = new FakeFrame();
        made.push(frame);
        pulled++;
        yield frame as unknown as ImageBitmap;
      }
    }
    const worker = fakeWorker(20);
    const handle = await startTracking(
      recipe,
      endless(),
      () => undefined,
      { pacing: 'latest' },
      { createWorker: () => worker },
    );
    await new Promise((r) => setTimeout(r, 100));
    const summary = await handle.stop();
    assert.equal(summary.reason, 'stopped');
    assert.ok(worker.terminated);
    assert.ok(
      worker.received.some((m) => m.type === 'stop'),
      'the worker was asked to dispose its detector and tracks',
    );
    const before = pulled;
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(pulled <= before + 1, 'the source is no longer pulled');
    assert.ok(
      made.every((f) => f.closed === 1),
      `frames left open: ${made.filter((f) => f.closed !== 1).length}`,
    );
    assert.equal(handle.framesHeld, 0);
  });

  it('a closed frame stops the run with a TypeError naming it; nothing left open', async () => {
    const frames = makeFrames(5);
    frames[2].close();
    const worker = fakeWorker(1);
    const errors: Error[] = [];
    const handle = await startTracking(
      recipe,
      framesOf(frames),
      () => undefined,
      { onError: (e) => errors.push(e) },
      { createWorker: () => worker },
    );
    await assert.rejects(
      handle.done,
      (e: Error) => e instanceof TypeError && /frame 2 is a closed ImageBitmap/.test(e.message),
    );
    assert.equal(errors.length, 1);
    assert.ok(worker.terminated);
    assert.deepEqual(
      frames.map((f) => f.closed),
      [1, 1, 2, 0, 0],
      'frames 0 and 1 closed once, frame 2 by the test and again by track() (harmless); 3 and 4 never taken from the source',
    );
  });

  it("a frame of another size: 'reset' forgets the tracks and goes on, 'error' stops with a RangeError", async () => {
    const mixed = () => [
      new FakeFrame(320, 240),
      new FakeFrame(320, 240),
      new FakeFrame(640, 480),
      new FakeFrame(640, 480),
    ];
    const worker = fakeWorker(1);
    const results: TrackResult[] = [];
    await (
      await startTracking(recipe, framesOf(mixed()), (r) => results.push(r), {}, { createWorker: () => worker })
    ).done;
    const resets = worker.received
      .filter((m) => m.type === 'frame')
      .map((m) => (m as { reset?: boolean }).reset ?? false);
    assert.deepEqual(resets, [false, false, true, false]);
    assert.deepEqual(
      results.map((r) => r.sourceWidth),
      [320, 320, 640, 640],
    );
    const strict = await startTracking(
      recipe,
      framesOf(mixed()),
      () => undefined,
      { onSizeChange: 'error' },
      { createWorker: () => fakeWorker(1) },
    );
    await assert.rejects(strict.done, /frame 2 is 640 × 480, but the stream started at 320 × 240/);
  });

  it('a source that throws mid-run, and a worker that fails on a frame: clear errors, worker released', async () => {
    async function* broken() {
      yield new FakeFrame() as unknown as ImageBitmap;
      throw new Error('decoder gave up');
    }
    const worker = fakeWorker(1);
    const handle = await startTracking(recipe, broken(), () => undefined, {}, { createWorker: () => worker });
    await assert.rejects(handle.done, /the frame source threw: decoder gave up/);
    assert.ok(worker.terminated);
    const failing = fakeWorker(1, (m) => (m.type === 'frame' && m.index === 1 ? 'out of memory' : undefined));
    const second = await startTracking(
      recipe,
      framesOf(makeFrames(4)),
      () => undefined,
      {},
      { createWorker: () => failing },
    );
    await assert.rejects(second.done, /frame 1: out of memory/);
    assert.ok(failing.terminated);
  });

  it('bad arguments are refused before a worker starts', async () => {
    let started = 0;
    const deps = {
      createWorker: () => {
        started++;
        return fakeWorker(1);
      },
    };
    await assert.rejects(
      startTracking(recipe, framesOf([]), () => undefined, { every: 0 }, deps),
      /every is 0; it must be an integer ≥ 1/,
    );
    await assert.rejects(
      startTracking(recipe, 42 as never, () => undefined, {}, deps),
      /track\(\) follows a <video>, a MediaStream/,
    );
    await assert.rejects(startTracking(recipe, framesOf([]), 'draw' as never, {}, deps), /needs onResult/);
    await assert.rejects(
      startTracking(recipe, framesOf([]), () => undefined, { pacing: 'fast' as never }, deps),
      /pacing is 'fast'/,
    );
    assert.equal(started, 0);
  });
});

describe('stream statistics and prediction', () => {
  it('percentiles by nearest rank over a sliding window; rates over a time span', () => {
    assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
    assert.equal(percentile([1, 2, 3, 4], 0.95), 4);
    const window = new StageWindow(3);
    for (const v of [100, 1, 2, 3]) window.add(v);
    assert.deepEqual(window.summary(), { p50: 2, p95: 3, last: 3, count: 3 });
    const rate = new RateMeter(1000);
    for (let t = 0; t <= 1000; t += 100) rate.tick(t);
    assert.equal(rate.rate(1000), 10);
    assert.equal(rate.rate(5000), 10, 'long after: the last two events');
    const slow = new RateMeter(1000);
    slow.tick(0);
    assert.equal(slow.rate(10), 0, 'one event: no rate');
    slow.tick(2500);
    assert.equal(slow.rate(3000), 0.4, 'one event per 2.5 s');
  });

  it('between detections, a track moves on at its last velocity, by time', () => {
    const e = new Extrapolator<{ trackId: number; box: number[] }>();
    e.observe(
      [
        { trackId: 1, box: [0.1, 0.1, 0.2, 0.2] },
        { trackId: 0, box: [0, 0, 1, 1] },
      ],
      0,
    );
    assert.deepEqual(
      e.predict(50).map((p) => p.box),
      [[0.1, 0.1, 0.2, 0.2]],
      'a new track stands still; tentative ones are skipped',
    );
    e.observe([{ trackId: 1, box: [0.2, 0.1, 0.3, 0.2] }], 100);
    const [moved] = e.predict(150);
    moved.box.forEach((v, k) => assert.ok(Math.abs(v - [0.25, 0.1, 0.35, 0.2][k]) < 1e-12));
    e.observe([], 200);
    assert.deepEqual(e.predict(300), [], 'a track the tracker dropped is forgotten');
  });
});

/**
 * Tracking benchmark (`npm run bench:track`): MOTA, IDF1 and identity switches of the core's
 * SORT-style tracker against the greedy IoU-only baseline on seeded synthetic sequences, and
 * the cost per frame with 50 tracks (core SIMD, core baseline, plain-TS reference).
 */
import { execSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createTracker, type TrackerOptions } from '../src/index.js';
import { ReferenceTracker } from '../src/core/reference/track.js';
import { frameSeconds, packDetections, resolveTrackerOptions } from '../src/core/tracker.js';
import {
  evaluate,
  GreedyIouTracker,
  makeScene,
  type Frame,
  type Labeled,
  type MotMetrics,
  type SceneOptions,
} from './mot.js';
import { median } from './timing.js';

const SCENES: { name: string; options: SceneOptions }[] = [
  {
    name: 'sparse (6 objects, 5% misses, 0.2 FP/frame)',
    options: { seed: 1, frames: 600, objects: 6, missRate: 0.05, falsePositives: 0.2, noise: 0.03 },
  },
  {
    name: 'busy (15 objects, 10% misses, 1 FP/frame)',
    options: { seed: 2, frames: 600, objects: 15, missRate: 0.1, falsePositives: 1, noise: 0.05 },
  },
  {
    name: 'crowded (30 objects, 15% misses, 2 FP/frame)',
    options: { seed: 3, frames: 600, objects: 30, missRate: 0.15, falsePositives: 2, noise: 0.05 },
  },
  {
    name: 'noisy (15 objects, 25% misses, 3 FP/frame, 8% box noise)',
    options: { seed: 4, frames: 600, objects: 15, missRate: 0.25, falsePositives: 3, noise: 0.08 },
  },
];

const TRACKER: TrackerOptions = { minHits: 3, maxAge: 10, iouThreshold: 0.3 };

async function runTracker(frames: Frame[], options: TrackerOptions): Promise<Labeled[][]> {
  const tracker = await createTracker(options);
  const out = frames.map((frame) =>
    tracker
      .update(frame.detections, frame.timestampMs)
      .filter((t) => t.timeSinceUpdate <= 3) // coast through short occlusions; longer gaps are not drawn
      .map((t) => ({ id: t.trackId, classId: t.classId, box: t.smoothedBox })),
  );
  tracker.dispose();
  return out;
}

function row(name: string, m: MotMetrics): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return `| ${name} | ${pct(m.mota)} | ${pct(m.idf1)} | ${m.idSwitches} | ${m.falseNegatives} | ${m.falsePositives} | ${m.trackIds} |`;
}

async function timing(): Promise<string[]> {
  // 50 objects, always detected with a little noise: 50 confirmed tracks every frame
  const frames = makeScene({ seed: 50, frames: 1200, objects: 50, missRate: 0, falsePositives: 0, noise: 0.01 });
  const lines: string[] = [];
  const perFrame = (times: number[]) => median(times);
  for (const build of ['simd', 'baseline'] as const) {
    const times: number[] = [];
    let tracks = 0;
    for (let rep = 0; rep < 3; rep++) {
      const tracker = await createTracker({ ...TRACKER, build });
      for (let f = 0; f < frames.length; f++) {
        const t0 = performance.now();
        const out = tracker.update(frames[f].detections, frames[f].timestampMs);
        const t1 = performance.now();
        if (f >= 100) {
          times.push(t1 - t0);
          tracks += out.length;
        }
      }
    }
    lines.push(
      `| core ${build}, \`tracker.update\` | ${(perFrame(times) * 1000).toFixed(1)} µs | ${(tracks / times.length).toFixed(1)} |`,
    );
  }
  const times: number[] = [];
  let tracks = 0;
  for (let rep = 0; rep < 3; rep++) {
    const reference = new ReferenceTracker(resolveTrackerOptions(TRACKER));
    let previous: number | undefined;
    for (let f = 0; f < frames.length; f++) {
      const t0 = performance.now();
      const packed = packDetections(frames[f].detections);
      const boxes = Array.from(
        { length: packed.classes.length },
        (_, i) => [...packed.boxes.subarray(4 * i, 4 * i + 4)] as [number, number, number, number],
      );
      const out = reference.update(
        { boxes, classes: [...packed.classes], scores: [...packed.scores] },
        frameSeconds(frames[f].timestampMs, previous),
      );
      previous = frames[f].timestampMs;
      const t1 = performance.now();
      if (f >= 100) {
        times.push(t1 - t0);
        tracks += out.filter((t) => t.state !== 0).length;
      }
    }
  }
  lines.push(
    `| plain-TS reference | ${(perFrame(times) * 1000).toFixed(1)} µs | ${(tracks / times.length).toFixed(1)} |`,
  );
  return lines;
}

async function main(): Promise<void> {
  const load = (() => {
    try {
      return execSync('uptime').toString().trim();
    } catch {
      return 'unknown';
    }
  })();
  console.log(`Node ${process.version}; load at start: ${load}\n`);
  console.log(
    `Tracker: ${JSON.stringify(TRACKER)} (smoothedBox = Kalman estimate, coasting ≤ 3 frames drawn); ` +
      'baseline: greedy IoU, same class, minHits 3, maxAge 10, IoU ≥ 0.3, matched boxes only.\n',
  );
  console.log('| sequence / tracker | MOTA | IDF1 | ID switches | FN | FP | track ids |');
  console.log('|---|---|---|---|---|---|---|');
  for (const scene of SCENES) {
    const frames = makeScene(scene.options);
    const truths = frames.reduce((n, f) => n + f.truths.length, 0);
    const identities = new Set(frames.flatMap((f) => f.truths.map((t) => t.id))).size;
    const greedy = new GreedyIouTracker(3, 10, 0.3);
    const baseline = evaluate(
      frames,
      frames.map((f) => greedy.update(f.detections)),
    );
    const ours = evaluate(frames, await runTracker(frames, TRACKER));
    console.log(
      `| **${scene.name}**: ${frames.length} frames, ${truths} boxes, ${identities} identities | | | | | | |`,
    );
    console.log(row('ssd-edge SORT (Kalman + optimal IoU)', ours));
    console.log(row('greedy IoU baseline', baseline));
  }
  console.log('\nCost per frame, 50 tracks (50 detections a frame, median of 3 × 1100 frames):\n');
  console.log('| tracker | per frame | tracks reported |');
  console.log('|---|---|---|');
  for (const line of await timing()) console.log(line);
  const after = (() => {
    try {
      return execSync('uptime').toString().trim();
    } catch {
      return 'unknown';
    }
  })();
  console.log(`\nload at end: ${after}`);
}

await main();

/**
 * Self-check of the benchmark peers: each must reproduce the naive reference (check.ts) on
 * every scenario, then each is timed on one image.
 *
 *   node dist/bench/peers/selfcheck.js [threads]     (threads for onnxruntime; default 1)
 */
import { performance } from 'node:perf_hooks';
import type { Detection } from '../../src/core/types.js';
import { makeScenario, type ScenarioName } from '../scenarios.js';
import { naiveDetect, softmaxRows, ssd300VocPriors } from './check.js';
import { createOrtPeer } from './onnxruntime.js';
import type { Peer, PeerConfig } from './peer.js';
import { createTfjsPeer } from './tfjs.js';

const BOX_TOL = 1e-5;
const SCORE_REL_TOL = 1e-5;
const SEEDS = [1, 2, 3];
const SCENARIOS: ScenarioName[] = ['realistic', 'crowded', 'adversarial'];
const TIMED: ScenarioName[] = ['realistic', 'adversarial'];
const WARMUP = 3;
const RUNS = 20;

const threads = Number(process.argv[2] ?? 1);
const priors = ssd300VocPriors();
const cfg: PeerConfig = {
  priors, numClasses: 21, variances: [0.1, 0.2],
  scoreThreshold: 0.01, nmsThreshold: 0.45, topK: 200, keepTopK: 200,
};

interface Case {
  scenario: ScenarioName;
  seed: number;
  loc: Float32Array;
  conf: Float32Array;
  expected: Detection[];
}

const key = (d: Detection): string => `${d.classId}:${d.priorIndex}`;

function sameDetection(a: Detection, b: Detection): boolean {
  return key(a) === key(b)
    && a.box.every((v, i) => Math.abs(v - b.box[i]) <= BOX_TOL)
    && Math.abs(a.score - b.score) <= SCORE_REL_TOL * Math.abs(b.score);
}

/**
 * 'equal': same (class, prior) sequence, boxes and scores within tolerance. 'reordered': the
 * same detections within tolerance, in another order — with where the order first departs and
 * the peer's own scores of the two swapped detections. 'differs': anything else.
 */
/** Distance between two float32 values in units of the larger one's last place. */
function float32Ulps(a: number, b: number): number {
  const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(a), Math.abs(b)))) - 23);
  return Math.round(Math.abs(a - b) / ulp);
}

function compare(got: Detection[], want: Detection[]): string {
  const first = want.findIndex((w, i) => !got[i] || !sameDetection(got[i], w));
  if (first < 0 && got.length === want.length) return 'equal';
  const byKey = new Map(got.map((d) => [key(d), d]));
  const sameSet = got.length === want.length && want.every((w) => {
    const g = byKey.get(key(w));
    return g !== undefined && sameDetection(g, w);
  });
  const at = first < 0 ? want.length : first;
  const g = got[at];
  const w = want[at];
  if (!sameSet || !g || !w) {
    const shared = want.filter((d) => byKey.has(key(d))).length;
    return `DIFFERS from #${at} (${shared}/${want.length} (class, prior) pairs shared, ${got.length} detections)`;
  }
  const mine = byKey.get(key(w))!.score;
  const reference = want.find((d) => key(d) === key(g))!.score;
  const tie = g.score === mine ? 'an exact tie in its float32 scores'
    : `its float32 scores ${float32Ulps(g.score, mine)} ulp apart`;
  return `reordered from #${at}: put ${key(g)} before ${key(w)}, ${tie}; `
    + `float64 reference has them ${(w.score - reference).toExponential(2)} apart`;
}

function describeScenario(c: Case): string {
  const C = cfg.numClasses;
  const scores = softmaxRows(c.conf, C);
  let quietPriors = 0;
  let passingPairs = 0;
  for (let row = 0; row < scores.length; row += C) {
    let best = 0;
    for (let k = 1; k < C; k++) {
      best = Math.max(best, scores[row + k]);
      if (scores[row + k] > cfg.scoreThreshold) passingPairs++;
    }
    if (best <= cfg.scoreThreshold) quietPriors++;
  }
  const finite = [...c.loc, ...c.conf].every(Number.isFinite);
  return `${c.scenario.padEnd(11)} seed ${c.seed}: ${(100 * quietPriors * C / scores.length).toFixed(1)}% priors `
    + `below threshold, ${passingPairs} prior/class pairs above, ${c.expected.length} detections`
    + (finite ? '' : ' — NON-FINITE VALUES');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function timeRun(run: () => unknown): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

const cases: Case[] = SCENARIOS.flatMap((scenario) => SEEDS.map((seed) => {
  const { loc, conf } = makeScenario(scenario, priors, cfg.numClasses, seed);
  return { scenario, seed, loc, conf, expected: naiveDetect(loc, conf, cfg) };
}));
console.log(`priors: ${priors.length / 4}, classes: ${cfg.numClasses}, node ${process.version}\n`);
cases.forEach((c) => console.log(describeScenario(c)));

const makers: (() => Promise<Peer>)[] = [
  () => createTfjsPeer('wasm', cfg),
  () => createTfjsPeer('cpu', cfg),
  () => createOrtPeer('web', cfg, threads),
  () => createOrtPeer('node', cfg, threads),
];
const timings: string[] = [];
for (const make of makers) {
  const peer = await make();
  await peer.activate?.();
  console.log(`\n${peer.name} (${peer.threads} thread${peer.threads === 1 ? '' : 's'})`);
  for (const c of cases) {
    console.log(`  ${c.scenario.padEnd(11)} seed ${c.seed}: ${compare(await peer.run(c.loc, c.conf), c.expected)}`);
  }
  for (const scenario of TIMED) {
    const c = cases.find((x) => x.scenario === scenario)!;
    const ms = await timeRun(() => peer.run(c.loc, c.conf));
    timings.push(`${peer.name.padEnd(10)} ${scenario.padEnd(11)} ${ms.toFixed(2).padStart(8)} ms/image`);
  }
  peer.dispose();
}
for (const scenario of TIMED) {
  const c = cases.find((x) => x.scenario === scenario)!;
  const ms = await timeRun(() => naiveDetect(c.loc, c.conf, cfg));
  timings.push(`${'naive-js'.padEnd(10)} ${scenario.padEnd(11)} ${ms.toFixed(2).padStart(8)} ms/image`);
}
console.log(`\nmedian of ${RUNS} runs after ${WARMUP} warm-up, one image:\n${timings.join('\n')}`);

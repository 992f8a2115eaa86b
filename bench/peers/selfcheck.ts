/**
 * Self-check of the benchmark peers: each must reproduce the naive reference (check.ts) on
 * every scenario, then each is timed on one image.
 *
 *   node dist/bench/peers/selfcheck.js [threads]     (threads for onnxruntime; default 1)
 */
import type { Detection } from '../../src/core/types.js';
import { compare } from '../compare.js';
import { makeScenario, type ScenarioName } from '../scenarios.js';
import { timeRun } from '../timing.js';
import { naiveDetect, softmaxRows, ssd300VocPriors } from './check.js';
import { createOrtPeer } from './onnxruntime.js';
import type { Peer, PeerConfig } from './peer.js';
import { createTfjsPeer } from './tfjs.js';

const SEEDS = [1, 2, 3];
const SCENARIOS: ScenarioName[] = ['realistic', 'crowded', 'adversarial'];
const TIMED: ScenarioName[] = ['realistic', 'adversarial'];
const WARMUP = 3;
const RUNS = 20;

const threads = Number(process.argv[2] ?? 1);
const priors = ssd300VocPriors();
const cfg: PeerConfig = {
  priors,
  numClasses: 21,
  variances: [0.1, 0.2],
  scoreThreshold: 0.01,
  nmsThreshold: 0.45,
  topK: 200,
  keepTopK: 200,
};

interface Case {
  scenario: ScenarioName;
  seed: number;
  loc: Float32Array;
  conf: Float32Array;
  expected: Detection[];
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
  return (
    `${c.scenario.padEnd(11)} seed ${c.seed}: ${((100 * quietPriors * C) / scores.length).toFixed(1)}% priors ` +
    `below threshold, ${passingPairs} prior/class pairs above, ${c.expected.length} detections` +
    (finite ? '' : ' — NON-FINITE VALUES')
  );
}

const cases: Case[] = SCENARIOS.flatMap((scenario) =>
  SEEDS.map((seed) => {
    const { loc, conf } = makeScenario(scenario, priors, cfg.numClasses, seed);
    return { scenario, seed, loc, conf, expected: naiveDetect(loc, conf, cfg) };
  }),
);
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
    const ms = await timeRun(() => peer.run(c.loc, c.conf), RUNS, WARMUP);
    timings.push(`${peer.name.padEnd(10)} ${scenario.padEnd(11)} ${ms.toFixed(2).padStart(8)} ms/image`);
  }
  peer.dispose();
}
for (const scenario of TIMED) {
  const c = cases.find((x) => x.scenario === scenario)!;
  const ms = await timeRun(() => naiveDetect(c.loc, c.conf, cfg), RUNS, WARMUP);
  timings.push(`${'naive-js'.padEnd(10)} ${scenario.padEnd(11)} ${ms.toFixed(2).padStart(8)} ms/image`);
}
console.log(`\nmedian of ${RUNS} runs after ${WARMUP} warm-up, one image:\n${timings.join('\n')}`);

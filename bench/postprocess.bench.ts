/**
 * `npm run bench`: SSD post-processing, time per image, this core against its peers in one
 * process, printed as ratios against the core's SIMD build. Every peer's detections are checked
 * against the core's. One thread everywhere (onnxruntime is told so; tfjs uses one in Node).
 *
 *   node dist/bench/postprocess.bench.js [--quick] [--no-peers] [--only TEXT]
 *
 * `--only dense` runs only the cases whose name contains "dense".
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import {
  createPostprocessor,
  presets,
  type Detection,
  type PostprocessConfig,
  type PriorConfig,
} from '../src/index.js';
import { instantiateCore } from '../src/core/loader.js';
import { referenceDetect } from '../src/core/reference/detect.js';
import { compare } from './compare.js';
import { createOrtPeer } from './peers/onnxruntime.js';
import type { Peer, PeerConfig } from './peers/peer.js';
import { createTfjsPeer } from './peers/tfjs.js';
import { makeScenario, type ScenarioName } from './scenarios.js';
import { timeRun } from './timing.js';

const quick = process.argv.includes('--quick');
const withPeers = !process.argv.includes('--no-peers');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
if (onlyAt >= 0 && !only) throw new Error('--only needs the text a case name must contain, e.g. --only dense');
/** Each contender is timed for about this long (at least MIN_RUNS runs). */
const BUDGET_MS = quick ? 200 : 2000;
const MIN_RUNS = quick ? 3 : 7;
const MAX_RUNS = quick ? 50 : 2000;

/** ssd.pytorch's COCO configuration: the same 8732 priors layout with COCO box sizes, 81 classes. */
const ssd300Coco81: PostprocessConfig = {
  ...presets.ssd300Voc,
  priors: {
    ...(presets.ssd300Voc.priors as PriorConfig & { family: 'ssd' }),
    minSizes: [21, 45, 99, 153, 207, 261],
    maxSizes: [45, 99, 153, 207, 261, 315],
  },
  numClasses: 81,
  labels: undefined,
};

interface Case {
  name: string;
  config: PostprocessConfig;
  scenario: ScenarioName;
  seed: number;
}
const CASES: Case[] = [
  { name: 'SSD300-VOC realistic', config: presets.ssd300Voc, scenario: 'realistic', seed: 11 },
  { name: 'SSD300-VOC crowded', config: presets.ssd300Voc, scenario: 'crowded', seed: 12 },
  { name: 'SSD300-VOC dense', config: presets.ssd300Voc, scenario: 'dense', seed: 16 },
  { name: 'SSD300-VOC adversarial', config: presets.ssd300Voc, scenario: 'adversarial', seed: 13 },
  { name: 'SSD512-VOC realistic', config: presets.ssd512Voc, scenario: 'realistic', seed: 14 },
  { name: 'SSD300-COCO81 realistic', config: ssd300Coco81, scenario: 'realistic', seed: 15 },
];

interface Contender {
  name: string;
  run(): unknown;
  detections?(): Promise<Detection[]>;
}
interface Row {
  name: string;
  ms: number;
  check: string;
}

/** Times one contender: a first run sizes the run count to the budget. */
async function measure(run: () => unknown): Promise<number> {
  const once = await timeRun(run, 1, 2);
  const runs = Math.max(MIN_RUNS, Math.min(MAX_RUNS, Math.round(BUDGET_MS / Math.max(once, 1e-3))));
  return timeRun(run, runs, Math.min(runs, 20));
}

async function floorContender(loc: Float32Array, conf: Float32Array): Promise<Contender> {
  // one pass that only reads every input float once, in wasm SIMD: the core's NaN scan
  const core = await instantiateCore({ build: 'simd' });
  const base = core.scratch((loc.length + conf.length) * 4);
  new Float32Array(core.memory.buffer, base, loc.length).set(loc);
  new Float32Array(core.memory.buffer, base + loc.length * 4, conf.length).set(conf);
  return {
    name: 'floor (read once, wasm SIMD)',
    run: () =>
      core.exports.findNonFinite(base, loc.length) + core.exports.findNonFinite(base + loc.length * 4, conf.length),
  };
}

function peerContender(peer: Peer, loc: Float32Array, conf: Float32Array): Contender {
  return { name: `${peer.name}`, run: () => peer.run(loc, conf), detections: async () => peer.run(loc, conf) };
}

async function benchCase(c: Case): Promise<{ rows: Row[]; coreMs: number; numPriors: number }> {
  const simd = await createPostprocessor(c.config, { build: 'simd' });
  const baseline = await createPostprocessor(c.config, { build: 'baseline' });
  const { numPriors, numClasses } = simd.config;
  const { loc, conf } = makeScenario(c.scenario, simd.priors, numClasses, c.seed);
  const truth = simd.run(loc, conf)[0];
  const contenders: Contender[] = [
    { name: 'ssd-edge core, SIMD', run: () => simd.run(loc, conf), detections: async () => simd.run(loc, conf)[0] },
    {
      name: 'ssd-edge core, baseline',
      run: () => baseline.run(loc, conf),
      detections: async () => baseline.run(loc, conf)[0],
    },
    {
      name: 'plain-TS reference',
      run: () => referenceDetect(simd.config, loc, conf),
      detections: async () => referenceDetect(simd.config, loc, conf)[0],
    },
    await floorContender(loc, conf),
  ];
  const peers: Peer[] = [];
  if (withPeers) {
    const cfg: PeerConfig = {
      priors: simd.priors,
      numClasses,
      variances: [0.1, 0.2],
      scoreThreshold: 0.01,
      nmsThreshold: c.config.nmsThreshold,
      topK: c.config.topK,
      keepTopK: c.config.keepTopK,
    };
    peers.push(
      await createTfjsPeer('wasm', cfg),
      await createTfjsPeer('cpu', cfg),
      await createOrtPeer('web', cfg, 1),
      await createOrtPeer('node', cfg, 1),
    );
  }
  const rows: Row[] = [];
  for (const contender of [...contenders, ...peers.map((p) => peerContender(p, loc, conf))]) {
    const peer = peers.find((p) => p.name === contender.name);
    await peer?.activate?.();
    const check = contender.detections ? compare(await contender.detections(), truth) : '—';
    rows.push({ name: contender.name, ms: await measure(contender.run), check });
    process.stderr.write('.');
  }
  peers.forEach((p) => p.dispose());
  simd.dispose();
  baseline.dispose();
  return { rows, coreMs: rows[0].ms, numPriors };
}

function table(c: Case, rows: Row[], coreMs: number): string {
  const lines = [
    `### ${c.name}`,
    '',
    '| implementation | ms / image | × core SIMD time | detections vs core |',
    '|---|---:|---:|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.ms < 0.1 ? r.ms.toFixed(4) : r.ms.toFixed(3)} | ${(r.ms / coreMs).toFixed(r.ms < coreMs ? 2 : 1)} | ${r.check} |`,
    );
  }
  return lines.join('\n');
}

const wasmSize = (build: string) => statSync(new URL(`../wasm/ssd-core.${build}.wasm`, import.meta.url)).size;
console.log(`# ssd-edge post-processing benchmark\n`);
console.log(
  `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}; ` +
    `median ms per image, one image, one thread; ${quick ? 'QUICK run (few repetitions)' : `about ${BUDGET_MS / 1000} s per contender`}.`,
);
console.log(`Core wasm files: SIMD ${wasmSize('simd')} bytes, baseline ${wasmSize('baseline')} bytes.\n`);
const results = new Map<string, { coreMs: number; numPriors: number }>();
const cases = CASES.filter((c) => only === undefined || c.name.includes(only));
if (cases.length === 0)
  throw new Error(`--only ${only} matches no case; the cases are ${CASES.map((c) => `'${c.name}'`).join(', ')}`);
for (const c of cases) {
  const { rows, coreMs, numPriors } = await benchCase(c);
  results.set(c.name, { coreMs, numPriors });
  process.stderr.write('\n');
  console.log(`${table(c, rows, coreMs)}\n`);
}
const s300 = results.get('SSD300-VOC realistic'),
  s512 = results.get('SSD512-VOC realistic');
if (s300 && s512)
  console.log(
    `Scaling SSD300 → SSD512 (realistic): ${(s512.numPriors / s300.numPriors).toFixed(2)}× the priors, ` +
      `${(s512.coreMs / s300.coreMs).toFixed(2)}× the time.`,
  );

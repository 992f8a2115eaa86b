/**
 * `npm run bench:coco:paired`: the levers on the exact COCO model as paired comparisons, for a
 * shared machine. Every variant gets its own onnxruntime-web (wasm, in Node) session in one
 * process, and each round runs every variant once, one after the other, on the same input; the
 * ratio of each variant to the baseline is taken within a round, so load that drifts over seconds
 * cancels out. Prints the median time and the median per-round ratio of each variant.
 * The QDQ and float variants are converted from the .tflite in-process (convertModel), so "exact
 * is as fast as QDQ" is reproducible: `npm run bench:coco:paired -- --only exact,qdq`.
 * Options: --rounds N (15), --threads N (1), --only KEYS (comma-separated: exact, extended,
 * basic, disabled, int8, qdq, float; default all; the baseline 'exact' always runs).
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../tests/browser/chromium.js';
import { convertModel } from '../src/convert/index.js';
import { median } from '../src/util/median.js';
import { readTfliteCocoFixtures } from '../tests/tflite-reference/fixtures.js';
import { int8WeightsModel } from './coco-levers.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    threads: { type: 'string', default: '1' },
    only: { type: 'string' },
  },
});
const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = Number(values.threads);
const exact = new Uint8Array(await readFile(path.join(repoRoot, 'models/ssd-mobilenet-v2-coco.onnx')));
const tflite = new Uint8Array(
  await readFile(path.join(repoRoot, 'models/mobilenet_ssd_v2_coco_quant_postprocess.tflite')),
);
const input = (await readTfliteCocoFixtures()).find((f) => f.name === 'dog')!.input;

// [key, name, model (made only when the variant runs), session options]; the first is the baseline
const allVariants: [string, string, () => Uint8Array, object][] = [
  ['exact', "exact, 'all' (baseline)", () => exact, { graphOptimizationLevel: 'all' }],
  [
    'qdq',
    "qdq (--mode qdq), 'all'",
    () => convertModel(tflite, { mode: 'qdq' }).onnx,
    { graphOptimizationLevel: 'all' },
  ],
  ['extended', "exact, 'extended'", () => exact, { graphOptimizationLevel: 'extended' }],
  ['basic', "exact, 'basic'", () => exact, { graphOptimizationLevel: 'basic' }],
  ['disabled', "exact, 'disabled'", () => exact, { graphOptimizationLevel: 'disabled' }],
  ['int8', "exact, int8 weights, 'all'", () => int8WeightsModel(exact), { graphOptimizationLevel: 'all' }],
  [
    'float',
    "float (--float), 'all'",
    () => convertModel(tflite, { mode: 'float' }).onnx,
    { graphOptimizationLevel: 'all' },
  ],
];
const only = values.only?.split(',').map((key) => key.trim());
const unknown = only?.filter((key) => !allVariants.some(([k]) => k === key));
if (unknown?.length)
  throw new RangeError(
    `--only ${unknown.join(', ')}: no such variant; the variants are ${allVariants.map(([k]) => k).join(', ')}`,
  );
const variants = allVariants
  .filter(([key], index) => index === 0 || !only || only.includes(key))
  .map(([, name, model, options]) => [name, model(), options] as const);
const sessions = [];
for (const [name, bytes, options] of variants) {
  const start = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], ...options });
  const createMs = performance.now() - start;
  await session.run({ image: new ort.Tensor('uint8', input, [1, 300, 300, 3]) }); // warm-up
  sessions.push({ name, session, createMs, times: [] as number[], ratios: [] as number[] });
}
const loadBefore = os.loadavg()[0];
for (let round = 0; round < Number(values.rounds); round++) {
  for (const s of sessions) {
    const start = performance.now();
    await s.session.run({ image: new ort.Tensor('uint8', input, [1, 300, 300, 3]) });
    s.times.push(performance.now() - start);
  }
  for (const s of sessions) s.ratios.push(s.times[round] / sessions[0].times[round]);
}
console.log(
  `onnxruntime-web ${ort.env.versions.web} wasm in Node ${process.version}, ${ort.env.wasm.numThreads} thread(s), ` +
    `${values.rounds} rounds; load average ${loadBefore.toFixed(2)} → ${os.loadavg()[0].toFixed(2)}\n`,
);
console.log('| variant | session create ms | median ms | min ms | median ratio to baseline (per round) |');
console.log('|---|---:|---:|---:|---:|');
for (const s of sessions) {
  console.log(
    `| ${s.name} | ${s.createMs.toFixed(0)} | ${median(s.times).toFixed(1)} | ${Math.min(...s.times).toFixed(1)} | ${median(s.ratios).toFixed(2)} |`,
  );
}

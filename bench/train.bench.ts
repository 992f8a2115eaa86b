/**
 * `npm run bench:train`: training throughput (images/s, data loading included) of the real
 * training loop per tfjs backend, in one process, printed as ratios against the cpu backend:
 * SSD300 width 1/16 with and without batch normalisation, and the mini SSD. tfjs-node and
 * tfjs-node-gpu are measured when installed (they are optional; `npm ci` never installs them).
 * Then data parallelism: the batch-norm SSD300 on wasm with `workers` 1 and 2 (batch 8, as the
 * default model trains), as a ratio. A small procedural dataset is generated first.
 *
 *   node dist/bench/train.bench.js [--steps n] [--batch n] [--no-cpu] [--no-workers]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateVocDataset } from '../src/train/data/index.js';
import { TRAINING_BACKENDS, type TrainingBackendName } from '../src/train/tfjs.js';
import { train, type TrainOptions } from '../src/train/train.js';

const argValue = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const STEPS = argValue('--steps', 4);
const BATCH = argValue('--batch', 4);
const withCpu = !process.argv.includes('--no-cpu');
const withWorkers = !process.argv.includes('--no-workers');
const PARALLEL_BATCH = 8;

interface Contender {
  name: string;
  options: Partial<TrainOptions>;
}
const CONTENDERS: Contender[] = [
  { name: 'SSD300 w1/16', options: { width: 1 / 16 } },
  {
    name: 'SSD300 w1/16 +BN',
    options: { width: 1 / 16, batchNorm: true, backgroundPrior: 0.99, inputStd: [58, 57, 57] },
  },
  { name: 'mini SSD', options: { arch: 'mini', width: 1 } },
];

/** Median images/s over the steps after the first (which pays for kernel set-up). */
async function measure(
  data: string,
  dir: string,
  backend: TrainingBackendName,
  contender: Contender,
  batch = BATCH,
): Promise<number> {
  const rates: number[] = [];
  await train({
    data,
    backend,
    batch,
    maxSteps: STEPS + 1,
    epochs: 100,
    lr: 1e-4,
    checkpointDir: path.join(dir, 'checkpoint'),
    checkpointEvery: 0,
    ...contender.options,
    onProgress: (p) => {
      if (p.step > 1) rates.push(p.imagesPerSecond);
    },
  });
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1];
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ssd-edge-bench-train-'));
  try {
    const data = path.join(dir, 'data');
    const batches = withWorkers ? Math.max(BATCH, PARALLEL_BATCH) : BATCH;
    await generateVocDataset(data, { trainCount: Math.max(16, batches * (STEPS + 1)), testCount: 0, seed: 9 });
    console.log(
      `training throughput, batch ${BATCH}, median of ${STEPS} steps after a warm-up; ${os.cpus()[0]?.model ?? 'cpu'}, ` +
        `${os.cpus().length} cores, Node ${process.version}`,
    );
    const backends = TRAINING_BACKENDS.filter((b) => withCpu || b !== 'cpu');
    for (const contender of CONTENDERS) {
      const results = new Map<string, number>();
      for (const backend of backends) {
        try {
          results.set(backend, await measure(data, dir, backend, contender));
        } catch (error) {
          const message = (error as Error).message;
          if (!/not installed|cannot train on/.test(message)) throw error;
        }
      }
      const cpu = results.get('cpu');
      const cells = [...results].map(
        ([b, rate]) =>
          `${b} ${rate.toFixed(2)} images/s${cpu && b !== 'cpu' ? ` (${(rate / cpu).toFixed(0)}× cpu)` : ''}`,
      );
      console.log(`${contender.name.padEnd(18)} ${cells.join(' | ')}`);
    }
    if (withWorkers) await measureDataParallel(data, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `workers` 1 against 2 on wasm, the batch-norm SSD300 at batch 8 (each thread gets 4 images). */
async function measureDataParallel(data: string, dir: string): Promise<void> {
  const contender = CONTENDERS[1];
  const one = await measure(data, dir, 'wasm', contender, PARALLEL_BATCH);
  const two = await measure(
    data,
    dir,
    'wasm',
    { name: contender.name, options: { ...contender.options, workers: 2 } },
    PARALLEL_BATCH,
  );
  console.log(
    `${`${contender.name}, batch ${PARALLEL_BATCH}`.padEnd(18)} wasm, 1 thread ${one.toFixed(2)} images/s | ` +
      `wasm, --workers 2 ${two.toFixed(2)} images/s (${(two / one).toFixed(2)}× 1 thread)`,
  );
}

await main();

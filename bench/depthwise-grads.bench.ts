/**
 * The depthwise-convolution gradients on tfjs's wasm backend, before and after they moved into the
 * training module's SIMD wasm kernels, in one process:
 *  1. per kernel: dx and dW of one depthwise layer of each stage of SSDLite MobileNet V2 at 320×320
 *     (stride 1 and 2, 32 to 1280 channels), the plain-JS peer (bench/peers/depthwise-grads-js.ts, what shipped
 *     before) against the SIMD wasm kernels (src/train/kernels), as milliseconds and a ratio;
 *  2. end to end: SSDLite MobileNet V2 training images per CPU second and per wall-clock second
 *     (data loading included) with each pair registered, alternating JS, wasm, JS, wasm so that a
 *     change in machine load hits both.
 *
 *   node dist/bench/depthwise-grads.bench.js [--steps n] [--batch n] [--no-train]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { generateVocDataset } from '../src/train/data/index.js';
import { WASM_TRAINING_KERNELS } from '../src/train/kernels/index.js';
import { initTraining } from '../src/train/tfjs.js';
import { train } from '../src/train/train.js';
import { depthwiseBackpropFilterJsConfig, depthwiseBackpropInputJsConfig } from './peers/depthwise-grads-js.js';

const argValue = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const STEPS = argValue('--steps', 3);
const BATCH = argValue('--batch', 2);

type Variant = 'js' | 'wasm';
const WASM_CONFIGS = WASM_TRAINING_KERNELS.filter((k) => k.kernelName.startsWith('DepthwiseConv2dNativeBackprop'));
const JS_CONFIGS = [depthwiseBackpropInputJsConfig, depthwiseBackpropFilterJsConfig];

/**
 * Makes `variant` the depthwise pair that registerWasmTrainingKernels installs (train() calls it
 * through initTraining on every run), by swapping the entries of its list.
 */
function use(variant: Variant): void {
  const list = WASM_TRAINING_KERNELS as tf.KernelConfig[];
  const wanted = variant === 'js' ? JS_CONFIGS : WASM_CONFIGS;
  for (const config of wanted) {
    const at = list.findIndex((k) => k.kernelName === config.kernelName);
    list[at] = config;
    if (tf.getKernel(config.kernelName, 'wasm') !== undefined) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}

/** One depthwise layer of each stage of SSDLite MobileNet V2 at 320×320, width 1 (input size, channels, stride). */
const LAYERS: [number, number, number][] = [
  [160, 32, 1],
  [160, 96, 2],
  [80, 144, 1],
  [80, 144, 2],
  [40, 192, 1],
  [40, 192, 2],
  [20, 384, 1],
  [20, 576, 1],
  [20, 576, 2],
  [10, 960, 1],
  [10, 1280, 1],
];

function timeLayers(variant: Variant, repeats: number): number {
  use(variant);
  let ms = 0;
  for (const [size, channels, stride] of LAYERS) {
    const x = tf.randomNormal([BATCH, size, size, channels]) as tf.Tensor4D;
    const filter = tf.randomNormal([3, 3, channels, 1]) as tf.Tensor4D;
    const outSize = Math.ceil(size / stride);
    const dy = tf.randomNormal([BATCH, outSize, outSize, channels]) as tf.Tensor4D;
    const attrs = { strides: stride, pad: 'same', dilations: 1 };
    const run = () => {
      const dx = tf
        .engine()
        .runKernel(
          'DepthwiseConv2dNativeBackpropInput',
          { dy, filter },
          { ...attrs, inputShape: x.shape },
        ) as tf.Tensor;
      const dw = tf
        .engine()
        .runKernel(
          'DepthwiseConv2dNativeBackpropFilter',
          { x, dy },
          { ...attrs, filterShape: filter.shape },
        ) as tf.Tensor;
      dx.dataSync();
      tf.dispose([dx, dw]);
    };
    run(); // warm-up: allocations, the module's memory growth
    const start = performance.now();
    for (let r = 0; r < repeats; r++) run();
    ms += (performance.now() - start) / repeats;
    tf.dispose([x, filter, dy]);
  }
  return ms;
}

let runs = 0;

/**
 * One training run of STEPS + 1 steps with `variant`'s kernels; over the steps after the first:
 * images per wall-clock second, and images per CPU second of this process (user + system, which a
 * loaded machine inflates far less than wall-clock time: the process waits for a core off the clock).
 */
async function trainRate(variant: Variant, data: string, dir: string): Promise<{ wall: number; cpu: number }> {
  use(variant);
  let start = 0,
    cpuStart: NodeJS.CpuUsage | undefined,
    wall = 0,
    cpu = 0;
  await train({
    data,
    backend: 'wasm',
    arch: 'ssdlite-mobilenet-v2',
    inputSize: 320,
    batch: BATCH,
    maxSteps: STEPS + 1,
    epochs: 100,
    lr: 1e-4,
    checkpointDir: path.join(dir, `checkpoint-${++runs}`),
    checkpointEvery: 0,
    log: () => {},
    onProgress: (p) => {
      if (p.step === 1) {
        start = performance.now();
        cpuStart = process.cpuUsage();
      } else if (p.step === STEPS + 1) {
        const used = process.cpuUsage(cpuStart);
        wall = (performance.now() - start) / 1000;
        cpu = (used.user + used.system) / 1e6;
      }
    },
  });
  const images = STEPS * BATCH;
  return { wall: images / wall, cpu: images / cpu };
}

async function main(): Promise<void> {
  const load = () =>
    os
      .loadavg()
      .map((v) => v.toFixed(2))
      .join(' ');
  console.log(
    `depthwise gradients on tfjs-wasm, batch ${BATCH}; ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, ` +
      `Node ${process.version}, load ${load()}`,
  );
  await initTraining({ backend: 'wasm', log: () => {} });
  const js = timeLayers('js', 2),
    simd = timeLayers('wasm', 2),
    js2 = timeLayers('js', 2),
    simd2 = timeLayers('wasm', 2);
  const jsMs = Math.min(js, js2),
    wasmMs = Math.min(simd, simd2);
  console.log(
    `${LAYERS.length} SSDLite depthwise layers (one a stage), dx + dW: JS ${jsMs.toFixed(0)} ms, SIMD wasm ${wasmMs.toFixed(0)} ms ` +
      `(${(jsMs / wasmMs).toFixed(1)}× faster), load ${load()}`,
  );
  if (process.argv.includes('--no-train')) return;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ssd-edge-bench-dwgrad-'));
  try {
    const data = path.join(dir, 'data');
    await generateVocDataset(data, { trainCount: Math.max(16, BATCH * (STEPS + 1)), testCount: 0, seed: 9 });
    const rates: Record<Variant, { wall: number; cpu: number }[]> = { js: [], wasm: [] };
    for (const variant of ['js', 'wasm', 'js', 'wasm'] as const)
      rates[variant].push(await trainRate(variant, data, dir));
    const best = (v: Variant, k: 'wall' | 'cpu') => Math.max(...rates[v].map((r) => r[k]));
    const runsOf = (v: Variant, k: 'wall' | 'cpu') => rates[v].map((r) => r[k].toFixed(2)).join('/');
    for (const k of ['cpu', 'wall'] as const) {
      console.log(
        `SSDLite MobileNet V2 320, training on wasm, images per ${k === 'cpu' ? 'CPU' : 'wall-clock'} second: ` +
          `JS ${best('js', k).toFixed(2)}, SIMD wasm ${best('wasm', k).toFixed(2)} (${(best('wasm', k) / best('js', k)).toFixed(2)}×; ` +
          `runs ${runsOf('js', k)} vs ${runsOf('wasm', k)}), load ${load()}`,
      );
    }
  } finally {
    use('wasm');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

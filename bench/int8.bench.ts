/**
 * The uint8 executor (src/int8/) against onnxruntime on Coral's SSD MobileNet V2 COCO, in one Node
 * process, one thread each, the same input (tests/fixtures/tflite-coco/dog.input.u8):
 * - ssd-edge int8, SIMD build and scalar baseline build, from the .tflite file, and the SIMD build
 *   on two threads (`threads: 2`: the caller and one worker_threads worker, src/int8/threads.ts);
 * - onnxruntime-node (CPU EP) and onnxruntime-web (wasm EP, SIMD) on models/ssd-mobilenet-v2-coco.onnx,
 *   the exact conversion of the same file (QLinearConv + integer ADD emulation + table LOGISTIC).
 * Prints per-inference medians (and minima) as a Markdown table, the machine load before and after
 * (`uptime`; the machine is shared), and checks that every runtime's heads equal TFLite's fixture.
 *
 *   npm run bench:int8            # SSD_INT8_RUNS=20 (default), SSD_INT8_BASELINE_RUNS=3
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createTfliteInt8Network, type Int8Network } from '../src/int8/network.js';
import { median } from './timing.js';

const MODELS = new URL('../../models/', import.meta.url);
const FIXTURES = new URL('../../tests/fixtures/tflite-coco/', import.meta.url);
const RUNS = Number(process.env.SSD_INT8_RUNS ?? 20);
const BASELINE_RUNS = Number(process.env.SSD_INT8_BASELINE_RUNS ?? 3);

const uptime = () => execSync('uptime').toString().trim();
const read = (url: URL) => new Uint8Array(readFileSync(url));

interface Runner {
  name: string;
  runs: number;
  run: () => Promise<[Uint8Array, Uint8Array]> | [Uint8Array, Uint8Array];
  first: number;
  exact: boolean;
  times: number[];
}

/** Float heads of the ONNX model back to TFLite's uint8 (exact: v = (q − zero)·scale in f32). */
function requantize(values: Float32Array, scale: number, zeroPoint: number): Uint8Array {
  return Uint8Array.from(values, (v) => Math.round(v / scale) + zeroPoint);
}

async function main(): Promise<void> {
  const loadBefore = uptime();
  const tflite = read(new URL('mobilenet_ssd_v2_coco_quant_postprocess.tflite', MODELS));
  const onnx = read(new URL('ssd-mobilenet-v2-coco.onnx', MODELS));
  const input = read(new URL('dog.input.u8', FIXTURES));
  const expected: [Uint8Array, Uint8Array] = [
    read(new URL('dog.box-encodings.u8', FIXTURES)),
    read(new URL('dog.class-predictions.u8', FIXTURES)),
  ];
  const runners: Runner[] = [];
  const disposers: (() => Promise<void>)[] = [];

  /**
   * Creates a runner; its first run (timed apart) is checked against TFLite's heads. `heads`
   * turns what a run returns into uint8 heads, outside the timed runs.
   */
  const add = async (
    name: string,
    runs: number,
    run: Runner['run'],
    heads = (out: [Uint8Array, Uint8Array]) => out,
  ) => {
    const t0 = performance.now();
    const result = await run();
    const first = performance.now() - t0;
    const [box, cls] = heads(result);
    const exact =
      Buffer.from(box).equals(Buffer.from(expected[0])) && Buffer.from(cls).equals(Buffer.from(expected[1]));
    await run(); // warm-up
    runners.push({ name, runs, run, first, exact, times: [] });
    console.error(`${name}: first run ${first.toFixed(0)} ms, heads equal TFLite's: ${exact}`);
  };

  for (const build of ['simd', 'baseline'] as const) {
    const t0 = performance.now();
    const net: Int8Network = await createTfliteInt8Network(tflite, { build });
    console.error(
      `int8 ${build}: built in ${(performance.now() - t0).toFixed(0)} ms, arena ${(net.arenaBytes / 2 ** 20).toFixed(1)} MiB`,
    );
    await add(
      `ssd-edge int8, ${build === 'simd' ? 'SIMD' : 'baseline (scalar)'} wasm`,
      build === 'simd' ? RUNS : BASELINE_RUNS,
      () => net.run(input) as [Uint8Array, Uint8Array],
    );
  }
  {
    const net = await createTfliteInt8Network(tflite, { threads: 2 });
    if (net.threads !== 2) throw new Error(`threads: 2 fell back to one thread: ${net.threadsReason}`);
    await add('ssd-edge int8, SIMD wasm, 2 threads', RUNS, () => net.run(input) as [Uint8Array, Uint8Array]);
    disposers.push(() => net.dispose());
  }

  const [boxQ, clsQ] = [
    [0.09133967, 179],
    [1 / 256, 0],
  ] as const;
  // the timed run returns onnxruntime's float heads as they come; they are requantised for the check only
  type Floats = [Uint8Array, Uint8Array];
  const ortRun =
    (session: { run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>> }, tensor: unknown) =>
    async (): Promise<Floats> => {
      const out = await session.run({ image: tensor });
      return [out.loc.data, out.conf.data] as unknown as Floats;
    };
  const requantizeHeads = ([loc, conf]: Floats): Floats => [
    requantize(loc as unknown as Float32Array, Math.fround(boxQ[0]), boxQ[1]),
    requantize(conf as unknown as Float32Array, clsQ[0], clsQ[1]),
  ];
  const options = { graphOptimizationLevel: 'all', executionMode: 'sequential' } as const;
  {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(onnx, {
      ...options,
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    await add(
      'onnxruntime-node 1.30 (CPU EP)',
      RUNS,
      ortRun(session as never, new ort.Tensor('uint8', input, [1, 300, 300, 3])),
      requantizeHeads,
    );
  }
  {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(onnx, { ...options, executionProviders: ['wasm'] });
    await add(
      'onnxruntime-web 1.30 (wasm EP, SIMD)',
      RUNS,
      ortRun(session as never, new ort.Tensor('uint8', input, [1, 300, 300, 3])),
      requantizeHeads,
    );
  }

  // Rounds: every runner once per round, so that the shared machine's load falls on all alike.
  for (let round = 0; round < Math.max(...runners.map((r) => r.runs)); round++) {
    for (const r of runners) {
      if (round >= r.runs) continue;
      const t0 = performance.now();
      await r.run();
      r.times.push(performance.now() - t0);
    }
  }
  const loadAfter = uptime();
  for (const dispose of disposers) await dispose();

  const simd = median(runners[0].times),
    simdMin = Math.min(...runners[0].times);
  console.log(
    `Node ${process.version}, one thread each unless the row says 2 threads, input dog.input.u8 (300×300), ${new Date().toISOString().slice(0, 10)}, runners interleaved round by round`,
  );
  console.log(`load before: ${loadBefore}`);
  console.log(`load after:  ${loadAfter}\n`);
  console.log(
    '| runtime | median ms | min ms | first run ms | runs | median ÷ ssd-edge SIMD | min ÷ ssd-edge SIMD | heads = TFLite |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const r of runners) {
    const m = median(r.times),
      lo = Math.min(...r.times);
    console.log(
      `| ${r.name} | ${m.toFixed(1)} | ${lo.toFixed(1)} | ${r.first.toFixed(0)} | ${r.runs} | ${(m / simd).toFixed(2)} | ${(lo / simdMin).toFixed(2)} | ${r.exact ? 'byte for byte' : 'NO'} |`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

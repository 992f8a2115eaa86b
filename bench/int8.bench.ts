/**
 * The uint8 executor (src/int8/) against onnxruntime on Coral's SSD MobileNet V2 COCO, in one Node
 * process, one thread each, the same input (tests/fixtures/tflite-coco/dog.input.u8):
 * - ssd-edge int8, SIMD build and scalar baseline build, from the .tflite file;
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

interface Row { name: string; runs: number; median: number; min: number; first: number; exact: boolean }

async function time(name: string, runs: number, run: () => Promise<[Uint8Array, Uint8Array]> | [Uint8Array, Uint8Array],
                    expected: [Uint8Array, Uint8Array]): Promise<Row> {
  let t0 = performance.now();
  const [box, cls] = await run();
  const first = performance.now() - t0;
  const exact = Buffer.from(box).equals(Buffer.from(expected[0])) && Buffer.from(cls).equals(Buffer.from(expected[1]));
  await run(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  const row = { name, runs, median: median(times), min: Math.min(...times), first, exact };
  console.error(`${name}: median ${row.median.toFixed(1)} ms, min ${row.min.toFixed(1)} ms, first ${first.toFixed(0)} ms, exact ${exact}`);
  return row;
}

/** Float heads of the ONNX model back to TFLite's uint8 (exact: v = (q − zero)·scale in f32). */
function requantize(values: Float32Array, scale: number, zeroPoint: number): Uint8Array {
  return Uint8Array.from(values, v => Math.round(v / scale) + zeroPoint);
}

async function main(): Promise<void> {
  const loadBefore = uptime();
  const tflite = read(new URL('mobilenet_ssd_v2_coco_quant_postprocess.tflite', MODELS));
  const onnx = read(new URL('ssd-mobilenet-v2-coco.onnx', MODELS));
  const input = read(new URL('dog.input.u8', FIXTURES));
  const expected: [Uint8Array, Uint8Array] = [read(new URL('dog.box-encodings.u8', FIXTURES)), read(new URL('dog.class-predictions.u8', FIXTURES))];
  const rows: Row[] = [];

  const int8 = async (build: 'simd' | 'baseline', runs: number) => {
    const t0 = performance.now();
    const net: Int8Network = await createTfliteInt8Network(tflite, { build });
    console.error(`int8 ${build}: built in ${(performance.now() - t0).toFixed(0)} ms, arena ${(net.arenaBytes / 2 ** 20).toFixed(1)} MiB`);
    rows.push(await time(`ssd-edge int8, SIMD wasm`.replace('SIMD', build === 'simd' ? 'SIMD' : 'baseline (scalar)'), runs, () => net.run(input) as [Uint8Array, Uint8Array], expected));
  };
  await int8('simd', RUNS);
  await int8('baseline', BASELINE_RUNS);

  const [boxQ, clsQ] = [[0.09133967, 179], [1 / 256, 0]] as const;
  const ortRun = (session: { run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown }>> }, tensor: unknown) => async (): Promise<[Uint8Array, Uint8Array]> => {
    const out = await session.run({ image: tensor });
    return [requantize(out.loc.data as Float32Array, Math.fround(boxQ[0]), boxQ[1]), requantize(out.conf.data as Float32Array, clsQ[0], clsQ[1])];
  };
  const options = { graphOptimizationLevel: 'all', executionMode: 'sequential' } as const;
  {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(onnx, { ...options, executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
    rows.push(await time('onnxruntime-node 1.30 (CPU EP)', RUNS, ortRun(session as never, new ort.Tensor('uint8', input, [1, 300, 300, 3])), expected));
  }
  {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(onnx, { ...options, executionProviders: ['wasm'] });
    rows.push(await time('onnxruntime-web 1.30 (wasm EP, SIMD)', RUNS, ortRun(session as never, new ort.Tensor('uint8', input, [1, 300, 300, 3])), expected));
  }
  const loadAfter = uptime();

  const simd = rows[0].median;
  console.log(`Node ${process.version}, one thread each, input dog.input.u8 (300×300), ${new Date().toISOString().slice(0, 10)}`);
  console.log(`load before: ${loadBefore}`);
  console.log(`load after:  ${loadAfter}\n`);
  console.log('| runtime | median ms | min ms | first run ms | runs | ÷ ssd-edge SIMD | heads = TFLite |');
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.median.toFixed(1)} | ${r.min.toFixed(1)} | ${r.first.toFixed(0)} | ${r.runs} | ${(r.median / simd).toFixed(2)} | ${r.exact ? 'byte for byte' : 'NO'} |`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/**
 * `npm run bench:coco:profile [-- --model float|int8]`: where onnxruntime-web's time goes on the
 * COCO model. Runs the model with onnxruntime's profiler on the wasm backend in Node (1 thread),
 * which prints its Chrome-trace JSON to the console; this script captures it and sums the kernel
 * times per operator type (convolutions split into depthwise, 1 × 1 and k × k by their weights'
 * shape), and the time of each run outside the kernels (the executor's per-node overhead).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../tests/browser/chromium.js';
import { convertModel } from '../src/convert/index.js';
import { decodeOnnxModel } from '../src/model/onnx/read.js';
import { int8WeightsModel } from './coco-levers.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'exact' },
    runs: { type: 'string', default: '10' },
    child: { type: 'boolean', default: false },
  },
});
const exact = new Uint8Array(await readFile(path.join(repoRoot, 'models/ssd-mobilenet-v2-coco.onnx')));
const model =
  values.model === 'float'
    ? convertModel(
        new Uint8Array(await readFile(path.join(repoRoot, 'models/mobilenet_ssd_v2_coco_quant_postprocess.tflite'))),
        { mode: 'float' },
      ).onnx
    : values.model === 'int8'
      ? int8WeightsModel(exact)
      : exact;

// the kind of each convolution, by its output name (the profiler names kernels after their node)
const kinds = new Map<string, string>();
const graph = decodeOnnxModel(model).graph!;
const weights = new Map((graph.initializer ?? []).map((t) => [t.name!, (t.dims ?? []).map(Number)]));
for (const node of graph.node ?? []) {
  if (!/Conv/.test(node.opType!)) continue;
  const w = weights.get(node.input![node.opType === 'Conv' ? 1 : 3]);
  if (w) kinds.set(node.output![0], w[1] === 1 && w[0] > 1 ? 'depthwise' : w[2] === 1 ? '1×1' : `${w[2]}×${w[3]}`);
}

const runs = Number(values.runs);
let text: string;
if (values.child) {
  // the child: run with the profiler; the wasm module writes the trace to fd 1 (fs.writeSync)
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], enableProfiling: true });
  const input = new ort.Tensor('uint8', new Uint8Array(300 * 300 * 3).fill(128), [1, 300, 300, 3]);
  for (let i = 0; i < runs + 2; i++) await session.run({ image: input });
  await session.endProfiling();
  await new Promise((resolve) => process.stdout.write('', resolve)); // the trace is flushed to the pipe
  process.exit(0);
} else {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [fileURLToPath(import.meta.url), '--child', '--model', values.model, '--runs', String(runs)],
    { maxBuffer: 1 << 30 },
  );
  text = stdout;
}
const { env } = await import('onnxruntime-web');
interface TraceEvent {
  cat: string;
  name: string;
  dur: number;
  ts: number;
  args: { op_name?: string };
}
const events = JSON.parse(text.slice(text.indexOf('['), text.indexOf('\n]') + 2)) as TraceEvent[];
const timed = events.filter((e) => e.name === 'model_run').slice(2); // the first two are warm-up
const from = timed[0].ts;
const byOp = new Map<string, { ms: number; nodes: number }>();
for (const e of events) {
  if (e.cat !== 'Node' || e.ts < from || !e.name.endsWith('_kernel_time')) continue;
  const node = e.name.replace(/(_token_\d+)?_kernel_time$/, '');
  const op = e.args.op_name! + (kinds.has(node) ? ` ${kinds.get(node)}` : '');
  const entry = byOp.get(op) ?? { ms: 0, nodes: 0 };
  entry.ms += e.dur / 1000 / timed.length;
  entry.nodes += 1 / timed.length;
  byOp.set(op, entry);
}
const runMs = timed.reduce((sum, e) => sum + e.dur / 1000, 0) / timed.length;
const kernelMs = [...byOp.values()].reduce((sum, v) => sum + v.ms, 0);
const nodes = [...byOp.values()].reduce((sum, v) => sum + v.nodes, 0);
console.log(
  `onnxruntime-web ${env.versions.web} wasm in Node, 1 thread, model '${values.model}', mean of ${timed.length} profiled runs\n`,
);
console.log('| operator | nodes | ms per run | share |');
console.log('|---|---:|---:|---:|');
for (const [op, v] of [...byOp].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`| ${op} | ${Math.round(v.nodes)} | ${v.ms.toFixed(2)} | ${((100 * v.ms) / runMs).toFixed(1)}% |`);
}
console.log(
  `| outside the kernels (executor, ${Math.round(nodes)} nodes) | | ${(runMs - kernelMs).toFixed(2)} | ${((100 * (runMs - kernelMs)) / runMs).toFixed(1)}% |`,
);
console.log(`| **run** | ${Math.round(nodes)} | ${runMs.toFixed(2)} | 100% |`);

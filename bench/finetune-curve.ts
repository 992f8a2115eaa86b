/**
 * mAP@0.5 against training wall-clock minutes, for one training configuration: trains in stages
 * (`ssd-edge train … --max-steps s`, then `--resume` to the next s: the same run, since a resumed
 * run equals an uninterrupted one), and after each stage exports the checkpoint and evaluates it
 * on the held-out split through the runtime (`ssd-edge eval --model`, onnxruntime-node). Only the
 * training time counts toward the minutes (what `train` prints); export and eval are not timed.
 * Prints one Markdown row per stage and writes them as JSON to `<out>/curve.json`.
 *
 *   node dist/bench/finetune-curve.js --out DIR --data shapes8k --stages 100,200,400 [--eval-split test] \
 *     [--eval-limit n] -- <ssd-edge train options, without --data, --checkpoints, --max-steps, --resume>
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function option(name: string, args: readonly string[]): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

interface Row { steps: number; trainSeconds: number; imagesPerSecond: number; map07: number | null; mapAll: number | null; loss: string }

async function main(): Promise<void> {
  const split = process.argv.indexOf('--');
  const own = split >= 0 ? process.argv.slice(2, split) : process.argv.slice(2);
  const trainArgs = split >= 0 ? process.argv.slice(split + 1) : [];
  const out = option('--out', own), data = option('--data', own), stages = option('--stages', own);
  if (!out || !data || !stages) throw new Error('usage: finetune-curve --out DIR --data VOC --stages s1,s2,... [--eval-split test] [--eval-limit n] -- <train options>');
  for (const reserved of ['--data', '--checkpoints', '--max-steps', '--resume']) {
    if (trainArgs.includes(reserved)) throw new Error(`finetune-curve sets ${reserved} itself; leave it out of the train options`);
  }
  const steps = stages.split(',').map(Number);
  if (!steps.every((s, i) => Number.isInteger(s) && s > 0 && (i === 0 || s > steps[i - 1]))) throw new Error(`--stages '${stages}' must be increasing step counts`);
  const evalArgs = ['--split', option('--eval-split', own) ?? 'test', ...(option('--eval-limit', own) ? ['--limit', option('--eval-limit', own)!] : [])];
  await mkdir(out, { recursive: true });
  const checkpoints = path.join(out, 'ck');
  const rows: Row[] = [];
  let trainSeconds = 0, images = 0;
  console.log(`train ${trainArgs.join(' ')}\n`);
  console.log('| steps | training minutes | images/s | mAP@0.5 (11-point) | mAP@0.5 (all-point) | last loss |');
  console.log('|---:|---:|---:|---:|---:|---|');
  for (const [k, s] of steps.entries()) {
    const trained = await run(process.execPath, [CLI, 'train', '--data', data, '--checkpoints', checkpoints, '--max-steps', String(s), '--save-every', '0',
      ...(k > 0 ? ['--resume'] : ['--force']), ...trainArgs], { maxBuffer: 64 * 2 ** 20 });
    const done = /trained (\d+) steps? \(to step (\d+)\) on \S+ in ([\d.]+) s, ([\d.]+) images\/s/.exec(trained.stdout);
    if (!done) throw new Error(`train printed no summary:\n${trained.stdout}\n${trained.stderr}`);
    const seconds = Number(done[3]);
    trainSeconds += seconds;
    images += Number(done[3]) * Number(done[4]);
    const loss = /loss ([\d.]+) \(loc ([\d.]+) conf ([\d.]+)\)/g;
    const last = [...trained.stderr.matchAll(loss)].at(-1);
    const onnx = path.join(out, `step-${s}.onnx`);
    await run(process.execPath, [CLI, 'export', '--weights', checkpoints, '--out', onnx]);
    const evaluated = JSON.parse((await run(process.execPath, [CLI, 'eval', '--model', onnx, '--data', data, '--backend', 'node', '--json', ...evalArgs],
      { maxBuffer: 64 * 2 ** 20 })).stdout) as { map07: number | null; mapAll: number | null };
    const row: Row = { steps: s, trainSeconds, imagesPerSecond: images / trainSeconds, map07: evaluated.map07, mapAll: evaluated.mapAll,
                       loss: last ? `${last[1]} (loc ${last[2]}, conf ${last[3]})` : 'n/a' };
    rows.push(row);
    const f = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));
    console.log(`| ${s} | ${(trainSeconds / 60).toFixed(1)} | ${row.imagesPerSecond.toFixed(2)} | ${f(row.map07)} | ${f(row.mapAll)} | ${row.loss} |`);
    await writeFile(path.join(out, 'curve.json'), `${JSON.stringify({ train: trainArgs, data, rows }, null, 1)}\n`);
  }
}

main().catch(error => {
  console.error((error as Error).message);
  process.exit(1);
});

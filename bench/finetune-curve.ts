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
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { checkTrainArgs, option, runStage } from './finetune-stage.js';

interface Row {
  steps: number;
  trainSeconds: number;
  imagesPerSecond: number;
  map07: number | null;
  mapAll: number | null;
  loss: string;
}

async function main(): Promise<void> {
  const split = process.argv.indexOf('--');
  const own = split >= 0 ? process.argv.slice(2, split) : process.argv.slice(2);
  const trainArgs = split >= 0 ? process.argv.slice(split + 1) : [];
  const out = option('--out', own),
    data = option('--data', own),
    stages = option('--stages', own);
  if (!out || !data || !stages)
    throw new Error(
      'usage: finetune-curve --out DIR --data VOC --stages s1,s2,... [--eval-split test] [--eval-limit n] -- <train options>',
    );
  checkTrainArgs('finetune-curve', trainArgs);
  const steps = stages.split(',').map(Number);
  if (!steps.every((s, i) => Number.isInteger(s) && s > 0 && (i === 0 || s > steps[i - 1])))
    throw new Error(`--stages '${stages}' must be increasing step counts`);
  const evalArgs = [
    '--split',
    option('--eval-split', own) ?? 'test',
    ...(option('--eval-limit', own) ? ['--limit', option('--eval-limit', own)!] : []),
  ];
  await mkdir(out, { recursive: true });
  const rows: Row[] = [];
  let trainSeconds = 0,
    images = 0;
  console.log(`train ${trainArgs.join(' ')}\n`);
  console.log('| steps | training minutes | images/s | mAP@0.5 (11-point) | mAP@0.5 (all-point) | last loss |');
  console.log('|---:|---:|---:|---:|---:|---|');
  for (const [k, s] of steps.entries()) {
    const stage = await runStage({ data, out, toStep: s, resume: k > 0, trainArgs, evalArgs });
    trainSeconds += stage.seconds;
    images += stage.seconds * stage.imagesPerSecond;
    const row: Row = {
      steps: s,
      trainSeconds,
      imagesPerSecond: images / trainSeconds,
      map07: stage.map07,
      mapAll: stage.mapAll,
      loss: stage.loss,
    };
    rows.push(row);
    const f = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));
    console.log(
      `| ${s} | ${(trainSeconds / 60).toFixed(1)} | ${row.imagesPerSecond.toFixed(2)} | ${f(row.map07)} | ${f(row.mapAll)} | ${row.loss} |`,
    );
    await writeFile(path.join(out, 'curve.json'), `${JSON.stringify({ train: trainArgs, data, rows }, null, 1)}\n`);
  }
}

main().catch((error) => {
  console.error((error as Error).message);
  process.exit(1);
});

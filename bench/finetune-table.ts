/**
 * The fine-tuning table of issue 13: the three recipes of BENCHMARKS.md, each trained for the same
 * wall-clock budget of training minutes, in stages, with the checkpoint exported and evaluated on
 * the held-out split after each stage (bench/finetune-stage.ts; export and evaluation are not
 * timed). Prints, per recipe, mAP@0.5 against training minutes, then one summary table: minutes,
 * steps, images/s, the final mAP@0.5, and the first minute at or above `--target`. Rows and
 * machine load go to `<out>/table.json`.
 *
 *   node dist/bench/finetune-table.js --data shapes8k --minutes 20 [--out runs/table] [--points 6]
 *     [--recipes lite-coco,lite-scratch,vgg] [--target 0.85] [--eval-limit n] [-- <train options for every recipe>]
 *
 * Without `--recipes` it runs the three recipes of the table; the optional recipe (lite-coco-128:
 * the same fine-tuning at a 128×128 input) runs only when `--recipes` names it.
 *
 * Train options after `--` are appended to every recipe's (the last of a repeated option wins):
 * `-- --workers 1` on a machine with one free core, `-- --batch 2` for a smoke run on a tiny set.
 * Stage lengths follow the measured rate: the first stage is a short probe, later ones aim at
 * `minutes / points` each, the last one ends at the budget.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkTrainArgs, option, runStage, type StageResult } from './finetune-stage.js';

interface Recipe {
  name: string;
  description: string;
  probeSteps: number;
  train: string[];
  /** Run only when `--recipes` names it (not part of the default table). */
  optional?: boolean;
}

/** SSDLite MobileNet V2 fine-tuned from the COCO model; lite-coco at 300×300, lite-coco-128 at 128×128. */
const LITE_COCO_TRAIN = [
  '--arch',
  'ssdlite-mobilenet-v2',
  '--init-from',
  'models/ssd-mobilenet-v2-coco.onnx',
  '--batch',
  '8',
  '--epochs',
  '4',
  '--lr',
  '4e-3',
  '--warmup',
  '50',
  '--clip-grad-norm',
  '50',
  '--background-prior',
  '0.99',
  '--freeze-backbone-steps',
  '200',
  // a tenfold decay for the last third of a 20-minute run on this machine (about 800 steps);
  // without it the held-out mAP swings by ±0.03 between stages at 4e-3 (BENCHMARKS.md)
  '--lr-steps',
  '560',
  '--workers',
  '2',
  '--backend',
  'wasm',
];

/** The recipes BENCHMARKS.md lists for issue 13 (models/ resolved against the working directory). */
const RECIPES: Recipe[] = [
  {
    name: 'lite-coco',
    description: 'SSDLite MobileNet V2, fine-tuned from COCO (base held 200 steps, lr ÷10 at 560)',
    probeSteps: 20,
    train: LITE_COCO_TRAIN,
  },
  {
    name: 'lite-scratch',
    description: 'SSDLite MobileNet V2, from scratch (batch norm)',
    probeSteps: 20,
    train: [
      '--arch',
      'ssdlite-mobilenet-v2',
      '--batch-norm',
      '--batch',
      '8',
      '--epochs',
      '4',
      '--lr',
      '4e-3',
      '--warmup',
      '100',
      '--clip-grad-norm',
      '50',
      '--background-prior',
      '0.99',
      '--workers',
      '2',
      '--backend',
      'wasm',
    ],
  },
  {
    name: 'vgg',
    description: "SSD300 VGG16 width 1/16, from scratch (the default model's recipe)",
    probeSteps: 50,
    train: [
      '--width',
      '0.0625',
      '--batch',
      '8',
      '--epochs',
      '4',
      '--lr',
      '4e-3',
      '--warmup',
      '300',
      '--lr-steps',
      '3000,3600',
      '--clip-grad-norm',
      '50',
      '--batch-norm',
      '--background-prior',
      '0.99',
      '--input-std',
      '58,57,57',
      '--workers',
      '2',
      '--backend',
      'wasm',
    ],
  },
  {
    // the one input size measured faster than the shapes model at inference (BENCHMARKS.md); its
    // mAP stays far below 300's (the COCO features at 8 × 8 cells): kept to reproduce that figure
    name: 'lite-coco-128',
    description: 'SSDLite MobileNet V2 at 128×128, fine-tuned from COCO (base held 200 steps)',
    probeSteps: 20,
    train: [...LITE_COCO_TRAIN, '--input-size', '128', '--epochs', '8'],
    optional: true,
  },
];

interface Row {
  steps: number;
  minutes: number;
  imagesPerSecond: number;
  map07: number | null;
  mapAll: number | null;
  loss: string;
  load: number;
}

const f4 = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));

/** Trains `recipe` in stages until `budget` seconds of training; one row per stage. */
async function runRecipe(
  recipe: Recipe,
  o: { data: string; out: string; budget: number; points: number; extra: string[]; evalArgs: string[] },
): Promise<Row[]> {
  const trainArgs = [...recipe.train, ...o.extra];
  const out = path.join(o.out, recipe.name);
  await mkdir(out, { recursive: true });
  console.log(`\n### ${recipe.description}\n\n\`train ${trainArgs.join(' ')}\`\n`);
  console.log(
    '| steps | training minutes | images/s | mAP@0.5 (11-point) | mAP@0.5 (all-point) | last loss | load (1 min) |',
  );
  console.log('|---:|---:|---:|---:|---:|---|---:|');
  const rows: Row[] = [];
  let seconds = 0,
    images = 0,
    step = 0,
    chunk = recipe.probeSteps;
  // A held base trains several times faster than a free one: a stage ends where the base is let go,
  // and the next is a probe, so no stage is planned from the held base's rate.
  const freezeAt = trainArgs.lastIndexOf('--freeze-backbone-steps'); // the last of a repeated option wins
  const freeze = freezeAt >= 0 ? Number(trainArgs[freezeAt + 1]) : 0;
  while (seconds < o.budget) {
    const crossesFreeze = step < freeze && step + chunk > freeze;
    const toStep = crossesFreeze ? freeze : step + chunk;
    const stage: StageResult = await runStage({
      data: o.data,
      out,
      toStep,
      resume: step > 0,
      trainArgs,
      evalArgs: o.evalArgs,
    });
    if (stage.stepsTrained === 0) break; // the run's epochs are spent
    step += stage.stepsTrained;
    seconds += stage.seconds;
    images += stage.seconds * stage.imagesPerSecond;
    const row: Row = {
      steps: step,
      minutes: seconds / 60,
      imagesPerSecond: images / seconds,
      map07: stage.map07,
      mapAll: stage.mapAll,
      loss: stage.loss,
      load: os.loadavg()[0],
    };
    rows.push(row);
    console.log(
      `| ${step} | ${row.minutes.toFixed(1)} | ${row.imagesPerSecond.toFixed(2)} | ${f4(row.map07)} | ${f4(row.mapAll)} | ${row.loss} | ${row.load.toFixed(2)} |`,
    );
    // the latest stage's rate: the cumulative one lags behind a change of rate (the base let go)
    const stepsPerSecond = stage.stepsTrained / stage.seconds,
      remaining = o.budget - seconds;
    chunk =
      step === freeze && freeze > 0
        ? recipe.probeSteps
        : Math.max(1, Math.round(Math.min(remaining, o.budget / o.points) * stepsPerSecond));
    if (stage.stepsTrained < chunk && remaining > 0 && stepsPerSecond * remaining < 1) break; // less than a step left
  }
  return rows;
}

async function main(): Promise<void> {
  const split = process.argv.indexOf('--');
  const own = split >= 0 ? process.argv.slice(2, split) : process.argv.slice(2);
  const extra = split >= 0 ? process.argv.slice(split + 1) : [];
  const data = option('--data', own),
    minutes = Number(option('--minutes', own) ?? NaN);
  const usage =
    'usage: finetune-table --data VOC --minutes m [--out DIR] [--points n] [--recipes a,b] [--target mAP] [--eval-limit n] [-- <train options>]';
  if (!data || !(minutes > 0)) throw new Error(usage);
  checkTrainArgs('finetune-table', extra);
  const points = Number(option('--points', own) ?? 6),
    target = Number(option('--target', own) ?? 0.85);
  if (!(Number.isInteger(points) && points >= 1))
    throw new Error(`--points ${option('--points', own)} must be an integer ≥ 1`);
  const names = (
    option('--recipes', own) ??
    RECIPES.filter((r) => !r.optional)
      .map((r) => r.name)
      .join(',')
  ).split(',');
  const unknown = names.filter((n) => !RECIPES.some((r) => r.name === n));
  if (unknown.length > 0)
    throw new Error(
      `--recipes: unknown ${unknown.join(', ')}; the recipes are ${RECIPES.map((r) => r.name).join(', ')}`,
    );
  const out = option('--out', own) ?? path.join('runs', 'finetune-table');
  const evalArgs = [
    '--split',
    option('--eval-split', own) ?? 'test',
    ...(option('--eval-limit', own) ? ['--limit', option('--eval-limit', own)!] : []),
  ];
  console.log(
    `fine-tuning table: ${minutes} training minutes per recipe on ${data}; ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, ` +
      `Node ${process.version}, load ${os
        .loadavg()
        .map((v) => v.toFixed(2))
        .join(' ')}`,
  );
  const results: { recipe: Recipe; rows: Row[] }[] = [];
  for (const name of names) {
    const recipe = RECIPES.find((r) => r.name === name)!;
    results.push({
      recipe,
      rows: await runRecipe(recipe, { data, out, budget: minutes * 60, points, extra, evalArgs }),
    });
    await writeFile(
      path.join(out, 'table.json'),
      `${JSON.stringify({ data, minutes, target, extra, results }, null, 1)}\n`,
    );
  }
  console.log(`\n### Summary: ${minutes} training minutes each (mAP@0.5 VOC2007 11-point on the held-out split)\n`);
  console.log(`| recipe | minutes | steps | images/s | mAP@0.5 | first minute ≥ ${target} |`);
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const { recipe, rows } of results) {
    const last = rows.at(-1);
    const reached = rows.find((r) => r.map07 !== null && r.map07 >= target);
    console.log(
      `| ${recipe.description} | ${last ? last.minutes.toFixed(1) : '-'} | ${last?.steps ?? 0} | ${last ? last.imagesPerSecond.toFixed(2) : '-'} | ` +
        `${f4(last?.map07 ?? null)} | ${reached ? reached.minutes.toFixed(1) : 'not reached'} |`,
    );
  }
}

main().catch((error) => {
  console.error((error as Error).message);
  process.exit(1);
});

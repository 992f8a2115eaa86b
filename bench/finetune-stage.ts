/**
 * One stage of a staged training run, for bench/finetune-curve.ts and bench/finetune-table.ts:
 * `ssd-edge train … --max-steps s` (the first stage with --force, later ones with --resume: the
 * same run, since a resumed run equals an uninterrupted one), then `export` and `eval --model`
 * (onnxruntime-node) of the checkpoint on the held-out split. Only training is timed (what
 * `train` prints); export and evaluation are not.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const BUFFER = { maxBuffer: 64 * 2 ** 20 };

/** The train options a staged run sets itself. */
export const RESERVED_TRAIN_OPTIONS = [
  '--data',
  '--checkpoints',
  '--max-steps',
  '--resume',
  '--force',
  '--save-every',
] as const;

export interface StageResult {
  /** Steps this stage trained, its training seconds and images/s (what `train` printed). */
  stepsTrained: number;
  seconds: number;
  imagesPerSecond: number;
  /** The last logged loss, 'total (loc l, conf c)', or 'n/a'. */
  loss: string;
  /** mAP@0.5 on the held-out split, VOC2007 11-point and all-point (null: nothing to score). */
  map07: number | null;
  mapAll: number | null;
}

export interface StageOptions {
  data: string;
  /** The run's folder: the checkpoint in `<out>/ck`, each stage's export as `<out>/step-<s>.onnx`. */
  out: string;
  /** Train to this step. */
  toStep: number;
  /** false for the first stage (a fresh run, replacing any checkpoint there). */
  resume: boolean;
  trainArgs: readonly string[];
  /** `eval` options: `--split`, `--limit`. */
  evalArgs: readonly string[];
}

/** Throws when `trainArgs` sets an option the staged run sets itself. */
export function checkTrainArgs(tool: string, trainArgs: readonly string[]): void {
  for (const reserved of RESERVED_TRAIN_OPTIONS) {
    if (trainArgs.includes(reserved))
      throw new Error(`${tool} sets ${reserved} itself; leave it out of the train options`);
  }
}

export async function runStage({ data, out, toStep, resume, trainArgs, evalArgs }: StageOptions): Promise<StageResult> {
  const checkpoints = path.join(out, 'ck');
  const trained = await run(
    process.execPath,
    [
      CLI,
      'train',
      '--data',
      data,
      '--checkpoints',
      checkpoints,
      '--max-steps',
      String(toStep),
      '--save-every',
      '0',
      ...(resume ? ['--resume'] : ['--force']),
      ...trainArgs,
    ],
    BUFFER,
  );
  const done = /trained (\d+) steps? \(to step (\d+)\) on \S+ in ([\d.]+) s, ([\d.]+) images\/s/.exec(trained.stdout);
  if (!done) throw new Error(`train printed no summary:\n${trained.stdout}\n${trained.stderr}`);
  const last = [...trained.stderr.matchAll(/loss ([\d.]+) \(loc ([\d.]+) conf ([\d.]+)\)/g)].at(-1);
  const onnx = path.join(out, `step-${toStep}.onnx`);
  await run(process.execPath, [CLI, 'export', '--weights', checkpoints, '--out', onnx]);
  const evaluated = JSON.parse(
    (
      await run(
        process.execPath,
        [CLI, 'eval', '--model', onnx, '--data', data, '--backend', 'node', '--json', ...evalArgs],
        BUFFER,
      )
    ).stdout,
  ) as { map07: number | null; mapAll: number | null };
  return {
    stepsTrained: Number(done[1]),
    seconds: Number(done[3]),
    imagesPerSecond: Number(done[4]),
    loss: last ? `${last[1]} (loc ${last[2]}, conf ${last[3]})` : 'n/a',
    map07: evaluated.map07,
    mapAll: evaluated.mapAll,
  };
}

/** The value of `--name` in `args`. */
export function option(name: string, args: readonly string[]): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

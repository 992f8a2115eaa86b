/** `ssd-edge train` run in the test's process (no child start-up, tfjs already set up), its output kept. */
import { runTrain } from '../../src/cli/train.js';

/** Runs `ssd-edge train …args`; returns the lines it logged and the progress it wrote, in order. */
export async function trainCli(args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (line: string) => lines.push(String(line));
  try {
    await runTrain(args, {
      isTTY: false,
      write: (s: string) => {
        lines.push(s);
        return true;
      },
    } as unknown as NodeJS.WriteStream);
  } finally {
    console.log = log;
  }
  return lines;
}

/**
 * One step of SSDLite MobileNet V2 with the MobileNet base held (`--freeze-backbone-steps 1`), batch 2
 * on wasm, seed 3, the checkpoint written at the end only; `extra` adds flags
 * (`--init-from`, `--width`, `--lr`). Returns what it logged.
 */
export function trainFrozenSsdliteStep(
  data: string,
  checkpoints: string,
  inputSize: number,
  extra: string[] = [],
): Promise<string[]> {
  return trainCli([
    '--data',
    data,
    '--arch',
    'ssdlite-mobilenet-v2',
    '--input-size',
    String(inputSize),
    '--freeze-backbone-steps',
    '1',
    '--backend',
    'wasm',
    '--batch',
    '2',
    '--max-steps',
    '1',
    '--checkpoints',
    checkpoints,
    '--save-every',
    '0',
    '--seed',
    '3',
    ...extra,
  ]);
}

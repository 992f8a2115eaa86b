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

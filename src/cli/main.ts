#!/usr/bin/env node
/**
 * The ssd-edge command line. `ssd-edge demo` (what `npm start` runs) detects objects in the
 * bundled sample image with the default model.
 */
import { nearestName } from '../util/strict-keys.js';

/** A command's module, imported only when the command runs (or for `help`). */
interface CommandModule {
  run(args: string[]): Promise<void>;
  usage: string;
}

interface Command {
  summary: string;
  load(): Promise<CommandModule>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  detect: {
    summary: 'detect objects in an image, a directory of images, or a video (with ffmpeg)',
    load: async () => {
      const m = await import('./detect.js');
      return { run: m.runDetect, usage: m.DETECT_USAGE };
    },
  },
  export: {
    summary: 'write SSD300, the mini SSD or SSD/SSDLite MobileNet V2 (random or a checkpoint) to an ONNX file',
    load: async () => {
      const m = await import('./export.js');
      return { run: m.runExport, usage: m.EXPORT_USAGE };
    },
  },
  convert: {
    summary:
      "a TensorFlow Lite SSD (.tflite), a PyTorch SSD checkpoint (.pth) or a tfjs weights manifest (face-api's SSD) → an ssd-edge ONNX model, no Python",
    load: async () => {
      const m = await import('./convert.js');
      return { run: m.runConvert, usage: m.CONVERT_USAGE };
    },
  },
  'bench-e2e': {
    summary: 'SSD300 latency: pre-processing, inference, post-processing per backend',
    load: async () => {
      const m = await import('./bench-e2e.js');
      return { run: m.runBenchE2e, usage: m.BENCH_E2E_USAGE };
    },
  },
  'generate-data': {
    summary: 'write the procedural shapes dataset (PASCAL VOC layout)',
    load: async () => {
      const m = await import('./generate-data.js');
      return { run: m.runGenerateData, usage: m.GENERATE_DATA_USAGE };
    },
  },
  train: {
    summary: 'train SSD300, the mini SSD or SSD/SSDLite MobileNet V2 on a PASCAL VOC dataset (tfjs), with checkpoints',
    load: async () => {
      const m = await import('./train.js');
      return { run: m.runTrain, usage: m.TRAIN_USAGE };
    },
  },
  eval: {
    summary: 'PASCAL VOC mAP@0.5 of an ONNX model on a VOC split (11-point and all-point, per class)',
    load: async () => {
      const m = await import('./eval.js');
      return { run: m.runEval, usage: m.EVAL_USAGE };
    },
  },
  demo: {
    summary: 'the default model on the bundled sample image: detections, annotated PNG, JSON',
    load: async () => {
      const m = await import('./demo.js');
      return { run: m.runDemo, usage: m.DEMO_USAGE };
    },
  },
};

const HELP = ['help', '--help', '-h'];

/** The command list, each name padded to one column. */
function commandList(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length), 'help'.length) + 2;
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(width)}${summary}`);
  return `usage: ssd-edge <command> [options]\n\ncommands:\n${lines.join('\n')}\n  ${'help'.padEnd(width)}this text`;
}

/** The command list and every command's options; loads the command modules (not what they run). */
async function fullUsage(): Promise<string> {
  const modules = await Promise.all(Object.values(COMMANDS).map((command) => command.load()));
  return [commandList(), ...modules.map((m) => m.usage)].join('\n\n');
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (command === undefined || HELP.includes(command)) {
    console.log(await fullUsage());
    return;
  }
  if (!Object.hasOwn(COMMANDS, command)) {
    const near = nearestName(command, Object.keys(COMMANDS));
    throw new Error(`unknown command '${command}'${near ? `; did you mean '${near}'?` : ''}\n\n${commandList()}`);
  }
  const { run } = await COMMANDS[command].load();
  return run(args);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`ssd-edge: ${(error as Error).message}`);
  process.exitCode = 1;
});

#!/usr/bin/env node
/**
 * The ssd-edge command line. `ssd-edge demo` (what `npm start` runs) detects objects in the
 * bundled sample image with the default model.
 */
import { BENCH_E2E_USAGE, runBenchE2e } from './bench-e2e.js';
import { CONVERT_USAGE, runConvert } from './convert.js';
import { DEMO_USAGE, runDemo } from './demo.js';
import { DETECT_USAGE, runDetect } from './detect.js';
import { EVAL_USAGE, runEval } from './eval.js';
import { EXPORT_USAGE, runExport } from './export.js';
import { GENERATE_DATA_USAGE, runGenerateData } from './generate-data.js';
import { TRAIN_USAGE, runTrain } from './train.js';

const USAGE = `usage: ssd-edge <command> [options]

commands:
  detect     detect objects in an image or a directory of images
  export     write SSD300, the mini SSD or SSD/SSDLite MobileNet V2 (random or a checkpoint) to an ONNX file
  convert    a TensorFlow Lite SSD (.tflite) or a PyTorch SSD checkpoint (.pth) → an ssd-edge ONNX model, no Python
  bench-e2e  SSD300 latency: pre-processing, inference, post-processing per backend
  generate-data  write the procedural shapes dataset (PASCAL VOC layout)
  train      train SSD300, the mini SSD or SSD/SSDLite MobileNet V2 on a PASCAL VOC dataset (tfjs), with checkpoints
  eval       PASCAL VOC mAP@0.5 of an ONNX model on a VOC split (11-point and all-point, per class)
  demo       the default model on the bundled sample image: detections, annotated PNG, JSON
  help       this text

${DETECT_USAGE}

${EXPORT_USAGE}

${CONVERT_USAGE}

${BENCH_E2E_USAGE}

${GENERATE_DATA_USAGE}

${TRAIN_USAGE}

${EVAL_USAGE}

${DEMO_USAGE}`;

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'demo':
      return runDemo(args);
    case 'detect':
      return runDetect(args);
    case 'export':
      return runExport(args);
    case 'convert':
      return runConvert(args);
    case 'bench-e2e':
      return runBenchE2e(args);
    case 'generate-data':
      return runGenerateData(args);
    case 'train':
      return runTrain(args);
    case 'eval':
      return runEval(args);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
    default:
      throw new Error(`unknown command '${command}'\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`ssd-edge: ${(error as Error).message}`);
  process.exitCode = 1;
});

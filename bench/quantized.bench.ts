/**
 * The uint8 paths of a quantised model against the float paths they replace, per image:
 * - pre-processing: a 640 × 480 photo → 300 × 300 uint8 NHWC, the float resize + host rounding
 *   (WasmPreprocessor.run + toUint8Tensor) against the core's resizeToU8 (runUint8);
 * - post-processing: the COCO detector's uint8 heads (tests/fixtures/tflite-coco), dequantise +
 *   Postprocessor.run against runQuantized (threshold in uint8, dequantise only the candidates).
 * Both builds; medians. `node dist/bench/quantized.bench.js [--runs N]`.
 */
import sharp from 'sharp';
import { createWasmPreprocessor } from '../src/runtime/preprocess-wasm.js';
import { toUint8Tensor } from '../src/runtime/preprocess.js';
import type { PreprocessSpec } from '../src/runtime/types.js';
import { timeRun } from './timing.js';

const runsAt = process.argv.indexOf('--runs');
const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 200;

const { data, info } = await sharp('samples/dog.jpg')
  .resize(640, 480, { fit: 'fill' })
  .removeAlpha()
  .raw()
  .toBuffer({ resolveWithObject: true });
const photo = {
  data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  width: info.width,
  height: info.height,
  channels: 3 as const,
};
const spec: PreprocessSpec = {
  size: [300, 300],
  channels: 'rgb',
  mean: [0, 0, 0],
  std: [1, 1, 1],
  layout: 'nhwc',
  inputType: 'uint8',
};

console.log(`pre-processing ${photo.width} × ${photo.height} → 300 × 300 uint8 NHWC (median of ${runs})`);
for (const build of ['simd', 'baseline'] as const) {
  const prep = await createWasmPreprocessor({ build });
  const floatOut = new Float32Array(3 * 300 * 300),
    bytesOut = new Uint8Array(3 * 300 * 300);
  const before = await timeRun(() => toUint8Tensor(prep.run(photo, spec, floatOut), bytesOut), runs, 10);
  const after = await timeRun(() => prep.runUint8(photo, spec, bytesOut), runs, 10);
  console.log(
    `  ${build.padEnd(8)} float resize + round ${before.toFixed(3)} ms   resizeToU8 ${after.toFixed(3)} ms   ×${(before / after).toFixed(2)}`,
  );
}

// ---- post-processing from the COCO detector's uint8 heads -----------------------------------
const { readFileSync } = await import('node:fs');
const { readSsdEdgeMetadata } = await import('../src/model/onnx/read.js');
const { createPostprocessor, dequantize } = await import('../src/core/postprocessor.js');
const fixture = (file: string) => new Uint8Array(readFileSync(`tests/fixtures/tflite-coco/${file}`));
const metadata = readSsdEdgeMetadata(readFileSync('models/ssd-mobilenet-v2-coco.onnx'))!;
const loc = fixture('dog.box-encodings.u8'),
  conf = fixture('dog.class-predictions.u8');
const locQuant = { scale: 0.09133967012166977, zeroPoint: 179 },
  confQuant = { scale: 1 / 256, zeroPoint: 0 };
console.log(`post-processing the COCO detector's uint8 heads (dog: 1917 anchors × 91 classes), median of ${runs}`);
for (const build of ['simd', 'baseline'] as const) {
  for (const threshold of [undefined, 0.3, 0.5]) {
    const post = await createPostprocessor(
      { ...metadata.postprocess, ...(threshold === undefined ? {} : { scoreThreshold: threshold }) } as never,
      { build },
    );
    const before = await timeRun(() => post.run(dequantize(loc, locQuant), dequantize(conf, confQuant)), runs, 30);
    const after = await timeRun(() => post.runQuantized(loc, locQuant, conf, confQuant), runs, 30);
    const name =
      threshold === undefined ? `model's ${metadata.postprocess.scoreThreshold as number}` : String(threshold);
    console.log(
      `  ${build.padEnd(8)} threshold ${name.padEnd(22)} dequantise + run ${before.toFixed(3)} ms   runQuantized ${after.toFixed(3)} ms   ×${(before / after).toFixed(2)}`,
    );
    post.dispose();
  }
}

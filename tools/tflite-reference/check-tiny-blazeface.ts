/**
 * Does TensorFlow Lite itself read the tiny BlazeFace-shaped model that tests/convert/blazeface-small.test.ts
 * writes (tests/mediapipe/tiny-blazeface.ts through tests/convert/tflite-writer.ts), and compute what
 * the test's plain-TypeScript evaluation says? Runs it in TFLite (the reference runner) on the test's
 * face image and on noise, and prints the largest differences from evaluateTinyBlazeface.
 *
 * Run: npx tsc -p tsconfig.json && node dist/tools/tflite-reference/check-tiny-blazeface.js
 * (one Chromium launch; seconds). Exits 1 when a difference exceeds 1e-5 relative.
 */
import { writeTflite } from '../../tests/convert/tflite-writer.js';
import { random } from '../../tests/helpers.js';
import {
  evaluateTinyBlazeface,
  tinyBlazefaceModel,
  tinyFaceImage,
  tinyFaceInput,
} from '../../tests/mediapipe/tiny-blazeface.js';
import { runTfliteReference } from './runner.js';

const faces = tinyFaceInput(tinyFaceImage());
const noise = random(12);
const inputs = { faces, noise: Float32Array.from(faces, () => 2 * noise() - 1) };
const runs = await runTfliteReference(
  writeTflite(tinyBlazefaceModel()),
  Object.values(inputs).map((x) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength)),
);
let worst = 0;
Object.entries(inputs).forEach(([name, x], i) => {
  const expected = evaluateTinyBlazeface(x);
  for (const output of runs[i].outputs) {
    const want = output.name === 'regressors' ? expected.regressors : expected.classificators;
    const got = output.data as Float32Array;
    let largest = 0,
      exact = 0;
    for (let k = 0; k < want.length; k++) {
      largest = Math.max(largest, Math.abs(got[k] - want[k]) / Math.max(Math.abs(want[k]), 1));
      if (got[k] === want[k]) exact++;
    }
    worst = Math.max(worst, largest);
    console.log(
      `${name}: ${output.name} [${output.shape}] largest relative difference ${largest.toExponential(2)}; ${exact} of ${want.length} values identical`,
    );
  }
});
process.exit(worst <= 1e-5 ? 0 : 1);

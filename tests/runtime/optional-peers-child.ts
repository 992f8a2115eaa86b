/**
 * Run by optional-peers.test.ts under hide-peers-register.js: creates detectors with
 * onnxruntime-node and sharp hidden and prints what happened as JSON.
 */
import { createDetector } from '../../src/runtime/detector.js';
import { fileURLToPath } from 'node:url';
import { BLAZEFACE_ANCHORS, BLAZEFACE_POSTPROCESS, BLAZEFACE_PREPROCESS } from '../../src/convert/tflite/mediapipe.js';
import { ssdModel, ssdOutputs } from './onnx-models.js';

const { loc, conf } = ssdOutputs(8732, 21, [{ prior: 100, classId: 12, logit: 10 }]);
const model = ssdModel({ numPriors: 8732, numClasses: 21, loc, conf });
const message = (error: Error) => error.message;

const detector = await createDetector({ model, preset: 'ssd300Voc' });
const raw = await detector.detect({ data: new Uint8Array(30 * 20 * 3), width: 30, height: 20 });
console.log(
  JSON.stringify({
    backend: detector.backend,
    raw: raw.map((d) => d.label),
    file: await detector.detect('photo.jpg').then(() => 'no error', message),
    node: await createDetector({ model, preset: 'ssd300Voc', backend: 'node' }).then(() => 'no error', message),
    ...(await int8Choices()),
  }),
);
await detector.dispose();

/** What 'auto' picks for a uint8 .tflite (the built-in COCO twin) and for a float one (BlazeFace). */
async function int8Choices() {
  const coco = await createDetector({ model: 'ssd-mobilenet-v2-coco' });
  const blazeface = await createDetector({
    model: fileURLToPath(new URL('../../../models/face_detection_short_range.tflite', import.meta.url)),
    preset: { ...BLAZEFACE_POSTPROCESS, priors: BLAZEFACE_ANCHORS, numClasses: 1 },
    preprocess: BLAZEFACE_PREPROCESS,
  });
  const result = {
    coco: [coco.backend, coco.backendReason],
    blazeface: [
      blazeface.backend,
      blazeface.backendReason.replace(
        /model '.*face_detection_short_range\.tflite'/,
        "model 'face_detection_short_range.tflite'",
      ),
    ],
  };
  await Promise.all([coco.dispose(), blazeface.dispose()]);
  return result;
}

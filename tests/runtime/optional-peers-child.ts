/**
 * Run by optional-peers.test.ts under hide-peers-register.js: creates detectors with
 * onnxruntime-node and sharp hidden and prints what happened as JSON.
 */
import { createDetector } from '../../src/runtime/detector.js';
import { ssdModel, ssdOutputs } from './onnx-models.js';

const { loc, conf } = ssdOutputs(8732, 21, [{ prior: 100, classId: 12, logit: 10 }]);
const model = ssdModel({ numPriors: 8732, numClasses: 21, loc, conf });
const message = (error: Error) => error.message;

const detector = await createDetector({ model, preset: 'ssd300Voc' });
const raw = await detector.detect({ data: new Uint8Array(30 * 20 * 3), width: 30, height: 20 });
console.log(JSON.stringify({
  backend: detector.backend,
  raw: raw.map((d) => d.label),
  file: await detector.detect('photo.jpg').then(() => 'no error', message),
  node: await createDetector({ model, preset: 'ssd300Voc', backend: 'node' }).then(() => 'no error', message),
}));
await detector.dispose();

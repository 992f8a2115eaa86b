/**
 * face-api (@vladmandic/face-api, a devDependency) run in this Node process with the project's
 * tfjs-core and its cpu backend, as the independent reference for the converted SSD MobileNet V1.
 * Its Node build requires the '@tensorflow/tfjs' umbrella (not installed: tfjs-node cannot
 * install here), so that one request is answered with tfjs-core, and the chained
 * `tensor.asND()` methods face-api calls (registered by the umbrella) are added. Nothing else
 * of face-api is changed.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

export const FACEAPI_DIR = path.dirname(require.resolve('@vladmandic/face-api/package.json'));
export const FACEAPI_MODEL_DIR = path.join(FACEAPI_DIR, 'model');
export const FACEAPI_MANIFEST = path.join(FACEAPI_MODEL_DIR, 'ssd_mobilenetv1_model-weights_manifest.json');
export const faceApiSample = (n: number) => path.join(FACEAPI_DIR, 'demo', `sample${n}.jpg`);

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface FaceApiReference {
  tf: any;
  faceapi: any;
  /** face-api's locateFaces on RGB pixels, plus its network input (the padded, resized 0–255 tensor) and the padY/padX it scales boxes by. */
  locate(
    pixels: Uint8Array,
    width: number,
    height: number,
  ): Promise<{
    faces: { score: number; box: [number, number, number, number] }[];
    input: Float32Array;
    pad: { x: number; y: number };
  }>;
}

let loaded: Promise<FaceApiReference> | undefined;

export function loadFaceApi(): Promise<FaceApiReference> {
  loaded ??= (async () => {
    const Module = require('node:module') as { _load: (request: string, ...rest: unknown[]) => unknown };
    const tf = require('@tensorflow/tfjs-core');
    require('@tensorflow/tfjs-backend-cpu');
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    for (const rank of [1, 2, 3, 4]) {
      tf.Tensor.prototype[`as${rank}D`] ??= function (this: unknown, ...shape: number[]) {
        return tf.reshape(this, shape);
      };
    }
    const load = Module._load;
    Module._load = function (this: unknown, request: string, ...rest: unknown[]) {
      if (request === '@tensorflow/tfjs') return tf;
      if (request === '@tensorflow/tfjs-backend-wasm') return wasm;
      return load.call(this, request, ...rest);
    };
    let faceapi: any;
    try {
      faceapi = require(path.join(FACEAPI_DIR, 'dist', 'face-api.node-wasm.js'));
    } finally {
      Module._load = load;
    }
    await tf.setBackend('cpu');
    await tf.ready();
    const net = faceapi.nets.ssdMobilenetv1;
    await net.loadFromDisk(FACEAPI_MODEL_DIR);
    const locate: FaceApiReference['locate'] = async (pixels, width, height) => {
      const image = tf.tensor3d(pixels, [height, width, 3], 'int32');
      try {
        const netInput = await faceapi.toNetInput(image);
        const batch = netInput.toBatchTensor(512, false);
        const input = new Float32Array(batch.dataSync());
        batch.dispose();
        const found = await net.locateFaces(image, { minConfidence: 0.5, maxResults: 100 });
        const reshaped = netInput.getReshapedInputDimensions(0);
        const faces = found.map((f: any) => ({
          score: f.score,
          box: [f.box.x, f.box.y, f.box.x + f.box.width, f.box.y + f.box.height] as [number, number, number, number],
        }));
        return { faces, input, pad: { x: 512 / reshaped.width, y: 512 / reshaped.height } };
      } finally {
        image.dispose();
      }
    };
    return { tf, faceapi, locate };
  })();
  return loaded;
}

/**
 * Without the optional peers (onnxruntime-node, sharp hidden by a resolve hook in a child
 * process): 'auto' falls back to 'wasm' (or, for a uint8 .tflite, ssd-edge's int8 kernels), raw
 * pixels still work, and 'node' or an image file give an error naming the package to install.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

describe('without the optional peer packages', () => {
  it("'auto' runs on 'wasm'; 'node' and image files name the package to install", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      here('./hide-peers-register.js'),
      here('./optional-peers-child.js'),
    ]);
    const seen = JSON.parse(stdout) as { coco: [string, string] };
    // which SIMD kernels run depends on the engine (relaxed SIMD or not): the reason names them
    const [cocoBackend, cocoReason] = seen.coco;
    assert.match(cocoReason, /; wasm (relaxed )?SIMD kernels \(/);
    seen.coco = [cocoBackend, cocoReason.replace(/; wasm (relaxed )?SIMD kernels \(.*$/, '')];
    assert.deepEqual(seen, {
      backend: 'wasm',
      raw: ['dog'],
      file: "reading image files in Node needs the optional package 'sharp', which is not installed: npm install sharp",
      node: "backend 'node' needs the optional package 'onnxruntime-node', which is not installed: npm install onnxruntime-node",
      coco: [
        'int8',
        "auto: onnxruntime-node is not installed, and ssd-edge's int8 kernels run a uint8 TensorFlow Lite SSD faster than onnxruntime-web",
      ],
      blazeface: [
        'wasm',
        "auto: the int8 kernels do not run model 'face_detection_short_range.tflite' (the model input: tensor 0 'input' is float32; " +
          'the int8 path runs per-tensor uint8 tensors only); auto: onnxruntime-node is not installed',
      ],
    });
  });
});

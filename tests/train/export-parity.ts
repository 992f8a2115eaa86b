/** Whether a file `ssd-edge export --weights` wrote computes its training checkpoint's heads. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as ortNode from 'onnxruntime-node';
import { loadCheckpointModel } from '../../src/train/checkpoint.js';
import { assertWithinScale } from '../helpers.js';

/** The bar: |ONNX − tfjs| ≤ HEADS_TOLERANCE · max(1, max |tfjs|) over each head. */
export const HEADS_TOLERANCE = 1e-4;

/**
 * Runs one random size × size image (values in [−1, 1], seed 9) through an SSD300 or MobileNet
 * checkpoint in tfjs (the current backend) and through `onnx` in onnxruntime-node, and asserts the
 * file's `loc` and `conf` have the checkpoint's shapes and values within HEADS_TOLERANCE; each
 * head's largest difference goes to `diagnostic`. Returns the checkpoint's arch and the file's dims.
 */
export async function assertOnnxGivesCheckpointHeads(
  checkpoint: string,
  onnx: Uint8Array,
  size: number,
  diagnostic: (line: string) => void,
): Promise<{ arch: string; dims: Record<'loc' | 'conf', readonly number[]> }> {
  const loaded = await loadCheckpointModel(checkpoint);
  if (loaded.arch === 'mini') {
    loaded.model.dispose();
    throw new TypeError(`${checkpoint} holds the mini network; this check takes SSD300 and MobileNet checkpoints`);
  }
  const images = tf.randomUniform([1, size, size, 3], -1, 1, 'float32', 9) as tf.Tensor4D;
  const nchw = tf.transpose(images, [0, 3, 1, 2]);
  let tfjs: { loc: tf.Tensor3D; conf: tf.Tensor3D } | undefined;
  let session: ortNode.InferenceSession | undefined;
  try {
    tfjs = loaded.model.apply(images);
    session = await ortNode.InferenceSession.create(onnx);
    const out = await session.run({
      image: new ortNode.Tensor('float32', nchw.dataSync() as Float32Array, nchw.shape),
    });
    for (const name of ['loc', 'conf'] as const) {
      assert.deepEqual(out[name].dims, tfjs[name].shape, `${name}: ONNX dims, expected tfjs's shape`);
      const { maxError, scale } = assertWithinScale(
        name,
        out[name].data as Float32Array,
        tfjs[name].dataSync(),
        HEADS_TOLERANCE,
      );
      diagnostic(`${name}: max |ONNX − tfjs| ${maxError.toExponential(2)} (outputs up to ${scale.toFixed(2)})`);
    }
    return { arch: loaded.arch, dims: { loc: out.loc.dims, conf: out.conf.dims } };
  } finally {
    await session?.release();
    tf.dispose([images, nchw, tfjs]);
    loaded.model.dispose();
  }
}

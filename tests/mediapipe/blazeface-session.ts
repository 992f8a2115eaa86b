/** A converted model with BlazeFace's interface in onnxruntime-node, its heads' shapes checked on every run. */
import assert from 'node:assert/strict';

/** The two heads under TFLite's names: `loc` and `conf` of the converted file. */
export interface BlazefaceHeads {
  /** [1, 896, 16]: box x, y, w, h, then 6 keypoints (x, y), in input pixels. */
  regressors: Float32Array;
  /** [1, 896, 1]: face logits. */
  classificators: Float32Array;
}

export interface BlazefaceSession {
  /** Runs one [1, 128, 128, 3] NHWC input. */
  run(input: Float32Array): Promise<BlazefaceHeads>;
  release(): Promise<void>;
}

/** Opens `onnx` on one intra-op thread (onnxruntime-node is loaded only here). */
export async function openBlazefaceSession(onnx: Uint8Array): Promise<BlazefaceSession> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
  return {
    async run(input) {
      const out = await session.run({ image: new ort.Tensor('float32', input, [1, 128, 128, 3]) });
      assert.deepEqual(out.loc.dims, [1, 896, 16], 'regressors (loc) dims');
      assert.deepEqual(out.conf.dims, [1, 896, 1], 'classificators (conf) dims');
      return { regressors: out.loc.data as Float32Array, classificators: out.conf.data as Float32Array };
    },
    release: () => session.release(),
  };
}

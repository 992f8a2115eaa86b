/**
 * The mini SSD: head shapes, the priors of its grid, and its ONNX export through the real runtime
 * and post-processing core: for each cell the decoded box must be the cell-sized box centred
 * where the tfjs heads put the centre, scored sigmoid(objectness logit) (computed here by hand).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as ortNode from 'onnxruntime-node';
import { createPostprocessor } from '../../src/index.js';
import { createMiniSsd, MINI_INPUT_SIZE, miniPriors } from '../../src/model/mini.js';
import { exportMiniSsd, miniPostprocess } from '../../src/model/onnx/export-mini.js';
import { parseSsdEdgeMetadata } from '../../src/model/onnx/metadata.js';
import { decodeOnnxModel } from '../../src/model/onnx/read.js';
import { disposedAtEnd, randomizeWeights, useTfjsBackend } from './tfjs.js';

/** A model disposed when the file's tests end. */
const model = disposedAtEnd(createMiniSsd);
await useTfjsBackend('wasm');

const [W, H] = MINI_INPUT_SIZE;

describe('mini SSD', () => {
  it('maps [N, 96, 128, 3] to objectness [N, 3, 4, 1] and offsets [N, 3, 4, 2]; rejects other inputs', () => {
    const m = model({ width: 0.5, seed: 1 });
    const images = tf.randomNormal<tf.Rank.R4>([2, H, W, 3], 0, 1, 'float32', 1);
    const { objectness, offsets } = m.apply(images);
    assert.deepEqual(objectness.shape, [2, 3, 4, 1]);
    assert.deepEqual(offsets.shape, [2, 3, 4, 2]);
    // Initial state: the objectness prior 0.1 and offsets at the cell centre (0.5), heads σ = 0.01.
    const p = tf.tidy(() => tf.mean(tf.sigmoid(objectness)).dataSync()[0]);
    assert.ok(Math.abs(p - 0.1) < 0.02, `initial object probability ${p}`);
    const o = tf.tidy(() => tf.mean(offsets).dataSync()[0]);
    assert.ok(Math.abs(o - 0.5) < 0.05, `initial offset ${o}`);
    tf.dispose([images, objectness, offsets]);
    const square = tf.zeros<tf.Rank.R4>([1, 300, 300, 3]);
    assert.throws(
      () => m.apply(square),
      /RangeError: images has shape \[1, 300, 300, 3\]; the mini SSD needs \[N, 96, 128, 3\]/,
    );
    square.dispose();
    assert.throws(() => createMiniSsd({ width: 0 }), /RangeError: width 0 must be in \(0, 1\]/);
    assert.throws(() => createMiniSsd({ objectPrior: 1 }), /RangeError: objectPrior 1 must be a probability/);
  });

  it('has one cell-sized prior per cell, row-major', () => {
    const priors = miniPriors();
    assert.equal(priors.length, 12 * 4);
    assert.deepEqual([...priors.subarray(0, 4)], [0.125, 1 / 6, 0.25, 1 / 3].map(Math.fround));
    // Cell 6 = row 1, column 2.
    assert.deepEqual([...priors.subarray(24, 28)], [0.625, 0.5, 0.25, 1 / 3].map(Math.fround));
  });

  it("its export, run by onnxruntime and post-processed by the core, gives each cell's centre and score", async () => {
    const m = model({ width: 0.25, seed: 3 });
    randomizeWeights(m, 5);
    const bytes = exportMiniSsd(m, { label: 'circle' });
    const meta = parseSsdEdgeMetadata(
      Object.fromEntries(decodeOnnxModel(bytes).metadataProps!.map((p) => [p.key!, p.value!])),
    )!;
    assert.deepEqual(meta.postprocess.labels, ['background', 'circle']);
    assert.deepEqual(meta.preprocess.size, [128, 96]);

    const images = tf.randomNormal<tf.Rank.R4>([1, H, W, 3], 0, 1, 'float32', 7);
    const { objectness, offsets } = m.apply(images);
    const logits = objectness.dataSync(),
      offs = offsets.dataSync();
    const nchw = tf.tidy(() => tf.transpose(images, [0, 3, 1, 2]));
    const session = await ortNode.InferenceSession.create(bytes);
    const out = await session.run({
      image: new ortNode.Tensor('float32', nchw.dataSync() as Float32Array, nchw.shape),
    });
    await session.release();
    tf.dispose([images, objectness, offsets, nchw]);

    const post = await createPostprocessor({
      ...miniPostprocess('circle'),
      scoreThreshold: 0,
      nmsThreshold: 1,
      clip: false,
    });
    const [detections] = post.run(out.loc.data as Float32Array, out.conf.data as Float32Array);
    post.dispose();
    assert.equal(detections.length, 12, 'one detection per cell (no threshold, no suppression)');
    for (const d of detections) {
      const cell = d.priorIndex,
        i = Math.floor(cell / 4),
        j = cell % 4;
      const cx = (j + offs[2 * cell]) / 4,
        cy = (i + offs[2 * cell + 1]) / 3;
      const expected = [cx - 1 / 8, cy - 1 / 6, cx + 1 / 8, cy + 1 / 6];
      d.box.forEach((v, k) =>
        assert.ok(Math.abs(v - expected[k]) < 1e-4, `cell ${cell} box[${k}] ${v} vs ${expected[k]}`),
      );
      const score = 1 / (1 + Math.exp(-logits[cell]));
      assert.ok(Math.abs(d.score - score) < 1e-5, `cell ${cell} score ${d.score} vs sigmoid ${score}`);
      assert.equal(d.classId, 1);
      assert.equal(d.label, 'circle');
    }
  });
});

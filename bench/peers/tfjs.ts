/**
 * Peer: the same post-processing written as TensorFlow.js ops, on the wasm or cpu backend.
 *
 * tf.image.nonMaxSuppression keeps every candidate above the score threshold and stops after
 * `maxOutputSize` survivors; ssd.pytorch instead cuts to the top-k *before* NMS. So each class
 * is cut with tf.topk first and NMS runs on those k only.
 *
 * Threshold semantics of tfjs NonMaxSuppressionV3 (read in tfjs 4.22: tfjs-core
 * src/backends/non_max_suppression_impl.ts, used by the cpu backend, and tfjs-backend-wasm
 * src/cc/non_max_suppression_impl.cc):
 * - score: a candidate enters when `score > scoreThreshold` (strict, same as ours);
 * - IoU: a candidate is dropped when `iou >= iouThreshold` — NOT strict, unlike ours (`>`).
 *   The two differ only when an IoU equals 0.45 exactly in the backend's arithmetic
 *   (double on cpu, float32 on wasm);
 * - ties: equal scores pop the lower box index first; a box with area ≤ 0 has IoU 0 with
 *   everything (same as ours); corners are min/max-normalised, so the documented [y1, x1, y2, x2]
 *   order is immaterial and our [x1, y1, x2, y2] boxes can go in as they are.
 * tf.topk (cpu and wasm) also puts equal values at the lower index first.
 *
 * Threads: tfjs-backend-wasm disables its threaded build in Node (flag
 * WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE), so it runs the single-threaded SIMD
 * binary; `getThreadsCount()` reports 1. The cpu backend is plain JS on the main thread.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Detection } from '../../src/core/types.js';
import { keepBest, type Peer, type PeerConfig } from './peer.js';

export type TfjsBackend = 'wasm' | 'cpu';

let wasmPathsSet = false;

async function useBackend(backend: TfjsBackend): Promise<void> {
  if (backend === 'wasm' && !wasmPathsSet) {
    // In Node the wasm binaries are read from disk: point tfjs at the package's dist/.
    const require = createRequire(import.meta.url);
    const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    setWasmPaths(dist + path.sep);
    wasmPathsSet = true;
  }
  // Silences the "install tfjs-node" banner and skips debug-only checks.
  tf.enableProdMode();
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend '${backend}' failed to initialise`);
}

export async function createTfjsPeer(backend: TfjsBackend, cfg: PeerConfig): Promise<Peer> {
  await useBackend(backend);
  const numPriors = cfg.priors.length / 4;
  const C = cfg.numClasses;
  const [v0, v1] = cfg.variances;
  // Prior columns stay resident on the backend across runs.
  const priors = tf.tensor2d(cfg.priors, [numPriors, 4]);
  const [pcx, pcy, pw, ph] = tf.split(priors, 4, 1);
  priors.dispose();

  function decode(loc: tf.Tensor2D): tf.Tensor2D {
    const [tx, ty, tw, th] = tf.split(loc, 4, 1);
    const cx = tf.add(pcx, tf.mul(tf.mul(tx, v0), pw));
    const cy = tf.add(pcy, tf.mul(tf.mul(ty, v0), ph));
    const halfW = tf.mul(tf.mul(pw, tf.exp(tf.mul(tw, v1))), 0.5);
    const halfH = tf.mul(tf.mul(ph, tf.exp(tf.mul(th, v1))), 0.5);
    return tf.concat([tf.sub(cx, halfW), tf.sub(cy, halfH), tf.add(cx, halfW), tf.add(cy, halfH)], 1);
  }

  return {
    name: `tfjs-${backend}`,
    threads: backend === 'wasm' ? getThreadsCount() : 1,
    activate: () => useBackend(backend),
    run(loc: Float32Array, conf: Float32Array): Detection[] {
      if (tf.getBackend() !== backend) throw new Error(`tfjs-${backend}: await activate() first`);
      // Everything up to the per-class NMS is one tidy: top-k scores, prior indices, boxes.
      const { values, indices, boxes } = tf.tidy(() => {
        const scores = tf.softmax(tf.tensor2d(conf, [numPriors, C]));
        const foreground = tf.transpose(tf.slice(scores, [0, 1], [numPriors, C - 1])); // [C−1, P]
        // Top-k of all scores then NMS's `> threshold` equals threshold-then-top-k, so no mask.
        const top = tf.topk(foreground, cfg.topK);
        const decoded = decode(tf.tensor2d(loc, [numPriors, 4]));
        return {
          values: top.values,
          indices: top.indices,
          boxes: tf.reshape(tf.gather(decoded, tf.reshape(top.indices, [-1])), [C - 1, cfg.topK, 4]),
        };
      });
      const perClassBoxes = tf.unstack(boxes) as tf.Tensor2D[];
      const perClassScores = tf.unstack(values) as tf.Tensor1D[];
      const kept = perClassBoxes.map((b, k) => {
        const selected = tf.image.nonMaxSuppression(
          b,
          perClassScores[k],
          cfg.topK,
          cfg.nmsThreshold,
          cfg.scoreThreshold,
        );
        const data = selected.dataSync() as Int32Array;
        selected.dispose();
        return data;
      });
      const scoreData = values.dataSync() as Float32Array;
      const priorData = indices.dataSync() as Int32Array;
      const boxData = boxes.dataSync() as Float32Array;
      tf.dispose([values, indices, boxes, ...perClassBoxes, ...perClassScores]);

      const dets: Detection[] = [];
      kept.forEach((rows, k) => {
        for (const row of rows) {
          const at = k * cfg.topK + row;
          const [x0, y0, x1, y1] = boxData.subarray(at * 4, at * 4 + 4);
          dets.push({ classId: k + 1, score: scoreData[at], box: [x0, y0, x1, y1], priorIndex: priorData[at] });
        }
      });
      return keepBest(dets, cfg.keepTopK);
    },
    dispose() {
      tf.dispose([pcx, pcy, pw, ph]);
    },
  };
}

/**
 * The contract every benchmark peer implements: one image in, detections out, with the
 * ssd.pytorch `Detect` semantics of DESIGN.md (softmax, decode, per-class threshold → top-k →
 * NMS, then keep-top-k over classes, sorted by score descending).
 */
import type { Detection } from '../../src/core/types.js';

export interface PeerConfig {
  /** Priors as (cx, cy, w, h) rows, normalised. */
  priors: Float32Array;
  /** Classes including background (class 0). */
  numClasses: number;
  variances: [number, number];
  scoreThreshold: number;
  nmsThreshold: number;
  /** Candidates per class before NMS. */
  topK: number;
  /** Detections per image after NMS. */
  keepTopK: number;
}

export interface Peer {
  name: string;
  /** Threads the peer computes with, as reported by its runtime. */
  threads: number;
  /**
   * Makes this peer's process-wide state current (tfjs has one active backend per process).
   * Await it before a series of `run` calls when several peers share a process.
   */
  activate?(): Promise<void>;
  /**
   * One image: `loc` [P, 4], `conf` [P, C]. onnxruntime only has an async `run`, so callers
   * must `await` the result; the tfjs peers return synchronously.
   */
  run(loc: Float32Array, conf: Float32Array): Detection[] | Promise<Detection[]>;
  dispose(): void;
}

/**
 * Best first; equal scores keep the lower prior index first, then the lower class, so that
 * peers only differ where their scores differ.
 */
export function compareDetections(a: Detection, b: Detection): number {
  return b.score - a.score || a.priorIndex - b.priorIndex || a.classId - b.classId;
}

/** The final keep-top-k over all classes. Sorts `dets` in place. */
export function keepBest(dets: Detection[], keepTopK: number): Detection[] {
  dets.sort(compareDetections);
  if (dets.length > keepTopK) dets.length = keepTopK;
  return dets;
}

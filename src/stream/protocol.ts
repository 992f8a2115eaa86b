/** Messages between track() on the page (track.ts) and its worker (track-worker.ts). */
import type { PostprocessConfig } from '../core/types.js';
import type { TrackerOptions } from '../core/tracker.js';
import type { Backend, PreprocessSpec, Profile, ThresholdOverrides } from '../runtime/types.js';

/** What the worker needs to build the page detector's twin. */
export interface WorkerDetectorRecipe {
  /** The model's bytes (a copy: the page's detector keeps its own). */
  model: Uint8Array;
  /** The page detector's post-processing, thresholds applied. */
  config: PostprocessConfig;
  preprocess: PreprocessSpec;
  backend: Backend;
  profile: Profile;
  maxImagePixels: number;
  wasmBaseUrl?: string;
  /** URL of an onnxruntime-web ES module to import in the worker (bare 'onnxruntime-web' needs a bundler there). */
  ortUrl?: string;
}

/** Tracker options as they cross to the worker (labels come from the config). */
export type WorkerTrackerOptions = Omit<TrackerOptions, 'labels' | 'build' | 'wasmBaseUrl'>;

export type ToWorker =
  | { type: 'init'; detector: WorkerDetectorRecipe; tracker: WorkerTrackerOptions; track: boolean }
  /**
   * One frame. `image` (transferred; the worker closes it) when detection runs on it, absent when
   * the tracker only predicts. `reset`: forget all tracks first (the frame size changed).
   */
  | { type: 'frame'; index: number; timestampMs: number; image?: VideoFrame | ImageBitmap; reset?: boolean }
  | { type: 'tracking'; on: boolean }
  /** New score / IoU thresholds for the worker's detector, from the next detection on. */
  | { type: 'thresholds'; overrides: ThresholdOverrides }
  | { type: 'stop' };

/** A box of one frame, normalised to [0, 1] of the frame. */
export interface WorkerObject {
  trackId?: number;
  classId: number;
  label?: string;
  score: number;
  box: [number, number, number, number];
  state?: 'tentative' | 'confirmed' | 'lost' | 'predicted';
}

/** Milliseconds spent in the worker on one frame. */
export interface WorkerStages {
  decode?: number;
  preprocess?: number;
  inference?: number;
  postprocess?: number;
  track?: number;
  /** From the message's arrival to the reply. */
  worker: number;
}

export type FromWorker =
  | { type: 'ready'; backend: Backend; threads: number; coreBuild: string; trackerBuild?: string; loadMs: number }
  | {
      type: 'result';
      index: number;
      timestampMs: number;
      detected: boolean;
      width: number;
      height: number;
      objects: WorkerObject[];
      stages: WorkerStages;
    }
  | { type: 'error'; index?: number; message: string; name: string }
  | { type: 'stopped' };

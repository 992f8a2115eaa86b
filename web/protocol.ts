/** Messages between the demo page (main.ts) and its detection worker (worker.ts). */
import type {
  Backend,
  ImageDetection,
  LoadProgress,
  Profile,
  Timings,
  WebGpuAdapterReport,
} from '../src/runtime/types.js';
import type { CoreBuild } from '../src/core/loader.js';
import type { PostprocessConfig } from '../src/core/types.js';
import type { PreprocessSpec } from '../src/runtime/types.js';

export interface Thresholds {
  scoreThreshold: number;
  nmsThreshold: number;
}

export type Request =
  | {
      type: 'init';
      model: string;
      backend: Backend | 'auto';
      profile: Profile;
      thresholds: Thresholds;
      labels?: readonly string[];
    }
  /** The bitmap is transferred and closed by the worker. */
  | { type: 'detect'; id: number; image: ImageBitmap }
  /** Re-runs only the post-processing of the last image. */
  | { type: 'thresholds'; id: number; thresholds: Thresholds };

export interface DetectorInfo {
  backend: Backend;
  backendReason: string;
  adapter?: WebGpuAdapterReport;
  threads: number;
  profile: Profile;
  coreBuild: CoreBuild;
  crossOriginIsolated: boolean;
  model: string;
  /** The onnxruntime-web build the worker loaded. */
  ortBuild: string;
  /** Creating the detector, model download and warm-up included (ms). */
  loadMs: number;
  /** The detector's processing, for the tracking worker's twin (webcam and video modes). */
  config: PostprocessConfig;
  preprocess: PreprocessSpec;
}

export type Reply =
  | { type: 'progress'; progress: LoadProgress }
  | { type: 'ready'; info: DetectorInfo }
  | { type: 'result'; id: number; rerun: 'full' | 'post'; detections: ImageDetection[]; timings: Timings }
  | { type: 'error'; id?: number; stage: 'init' | 'detect' | 'thresholds'; message: string };

/**
 * The runtime's configuration schema: how an image becomes the network's input tensor, and how
 * a detector is created. Field names are the public contract.
 */
import type { Detection, PostprocessConfig } from '../core/types.js';

/** Pre-processing a network expects, on 0–255 pixel values. */
export interface PreprocessSpec {
  /** Network input size in pixels, `[width, height]`. */
  size: readonly [width: number, height: number];
  /** Channel order of the input tensor. */
  channels: 'rgb' | 'bgr';
  /** Subtracted per channel (in `channels` order) from 0–255 values. */
  mean: readonly [number, number, number];
  /** Divisor per channel (in `channels` order), applied after the mean. */
  std: readonly [number, number, number];
  /** Tensor layout: `nchw` = [N, 3, H, W] (PyTorch, our export), `nhwc` = [N, H, W, 3] (TF). */
  layout: 'nchw' | 'nhwc';
}

export type Backend = 'webgpu' | 'wasm' | 'node';

export interface DetectorOptions {
  /** An .onnx file path (Node), a URL, or the model's bytes. */
  model: string | URL | Uint8Array | ArrayBuffer;
  /**
   * Post-processing: a preset name or a full config. Default: what the model's metadata records
   * (models exported by ssd-edge), else an error asking for one.
   */
  preset?: string | PostprocessConfig;
  /** Pre-processing; default: the model's metadata, else the preset's. */
  preprocess?: PreprocessSpec;
  /** 'auto' (default) picks the fastest backend present; see Detector.backend. */
  backend?: Backend | 'auto';
  /** Threads for the wasm and node backends. Default: every core. */
  threads?: number;
  /** Overrides of the post-processing config. */
  labels?: readonly string[];
  scoreThreshold?: number;
  nmsThreshold?: number;
  keepTopK?: number;
}

/** A detection with its box also in the input image's pixels. */
export interface ImageDetection extends Detection {
  /** [xmin, ymin, xmax, ymax] in pixels of the image passed to detect(). */
  pixelBox: [number, number, number, number];
}

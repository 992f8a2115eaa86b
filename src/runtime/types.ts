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
  /**
   * Element type of the input tensor. Default 'float32'. 'uint8': the resized 0–255 pixels as
   * bytes, for quantised models (mean must be 0 and std 1).
   */
  inputType?: 'float32' | 'uint8';
  /** What a quantised model makes of its uint8 input: real value = (pixel − zeroPoint) · scale. Informational. */
  inputQuantization?: { scale: number; zeroPoint: number };
  /**
   * How the image fills the input. 'stretch' (default): resized to `size`, aspect ratio not kept
   * (TF Object Detection API, ssd.pytorch, torchvision). 'letterbox': aspect ratio kept, the image
   * centred, black borders (MediaPipe's `keep_aspect_ratio`). 'pad': aspect ratio kept, the image at
   * the top left, black borders at the right or bottom (face-api). Boxes and keypoints come back in
   * the image's own coordinates either way.
   */
  fit?: 'stretch' | 'letterbox' | 'pad';
  /**
   * Where the bilinear resize samples the source. 'half-pixel' (default): destination pixel d
   * samples s = (d + 0.5) · in/out − 0.5, pixel centres aligned (cv2 INTER_LINEAR, PyTorch
   * align_corners=False, TF halfPixelCenters). 'tf-legacy': s = d · in/out, the top-left corners
   * aligned (TF and tfjs resizeBilinear with alignCorners and halfPixelCenters false; face-api).
   */
  resize?: 'half-pixel' | 'tf-legacy';
}

/**
 * 'node': onnxruntime-node; 'wasm', 'webgpu': onnxruntime-web; 'int8': ssd-edge's own uint8 wasm
 * kernels running a uint8 TensorFlow Lite SSD (a .tflite file, or a built-in model's .tflite twin)
 * in TensorFlow Lite's exact arithmetic, one thread, no onnxruntime.
 */
export type Backend = 'webgpu' | 'wasm' | 'node' | 'int8';

/**
 * 'default': every core, onnxruntime's memory arena. 'low-power': one thread (no
 * SharedArrayBuffer, so no cross-origin isolation needed), onnxruntime's CPU memory arena and
 * memory-pattern planning off (a lower peak memory), 'auto' picks wasm without asking for a
 * WebGPU adapter (which would start a GPU process or SwiftShader), and the core's baseline build
 * where wasm SIMD is missing (as always). onnxruntime-web itself needs wasm SIMD.
 */
export type Profile = 'default' | 'low-power';

export interface DetectorOptions {
  /**
   * A built-in model's name ('ssd-mobilenet-v2-coco': COCO's 80 classes; 'shapes': the training
   * example), an .onnx or .tflite file path (Node), a URL, or the model's bytes. A .tflite SSD runs
   * on backend 'int8' when its network is uint8, else as its exact ONNX conversion (made in memory).
   */
  model: string | URL | Uint8Array | ArrayBuffer;
  /**
   * Post-processing: a preset name or a full config. Default: what the model's metadata records
   * (models exported by ssd-edge), else an error asking for one.
   */
  preset?: string | PostprocessConfig;
  /** Pre-processing; default: the model's metadata, else the preset's. */
  preprocess?: PreprocessSpec;
  /**
   * 'auto' (default) picks the fastest exact backend present; Detector.backend and backendReason
   * say which and why. For a uint8 TFLite SSD (the built-in COCO model included): 'int8' in
   * browsers, and in Node where onnxruntime-node is not installed; else onnxruntime.
   */
  backend?: Backend | 'auto';
  /**
   * Threads for the wasm and node backends. Default: every core (Node), `hardwareConcurrency`
   * on a cross-origin-isolated page, else 1. onnxruntime-web fixes its count at its first session.
   * Backend 'int8': 1 or 2 (the caller and a worker on shared memory; needs a cross-origin-
   * isolated page in browsers, else it runs one and backendReason says why). Default 2 on an
   * isolated page with more than two cores, else 1.
   */
  threads?: number;
  /** Default 'default'; see Profile. */
  profile?: Profile;
  /**
   * The onnxruntime-web module for the 'wasm' and 'webgpu' backends. Default: for 'wasm'
   * `import('onnxruntime-web/wasm')` (the wasm-only build: half the wasm, faster wasm kernels),
   * for 'webgpu' `import('onnxruntime-web')` (the build with WebGPU); the script-tag bundle takes
   * the global `ort`.
   */
  ort?: typeof import('onnxruntime-web');
  /** Where the core's .wasm files are served from, for bundlers that move assets (see LoadCoreOptions). */
  wasmBaseUrl?: string | URL;
  /** Overrides of the post-processing config. */
  labels?: readonly string[];
  scoreThreshold?: number;
  nmsThreshold?: number;
  keepTopK?: number;
  /** Largest image accepted, in pixels (width × height). Default 50 000 000 (see DEFAULT_MAX_IMAGE_PIXELS). */
  maxImagePixels?: number;
  /**
   * Called while the detector loads: the model's bytes as they arrive ('model'; `total` from the
   * response's Content-Length, else given with the last call), then once when the core's wasm is
   * compiled ('wasm', loaded = total = 1). For a loading bar: "loading model… 42%".
   */
  onProgress?: (progress: LoadProgress) => void;
}

/** What createDetector's `onProgress` is told while the detector loads. */
export interface LoadProgress {
  /** 'model': the model's bytes; 'wasm': the core's compiled module. */
  stage: 'model' | 'wasm';
  /** Bytes received ('model'), modules compiled ('wasm'). */
  loaded: number;
  /** What `loaded` ends at, where known; the last call of a stage always has it. */
  total?: number;
}

/** A detection with its box also in the input image's pixels. */
export interface ImageDetection extends Detection {
  /** [xmin, ymin, xmax, ymax] in pixels of the image passed to detect(). */
  pixelBox: [number, number, number, number];
  /** With keypoints (MediaPipe's detectors): each (x, y) in pixels of that image. */
  pixelKeypoints?: [x: number, y: number][];
}

/**
 * Decoded pixels, row-major, 8 bits per channel: 1 = grey, 3 = RGB, 4 = RGBA (alpha ignored).
 * `ImageData` is one (RGBA). `channels` defaults to `data.length / (width × height)`.
 */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels?: 1 | 3 | 4;
}

/** Images a browser can hand to detect(); each is drawn once to read its RGBA pixels. */
export type BrowserImageSource = HTMLCanvasElement | OffscreenCanvas | HTMLImageElement | ImageBitmap | VideoFrame;

/**
 * What detect() accepts: in Node an image file path or its encoded bytes (JPEG, PNG, … via
 * sharp); everywhere raw pixels (`RawImage`, `ImageData`); in browsers canvases, image elements,
 * ImageBitmaps and VideoFrames (read, not closed: the caller owns them).
 */
export type DetectorImage = string | Uint8Array | ArrayBuffer | RawImage | BrowserImageSource;

/** Milliseconds spent in each stage of the last detect()/detectBatch() call. */
export interface Timings {
  /** Reading the image: decoding a file (Node) or drawing an element to read its pixels (browser). */
  decode: number;
  /** Resize, channel order, mean/std and layout into the input tensor. */
  preprocess: number;
  /** The ONNX session's run. */
  inference: number;
  /** Scores, thresholds, top-k, decoding, NMS (the wasm core). */
  postprocess: number;
}

/** Thresholds that can change after creation (Detector.setThresholds). */
export interface ThresholdOverrides {
  scoreThreshold?: number;
  nmsThreshold?: number;
}

/** The WebGPU adapter a 'webgpu' detector runs on, or the one 'auto' passed over. */
export interface WebGpuAdapterReport {
  /** Vendor, architecture, device and description from `GPUAdapter.info`, as far as given. */
  description: string;
  /** True for a CPU implementation (SwiftShader, llvmpipe, WARP, …): expect CPU speeds. */
  software: boolean;
}

/**
 * createDetector: an SSD in ONNX, end to end. Image → pixels (sharp in Node, a canvas in
 * browsers) → input tensor (the wasm core, preprocess-wasm.ts) → onnxruntime (session.ts) → loc, conf → the wasm
 * core's post-processing → detections with normalised and pixel boxes.
 *
 * At creation the model is checked against the configuration and warmed up with one run on a
 * zero image (the first run of a session is the slow one), so a mismatch is reported before
 * any detect() and the first detect() is as fast as the rest.
 *
 * Its parts: detector-config.ts chooses the post- and pre-processing, model-loading.ts reads the
 * model and opens its session, model-contract.ts checks the model's input and outputs against
 * them; this file runs images through them.
 */
import { coreAfterArena, createPostprocessor, type Postprocessor } from '../core/postprocessor.js';
import { presetByName } from '../core/presets.js';
import { resolveConfig } from '../core/config.js';
import type { PostprocessConfig } from '../core/types.js';
import { IS_NODE } from './environment.js';
import { isBrowserImageSource, readBrowserImage } from './image-browser.js';
import { DEFAULT_MAX_IMAGE_PIXELS, requireWithinLimit, validateMaxPixels } from './image-limits.js';
import { METADATA_POSTPROCESS, METADATA_PREPROCESS } from './model-metadata.js';
import { inputDims, validatePreprocessSpec } from './preprocess.js';
import { fitImage, unfitDetection, type FitFrame } from './fit.js';
import { createWasmPreprocessor, type WasmPreprocessor } from './preprocess-wasm.js';
import { checkSessionOptions, type ModelSession } from './session.js';
import { choosePostprocess, choosePreprocess } from './detector-config.js';
import { checkInput, chooseOutputs, postprocess, readHeads, warmUp, type Heads } from './model-contract.js';
import { loadModel } from './model-loading.js';
import type {
  Backend,
  DetectorImage,
  DetectorOptions,
  ImageDetection,
  PreprocessSpec,
  Profile,
  RawImage,
  ThresholdOverrides,
  Timings,
  WebGpuAdapterReport,
} from './types.js';
import { precompileCore, type CoreBuild } from '../core/loader.js';
import type { Detection } from '../core/types.js';
import {
  startTracking,
  type TrackHandle,
  type TrackOptions,
  type TrackResult,
  type TrackSource,
} from '../stream/track.js';
import { rejectUnknownKeys } from '../util/strict-keys.js';

/** Every DetectorOptions key; the `satisfies` keeps the list in step with the interface. */
const DETECTOR_OPTION_KEYS = Object.keys({
  model: 1,
  preset: 1,
  preprocess: 1,
  backend: 1,
  threads: 1,
  profile: 1,
  ort: 1,
  wasmBaseUrl: 1,
  labels: 1,
  scoreThreshold: 1,
  nmsThreshold: 1,
  keepTopK: 1,
  maxImagePixels: 1,
  onProgress: 1,
} satisfies Record<keyof DetectorOptions, 1>);
const THRESHOLD_KEYS = Object.keys({ scoreThreshold: 1, nmsThreshold: 1 } satisfies Record<
  keyof ThresholdOverrides,
  1
>);

/**
 * The core's wasm memory grows to the largest image and never shrinks: when the pre-processing
 * has grown it by more than this past the post-processing's arena (a 10-megapixel RGB image and
 * its tables), the core is replaced by a fresh instance after the call.
 */
export const PREPROCESS_KEEP_BYTES = 48 * 2 ** 20;

export { METADATA_POSTPROCESS, METADATA_PREPROCESS };

export interface Detector {
  /** The backend running the model ('auto' resolved). */
  readonly backend: Backend;
  /** CPU threads of that backend. */
  readonly threads: number;
  /** Why that backend: "backend 'wasm' asked for", "auto: the WebGPU adapter (…) is a software one", … */
  readonly backendReason: string;
  /**
   * The WebGPU adapter, and whether it is a software one (CPU speed): the one running the model
   * for 'webgpu', the one passed over when 'auto' chose wasm; undefined without WebGPU, and for
   * 'wasm' and the low-power profile's 'auto', which request no adapter.
   */
  readonly adapter?: WebGpuAdapterReport;
  /** The profile in use. */
  readonly profile: Profile;
  /** The wasm core build doing pre- and post-processing ('baseline' where SIMD is missing). */
  readonly coreBuild: CoreBuild;
  /** The pre-processing in use. */
  readonly inputSpec: Readonly<PreprocessSpec>;
  /** The post-processing in use, overrides applied. */
  readonly config: Readonly<PostprocessConfig>;
  /** Stage timings of the last successful detect()/detectBatch() call; undefined before one. */
  readonly lastTimings: Readonly<Timings> | undefined;
  /** Detections in one image, best first. */
  detect(image: DetectorImage): Promise<ImageDetection[]>;
  /** Detections per image; one inference for the whole batch when the model's batch size is dynamic. */
  detectBatch(images: readonly DetectorImage[]): Promise<ImageDetection[][]>;
  /**
   * Sets the score and/or IoU (NMS) threshold for calls made from now on (calls already made
   * keep theirs), and re-runs only the post-processing of the last detect()/detectBatch() call
   * on its kept model outputs (no pre-processing, no inference): the detections per image of
   * that call with the new thresholds, or undefined before any call. lastTimings then holds
   * just the post-processing. The post-processor is reconfigured in place (no new instance).
   */
  setThresholds(overrides: ThresholdOverrides): Promise<ImageDetection[][] | undefined>;
  /**
   * Follows a `<video>`, a MediaStream, or VideoFrames/ImageBitmaps in a Web Worker running this
   * detector's twin (same model, processing and backend): latest frame wins, optional tracking and
   * detection every N-th frame; `onResult` gets each frame's objects in source and CSS pixels with
   * p50/p95 stage timings and the frame rate. Resolves once the worker is ready. Browsers only.
   */
  track(source: TrackSource, onResult: (result: TrackResult) => void, options?: TrackOptions): Promise<TrackHandle>;
  /** Releases the session and the core, and stops running track() calls; later calls throw. Waits for calls in flight. */
  dispose(): Promise<void>;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'object';
}

/** One inference's outputs and the sizes of its images, kept for setThresholds(). */
interface KeptRun {
  heads: Heads;
  images: readonly RawImage[];
  /** Where each image sat in its padded input (PreprocessSpec.fit), or undefined when stretched. */
  frames: readonly (FitFrame | undefined)[];
}

/** What a detector is made of: its session, its processing and the options it keeps. */
interface DetectorParts {
  session: ModelSession;
  post: Postprocessor;
  prep: WasmPreprocessor;
  inputSpec: PreprocessSpec;
  /** The post-processing config, overrides applied. */
  config: PostprocessConfig;
  /** The names of the loc and conf outputs. */
  outputs: [loc: string, conf: string];
  /** Whether the model takes several images per run. */
  batchable: boolean;
  maxPixels: number;
  profile: Profile;
  wasmBaseUrl: string | URL | undefined;
  /** The bytes the session runs (track()'s worker builds its twin from them). */
  modelBytes: Uint8Array;
}

class OnnxDetector implements Detector {
  readonly backend: Backend;
  readonly threads: number;
  readonly backendReason: string;
  readonly adapter?: WebGpuAdapterReport;
  readonly coreBuild: CoreBuild;
  lastTimings: Timings | undefined;
  private lastRuns: KeptRun[] | undefined;
  private disposed = false;
  /** Calls started and not settled: dispose() lets them finish. */
  private readonly inFlight = new Set<Promise<unknown>>();
  // Runs go one at a time: onnxruntime-web's WebGPU backend rejects a second run in progress
  // ("Session already started"), and lastTimings stay free of overlap.
  private queue: Promise<unknown> = Promise.resolve();
  private readonly runs = new Set<TrackHandle>();

  private readonly session: ModelSession;
  private post: Postprocessor;
  private prep: WasmPreprocessor;
  readonly inputSpec: PreprocessSpec;
  config: PostprocessConfig;
  /** The config whose thresholds the post-processor holds now (a call sets its own before running). */
  private postConfig: PostprocessConfig;
  private readonly outputs: [loc: string, conf: string];
  private readonly batchable: boolean;
  private readonly maxPixels: number;
  readonly profile: Profile;
  private readonly wasmBaseUrl: string | URL | undefined;
  private readonly modelBytes: Uint8Array;

  constructor(parts: DetectorParts) {
    ({
      session: this.session,
      post: this.post,
      prep: this.prep,
      inputSpec: this.inputSpec,
      config: this.config,
      outputs: this.outputs,
      batchable: this.batchable,
      maxPixels: this.maxPixels,
      profile: this.profile,
      wasmBaseUrl: this.wasmBaseUrl,
      modelBytes: this.modelBytes,
    } = parts);
    this.postConfig = this.config;
    this.backend = this.session.backend;
    this.threads = this.session.threads;
    this.backendReason = this.session.backendReason;
    this.adapter = this.session.adapter;
    this.coreBuild = this.post.build;
  }

  private requireOpen(): void {
    if (this.disposed) throw new Error('this detector was disposed; create a new one');
  }

  private async pixels(image: DetectorImage): Promise<RawImage> {
    if (typeof image === 'string' || image instanceof Uint8Array || image instanceof ArrayBuffer) {
      if (!IS_NODE) {
        throw new TypeError(
          'in a browser, detect() takes ImageData, a canvas, an image element or an ImageBitmap; ' +
            'turn a file into one with createImageBitmap(blob)',
        );
      }
      const { decodeImage } = await import('./image-node.js');
      return decodeImage(image, this.maxPixels);
    }
    if (isBrowserImageSource(image)) return readBrowserImage(image, this.maxPixels);
    if (image !== null && typeof image === 'object' && 'data' in image) {
      const { width, height } = image;
      if (typeof width === 'number' && typeof height === 'number')
        requireWithinLimit(width, height, this.maxPixels, '(raw pixels)');
      return image;
    }
    throw new TypeError(
      `detect() takes ${IS_NODE ? 'an image file path, its bytes (Uint8Array),' : 'a canvas, an image element, an ImageBitmap,'} ` +
        `or pixels { data, width, height, channels? } (ImageData is one); got ${describeValue(image)}`,
    );
  }

  async detect(image: DetectorImage): Promise<ImageDetection[]> {
    return (await this.detectBatch([image]))[0];
  }

  async detectBatch(images: readonly DetectorImage[]): Promise<ImageDetection[][]> {
    if (!Array.isArray(images))
      throw new TypeError(`detectBatch() takes an array of images, got ${describeValue(images)}`);
    this.requireOpen();
    // the thresholds in force now serve this call, whatever setThresholds does meanwhile
    const call = this.run(images, this.config);
    const settled = () => this.inFlight.delete(call);
    this.inFlight.add(call);
    call.then(settled, settled);
    return call;
  }

  /** Runs the post-processing of `heads` with the thresholds of `config` (set in place when they differ). Call inside serialize(). */
  private postprocessWith(config: PostprocessConfig, heads: Heads, batch: number): Detection[][] {
    if (config !== this.postConfig) {
      this.post.setThresholds({ scoreThreshold: config.scoreThreshold, nmsThreshold: config.nmsThreshold });
      this.postConfig = config;
    }
    return postprocess(this.post, heads, batch);
  }

  private async run(images: readonly DetectorImage[], config: PostprocessConfig): Promise<ImageDetection[][]> {
    let start = performance.now();
    const decoded = await Promise.all(images.map((image) => this.pixels(image)));
    const timings: Timings = { decode: performance.now() - start, preprocess: 0, inference: 0, postprocess: 0 };
    const results: ImageDetection[][] = [];
    const kept: KeptRun[] = [];
    const group = this.batchable ? decoded.length : 1;
    for (let first = 0; first < decoded.length; first += group) {
      const part = decoded.slice(first, first + group);
      start = performance.now();
      const fitted = part.map((image) => fitImage(image, this.inputSpec));
      const input = this.prep.tensor(
        fitted.map((f) => f.image),
        this.inputSpec,
      );
      const frames = fitted.map((f) => f.frame);
      timings.preprocess += performance.now() - start;
      const found = await this.serialize(async () => {
        start = performance.now();
        const outputs = await this.session.run(input, inputDims(this.inputSpec, part.length));
        timings.inference += performance.now() - start;
        start = performance.now();
        const heads = readHeads(outputs, this.outputs, part.length);
        const detections = this.postprocessWith(config, heads, part.length);
        timings.postprocess += performance.now() - start;
        // sizes only: the pixels are not needed again
        kept.push({
          heads,
          frames,
          images: part.map(({ width, height }) => ({ data: new Uint8Array(0), width, height })),
        });
        return detections;
      });
      found.forEach((detections, index) => results.push(inImage(detections, part[index], frames[index])));
    }
    this.lastTimings = timings;
    this.lastRuns = kept;
    await this.trimPreprocessor();
    return results;
  }

  /** Whether a large image grew the shared core by more than PREPROCESS_KEEP_BYTES past the post-processing's arena. */
  private grown(): boolean {
    return !this.disposed && this.prep.memoryBytes - coreAfterArena(this.post).heapBase > PREPROCESS_KEEP_BYTES;
  }

  /**
   * Replaces a core grown by a large image with a fresh one (its post-processor, with the
   * thresholds it holds, and its pre-processor), so that memory is not held for the detector's life.
   */
  private async trimPreprocessor(): Promise<void> {
    if (!this.grown()) return;
    await this.serialize(async () => {
      if (!this.grown()) return; // another call trimmed it meanwhile
      const post = await createPostprocessor(this.postConfig, { build: this.coreBuild, wasmBaseUrl: this.wasmBaseUrl });
      const prep = await createWasmPreprocessor({ core: coreAfterArena(post) });
      const [large, largePrep] = [this.post, this.prep];
      [this.post, this.prep] = [post, prep];
      largePrep.dispose();
      large.dispose();
    });
  }

  async setThresholds(overrides: ThresholdOverrides): Promise<ImageDetection[][] | undefined> {
    if (overrides === null || typeof overrides !== 'object') {
      throw new TypeError(`setThresholds takes { scoreThreshold?, nmsThreshold? }, got ${describeValue(overrides)}`);
    }
    rejectUnknownKeys(overrides, THRESHOLD_KEYS, 'setThresholds');
    this.requireOpen();
    const config = { ...this.config };
    if (overrides.scoreThreshold !== undefined) config.scoreThreshold = overrides.scoreThreshold;
    if (overrides.nmsThreshold !== undefined) config.nmsThreshold = overrides.nmsThreshold;
    resolveConfig(config, this.post.priors); // validates the values (RangeError naming them) before anything changes
    // in force for every call made from now on; calls made before keep theirs (run() captured this.config)
    this.config = config;
    return this.serialize(async () => {
      this.requireOpen(); // disposed while waiting for calls in flight
      if (!this.lastRuns) return undefined;
      const start = performance.now();
      const results: ImageDetection[][] = [];
      for (const { heads, images, frames } of this.lastRuns) {
        this.postprocessWith(config, heads, images.length).forEach((detections, index) =>
          results.push(inImage(detections, images[index], frames[index])),
        );
      }
      this.lastTimings = { decode: 0, preprocess: 0, inference: 0, postprocess: performance.now() - start };
      return results;
    });
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async track(
    source: TrackSource,
    onResult: (result: TrackResult) => void,
    options: TrackOptions = {},
  ): Promise<TrackHandle> {
    this.requireOpen();
    const handle = await startTracking(
      {
        model: this.modelBytes,
        config: this.config,
        preprocess: this.inputSpec,
        backend: this.backend,
        profile: this.profile,
        maxImagePixels: this.maxPixels,
        wasmBaseUrl: this.wasmBaseUrl === undefined ? undefined : String(this.wasmBaseUrl),
      },
      source,
      onResult,
      options,
    );
    this.runs.add(handle);
    const forget = () => this.runs.delete(handle);
    handle.done.then(forget, forget);
    return handle;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.allSettled([...this.runs].map((run) => run.stop()));
    await Promise.allSettled([...this.inFlight]);
    await this.session.release();
    this.post.dispose();
    this.prep.dispose();
    this.lastRuns = undefined;
  }
}

/** Detections of the input → the image's: out of the padded frame (when fitted), then in its pixels. */
function inImage(detections: readonly Detection[], image: RawImage, frame: FitFrame | undefined): ImageDetection[] {
  return detections.map((d) => withPixels(frame ? unfitDetection(d, frame, image.width, image.height) : d, image));
}

/** The detection with its box (and keypoints) scaled to the image's pixels (not clipped: set `clip` in the config for that). */
function withPixels(detection: Detection, image: RawImage): ImageDetection {
  const [xmin, ymin, xmax, ymax] = detection.box;
  const { width, height } = image;
  const found: ImageDetection = { ...detection, pixelBox: [xmin * width, ymin * height, xmax * width, ymax * height] };
  if (detection.keypoints) found.pixelKeypoints = detection.keypoints.map(([x, y]) => [x * width, y * height]);
  return found;
}

/**
 * A detector for an SSD in ONNX.
 *
 * - Post-processing: `options.preset` (a name or a PostprocessConfig), else the model's
 *   metadata `ssd-edge.postprocess` (JSON: a preset name or a PostprocessConfig whose priors may
 *   be an array), else an error. `labels`, `scoreThreshold`, `nmsThreshold`, `keepTopK` override it.
 * - Pre-processing: `options.preprocess`, else metadata `ssd-edge.preprocess` (JSON
 *   PreprocessSpec), else the named preset's `inputPresets` entry.
 * - The model needs one float32 input (uint8 where the pre-processing says `inputType: 'uint8'`,
 *   as converted quantised models do) and two outputs: `loc` [N, priors, 4] and `conf`
 *   [N, priors, classes], found by those names, else taken as its first two outputs in that order
 *   (later ones, such as ssd.pytorch's priors, are ignored). Input shape, prior count and class
 *   count are checked at load, the last two from a warm-up run on a zero image.
 *
 * @example
 * const detector = await createDetector({ model: 'ssd300.onnx', preset: 'ssd300Voc' });
 * const found = await detector.detect('dog.jpg'); // [{ classId: 12, label: 'dog', score, box, pixelBox, priorIndex }]
 */
export async function createDetector(options: DetectorOptions): Promise<Detector> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`createDetector takes { model, preset?, backend?, ... }, got ${describeValue(options)}`);
  }
  rejectUnknownKeys(options, DETECTOR_OPTION_KEYS, 'createDetector options');
  checkSessionOptions(options);
  const maxPixels =
    options.maxImagePixels === undefined ? DEFAULT_MAX_IMAGE_PIXELS : validateMaxPixels(options.maxImagePixels);
  if (typeof options.preset === 'string') presetByName(options.preset); // an unknown name fails before the model loads
  if (options.preprocess !== undefined) validatePreprocessSpec(options.preprocess);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function')
    throw new TypeError(`onProgress must be a function, got ${describeValue(options.onProgress)}`);

  const coreOptions = { wasmBaseUrl: options.wasmBaseUrl };
  precompileCore(coreOptions); // the core's wasm compiles while the model's bytes arrive
  const { model, records, openSession } = await loadModel(options);
  const postChoice = choosePostprocess(options, records, model.name);
  const inputSpec = choosePreprocess(options, records, postChoice);
  const post = await createPostprocessor(postChoice.config, coreOptions);
  options.onProgress?.({ stage: 'wasm', loaded: 1, total: 1 });
  // one core for both: the pre-processing works in the memory after the post-processing's arena
  const prep = await createWasmPreprocessor({ core: coreAfterArena(post) });
  let session: ModelSession | undefined;
  try {
    const opened = await openSession();
    session = opened.session;
    const batchable = checkInput(session, inputSpec, model.name);
    const outputs = chooseOutputs(session, model.name);
    await warmUp(session, inputSpec, outputs, post, postChoice.name, model.name);
    return new OnnxDetector({
      session,
      post,
      prep,
      inputSpec,
      config: postChoice.config,
      outputs,
      batchable,
      maxPixels,
      profile: options.profile ?? 'default',
      wasmBaseUrl: options.wasmBaseUrl,
      modelBytes: opened.model.bytes,
    });
  } catch (error) {
    await session?.release();
    post.dispose();
    prep.dispose();
    throw error;
  }
}

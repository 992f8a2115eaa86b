/**
 * createDetector: an SSD in ONNX, end to end. Image → pixels (sharp in Node, a canvas in
 * browsers) → input tensor (the wasm core, preprocess-wasm.ts) → onnxruntime (session.ts) → loc, conf → the wasm
 * core's post-processing → detections with normalised and pixel boxes.
 *
 * At creation the model is checked against the configuration and warmed up with one run on a
 * zero image (the first run of a session is the slow one), so a mismatch is reported before
 * any detect() and the first detect() is as fast as the rest.
 */
import { createPostprocessor, type Postprocessor, type Quantization } from '../core/postprocessor.js';
import { presetByName, presets, type PresetName } from '../core/presets.js';
import type { Detection, PostprocessConfig } from '../core/types.js';
import { IS_NODE } from './environment.js';
import { isBrowserImageSource, readBrowserImage } from './image-browser.js';
import { DEFAULT_MAX_IMAGE_PIXELS, requireWithinLimit, validateMaxPixels } from './image-limits.js';
import { inputPresets } from './input-presets.js';
import { hasOnnxGraph, METADATA_POSTPROCESS, METADATA_PREPROCESS, readModelMetadata } from './model-metadata.js';
import { inputDims, validatePreprocessSpec } from './preprocess.js';
import { fitImage, unfitDetection, type FitFrame } from './fit.js';
import { createWasmPreprocessor, type WasmPreprocessor } from './preprocess-wasm.js';
import { checkSessionOptions, createSession, onnxruntimeNodeLoads, readModelBytes, type ModelBytes, type ModelSession, type SessionOutput } from './session.js';
import { BUILTIN_TFLITE_TWINS, isBuiltinModel } from './builtin-models.js';
import type { TfliteSsd } from './tflite-model.js';
import type {
  Backend, DetectorImage, DetectorOptions, ImageDetection, PreprocessSpec, Profile, RawImage, ThresholdOverrides, Timings,
  WebGpuAdapterReport,
} from './types.js';
import type { CoreBuild } from '../core/loader.js';
import { startTracking, type TrackHandle, type TrackOptions, type TrackResult, type TrackSource } from '../stream/track.js';
import { rejectUnknownKeys } from '../util/strict-keys.js';

/** Every DetectorOptions key; the `satisfies` keeps the list in step with the interface. */
const DETECTOR_OPTION_KEYS = Object.keys({
  model: 1, preset: 1, preprocess: 1, backend: 1, threads: 1, profile: 1, ort: 1, wasmBaseUrl: 1, labels: 1,
  scoreThreshold: 1, nmsThreshold: 1, keepTopK: 1, maxImagePixels: 1,
} satisfies Record<keyof DetectorOptions, 1>);
const THRESHOLD_KEYS = Object.keys({ scoreThreshold: 1, nmsThreshold: 1 } satisfies Record<keyof ThresholdOverrides, 1>);

/**
 * The pre-processor's wasm memory grows to the largest image and never shrinks: above this
 * (a 10-megapixel RGB image and its tables), it is replaced by a fresh instance after the call.
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
   * Sets the score and/or IoU (NMS) threshold for later calls, and re-runs only the
   * post-processing of the last detect()/detectBatch() call on its kept model outputs (no
   * pre-processing, no inference): the detections per image of that call with the new
   * thresholds, or undefined before any call. lastTimings then holds just the post-processing.
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

interface PostprocessChoice {
  config: PostprocessConfig;
  /** How messages name it: "preset 'ssd300Voc'", "this config", … */
  name: string;
  /** The input preset of a named preset. */
  input?: PreprocessSpec;
}

function presetNamed(name: string): PostprocessChoice {
  return { config: presetByName(name), name: `preset '${name}'`, input: inputPresets[name as PresetName] };
}

/** Parses a JSON metadata value; errors name the key (a model's metadata is not the user's fault). */
function fromMetadata<T>(metadata: Record<string, string>, key: string, parse: (value: unknown) => T): T | undefined {
  const text = metadata[key];
  if (text === undefined) return undefined;
  try {
    return parse(JSON.parse(text));
  } catch (error) {
    throw new Error(`the model's metadata '${key}' is unusable: ${(error as Error).message}`, { cause: error });
  }
}

/** A metadata post-processing entry: a preset name, or a PostprocessConfig whose priors may be a JSON array. */
function postprocessFromJson(value: unknown): PostprocessChoice {
  if (typeof value === 'string') return presetNamed(value);
  if (value === null || typeof value !== 'object') throw new TypeError('expected a preset name or a PostprocessConfig object');
  const config = value as PostprocessConfig & { priors: unknown };
  const priors = Array.isArray(config.priors) ? new Float32Array(config.priors as number[]) : config.priors;
  return { config: { ...config, priors }, name: `the model's '${METADATA_POSTPROCESS}' config` };
}

/** What a model records about its own processing: an ONNX file's metadata, or a .tflite's detection op and input. */
interface ModelRecords {
  postprocess?: PostprocessChoice;
  preprocess?: PreprocessSpec;
}

function onnxRecords(metadata: Record<string, string>): ModelRecords {
  return {
    postprocess: fromMetadata(metadata, METADATA_POSTPROCESS, postprocessFromJson),
    preprocess: fromMetadata(metadata, METADATA_PREPROCESS, (v) => validatePreprocessSpec(v as PreprocessSpec)),
  };
}

/** Post-processing: options.preset, else what the model records, else an error asking for one. */
function choosePostprocess(options: DetectorOptions, records: ModelRecords, model: string): PostprocessChoice {
  const { preset } = options;
  let choice: PostprocessChoice | undefined;
  if (typeof preset === 'string') choice = presetNamed(preset);
  else if (preset !== undefined) {
    // a preset object passed as is still brings its input preset
    const name = (Object.keys(presets) as PresetName[]).find((key) => presets[key] === preset);
    choice = name ? presetNamed(name) : { config: preset, name: 'this config' };
  } else choice = records.postprocess;
  if (!choice) {
    throw new Error(`model ${model} records no post-processing (metadata '${METADATA_POSTPROCESS}'): pass preset, ` +
      `one of ${Object.keys(presets).join(', ')}, or a PostprocessConfig`);
  }
  const config = { ...choice.config };
  if (options.labels !== undefined) config.labels = options.labels;
  if (options.scoreThreshold !== undefined) config.scoreThreshold = options.scoreThreshold;
  if (options.nmsThreshold !== undefined) config.nmsThreshold = options.nmsThreshold;
  if (options.keepTopK !== undefined) config.keepTopK = options.keepTopK;
  return { ...choice, config };
}

/** Pre-processing: options.preprocess, else what the model records, else the preset's input preset. */
function choosePreprocess(options: DetectorOptions, records: ModelRecords, post: PostprocessChoice): PreprocessSpec {
  const spec = options.preprocess ?? records.preprocess ?? post.input;
  if (!spec) {
    throw new Error(`no pre-processing is known for ${post.name}: pass preprocess (a PreprocessSpec such as ` +
      'inputPresets.ssd300Voc), or a preset by name');
  }
  return validatePreprocessSpec(spec);
}

function shapeText(dims: readonly (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

/**
 * Checks the model's one input against the pre-processing; returns whether its batch size is
 * dynamic (several images per run) or fixed at 1.
 */
function checkInput(session: ModelSession, spec: PreprocessSpec, model: string): boolean {
  if (session.inputNames.length !== 1) {
    throw new Error(`model ${model} has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); ` +
      'ssd-edge feeds one image tensor');
  }
  const input = session.inputMetadata[0];
  if (!input?.isTensor || input.shape.length === 0) return false; // undeclared: run one image at a time
  const expected = inputDims(spec, 1);
  const what = `model input '${input.name}' is ${input.type} ${shapeText(input.shape)}`;
  const feeds = spec.inputType ?? 'float32';
  if (input.type !== feeds) {
    throw new Error(`${what}; the pre-processing feeds ${feeds} tensors` +
      (input.type === 'uint8' ? " (a quantised model: set preprocess.inputType 'uint8')" : ''));
  }
  const fits = input.shape.length === 4 && input.shape.every((d, i) => typeof d === 'string' || i === 0 || d === expected[i]);
  if (!fits) {
    throw new Error(`${what}, but the pre-processing makes ${shapeText(expected)} (${spec.size[0]} × ${spec.size[1]}, ` +
      `${spec.layout}): pass the preset or preprocess this model was trained with`);
  }
  if (typeof input.shape[0] === 'number' && input.shape[0] !== 1) {
    throw new Error(`${what}: a batch fixed at ${input.shape[0]} is not supported; export it with batch 1 or a dynamic batch`);
  }
  return typeof input.shape[0] === 'string';
}

/** Output names: 'loc' and 'conf' when the model has both, else its first two outputs in order. */
function chooseOutputs(session: ModelSession, model: string): [loc: string, conf: string] {
  const names = session.outputNames;
  if (names.includes('loc') && names.includes('conf')) return ['loc', 'conf'];
  if (names.length >= 2) return [names[0], names[1]];
  throw new Error(`model ${model} has ${names.length} output(s) (${names.join(', ')}); an SSD needs two: ` +
    'loc [N, priors, 4] and conf [N, priors, classes]');
}

/** The output's values, after checking it is float32 of rank 3 with `batch` rows first. */
function outputValues(output: SessionOutput, name: string, batch: number, pattern: string): Float32Array {
  if (!(output.data instanceof Float32Array)) throw new Error(`model output '${name}' is ${output.type}; ssd-edge needs float32`);
  checkRank(output, name, batch, pattern);
  return output.data;
}

function checkRank(output: SessionOutput, name: string, batch: number, pattern: string): void {
  if (output.dims.length !== 3 || output.dims[0] !== batch) {
    throw new Error(`model output '${name}' has shape ${shapeText(output.dims)}; expected ${pattern}`);
  }
}

/** Checks the warm-up outputs' shapes against the post-processing config. */
function checkOutputs(outputs: Record<string, SessionOutput>, [locName, confName]: [string, string],
                      post: Postprocessor, configName: string): void {
  const { numPriors, numClasses, locValues } = post.config;
  // uint8 heads with their quantisation (backend 'int8') or float32
  const check = (name: string, pattern: string) => (outputs[name].quantization ? checkRank : outputValues)(outputs[name], name, 1, pattern);
  check(locName, '[N, priors, 4] (box offsets)');
  check(confName, '[N, priors, classes] (class scores)');
  const [, boxes, four] = outputs[locName].dims;
  const [, rows, classes] = outputs[confName].dims;
  if (four !== locValues) {
    throw new Error(`model output '${locName}' has ${four} values per box; loc must be [N, priors, ${locValues}]` +
      (locValues > 4 ? ` (4 box values and ${(locValues - 4) / 2} keypoints, from the config's keypoints)` : ''));
  }
  if (boxes !== numPriors) throw new Error(`model outputs ${boxes} boxes but ${configName} has ${numPriors} priors`);
  if (rows !== boxes) throw new Error(`model outputs ${boxes} boxes in '${locName}' but ${rows} score rows in '${confName}'`);
  if (classes !== numClasses) {
    throw new Error(`model outputs ${classes} class scores per box but ${configName} has ${numClasses} classes (numClasses)`);
  }
}

/** Whether the bytes are a TensorFlow Lite flatbuffer (file identifier 'TFL3' at byte 4). */
function isTflite(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3';
}

/** What a file's first bytes say it is, for messages. */
function describeBytes(bytes: Uint8Array): string {
  const ascii = String.fromCharCode(...bytes.subarray(0, 8));
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'JPEG';
  if (ascii.startsWith('\x89PNG')) return 'PNG';
  if (ascii.slice(4, 8) === 'TFL3') return 'TensorFlow Lite';
  if (ascii.startsWith('PK')) return 'zip (PyTorch?)';
  return 'non-ONNX';
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'object';
}

/** A model's two heads: float32, or uint8 with their quantisation (backend 'int8'). */
type Heads =
  | { loc: Float32Array; conf: Float32Array }
  | { loc: Uint8Array; conf: Uint8Array; locQuant: Quantization; confQuant: Quantization };

/** Post-processing of either kind of heads: uint8 scores are thresholded before dequantising. */
function postprocess(post: Postprocessor, heads: Heads, batch: number): Detection[][] {
  return 'locQuant' in heads
    ? post.runQuantized(heads.loc, heads.locQuant, heads.conf, heads.confQuant, batch)
    : post.run(heads.loc, heads.conf, batch);
}

/** One inference's outputs and the sizes of its images, kept for setThresholds(). */
interface KeptRun {
  heads: Heads;
  images: readonly RawImage[];
  /** Where each image sat in its padded input (PreprocessSpec.fit), or undefined when stretched. */
  frames: readonly (FitFrame | undefined)[];
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

  constructor(private readonly session: ModelSession, private post: Postprocessor,
              private prep: WasmPreprocessor, readonly inputSpec: PreprocessSpec, public config: PostprocessConfig,
              private readonly outputs: [loc: string, conf: string], private readonly batchable: boolean,
              private readonly maxPixels: number, readonly profile: Profile, private readonly wasmBaseUrl: string | URL | undefined,
              private readonly modelBytes: Uint8Array) {
    this.backend = session.backend;
    this.threads = session.threads;
    this.backendReason = session.backendReason;
    this.adapter = session.adapter;
    this.coreBuild = post.build;
  }

  /** The two heads of a run, checked. */
  private heads(outputs: Record<string, SessionOutput>, batch: number): Heads {
    const [locName, confName] = this.outputs;
    const [loc, conf] = [outputs[locName], outputs[confName]];
    if (loc.quantization && conf.quantization) {
      return { loc: loc.data as Uint8Array, conf: conf.data as Uint8Array, locQuant: loc.quantization, confQuant: conf.quantization };
    }
    return {
      loc: outputValues(loc, locName, batch, '[N, priors, 4]'),
      conf: outputValues(conf, confName, batch, '[N, priors, classes]'),
    };
  }

  private requireOpen(): void {
    if (this.disposed) throw new Error('this detector was disposed; create a new one');
  }

  private async pixels(image: DetectorImage): Promise<RawImage> {
    if (typeof image === 'string' || image instanceof Uint8Array || image instanceof ArrayBuffer) {
      if (!IS_NODE) {
        throw new TypeError('in a browser, detect() takes ImageData, a canvas, an image element or an ImageBitmap; ' +
          'turn a file into one with createImageBitmap(blob)');
      }
      const { decodeImage } = await import('./image-node.js');
      return decodeImage(image, this.maxPixels);
    }
    if (isBrowserImageSource(image)) return readBrowserImage(image, this.maxPixels);
    if (image !== null && typeof image === 'object' && 'data' in image) {
      const { width, height } = image;
      if (typeof width === 'number' && typeof height === 'number') requireWithinLimit(width, height, this.maxPixels, '(raw pixels)');
      return image;
    }
    throw new TypeError(`detect() takes ${IS_NODE ? 'an image file path, its bytes (Uint8Array),' : 'a canvas, an image element, an ImageBitmap,'} ` +
      `or pixels { data, width, height, channels? } (ImageData is one); got ${describeValue(image)}`);
  }

  async detect(image: DetectorImage): Promise<ImageDetection[]> {
    return (await this.detectBatch([image]))[0];
  }

  async detectBatch(images: readonly DetectorImage[]): Promise<ImageDetection[][]> {
    if (!Array.isArray(images)) throw new TypeError(`detectBatch() takes an array of images, got ${describeValue(images)}`);
    this.requireOpen();
    // the post-processor (the thresholds) in force now serves this call, whatever setThresholds does meanwhile
    const call = this.run(images, this.post);
    const settled = () => this.inFlight.delete(call);
    this.inFlight.add(call);
    call.then(settled, settled);
    return call;
  }

  private async run(images: readonly DetectorImage[], post: Postprocessor): Promise<ImageDetection[][]> {
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
      const input = this.prep.tensor(fitted.map((f) => f.image), this.inputSpec);
      const frames = fitted.map((f) => f.frame);
      timings.preprocess += performance.now() - start;
      const found = await this.serialize(async () => {
        start = performance.now();
        const outputs = await this.session.run(input, inputDims(this.inputSpec, part.length));
        timings.inference += performance.now() - start;
        start = performance.now();
        const heads = this.heads(outputs, part.length);
        const detections = postprocess(post, heads, part.length);
        timings.postprocess += performance.now() - start;
        // sizes only: the pixels are not needed again
        kept.push({ heads, frames, images: part.map(({ width, height }) => ({ data: new Uint8Array(0), width, height })) });
        return detections;
      });
      found.forEach((detections, index) => results.push(inImage(detections, part[index], frames[index])));
    }
    this.lastTimings = timings;
    this.lastRuns = kept;
    await this.trimPreprocessor();
    return results;
  }

  /** Replaces a pre-processor grown by a large image with a fresh one, so its memory is not held for the detector's life. */
  private async trimPreprocessor(): Promise<void> {
    if (this.prep.memoryBytes <= PREPROCESS_KEEP_BYTES || this.disposed) return;
    const large = this.prep;
    this.prep = await createWasmPreprocessor({ build: this.coreBuild, wasmBaseUrl: this.wasmBaseUrl });
    large.dispose();
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
    // validates the values (RangeError naming them) before anything changes
    const post = await createPostprocessor(config, { build: this.coreBuild, wasmBaseUrl: this.wasmBaseUrl });
    return this.serialize(async () => {
      if (this.disposed) {
        post.dispose(); // disposed while the postprocessor was being made
        throw new Error('this detector was disposed; create a new one');
      }
      const previous = this.post;
      this.post = post;
      this.config = config;
      // calls made before this one keep the thresholds they were made with: free theirs once they settle
      void Promise.allSettled([...this.inFlight]).then(() => previous.dispose());
      if (!this.lastRuns) return undefined;
      const start = performance.now();
      const results: ImageDetection[][] = [];
      for (const { heads, images, frames } of this.lastRuns) {
        postprocess(post, heads, images.length).forEach((detections, index) =>
          results.push(inImage(detections, images[index], frames[index])));
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

  async track(source: TrackSource, onResult: (result: TrackResult) => void, options: TrackOptions = {}): Promise<TrackHandle> {
    this.requireOpen();
    const handle = await startTracking({
      model: this.modelBytes, config: this.config, preprocess: this.inputSpec, backend: this.backend, profile: this.profile,
      maxImagePixels: this.maxPixels, wasmBaseUrl: this.wasmBaseUrl === undefined ? undefined : String(this.wasmBaseUrl),
    }, source, onResult, options);
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
 * Why 'auto' runs a uint8 TFLite SSD on the int8 kernels, or undefined where onnxruntime is the
 * better choice: onnxruntime-node (Node, when installed) is faster than the one-thread kernels,
 * and threads > 1 asked for is onnxruntime's to give (BENCHMARKS.md has the figures).
 */
async function autoInt8Reason(options: DetectorOptions): Promise<string | undefined> {
  if (options.threads !== undefined && options.threads > 1) return undefined;
  if (!IS_NODE) return "auto: a uint8 TensorFlow Lite SSD runs exactly on ssd-edge's int8 kernels, faster than onnxruntime-web";
  if (await onnxruntimeNodeLoads()) return undefined;
  return "auto: onnxruntime-node is not installed, and ssd-edge's int8 kernels run a uint8 TensorFlow Lite SSD faster than onnxruntime-web";
}

/**
 * Threads of the int8 kernels: `threads` when given (1 or 2); by default two on a cross-origin-
 * isolated page with more than two cores (with two, the second thread competes with the page and
 * the browser itself), else one; one in Node, where onnxruntime-node is the faster server choice.
 */
function int8Threads(options: DetectorOptions): 1 | 2 {
  if (options.threads !== undefined) return options.threads === 2 ? 2 : 1;
  if (options.profile === 'low-power' || IS_NODE) return 1;
  return globalThis.crossOriginIsolated === true && (globalThis.navigator?.hardwareConcurrency ?? 1) > 2 ? 2 : 1;
}

/**
 * The session of a .tflite SSD: the int8 kernels when `int8Reason` says so (for 'auto', models they
 * cannot run go on to onnxruntime, and the reason says why), else its exact ONNX conversion on
 * onnxruntime. Returns the bytes the session runs (track()'s worker builds its twin from them).
 */
async function tfliteSession(tflite: typeof import('./tflite-model.js'), ssd: TfliteSsd, model: ModelBytes, options: DetectorOptions,
                             int8Reason: string | undefined): Promise<{ session: ModelSession; model: ModelBytes }> {
  let passedOver = '';
  if (int8Reason !== undefined) {
    try {
      const threads = int8Threads(options);
      return { session: await tflite.createInt8Session(ssd, int8Reason, { wasmBaseUrl: options.wasmBaseUrl, threads }), model };
    } catch (error) {
      if (!(error instanceof tflite.TfliteFormatError)) throw error;
      if (options.backend === 'int8') {
        throw new Error(`backend 'int8' cannot run model ${model.name}: ${error.message}; backend 'auto' runs its ONNX conversion on onnxruntime`, { cause: error });
      }
      passedOver = `auto: the int8 kernels do not run model ${model.name} (${error.message}); `;
    }
  }
  const { tfliteToOnnx } = await import('./tflite-convert.js');
  let bytes: Uint8Array;
  try {
    bytes = tfliteToOnnx(ssd);
  } catch (error) {
    throw new Error(`${passedOver}${(error as Error).message}`, { cause: error }); // a browser bundle, which does not convert
  }
  const onnx: ModelBytes = { bytes, name: model.name };
  const session = await createSession(onnx, options);
  return { session: passedOver ? { ...session, backendReason: passedOver + session.backendReason } : session, model: onnx };
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
  const maxPixels = options.maxImagePixels === undefined ? DEFAULT_MAX_IMAGE_PIXELS : validateMaxPixels(options.maxImagePixels);
  if (typeof options.preset === 'string') presetByName(options.preset); // an unknown name fails before the model loads
  if (options.preprocess !== undefined) validatePreprocessSpec(options.preprocess);

  const requested = options.backend ?? 'auto';
  const twin = isBuiltinModel(options.model) ? BUILTIN_TFLITE_TWINS[options.model] : undefined;
  // a built-in model with a .tflite twin: that file, where the int8 kernels will run it
  const int8Auto = requested === 'auto' ? await autoInt8Reason(options) : undefined;
  const model = await readModelBytes(options.model, { tflite: twin !== undefined && (requested === 'int8' || int8Auto !== undefined) });
  const tflite = isTflite(model.bytes) ? await import('./tflite-model.js') : undefined;
  let records: ModelRecords;
  let ssd: TfliteSsd | undefined;
  if (tflite) {
    const preset = typeof options.preset === 'string' ? presetByName(options.preset) : options.preset;
    ssd = tflite.readTfliteSsd(model.bytes, model.name, { labels: twin?.labels, preset });
    const { description } = ssd;
    records = {
      postprocess: { config: description.postprocess, name: `the model's ${description.detection ? 'TFLite_Detection_PostProcess' : 'anchors'}` },
      preprocess: description.preprocess,
    };
  } else {
    let metadata: Record<string, string>;
    try {
      metadata = readModelMetadata(model.bytes);
    } catch (error) {
      throw new Error(`cannot load model ${model.name}: it is not a valid ONNX model (truncated, or not an .onnx file): ` +
        (error as Error).message, { cause: error });
    }
    if (!hasOnnxGraph(model.bytes)) {
      throw new Error(`cannot load model ${model.name}: it is not an ONNX model (no graph in it; a ${describeBytes(model.bytes)} file?): ` +
        'pass an .onnx or a .tflite file');
    }
    records = onnxRecords(metadata);
  }
  const postChoice = choosePostprocess(options, records, model.name);
  const spec = choosePreprocess(options, records, postChoice);
  const coreOptions = { wasmBaseUrl: options.wasmBaseUrl };
  const post = await createPostprocessor(postChoice.config, coreOptions);
  const prep = await createWasmPreprocessor(coreOptions);
  let session: ModelSession | undefined;
  try {
    let sessionModel = model;
    if (ssd && tflite) {
      const int8Reason = requested === 'int8' ? "backend 'int8' asked for" : int8Auto;
      const made = await tfliteSession(tflite, ssd, model, options, int8Reason);
      session = made.session;
      sessionModel = made.model;
    } else {
      session = await createSession(model, options);
    }
    const batchable = checkInput(session, spec, model.name);
    const outputs = chooseOutputs(session, model.name);
    let warmUp: Record<string, SessionOutput>;
    try {
      const size = 3 * spec.size[0] * spec.size[1];
      warmUp = await session.run(spec.inputType === 'uint8' ? new Uint8Array(size) : new Float32Array(size), inputDims(spec, 1));
    } catch (error) {
      throw new Error(`model ${model.name} failed on a zero image ${shapeText(inputDims(spec, 1))}: ${(error as Error).message}`, { cause: error });
    }
    checkOutputs(warmUp, outputs, post, postChoice.name);
    return new OnnxDetector(session, post, prep, spec, postChoice.config, outputs, batchable, maxPixels,
      options.profile ?? 'default', options.wasmBaseUrl, sessionModel.bytes);
  } catch (error) {
    await session?.release();
    post.dispose();
    throw error;
  }
}

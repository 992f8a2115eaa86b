/**
 * detector.track(source, onResult, options): detection (and tracking) on a live stream, off the
 * page's thread.
 *
 *   page                                          worker (track-worker.ts)
 *   source ─► frame ─► [in flight ≤ 1] ─transfer─► detector twin ─► tracker ─► result ─┐
 *                  └─► [pending ≤ 1]  (a newer frame replaces it: latest frame wins)   │
 *   onResult(result) ◄─ source pixels, CSS pixels (geometry.ts), stats ◄───────────────┘
 *
 * At most one frame is in the worker and one waits on the page, so a slow model drops frames
 * instead of growing a queue; every frame is closed exactly once (here when dropped or not
 * needed, in the worker after detection). With `every: N`, detection runs on every N-th frame
 * sent, and the frames in between get the tracks' constant-velocity predictions (cheap).
 */
import type { TrackerOptions } from '../core/tracker.js';
import { createBoxMapper, type Box, type ObjectFit } from './geometry.js';
import type { FromWorker, ToWorker, WorkerDetectorRecipe, WorkerObject, WorkerStages } from './protocol.js';
import { RateMeter, StageWindow, type StagePercentiles } from './stats.js';
import { rejectUnknownKeys } from '../util/strict-keys.js';
import type { ThresholdOverrides } from '../runtime/types.js';

export type { StagePercentiles } from './stats.js';

/** A frame: VideoFrame or ImageBitmap (track() takes ownership and closes it), optionally with its time. */
export type FrameInput = VideoFrame | ImageBitmap | { image: VideoFrame | ImageBitmap; timestampMs: number };

/**
 * What track() follows: a `<video>` (file or camera), a MediaStream (its first video track),
 * or frames from an iterable, async iterable or ReadableStream.
 */
export type TrackSource =
  HTMLVideoElement | MediaStream | Iterable<FrameInput> | AsyncIterable<FrameInput> | ReadableStream<FrameInput>;

export interface TrackOptions {
  /** Track objects across frames (ids, smoothed boxes); false: plain detections per frame. Default true. */
  track?: boolean;
  /** Run detection on every N-th frame processed, the tracker predicting in between. Integer ≥ 1; default 1. */
  every?: number;
  /** The tracker's options (minHits, maxAge, iouThreshold, smoother, …); see createTracker. */
  tracker?: Omit<TrackerOptions, 'labels' | 'build' | 'wasmBaseUrl'>;
  /**
   * 'latest' (default for a video and a MediaStream): a newer frame replaces the waiting one.
   * 'all' (default for iterables): the next frame is pulled only when the worker is free, none dropped.
   */
  pacing?: 'latest' | 'all';
  /** The element showing the frames, for `cssBox`; default: the `<video>` source itself. */
  element?: HTMLElement;
  /** Whether that element is mirrored; default: read from its computed `transform` (scaleX(−1)). */
  mirrored?: boolean;
  /**
   * A frame whose size differs from the first: 'reset' (default) forgets all tracks and goes on
   * at the new size; 'error' stops the run with a RangeError.
   */
  onSizeChange?: 'reset' | 'error';
  /** Called once if the run stops on an error (done rejects with it too). */
  onError?: (error: Error) => void;
  /** The worker script; default track-worker.js beside this module (ssd-edge-track-worker.mjs in the bundle). */
  workerUrl?: string | URL;
  /** onnxruntime-web as an ES module URL for the worker (needed where no bundler resolves 'onnxruntime-web'). */
  ortUrl?: string | URL;
  /** Frames in the p50/p95 window; default 120. */
  statsWindow?: number;
}

export interface TrackedObject {
  /** Stable id (1, 2, …) while tracking; absent with tracking off, 0 for a tentative track. */
  trackId?: number;
  classId: number;
  label?: string;
  score: number;
  /**
   * 'confirmed' (matched this detection), 'lost' (coasting), 'tentative' (not yet minHits),
   * 'predicted' (a frame without detection); absent with tracking off.
   */
  state?: 'tentative' | 'confirmed' | 'lost' | 'predicted';
  /** (xmin, ymin, xmax, ymax) in the frame's pixels. */
  box: Box;
  /** The same box normalised to [0, 1]. */
  normalizedBox: Box;
  /** The box in CSS pixels of the element's content box, when there is an element with a size. */
  cssBox?: Box;
}

export type TrackStage = 'decode' | 'preprocess' | 'inference' | 'postprocess' | 'track' | 'worker' | 'latency';

export interface TrackResult {
  /** The frame's index among all frames the source gave (dropped ones count). */
  frame: number;
  /** The frame's time in ms: media time for a video file, capture time for a camera, VideoFrame.timestamp / 1000. */
  timestampMs: number;
  /** Whether detection ran on this frame (else the tracker predicted, or the last detections stand). */
  detected: boolean;
  objects: TrackedObject[];
  sourceWidth: number;
  sourceHeight: number;
  /**
   * p50/p95 per stage over the last frames that ran it (ms): the detector's stages, `track`,
   * `worker` (all of the worker's time on a frame) and `latency` (frame taken → onResult).
   */
  timings: Partial<Record<TrackStage, StagePercentiles>>;
  /** Results per second (the achieved frame rate), over the last 3 s (or the last two results). */
  fps: number;
  /** Frames per second the source gave. */
  sourceFps: number;
  /** Detections per second. */
  detectionFps: number;
  /** Frames dropped so far (replaced by a newer one while the worker was busy). */
  dropped: number;
  /** Frames held now (in the worker + waiting), and the most ever: never more than 2. */
  queue: number;
  maxQueue: number;
}

export interface TrackSummary {
  /** 'stopped': stop() was called; 'ended': the source ended (video ended, stream track ended, iterable done). */
  reason: 'stopped' | 'ended';
  /** Frames the source gave, results delivered, frames dropped, the largest queue. */
  frames: number;
  results: number;
  dropped: number;
  maxQueue: number;
}

export interface TrackHandle {
  /** Resolves when the run ends (stop() or the source's end); rejects with the error that stopped it. */
  readonly done: Promise<TrackSummary>;
  /** Stops: releases the source listeners, the waiting frame, the worker (its detector and tracks). */
  stop(): Promise<TrackSummary>;
  /** Turns tracking on or off (tracks start afresh). */
  setTracking(on: boolean): void;
  /** Detection on every N-th frame from now on. */
  setEvery(every: number): void;
  /** New score and/or IoU (NMS) thresholds for the worker's detector, from its next detection on. */
  setThresholds(overrides: ThresholdOverrides): void;
  /** Frames held by the run now (waiting + in the worker); 0 after the run. */
  readonly framesHeld: number;
  /** The worker's detector: backend, threads, core build, load time (ms). */
  readonly worker: { backend: string; threads: number; coreBuild: string; loadMs: number };
}

/** The parts of a Worker the run uses (a fake in Node tests). */
export interface WorkerPort {
  postMessage(message: ToWorker, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<FromWorker>) => void) | null;
  onerror: ((event: ErrorEvent) => void) | null;
  terminate(): void;
}

type Image = VideoFrame | ImageBitmap;

function checkEvery(every: unknown): number {
  if (!Number.isInteger(every) || (every as number) < 1)
    throw new RangeError(`every is ${String(every)}; it must be an integer ≥ 1 (1 = detect on every frame)`);
  return every as number;
}

function closeImage(image: Image | undefined): void {
  try {
    image?.close();
  } catch {
    // already closed
  }
}

function isVideoFrame(image: unknown): image is VideoFrame {
  return typeof VideoFrame !== 'undefined' && image instanceof VideoFrame;
}

/** The image's size; [0, 0] for a closed VideoFrame or ImageBitmap. */
function imageSize(image: Image): [number, number] {
  if (isVideoFrame(image)) return [image.displayWidth, image.displayHeight];
  return [image.width, image.height];
}

const STAGES: readonly TrackStage[] = [
  'decode',
  'preprocess',
  'inference',
  'postprocess',
  'track',
  'worker',
  'latency',
];

/** CSS `object-position` → fractions; keywords and percentages (lengths fall back to centred). */
function objectPosition(value: string): [number, number] {
  const words = value.trim().split(/\s+/);
  const keyword: Record<string, number> = { left: 0, top: 0, center: 0.5, right: 1, bottom: 1 };
  const fraction = (word: string | undefined) =>
    word === undefined ? 0.5 : word in keyword ? keyword[word] : word.endsWith('%') ? parseFloat(word) / 100 : 0.5;
  let [x, y] = [fraction(words[0]), fraction(words[1])];
  if (words[0] === 'top' || words[0] === 'bottom') [x, y] = [fraction(words[1]), keyword[words[0]]];
  return [Number.isFinite(x) ? x : 0.5, Number.isFinite(y) ? y : 0.5];
}

/** Source pixels → CSS pixels of `element` as it is laid out now; undefined while it has no size. */
function cssMapper(element: HTMLElement, width: number, height: number, mirrored: boolean | undefined) {
  const style = getComputedStyle(element);
  const padX = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  const padY = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
  const elementWidth = element.clientWidth - (padX || 0),
    elementHeight = element.clientHeight - (padY || 0);
  if (!(elementWidth > 0 && elementHeight > 0 && width > 0 && height > 0)) return undefined;
  const fit = (style.objectFit || 'fill') as ObjectFit;
  // a selfie view: transform matrix(-1, 0, 0, 1, …)
  const flipped = mirrored ?? /^matrix\(\s*-/.test(style.transform);
  return createBoxMapper({
    sourceWidth: width,
    sourceHeight: height,
    elementWidth,
    elementHeight,
    objectFit: ['contain', 'cover', 'fill', 'none', 'scale-down'].includes(fit) ? fit : 'fill',
    objectPosition: objectPosition(style.objectPosition || '50% 50%'),
    mirrored: flipped,
  });
}

interface Waiting {
  image: Image;
  index: number;
  timestampMs: number;
  taken: number;
}

/** One run of track(): the pacing, the worker's replies, the statistics and the end. */
export class StreamRun {
  private state: 'starting' | 'running' | 'stopped' = 'starting';
  private inFlight: Omit<Waiting, 'image'> | undefined;
  private pending: Waiting | undefined;
  private offered = 0;
  private sent = 0;
  private results = 0;
  private dropped = 0;
  private maxQueue = 0;
  private size: [number, number] | undefined;
  private resetNext = false;
  private ended = false;
  private slotWaiters: (() => void)[] = [];
  private readonly cleanups: (() => void)[] = [];
  private readonly windows = new Map<TrackStage, StageWindow>();
  private readonly sourceRate = new RateMeter();
  private readonly resultRate = new RateMeter();
  private readonly detectRate = new RateMeter();
  private every: number;
  private settle!: { resolve(summary: TrackSummary): void; reject(error: Error): void };
  readonly done: Promise<TrackSummary>;
  workerInfo = { backend: '', threads: 0, coreBuild: '', loadMs: 0 };
  /** The element for CSS boxes. */
  element: HTMLElement | undefined;
  private readyWaiter: { resolve(): void; reject(error: Error): void } | undefined;

  constructor(
    private readonly worker: WorkerPort,
    private readonly onResult: (result: TrackResult) => void,
    private readonly options: TrackOptions,
  ) {
    this.every = checkEvery(options.every ?? 1);
    for (const stage of STAGES) this.windows.set(stage, new StageWindow(options.statsWindow ?? 120));
    this.done = new Promise<TrackSummary>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.done.catch(() => undefined); // the error also goes to onError; no unhandled rejection
    this.element = options.element;
    worker.onmessage = (event) => this.reply(event.data);
    worker.onerror = (event) => {
      event.preventDefault?.();
      this.fail(new Error(`the tracking worker failed: ${event.message || 'its script did not load (see workerUrl)'}`));
    };
  }

  get running(): boolean {
    return this.state === 'running';
  }

  get framesHeld(): number {
    return (this.inFlight ? 1 : 0) + (this.pending ? 1 : 0);
  }

  /** Sends init; resolves on the worker's 'ready'. */
  start(recipe: WorkerDetectorRecipe): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.readyWaiter = { resolve, reject };
      this.worker.postMessage({
        type: 'init',
        detector: recipe,
        tracker: this.options.tracker ?? {},
        track: this.options.track ?? true,
      });
    });
  }

  /** A source's listener removal, run once at the end. */
  onEnd(cleanup: () => void): void {
    if (this.state === 'stopped') cleanup();
    else this.cleanups.push(cleanup);
  }

  /** Resolves when no frame is held (pacing 'all'), or at once when the run is over. */
  slotFree(): Promise<void> {
    if (this.framesHeld === 0 || this.state === 'stopped') return Promise.resolve();
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  /** A new frame from the source; the run owns it from here. */
  offer(image: Image, timestampMs: number): void {
    if (this.state !== 'running') return closeImage(image);
    const index = this.offered++;
    const now = performance.now();
    this.sourceRate.tick(now);
    const [width, height] = imageSize(image);
    if (!(width > 0 && height > 0)) {
      closeImage(image);
      return this.fail(
        new TypeError(
          `frame ${index} is a closed ${isVideoFrame(image) ? 'VideoFrame' : 'ImageBitmap'} (0 × 0): ` +
            'close() was called on it before track() got it; give track() open frames, it closes them itself',
        ),
      );
    }
    if (typeof timestampMs !== 'number' || !Number.isFinite(timestampMs)) {
      closeImage(image);
      return this.fail(
        new RangeError(`frame ${index} has timestamp ${timestampMs}; it must be a finite number of milliseconds`),
      );
    }
    if (this.size && (this.size[0] !== width || this.size[1] !== height)) {
      if (this.options.onSizeChange === 'error') {
        closeImage(image);
        return this.fail(
          new RangeError(
            `frame ${index} is ${width} × ${height}, but the stream started at ` +
              `${this.size[0]} × ${this.size[1]}; pass onSizeChange: 'reset' to restart tracking at the new size`,
          ),
        );
      }
      this.resetNext = true;
    }
    this.size = [width, height];
    const waiting: Waiting = { image, index, timestampMs, taken: now };
    if (!this.inFlight) this.send(waiting);
    else {
      if (this.pending) {
        closeImage(this.pending.image);
        this.dropped++;
      }
      this.pending = waiting;
    }
    this.maxQueue = Math.max(this.maxQueue, this.framesHeld);
  }

  private send(waiting: Waiting): void {
    const { image, ...meta } = waiting;
    const detect = this.sent % this.every === 0;
    this.sent++;
    const reset = this.resetNext;
    this.resetNext = false;
    this.inFlight = meta;
    try {
      if (detect)
        this.worker.postMessage({ type: 'frame', index: meta.index, timestampMs: meta.timestampMs, image, reset }, [
          image,
        ]);
      else {
        closeImage(image);
        this.worker.postMessage({ type: 'frame', index: meta.index, timestampMs: meta.timestampMs, reset });
      }
    } catch (error) {
      closeImage(image);
      this.inFlight = undefined;
      this.fail(new Error(`frame ${meta.index} could not be sent to the tracking worker: ${(error as Error).message}`));
    }
  }

  /** The source has no more frames: finish the ones held, then end. */
  end(): void {
    if (this.state !== 'running') return;
    this.ended = true;
    if (this.framesHeld === 0) this.finish('ended');
  }

  private reply(message: FromWorker): void {
    if (message.type === 'ready') {
      this.workerInfo = {
        backend: message.backend,
        threads: message.threads,
        coreBuild: message.coreBuild,
        loadMs: message.loadMs,
      };
      if (this.state === 'starting') this.state = 'running';
      this.readyWaiter?.resolve();
      return;
    }
    if (message.type === 'stopped') return; // handled by release()
    if (message.type === 'error') {
      const error = new Error(
        message.index === undefined ? message.message : `frame ${message.index}: ${message.message}`,
      );
      error.name = message.name;
      return this.fail(error);
    }
    if (this.state !== 'running' || !this.inFlight || message.index !== this.inFlight.index) return;
    const taken = this.inFlight.taken;
    this.inFlight = undefined;
    const now = performance.now();
    this.results++;
    this.resultRate.tick(now);
    if (message.detected) this.detectRate.tick(now);
    this.record(message.stages, now - taken);
    if (this.pending) {
      const next = this.pending;
      this.pending = undefined;
      this.send(next);
    }
    let result: TrackResult;
    try {
      result = this.result(message, now);
    } catch (error) {
      return this.fail(error as Error);
    }
    try {
      this.onResult(result);
    } catch (error) {
      return this.fail(new Error(`onResult threw: ${(error as Error).message}`));
    }
    if (this.framesHeld === 0) {
      for (const wake of this.slotWaiters.splice(0)) wake();
      if (this.ended) this.finish('ended');
    }
  }

  private record(stages: WorkerStages, latency: number): void {
    for (const [stage, value] of Object.entries(stages) as [TrackStage, number | undefined][]) {
      if (value !== undefined) this.windows.get(stage)?.add(value);
    }
    this.windows.get('latency')!.add(latency);
  }

  private result(message: Extract<FromWorker, { type: 'result' }>, now: number): TrackResult {
    const { width, height } = message;
    const mapper = this.element ? cssMapper(this.element, width, height, this.options.mirrored) : undefined;
    const objects = message.objects.map((o: WorkerObject): TrackedObject => {
      const normalizedBox = [...o.box] as Box;
      const box: Box = [o.box[0] * width, o.box[1] * height, o.box[2] * width, o.box[3] * height];
      const object: TrackedObject = { classId: o.classId, score: o.score, box, normalizedBox };
      if (o.trackId !== undefined) object.trackId = o.trackId;
      if (o.label !== undefined) object.label = o.label;
      if (o.state !== undefined) object.state = o.state;
      if (mapper) object.cssBox = mapper.toCss(box);
      return object;
    });
    const timings: TrackResult['timings'] = {};
    for (const [stage, window] of this.windows) {
      const summary = window.summary();
      if (summary.count > 0) timings[stage] = summary;
    }
    return {
      frame: message.index,
      timestampMs: message.timestampMs,
      detected: message.detected,
      objects,
      sourceWidth: width,
      sourceHeight: height,
      timings,
      fps: this.resultRate.rate(now),
      sourceFps: this.sourceRate.rate(now),
      detectionFps: this.detectRate.rate(now),
      dropped: this.dropped,
      queue: this.framesHeld,
      maxQueue: this.maxQueue,
    };
  }

  setTracking(on: boolean): void {
    if (typeof on !== 'boolean') throw new TypeError(`setTracking takes a boolean, got ${typeof on}`);
    if (this.state === 'stopped') return;
    this.worker.postMessage({ type: 'tracking', on });
  }

  setEvery(every: number): void {
    this.every = checkEvery(every);
  }

  setThresholds(overrides: ThresholdOverrides): void {
    if (overrides === null || typeof overrides !== 'object')
      throw new TypeError(
        `setThresholds takes { scoreThreshold?, nmsThreshold? }, got ${overrides === null ? 'null' : typeof overrides}`,
      );
    rejectUnknownKeys(overrides, ['scoreThreshold', 'nmsThreshold'], 'setThresholds');
    for (const [key, value] of Object.entries(overrides)) {
      if (value !== undefined && !(typeof value === 'number' && value >= 0 && value <= 1)) {
        throw new RangeError(`setThresholds: ${key} is ${String(value)}; it must be a number in [0, 1]`);
      }
    }
    if (this.state === 'stopped') return;
    this.worker.postMessage({ type: 'thresholds', overrides: { ...overrides } });
  }

  private summary(reason: TrackSummary['reason']): TrackSummary {
    return { reason, frames: this.offered, results: this.results, dropped: this.dropped, maxQueue: this.maxQueue };
  }

  private finish(reason: TrackSummary['reason']): void {
    if (this.state === 'stopped') return;
    const summary = this.summary(reason);
    void this.release().then(() => this.settle.resolve(summary));
  }

  /** Stops the run with an error: everything released, done rejects, onError is told. */
  fail(error: Error): void {
    if (this.state === 'stopped') return;
    const starting = this.state === 'starting';
    void this.release().then(() => {
      this.settle.reject(error);
      if (starting) this.readyWaiter?.reject(error);
      else this.options.onError?.(error);
    });
  }

  async stop(): Promise<TrackSummary> {
    if (this.state !== 'stopped') this.finish('stopped');
    return this.done;
  }

  /** Releases everything: source listeners, the waiting frame, the worker (asked to dispose, then terminated). */
  private async release(): Promise<void> {
    this.state = 'stopped';
    for (const cleanup of this.cleanups.splice(0)) {
      try {
        cleanup();
      } catch {
        // a listener already gone
      }
    }
    if (this.pending) closeImage(this.pending.image);
    this.pending = undefined;
    for (const wake of this.slotWaiters.splice(0)) wake();
    // the worker closes the frame it holds and disposes its detector and tracker; terminate() after at most 2 s
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      this.worker.onmessage = (event) => {
        if (event.data.type === 'stopped') {
          clearTimeout(timer);
          resolve();
        }
      };
      try {
        this.worker.postMessage({ type: 'stop' });
      } catch {
        clearTimeout(timer);
        resolve();
      }
    });
    this.worker.onmessage = null;
    this.worker.onerror = null;
    this.worker.terminate();
    this.inFlight = undefined;
  }
}

// ---- sources ----

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'object';
}

/** A `<video>`: each new frame (requestVideoFrameCallback) as a VideoFrame. */
async function followVideo(run: StreamRun, video: HTMLVideoElement, live: boolean): Promise<void> {
  // an element that failed before track() got here has fired its 'error' already: waiting for one would never end
  if (video.error)
    throw new Error(`the video failed to load: ${video.error.message || `media error ${video.error.code}`}`);
  if (video.readyState < 1) {
    await new Promise<void>((resolve, reject) => {
      const loaded = () => {
        video.removeEventListener('error', failed);
        resolve();
      };
      const failed = () => {
        video.removeEventListener('loadedmetadata', loaded);
        reject(
          new Error(`the video failed to load: ${video.error?.message || `media error ${video.error?.code ?? '?'}`}`),
        );
      };
      video.addEventListener('loadedmetadata', loaded, { once: true });
      video.addEventListener('error', failed, { once: true });
    });
  }
  if (video.videoWidth === 0 || video.videoHeight === 0) {
    throw new TypeError(
      'the video has no video track (videoWidth is 0 after its metadata loaded): ' +
        'track() needs pictures; an audio-only file or stream has none',
    );
  }
  if (typeof video.requestVideoFrameCallback !== 'function') {
    throw new Error(
      'this browser has no HTMLVideoElement.requestVideoFrameCallback; pass track() the MediaStream or VideoFrames instead',
    );
  }
  let handle = 0;
  const onFrame = (now: number, meta: VideoFrameCallbackMetadata) => {
    if (!run.running) return;
    handle = video.requestVideoFrameCallback(onFrame);
    // a file: its media time; a camera: when the frame was captured (else shown)
    const timestampMs = live ? (meta.captureTime ?? meta.expectedDisplayTime ?? now) : meta.mediaTime * 1000;
    let frame: VideoFrame;
    try {
      frame = new VideoFrame(video, { timestamp: Math.round(timestampMs * 1000) });
    } catch {
      return; // no picture yet (readyState < 2)
    }
    run.offer(frame, timestampMs);
  };
  handle = video.requestVideoFrameCallback(onFrame);
  const ended = () => run.end();
  const failed = () =>
    run.fail(
      new Error(`the video stopped on an error: ${video.error?.message || `media error ${video.error?.code ?? '?'}`}`),
    );
  video.addEventListener('ended', ended);
  video.addEventListener('error', failed);
  run.onEnd(() => {
    video.cancelVideoFrameCallback(handle);
    video.removeEventListener('ended', ended);
    video.removeEventListener('error', failed);
  });
}

interface TrackProcessor {
  readable: ReadableStream<VideoFrame>;
}
type TrackProcessorClass = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => TrackProcessor;

/** A MediaStream: its first video track's frames (MediaStreamTrackProcessor, else through a hidden `<video>`). */
async function followStream(run: StreamRun, stream: MediaStream): Promise<void> {
  const [track] = stream.getVideoTracks();
  if (!track) {
    throw new TypeError(
      `the MediaStream has no video track (${stream.getAudioTracks().length} audio); ` +
        'ask getUserMedia for { video: true }',
    );
  }
  if (track.readyState === 'ended') throw new Error("the MediaStream's video track has already ended");
  const Processor = (globalThis as unknown as { MediaStreamTrackProcessor?: TrackProcessorClass })
    .MediaStreamTrackProcessor;
  if (!Processor) {
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    await video.play();
    const ended = () => run.end();
    track.addEventListener('ended', ended);
    run.onEnd(() => {
      track.removeEventListener('ended', ended);
      video.srcObject = null;
    });
    return followVideo(run, video, true);
  }
  const reader = new Processor({ track, maxBufferSize: 1 }).readable.getReader();
  run.onEnd(() => void reader.cancel().catch(() => undefined));
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return run.end();
        if (!run.running) return closeImage(value);
        run.offer(value, value.timestamp / 1000);
      }
    } catch (error) {
      run.fail(new Error(`the video stream failed: ${(error as Error).message}`));
    }
  })();
}

async function* readStream<T>(stream: ReadableStream<T>): AsyncGenerator<T> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function closeInput(item: FrameInput): void {
  if (item && typeof item === 'object' && 'image' in item) closeImage(item.image);
  else closeImage(item as Image);
}

/** Frames from an iterable: VideoFrame.timestamp / 1000, the given timestampMs, or the arrival time. */
function followFrames(
  run: StreamRun,
  frames: Iterable<FrameInput> | AsyncIterable<FrameInput>,
  pacing: 'latest' | 'all',
): void {
  void (async () => {
    let index = 0;
    const iterator = (
      Symbol.asyncIterator in frames
        ? frames[Symbol.asyncIterator]()
        : (frames as Iterable<FrameInput>)[Symbol.iterator]()
    ) as AsyncIterator<FrameInput> | Iterator<FrameInput>;
    run.onEnd(() => void Promise.resolve(iterator.return?.()).catch(() => undefined));
    try {
      for (;;) {
        if (pacing === 'all') await run.slotFree();
        if (!run.running) return;
        const next = await iterator.next();
        if (next.done) return run.end();
        const item = next.value;
        if (!run.running) return closeInput(item);
        let image: Image, timestampMs: number;
        if (item && typeof item === 'object' && 'image' in item) [image, timestampMs] = [item.image, item.timestampMs];
        else if (isVideoFrame(item)) [image, timestampMs] = [item, item.timestamp / 1000];
        else [image, timestampMs] = [item as ImageBitmap, performance.now()];
        if (!image || typeof (image as Image).close !== 'function') {
          return run.fail(
            new TypeError(
              `frame ${index} is ${describe(image)}; track() takes VideoFrames, ImageBitmaps ` +
                'or { image, timestampMs }',
            ),
          );
        }
        index++;
        run.offer(image, timestampMs);
      }
    } catch (error) {
      run.fail(new Error(`the frame source threw: ${(error as Error).message}`));
    }
  })();
}

/** How a run gets its worker; replaced in Node tests. */
export interface TrackDeps {
  createWorker?(url: URL): WorkerPort;
}

export function defaultWorkerUrl(): URL {
  return new URL('./track-worker.js', import.meta.url);
}

/**
 * Starts tracking `source` with the detector described by `recipe` in a new worker. Resolves
 * once the worker's detector is ready and the source attached; rejects (worker released) on
 * bad input or a failed start.
 */
export async function startTracking(
  recipe: Omit<WorkerDetectorRecipe, 'ortUrl'>,
  source: TrackSource,
  onResult: (result: TrackResult) => void,
  options: TrackOptions = {},
  deps: TrackDeps = {},
): Promise<TrackHandle> {
  if (typeof onResult !== 'function')
    throw new TypeError(`track() needs onResult, a function called with each result; got ${describe(onResult)}`);
  if (options === null || typeof options !== 'object')
    throw new TypeError(`track() options must be an object, got ${describe(options)}`);
  checkEvery(options.every ?? 1);
  if (options.pacing !== undefined && options.pacing !== 'latest' && options.pacing !== 'all') {
    throw new RangeError(`pacing is '${String(options.pacing)}'; it must be 'latest' or 'all'`);
  }
  if (options.onSizeChange !== undefined && options.onSizeChange !== 'reset' && options.onSizeChange !== 'error') {
    throw new RangeError(`onSizeChange is '${String(options.onSizeChange)}'; it must be 'reset' or 'error'`);
  }
  const isVideo = typeof HTMLVideoElement !== 'undefined' && source instanceof HTMLVideoElement;
  const isStream = typeof MediaStream !== 'undefined' && source instanceof MediaStream;
  const isReadable = typeof ReadableStream !== 'undefined' && source instanceof ReadableStream;
  const iterable =
    source !== null && typeof source === 'object' && (Symbol.iterator in source || Symbol.asyncIterator in source);
  if (!isVideo && !isStream && !isReadable && !iterable) {
    throw new TypeError(
      `track() follows a <video>, a MediaStream, or an iterable or ReadableStream of VideoFrames/ImageBitmaps; got ${describe(source)}`,
    );
  }
  if (isStream && (source as MediaStream).getVideoTracks().length === 0) {
    throw new TypeError(
      `the MediaStream has no video track (${(source as MediaStream).getAudioTracks().length} audio); ask getUserMedia for { video: true }`,
    );
  }
  const url = options.workerUrl ? new URL(options.workerUrl, globalThis.location?.href) : defaultWorkerUrl();
  const createWorker =
    deps.createWorker ??
    ((at: URL) => {
      if (typeof Worker === 'undefined') {
        throw new Error(
          'detector.track() runs in browsers (it needs Web Workers); in Node, run `ssd-edge detect clip.mp4 --track`',
        );
      }
      return new Worker(at, { type: 'module', name: 'ssd-edge track' }) as unknown as WorkerPort;
    });
  const run = new StreamRun(createWorker(url), onResult, {
    ...options,
    element: options.element ?? (isVideo ? (source as HTMLVideoElement) : undefined),
  });
  const ortUrl = options.ortUrl === undefined ? undefined : new URL(options.ortUrl, globalThis.location?.href).href;
  await run.start({ ...recipe, ortUrl });
  try {
    if (isVideo) await followVideo(run, source as HTMLVideoElement, (source as HTMLVideoElement).srcObject != null);
    else if (isStream) await followStream(run, source as MediaStream);
    else {
      const frames = isReadable ? readStream(source as ReadableStream<FrameInput>) : (source as Iterable<FrameInput>);
      followFrames(run, frames, options.pacing ?? 'all');
    }
  } catch (error) {
    run.fail(error as Error);
    await run.done.catch(() => undefined);
    throw error;
  }
  return {
    done: run.done,
    stop: () => run.stop(),
    setTracking: (on) => run.setTracking(on),
    setEvery: (every) => run.setEvery(every),
    setThresholds: (overrides) => run.setThresholds(overrides),
    get framesHeld() {
      return run.framesHeld;
    },
    get worker() {
      return { ...run.workerInfo };
    },
  };
}

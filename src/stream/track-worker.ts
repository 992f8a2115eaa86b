/**
 * The tracking worker: the page detector's twin (same model bytes, same pre- and post-processing,
 * same backend) and a tracker. Each 'frame' message carries a transferred VideoFrame or
 * ImageBitmap (closed here, always, as soon as its pixels are read) or, between detections, only
 * a timestamp; each gets one 'result' reply. One frame at a time: the page sends the next only
 * after this one's reply.
 */
import { createTracker, type Tracker } from '../core/tracker.js';
import { createDetector, type Detector } from '../runtime/detector.js';
import { readBrowserImage } from '../runtime/image-browser.js';
import type { OrtWeb } from '../runtime/ort-web.js';
import { FrameTracking } from './frame-tracking.js';
import type { FromWorker, ToWorker, WorkerObject, WorkerStages } from './protocol.js';

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
  close(): void;
}
const scope = globalThis as unknown as WorkerScope;

let detector: Detector | undefined;
let tracker: Tracker | undefined;
let frames: FrameTracking | undefined;
let size: [number, number] = [0, 0];
/** The page detector's pixel limit, checked when a frame's pixels are read here. */
let maxImagePixels = 0;
/** Messages are handled one after another, in order. */
let chain: Promise<unknown> = Promise.resolve();

function closeImage(image: VideoFrame | ImageBitmap | undefined): void {
  try {
    image?.close();
  } catch {
    // already closed
  }
}

function imageSize(image: VideoFrame | ImageBitmap): [number, number] {
  return 'displayWidth' in image ? [image.displayWidth, image.displayHeight] : [image.width, image.height];
}

async function init(message: Extract<ToWorker, { type: 'init' }>): Promise<FromWorker> {
  const start = performance.now();
  const recipe = message.detector;
  maxImagePixels = recipe.maxImagePixels;
  let ort: OrtWeb | undefined;
  if (recipe.ortUrl) {
    try {
      ort = (await import(/* @vite-ignore */ recipe.ortUrl)) as OrtWeb;
    } catch (error) {
      throw new Error(
        `the tracking worker cannot import onnxruntime-web from ortUrl ${recipe.ortUrl}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  detector = await createDetector({
    model: recipe.model,
    preset: recipe.config,
    preprocess: recipe.preprocess,
    backend: recipe.backend,
    profile: recipe.profile,
    maxImagePixels: recipe.maxImagePixels,
    wasmBaseUrl: recipe.wasmBaseUrl,
    ort,
  }).catch((error: Error) => {
    const hint =
      !recipe.ortUrl && /onnxruntime-web|module specifier/i.test(error.message)
        ? " (in a worker without a bundler, pass track() the option ortUrl: the URL of onnxruntime-web's ort.min.mjs)"
        : '';
    throw new Error(`the tracking worker could not create its detector: ${error.message}${hint}`);
  });
  tracker = await createTracker({ ...message.tracker, labels: recipe.config.labels, wasmBaseUrl: recipe.wasmBaseUrl });
  frames = new FrameTracking(tracker, message.track);
  return {
    type: 'ready',
    backend: detector.backend,
    threads: detector.threads,
    coreBuild: detector.coreBuild,
    trackerBuild: tracker.build,
    loadMs: performance.now() - start,
  };
}

async function frame(message: Extract<ToWorker, { type: 'frame' }>): Promise<FromWorker> {
  const arrived = performance.now();
  const { image, index, timestampMs } = message;
  try {
    if (!detector || !frames) throw new Error('the tracking worker got a frame before init');
    if (message.reset) frames.reset();
    const stages: WorkerStages = { worker: 0 };
    let objects: WorkerObject[];
    if (image) {
      size = imageSize(image);
      // pixels first, then close: a frame held through inference is left open when a stop()
      // finds the worker slow and terminates it, and Chromium reports it as leaked
      const readStart = performance.now();
      const pixels = readBrowserImage(image, maxImagePixels);
      closeImage(image);
      const decode = performance.now() - readStart;
      const detections = await detector.detect(pixels);
      Object.assign(stages, detector.lastTimings, { decode });
      const start = performance.now();
      objects = frames.detected(detections, timestampMs);
      if (frames.tracking) stages.track = performance.now() - start;
    } else {
      const start = performance.now();
      objects = frames.between(timestampMs);
      if (frames.tracking) stages.track = performance.now() - start;
    }
    stages.worker = performance.now() - arrived;
    return {
      type: 'result',
      index,
      timestampMs,
      detected: image !== undefined,
      width: size[0],
      height: size[1],
      objects,
      stages,
    };
  } finally {
    closeImage(image);
  }
}

async function stop(): Promise<FromWorker> {
  const d = detector;
  detector = undefined;
  tracker?.dispose();
  tracker = undefined;
  frames = undefined;
  await d?.dispose();
  return { type: 'stopped' };
}

async function handle(message: ToWorker): Promise<FromWorker | undefined> {
  switch (message.type) {
    case 'init':
      return init(message);
    case 'frame':
      return frame(message);
    case 'tracking':
      if (frames) frames.tracking = message.on;
      return undefined;
    case 'thresholds':
      await detector?.setThresholds(message.overrides);
      return undefined;
    case 'stop':
      return stop();
  }
}

scope.onmessage = (event) => {
  const message = event.data;
  chain = chain
    .then(() => handle(message))
    .then(
      (reply) => {
        if (reply) scope.postMessage(reply);
      },
      (error: Error) => {
        if (message.type === 'frame') closeImage(message.image);
        scope.postMessage({
          type: 'error',
          index: message.type === 'frame' ? message.index : undefined,
          message: error?.message ?? String(error),
          name: error?.name ?? 'Error',
        });
      },
    );
};

/**
 * The demo page: pick an image, detect in a worker, draw the boxes, show the timings and the
 * backend; the threshold sliders re-run only the post-processing. The webcam and a video file
 * run through detector.track()'s worker (startTracking with the image worker's model and
 * processing): boxes with track ids and trails over the video, the frame rate, a tracking toggle.
 *
 * `window.ssdDemo` exposes the page's state (for the browser test and for the curious).
 */
import {
  DEFAULT_BACKEND,
  DEFAULT_IOU_THRESHOLD,
  DEFAULT_MODEL_LABELS,
  DEFAULT_MODEL_URL,
  DEFAULT_ONNX_MODEL_URL,
  DEFAULT_PROFILE,
  DEFAULT_SCORE_THRESHOLD,
} from './config.js';
import { drawDetections, drawOverlay } from './draw.js';
import { startTracking, type TrackHandle, type TrackResult } from '../src/stream/track.js';
import type { DetectorInfo, Reply, Request, Thresholds } from './protocol.js';
import type { Backend, ImageDetection, LoadProgress, Profile, Timings } from '../src/runtime/types.js';

export interface DemoState {
  status: 'loading' | 'ready' | 'busy' | 'error';
  info?: DetectorInfo;
  error?: string;
  /** The last result drawn. */
  detections?: ImageDetection[];
  timings?: Timings & { roundTrip: number };
  rerun?: 'full' | 'post';
  thresholds: Thresholds;
  /** Results drawn so far (full detections, post-processing re-runs, stream frames). */
  results: number;
  /** The status lines shown while the detector loaded ("loading model… 42%", …), in order. */
  loading: string[];
  /** The stream's last result (webcam or video file). */
  stream?: {
    fps: number;
    sourceFps: number;
    detectionFps: number;
    dropped: number;
    maxQueue: number;
    tracking: boolean;
    objects: { trackId?: number; label?: string; state?: string }[];
    /** Per-stage p50/p95 in ms over the stream's recent frames (bench/video.browser.ts reads them). */
    stages: TrackResult['timings'];
  };
}

declare global {
  interface Window {
    ssdDemo: DemoState;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const numberParam = (name: string, fallback: number) => (params.has(name) ? Number(params.get(name)) : fallback);

const state: DemoState = {
  status: 'loading',
  thresholds: {
    scoreThreshold: numberParam('score', DEFAULT_SCORE_THRESHOLD),
    nmsThreshold: numberParam('iou', DEFAULT_IOU_THRESHOLD),
  },
  results: 0,
  loading: [],
};
window.ssdDemo = state;

const canvas = $<HTMLCanvasElement>('view');
const statusLine = $('status');
const errorBox = $('error');
const scoreSlider = $<HTMLInputElement>('score');
const iouSlider = $<HTMLInputElement>('iou');

/** The image the boxes are drawn on (a copy: the worker gets its own bitmap). */
let frame: ImageBitmap | undefined;
let nextId = 1;
/** Requests in flight by id, with their send time. */
const pending = new Map<number, { sent: number; frame?: ImageBitmap }>();
let webcam: MediaStream | undefined;

function setStatus(text: string, status: DemoState['status']): void {
  statusLine.textContent = text;
  state.status = status;
}

function showError(message: string): void {
  state.error = message;
  errorBox.textContent = message;
  errorBox.hidden = false;
  setStatus('error', 'error');
}

function showInfo(info: DetectorInfo): void {
  const rows: [string, string, string?][] = [
    ['backend', `${info.backend} (${info.backendReason})`],
    [
      'adapter',
      info.adapter
        ? `${info.adapter.description}${info.adapter.software ? ' — software (CPU)' : ''}`
        : 'no WebGPU adapter',
      info.adapter?.software ? 'software' : undefined,
    ],
    ['threads', `${info.threads}${info.crossOriginIsolated ? '' : ' (page not cross-origin isolated)'}`],
    ['profile', info.profile],
    ['core', `${info.coreBuild} wasm`],
    ['onnxruntime', info.ortBuild],
    ['model', info.model],
    ['load', `${info.loadMs.toFixed(0)} ms`],
  ];
  const list = $('backend');
  list.replaceChildren(
    ...rows.flatMap(([name, value, cls]) => {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.textContent = value;
      dd.dataset.field = name;
      if (cls) dd.className = cls;
      return [dt, dd];
    }),
  );
}

/** Shows the stage timings; after a threshold change only post-processing ran, the rest say so. */
function showTimings(timings: DemoState['timings'], rerun: DemoState['rerun']): void {
  for (const cell of document.querySelectorAll<HTMLElement>('#timings [data-t]')) {
    const stage = cell.dataset.t as keyof Timings | 'roundTrip';
    const skipped = rerun === 'post' && stage !== 'postprocess' && stage !== 'roundTrip';
    const value = timings?.[stage];
    cell.textContent = skipped ? 'not re-run' : value === undefined ? '–' : value.toFixed(1);
  }
}

const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
const send = (request: Request, transfer: Transferable[] = []) => worker.postMessage(request, transfer);
worker.onerror = (event) => showError(`the detection worker failed to start: ${event.message || 'see the console'}`);

/** The status line while the detector loads: the model's bytes, then the compiled wasm and the warm-up run. */
function loadingText({ stage, loaded, total }: LoadProgress): string {
  if (stage === 'wasm') return 'model loaded; warming up…';
  if (total === undefined || total === 0) return `loading model… ${(loaded / 2 ** 20).toFixed(1)} MB`;
  return `loading model… ${Math.floor((100 * loaded) / total)}%`;
}

worker.onmessage = ({ data: reply }: MessageEvent<Reply>) => {
  if (reply.type === 'progress') {
    const text = loadingText(reply.progress);
    if (state.status !== 'loading' || text === state.loading.at(-1)) return;
    state.loading.push(text);
    setStatus(text, 'loading');
    return;
  }
  if (reply.type === 'ready') {
    state.info = reply.info;
    showInfo(reply.info);
    setStatus('ready: choose an image or the webcam', 'ready');
    return;
  }
  const request = reply.id === undefined ? undefined : pending.get(reply.id);
  if (reply.id !== undefined) pending.delete(reply.id);
  if (reply.type === 'error') {
    const hint =
      reply.stage === 'init' && !params.has('model')
        ? `\nThis is the default model (${DEFAULT_MODEL_URL}); open the page with ?model=URL to use another.`
        : '';
    showError(
      reply.stage === 'init'
        ? `could not load the model: ${reply.message}${hint}`
        : `${reply.stage} failed: ${reply.message}`,
    );
    return;
  }
  if (request?.frame) {
    frame?.close();
    frame = request.frame;
  }
  if (frame) drawDetections(canvas, frame, reply.detections);
  state.detections = reply.detections;
  state.timings = { ...reply.timings, roundTrip: performance.now() - (request?.sent ?? performance.now()) };
  state.rerun = reply.rerun;
  state.results++;
  showTimings(state.timings, reply.rerun);
  $('count').textContent =
    `${reply.detections.length} detection${reply.detections.length === 1 ? '' : 's'}` +
    (reply.rerun === 'post' ? ' (post-processing re-run only)' : '');
  setStatus('ready', 'ready');
  if (pending.size === 0) sendThresholdsIfChanged();
};

/** Sends an image to the worker: it gets one bitmap, the page keeps another to draw on. */
async function detect(source: ImageBitmapSource): Promise<void> {
  if (state.status === 'loading') return;
  const [forWorker, forPage] = await Promise.all([createImageBitmap(source), createImageBitmap(source)]);
  const id = nextId++;
  pending.set(id, { sent: performance.now(), frame: forPage });
  setStatus('detecting…', 'busy');
  send({ type: 'detect', id, image: forWorker }, [forWorker]);
}

// ---- thresholds: one re-run in flight at a time, always ending on the sliders' latest values ----

let sentThresholds: Thresholds = { ...state.thresholds };

function sendThresholdsIfChanged(): void {
  const wanted = state.thresholds;
  if (wanted.scoreThreshold === sentThresholds.scoreThreshold && wanted.nmsThreshold === sentThresholds.nmsThreshold)
    return;
  if (pending.size > 0) return; // sent when the request in flight answers
  sentThresholds = { ...wanted };
  const id = nextId++;
  pending.set(id, { sent: performance.now() });
  send({ type: 'thresholds', id, thresholds: sentThresholds });
}

function bindSlider(slider: HTMLInputElement, output: HTMLOutputElement, key: keyof Thresholds): void {
  slider.value = String(state.thresholds[key]);
  output.textContent = state.thresholds[key].toFixed(2);
  slider.addEventListener('input', () => {
    state.thresholds = { ...state.thresholds, [key]: Number(slider.value) };
    output.textContent = Number(slider.value).toFixed(2);
    if (state.status !== 'loading' && state.status !== 'error') sendThresholdsIfChanged();
    stream?.setThresholds({ [key]: Number(slider.value) }); // the tracking worker's detector too
  });
}
bindSlider(scoreSlider, $<HTMLOutputElement>('score-value'), 'scoreThreshold');
bindSlider(iouSlider, $<HTMLOutputElement>('iou-value'), 'nmsThreshold');

// ---- inputs ----

$<HTMLInputElement>('file').addEventListener('change', (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (!file) return;
  void stopStream();
  stage.hidden = true;
  canvas.hidden = false;
  detect(file).catch((error: Error) => showError(`cannot read ${file.name}: ${error.message}`));
});

const video = $<HTMLVideoElement>('video');
const stage = $('stage');
const overlay = $<HTMLCanvasElement>('overlay');
const trackingBox = $<HTMLInputElement>('tracking');
/** The running stream, its trails (CSS pixels per track id) and the model's bytes for its worker. */
let stream: TrackHandle | undefined;
const trails = new Map<number, [number, number][]>();
let modelBytes: Promise<Uint8Array> | undefined;
const TRAIL_POINTS = 40;

function onStreamResult(result: TrackResult): void {
  const live = new Set<number>();
  for (const o of result.objects) {
    if (!o.trackId || !o.cssBox) continue;
    live.add(o.trackId);
    const points = trails.get(o.trackId) ?? [];
    points.push([(o.cssBox[0] + o.cssBox[2]) / 2, (o.cssBox[1] + o.cssBox[3]) / 2]);
    if (points.length > TRAIL_POINTS) points.shift();
    trails.set(o.trackId, points);
  }
  for (const id of trails.keys()) if (!live.has(id)) trails.delete(id);
  drawOverlay(overlay, result.objects, trails);
  const t = result.timings;
  state.timings = {
    decode: t.decode?.p50 ?? 0,
    preprocess: t.preprocess?.p50 ?? 0,
    inference: t.inference?.p50 ?? 0,
    postprocess: t.postprocess?.p50 ?? 0,
    roundTrip: t.latency?.p50 ?? 0,
  };
  showTimings(state.timings, 'full');
  state.stream = {
    fps: result.fps,
    sourceFps: result.sourceFps,
    detectionFps: result.detectionFps,
    dropped: result.dropped,
    maxQueue: result.maxQueue,
    tracking: trackingBox.checked,
    objects: result.objects.map(({ trackId, label, state: s }) => ({ trackId, label, state: s })),
    stages: result.timings,
  };
  state.results++;
  $('count').textContent = `${result.objects.length} object${result.objects.length === 1 ? '' : 's'}`;
  $('fps').textContent =
    `${result.fps.toFixed(1)} fps (source ${result.sourceFps.toFixed(1)}, detection ` +
    `${result.detectionFps.toFixed(1)}/s), inference p50 ${(t.inference?.p50 ?? 0).toFixed(0)} / p95 ` +
    `${(t.inference?.p95 ?? 0).toFixed(0)} ms, ${result.dropped} frames dropped`;
}

async function stopStream(): Promise<void> {
  const running = stream;
  stream = undefined;
  webcam?.getTracks().forEach((track) => track.stop());
  webcam = undefined;
  $('webcam').textContent = 'Webcam';
  await running?.stop();
  trails.clear();
}

/** Runs the video element (webcam or file) through detector.track()'s worker. */
async function startStream(what: string): Promise<void> {
  if (!state.info) throw new Error('the model has not loaded yet');
  const { info } = state;
  modelBytes ??= fetch(info.model).then(async (response) => new Uint8Array(await response.arrayBuffer()));
  canvas.hidden = true;
  stage.hidden = false;
  stream = await startTracking(
    {
      model: await modelBytes,
      config: { ...info.config, ...state.thresholds },
      preprocess: info.preprocess,
      backend: info.backend,
      profile: info.profile,
      maxImagePixels: 8192 * 8192,
    },
    video,
    onStreamResult,
    {
      track: trackingBox.checked,
      onError: (error) => showError(`${what}: ${error.message}`),
      // the worker's twin loads the same onnxruntime-web build as the image worker (none for int8)
      ...(info.backend === 'int8'
        ? {}
        : {
            ortUrl: new URL(
              info.ortBuild.startsWith('ort.wasm') ? 'ort/ort.wasm.min.mjs' : 'ort/ort.min.mjs',
              location.href,
            ),
          }),
    },
  );
  setStatus(`${what}: tracking in a worker`, 'ready');
  void stream.done.then(
    (summary) => {
      if (summary.reason === 'ended') setStatus(`${what} ended`, 'ready');
    },
    () => undefined,
  );
}

trackingBox.addEventListener('change', () => {
  trails.clear();
  stream?.setTracking(trackingBox.checked);
});

$<HTMLInputElement>('videofile').addEventListener('change', async (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (!file) return;
  await stopStream();
  video.srcObject = null;
  video.src = URL.createObjectURL(file);
  try {
    await video.play();
    await startStream(file.name);
  } catch (error) {
    showError(`cannot play ${file.name}: ${(error as Error).message}`);
  }
});

$('webcam').addEventListener('click', async () => {
  if (webcam) return stopStream();
  await stopStream();
  try {
    webcam = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  } catch (error) {
    return showError(`no webcam: ${(error as Error).message}`);
  }
  video.removeAttribute('src');
  video.srcObject = webcam;
  $('webcam').textContent = 'Stop webcam';
  try {
    await video.play();
    await startStream('webcam');
  } catch (error) {
    showError(`webcam: ${(error as Error).message}`);
  }
});

// ---- start ----

const backend = (params.get('backend') ?? DEFAULT_BACKEND) as Backend | 'auto';
// the default model: its .tflite for the int8 kernels, its ONNX conversion when onnxruntime is asked for
const onnxruntimeAsked = backend === 'wasm' || backend === 'webgpu';
const model = new URL(
  params.get('model') ?? (onnxruntimeAsked ? DEFAULT_ONNX_MODEL_URL : DEFAULT_MODEL_URL),
  location.href,
).href;
setStatus(`loading ${model}…`, 'loading');
send({
  type: 'init',
  model,
  backend,
  profile: (params.get('profile') ?? DEFAULT_PROFILE) as Profile,
  thresholds: state.thresholds,
  ...(params.has('model') ? {} : { labels: DEFAULT_MODEL_LABELS }),
});

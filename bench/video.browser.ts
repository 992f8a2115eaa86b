/**
 * Frame rates of the demo page's camera and video-file paths (issue 14's closing note), in Debian's
 * headless Chromium: the demo (dist/demo/) with a fake camera playing a generated clip, and with a
 * `<video>` of a generated file, each with tracking on and off, on the int8 kernels (the .tflite)
 * and onnxruntime-web's wasm backend (its ONNX conversion). For each row: results per second
 * (the achieved frame rate), detections per second, frames dropped, per-stage p50/p95 from
 * detector.track(), and the page's own frame rate (requestAnimationFrame cadence, p50/p95 interval)
 * while the stream runs. Prints a markdown table and the machine's load before and after.
 *
 *   npm run bench:video:browser                      # --seconds 20 --warmup 5
 *   node dist/bench/video.browser.js --seconds 5 --warmup 3 --backends int8 --sources camera
 *
 * Clips: a 640 × 480 window panning over samples/dog.jpg (scaled to 960 wide) and back, 30 fps,
 * made by the system's ffmpeg: MJPEG for the fake camera (Chromium loops it), VP8 WebM for the
 * `<video>` (looped by the page). Numbers from a loaded machine say little: run it on a quiet one.
 */
import { execFile, execSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { startServer } from '../web/server.js';
import { FAKE_CAMERA_ARGS, launchChromium, openPage, repoRoot, withConsole } from '../tests/browser/chromium.js';
import { findFfmpeg } from '../src/video/ffmpeg.js';

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    backends: { type: 'string', default: 'int8,wasm' },
    sources: { type: 'string', default: 'camera,video' },
    ffmpeg: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds),
  WARMUP = Number(values.warmup);
const BACKENDS = values.backends.split(',').map((b) => b.trim()) as ('int8' | 'wasm')[];
const SOURCES = values.sources.split(',').map((s) => s.trim()) as ('camera' | 'video')[];
for (const b of BACKENDS)
  if (b !== 'int8' && b !== 'wasm') throw new RangeError(`--backends: '${b}' is not int8 or wasm`);
for (const s of SOURCES)
  if (s !== 'camera' && s !== 'video') throw new RangeError(`--sources: '${s}' is not camera or video`);
if (!(SECONDS > 0 && WARMUP >= 0))
  throw new RangeError(
    `--seconds ${values.seconds} --warmup ${values.warmup}: a positive measuring time and a warm-up ≥ 0`,
  );

const WIDTH = 640,
  HEIGHT = 480,
  FPS = 30,
  CLIP_SECONDS = 8;
const STAGES = ['decode', 'preprocess', 'inference', 'postprocess', 'track', 'worker', 'latency'] as const;

interface Percentiles {
  p50: number;
  p95: number;
}
interface DemoStream {
  fps: number;
  sourceFps: number;
  detectionFps: number;
  dropped: number;
  tracking: boolean;
  stages: Partial<Record<(typeof STAGES)[number], Percentiles>>;
}
interface Row {
  backend: string;
  source: string;
  tracking: boolean;
  results: number;
  fps: number;
  sourceFps: number;
  detectionFps: number;
  dropped: number;
  stages: DemoStream['stages'];
  pageFps: number;
  frameInterval: Percentiles;
}

/** The panning clip, by ffmpeg: the window goes right and back (a seamless loop). */
async function makeClip(ffmpeg: string, file: string, codec: string[]): Promise<void> {
  const frames = FPS * CLIP_SECONDS;
  const x = `'(iw-${WIDTH})*(1-abs(1-2*n/${frames}))'`,
    y = `'(ih-${HEIGHT})*(1-abs(1-2*n/${frames}))'`;
  await run(ffmpeg, [
    '-v',
    'error',
    '-nostdin',
    '-y',
    '-loop',
    '1',
    '-framerate',
    String(FPS),
    '-i',
    path.join(repoRoot, 'samples/dog.jpg'),
    '-vf',
    `scale=960:-2,crop=${WIDTH}:${HEIGHT}:${x}:${y}`,
    '-frames:v',
    String(frames),
    ...codec,
    file,
  ]);
}

/** Counts requestAnimationFrame callbacks on the page from now on (the page's own frame rate). */
const startRafProbe = (page: Page) =>
  page.evaluate(() => {
    const probe = { times: [] as number[] };
    (window as unknown as { rafProbe: typeof probe }).rafProbe = probe;
    const tick = (t: number) => {
      probe.times.push(t);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
const readRafProbe = (page: Page) =>
  page.evaluate(() => (window as unknown as { rafProbe: { times: number[] } }).rafProbe.times.slice());

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN;
  return { p50: at(0.5), p95: at(0.95) };
}

async function measure(
  page: Page,
  consoleLines: string[],
  backend: string,
  source: 'camera' | 'video',
  tracking: boolean,
  clip: string,
): Promise<Row> {
  await page
    .waitForFunction(() => window.ssdDemo?.status === 'ready', undefined, { timeout: 120_000 })
    .catch((error: Error) => {
      throw new Error(withConsole(consoleLines, `the demo did not get ready (${backend}): ${error.message}`));
    });
  if (!tracking) await page.uncheck('#tracking');
  if (source === 'camera') {
    await page.click('#webcam');
  } else {
    await page.evaluate(() => {
      (document.getElementById('video') as HTMLVideoElement).loop = true;
    });
    await page.setInputFiles('#videofile', clip);
  }
  await page
    .waitForFunction(() => (window.ssdDemo?.results ?? 0) > 0, undefined, { timeout: 120_000 })
    .catch((error: Error) => {
      throw new Error(withConsole(consoleLines, `no stream result (${backend}, ${source}): ${error.message}`));
    });
  await page.waitForTimeout(WARMUP * 1000);
  const before = await page.evaluate(() => ({
    results: window.ssdDemo.results,
    dropped: window.ssdDemo.stream?.dropped ?? 0,
  }));
  await startRafProbe(page);
  await page.waitForTimeout(SECONDS * 1000);
  const times = await readRafProbe(page);
  const state = await page.evaluate(() => ({
    results: window.ssdDemo.results,
    stream: window.ssdDemo.stream,
    error: window.ssdDemo.error,
  }));
  if (state.error) throw new Error(`the demo reported an error (${backend}, ${source}): ${state.error}`);
  const stream = state.stream as unknown as DemoStream;
  const intervals = times.slice(1).map((t, i) => t - times[i]);
  return {
    backend,
    source,
    tracking,
    results: state.results - before.results,
    fps: stream.fps,
    sourceFps: stream.sourceFps,
    detectionFps: stream.detectionFps,
    dropped: stream.dropped - before.dropped,
    stages: stream.stages,
    pageFps: times.length > 1 ? ((times.length - 1) * 1000) / (times.at(-1)! - times[0]) : 0,
    frameInterval: percentiles(intervals),
  };
}

const f1 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(1));

function table(rows: Row[]): string {
  const stages = STAGES.filter((s) => rows.some((r) => r.stages[s]));
  const head = [
    'backend',
    'source',
    'tracking',
    'fps',
    'source fps',
    'detections/s',
    'dropped while measuring',
    'page fps',
    'rAF interval p50/p95 ms',
    ...stages.map((s) => `${s} p50/p95 ms`),
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    lines.push(
      `| ${[
        r.backend,
        r.source === 'camera' ? 'camera (fake, MJPEG)' : '<video> (WebM)',
        r.tracking ? 'on' : 'off',
        f1(r.fps),
        f1(r.sourceFps),
        f1(r.detectionFps),
        String(r.dropped),
        f1(r.pageFps),
        `${f1(r.frameInterval.p50)} / ${f1(r.frameInterval.p95)}`,
        ...stages.map((s) => (r.stages[s] ? `${f1(r.stages[s]!.p50)} / ${f1(r.stages[s]!.p95)}` : '–')),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const tools = await findFfmpeg(values.ffmpeg);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ssd-edge-bench-video-'));
  const cameraClip = path.join(dir, 'camera.mjpeg'),
    videoClip = path.join(dir, 'clip.webm');
  await makeClip(tools.ffmpeg, cameraClip, ['-c:v', 'mjpeg', '-q:v', '3', '-pix_fmt', 'yuvj420p', '-f', 'mjpeg']);
  await makeClip(tools.ffmpeg, videoClip, ['-c:v', 'libvpx', '-b:v', '2M', '-deadline', 'realtime', '-cpu-used', '8']);
  const ortWebDist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  const server = await startServer({
    mounts: { '/': path.join(repoRoot, 'dist/demo'), '/ort/': ortWebDist, '/models/': path.join(repoRoot, 'models') },
  });
  const chromium = await launchChromium({ width: 1280, height: 900 }, [
    ...FAKE_CAMERA_ARGS,
    `--use-file-for-fake-video-capture=${cameraClip}`,
  ]);
  const loadBefore = execSync('uptime').toString().trim();
  const rows: Row[] = [];
  try {
    for (const backend of BACKENDS) {
      for (const source of SOURCES) {
        for (const tracking of [true, false]) {
          // a fresh page per row: no stream left from the row before
          const open = await openPage(chromium.context, `${server.url}/?backend=${backend}`);
          try {
            const row = await measure(open.page, open.consoleLines, backend, source, tracking, videoClip);
            rows.push(row);
            console.error(
              `${backend} ${source} tracking ${tracking ? 'on' : 'off'}: ${f1(row.fps)} fps, page ${f1(row.pageFps)} fps`,
            );
          } finally {
            await open.page.close();
          }
        }
      }
    }
  } finally {
    await chromium.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  const loadAfter = execSync('uptime').toString().trim();
  console.log(
    `### Demo stream frame rates (headless Chromium ${await chromiumVersion()}, ${os.cpus().length} cores, ` +
      `${WIDTH}×${HEIGHT} at ${FPS} fps, ${WARMUP} s warm-up, ${SECONDS} s measured per row)\n`,
  );
  console.log(table(rows));
  console.log(
    `\nfps: results per second (detector.track()'s achieved rate); detections/s: frames that ran the detector; ` +
      `page fps: requestAnimationFrame callbacks per second on the page while the stream runs.\n` +
      `load before: ${loadBefore}\nload after:  ${loadAfter}`,
  );
}

async function chromiumVersion(): Promise<string> {
  try {
    const { stdout } = await run('/usr/bin/chromium', ['--version']);
    return stdout.trim().replace(/^Chromium\s*/, '');
  } catch {
    return '(version unknown)';
  }
}

await main();

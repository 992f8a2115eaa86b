/**
 * `ssd-edge detect <image|dir|video>`: runs a detector on an image or every JPEG/PNG in a
 * directory, prints the detections (a table, or JSON), and optionally writes annotated PNGs.
 * A video file (detect-video.ts) gives an annotated video and JSON lines, one per frame.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createDetector } from '../runtime/detector.js';
import type { ImageDetection } from '../runtime/types.js';
import { describeOptions, integerOption, numberOption, parseArgs, type OptionSpec } from './args.js';
import { writeAnnotated } from './annotate.js';
import { MODEL_OPTION_HELP, resolveModelOption } from './model-option.js';
import { planAnnotatedOutputs, planOutputFile } from './output-paths.js';
import { progressBar } from './progress.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { isVideoPath, VIDEO_EXTENSIONS, type AudioPlan } from '../video/ffmpeg.js';
import { detectVideo } from './detect-video.js';

const OPTIONS: Record<string, OptionSpec> = {
  model: { type: 'string', description: MODEL_OPTION_HELP },
  preset: { type: 'string', description: "post-processing preset (default: the model's metadata)" },
  backend: {
    type: 'string',
    description:
      "auto | node | wasm | int8 (default auto; int8: ssd-edge's own uint8 kernels, for .tflite models and the built-in COCO model)",
  },
  threads: { type: 'string', description: 'inference threads (default: every core)' },
  'min-score': { type: 'string', description: 'print and draw detections at or above this score (default 0.5)' },
  out: {
    type: 'string',
    description: 'annotated PNG to write (a directory when the input is one); for a video, an .mp4 (.m4v .mov .mkv)',
  },
  json: {
    type: 'boolean',
    optionalValue: /\.(json|jsonl|ndjson)$/i,
    description:
      'JSON instead of a table: printed, or written to the file given (--json out.json); JSON lines (a line per frame) for a video',
  },
  every: {
    type: 'string',
    description:
      'video: detect on every N-th frame (default 1); between, --track predicts boxes, else the last detections stand',
  },
  track: {
    type: 'boolean',
    description:
      'video: track objects across frames (stable ids #1, #2, …; a track shows from its --min-hits-th detection)',
  },
  'min-hits': {
    type: 'string',
    description: 'video, --track: detections before a track shows (default 3, as SORT; 1 = at once)',
  },
  ffmpeg: {
    type: 'string',
    description: 'video: the ffmpeg executable (ffprobe beside it) or their folder (default: on PATH)',
  },
};

export const DETECT_USAGE = `ssd-edge detect <image|dir|video> [options]
  video: ${VIDEO_EXTENSIONS.join(' ')} (or any file ffprobe reads as one), decoded and encoded by ffmpeg
${describeOptions(OPTIONS)}`;
const IMAGE_FILE = /\.(jpe?g|png)$/i;

function table(file: string, detections: readonly ImageDetection[]): string {
  const rows = detections.map(
    (d) =>
      `  ${(d.label ?? String(d.classId)).padEnd(14)} ${d.score.toFixed(3)}  ` +
      `[${d.pixelBox.map((v) => v.toFixed(0).padStart(5)).join(',')}] px`,
  );
  return [`${file}: ${detections.length} detection${detections.length === 1 ? '' : 's'}`, ...rows].join('\n');
}

async function listImages(target: string): Promise<{ files: string[]; isDirectory: boolean }> {
  let info;
  try {
    info = await stat(target);
  } catch {
    throw new Error(`detect: '${target}' does not exist`);
  }
  if (!info.isDirectory()) return { files: [target], isDirectory: false };
  const files = (await readdir(target))
    .filter((f) => IMAGE_FILE.test(f))
    .sort()
    .map((f) => path.join(target, f));
  if (files.length === 0) throw new Error(`detect: '${target}' has no .jpg, .jpeg or .png files`);
  return { files, isDirectory: true };
}

/** A video by its extension, or (not a .jpg/.jpeg/.png) when ffprobe finds a moving-picture stream in it. */
async function isVideo(file: string, ffmpegOption: string | undefined): Promise<boolean> {
  if (isVideoPath(file)) return true;
  if (IMAGE_FILE.test(file)) return false;
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return false;
  const { findFfmpeg, probeVideo } = await import('../video/ffmpeg.js');
  try {
    const video = await probeVideo(await findFfmpeg(ffmpegOption), file);
    return video.frames > 1;
  } catch {
    return false; // no ffmpeg, or not a video: the image path reports what is wrong
  }
}

/** ', audio: aac copied' or ', audio: flac re-encoded to AAC (flac audio cannot go into a mp4 file as it is)'; '' without audio. */
const describeAudio = (plans: readonly AudioPlan[]) =>
  plans.length === 0
    ? ''
    : `, audio: ${plans
        .map((p) => (p.action === 'copy' ? `${p.codec} copied` : `${p.codec} re-encoded to AAC (${p.reason})`))
        .join('; ')}`;

async function runVideoDetect(
  input: string,
  options: Record<string, string | boolean | undefined>,
  common: {
    model: string;
    backend: 'auto' | 'node' | 'wasm' | 'int8';
    minScore: number;
  },
): Promise<void> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const summary = await detectVideo({
      input,
      ...common,
      preset: options.preset as string | undefined,
      threads: integerOption(options, 'threads', 1, 256),
      every: integerOption(options, 'every', 1, 1e9) ?? 1,
      track: options.track === true,
      minHits: integerOption(options, 'min-hits', 1, 1000),
      out: options.out as string | undefined,
      json: options.json as string | true | undefined,
      ffmpeg: options.ffmpeg as string | undefined,
      signal: abort.signal,
    });
    const labels =
      Object.entries(summary.labels)
        .sort((a, b) => b[1] - a[1])
        .map(([l, n]) => `${l} ×${n}`)
        .join(', ') || 'nothing';
    const lines = [
      `${input}: ${summary.frames} frames ${summary.video.width}×${summary.video.height} at ` +
        (summary.video.variableRate
          ? `a variable frame rate (${+summary.video.averageFps.toFixed(3)} fps on average), `
          : `${+summary.video.fps.toFixed(3)} fps, `) +
        `detection on ${summary.detectedFrames}${summary.tracks ? `, ${summary.tracks} track${summary.tracks === 1 ? '' : 's'}` : ''}; ` +
        `boxes: ${labels} (${summary.seconds.toFixed(1)} s)` +
        (summary.resizedFrames
          ? `; the frame size changed midway: ${summary.resizedFrames} frames were scaled to ${summary.video.width}×${summary.video.height}`
          : ''),
      ...(summary.out ? [`wrote ${summary.out} (${summary.encoder}${describeAudio(summary.audio ?? [])})`] : []),
      ...(summary.json ? [`wrote ${summary.json} (JSON lines, one per frame)`] : []),
    ];
    // with JSON lines on stdout, the summary goes to stderr
    (options.json === true ? console.error : console.log)(lines.join('\n'));
  } catch (error) {
    if (abort.signal.aborted) {
      throw new Error(`detect: interrupted; ffmpeg stopped, nothing written (${(error as Error).message})`, {
        cause: error,
      });
    }
    throw new Error(`detect: ${(error as Error).message}`, { cause: error });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export async function runDetect(argv: string[]): Promise<void> {
  const { positionals, options } = parseArgs(argv, OPTIONS, 'detect');
  if (positionals.length !== 1) throw new Error(`detect: give one image, directory or video\n\nusage: ${DETECT_USAGE}`);
  const modelPath = resolveModelOption('detect', options.model as string | undefined);
  const backend = (options.backend as string | undefined) ?? 'auto';
  if (!['auto', 'node', 'wasm', 'int8'].includes(backend))
    throw new RangeError(`--backend is '${backend}'; use auto, node, wasm or int8`);
  const minScore = numberOption(options, 'min-score', 0, 1) ?? 0.5;
  if (await isVideo(positionals[0], options.ffmpeg as string | undefined)) {
    return runVideoDetect(positionals[0], options, { model: modelPath, backend: backend as 'auto', minScore });
  }
  for (const videoOnly of ['every', 'track', 'min-hits', 'ffmpeg']) {
    if (options[videoOnly] !== undefined)
      throw new Error(`detect: --${videoOnly} is for videos; '${positionals[0]}' is not one`);
  }
  const { files, isDirectory } = await listImages(positionals[0]);
  const out = options.out as string | undefined;
  const targets = out ? await planAnnotatedOutputs(positionals[0], files, isDirectory, out) : undefined;
  const jsonFile =
    typeof options.json === 'string'
      ? await planOutputFile(positionals[0], options.json, '.json', `detect: --json '${options.json}'`, [
          ...(targets?.values() ?? []),
        ])
      : undefined;

  const detector = await createDetector({
    model: modelPath,
    preset: options.preset as string | undefined,
    backend: backend as 'auto',
    threads: integerOption(options, 'threads', 1, 256),
  });
  const results: Record<string, ImageDetection[]> = {};
  const progress = isDirectory ? progressBar(files.length, `detect (${detector.backend})`) : undefined;
  let failures = 0;
  try {
    for (const file of files) {
      try {
        const found = (await detector.detect(file)).filter((d) => d.score >= minScore);
        results[file] = found;
        const target = targets?.get(file);
        if (target) await writeAnnotated(file, found, target);
        if (!options.json) {
          console.log(table(file, found));
        }
      } catch (error) {
        if (!isDirectory) throw error;
        failures++;
        console.error(`detect: ${file}: ${(error as Error).message}`);
      }
      progress?.tick(path.basename(file));
    }
  } finally {
    progress?.done();
    await detector.dispose();
  }
  if (options.json) {
    const json = JSON.stringify(isDirectory ? results : results[files[0]], null, 2);
    if (jsonFile) await writeFileAtomic(jsonFile, `${json}\n`);
    else console.log(json);
  }
  if (failures > 0) {
    process.exitCode = 1;
    console.error(`detect: ${failures} of ${files.length} images failed`);
  }
}

/**
 * Video files through the system's `ffmpeg` and `ffprobe` (Debian's `ffmpeg` package): find the
 * tools, probe a file, decode its frames as raw RGB through a pipe, encode RGB frames to a video
 * through a pipe. Node only.
 *
 * Memory stays bounded: the decoder is read one frame at a time (ffmpeg blocks on the full pipe
 * while the consumer works), and the encoder's writes wait for the pipe to drain. Every child
 * process is waited for: on success, on error, and when the consumer stops early (it is killed
 * first), so none is ever left running or unreaped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { matroskaRgbFramePrefix, matroskaRgbHeader } from './matroska-rgb.js';

export const FFMPEG_INSTALL_HINT =
  'install it (Debian/Ubuntu: apt-get install ffmpeg) or pass --ffmpeg /path/to/ffmpeg';

/** File extensions treated as videos without asking ffprobe. */
export const VIDEO_EXTENSIONS = ['.mp4', '.mov', '.mkv', '.webm', '.avi', '.m4v'];
export const isVideoPath = (file: string): boolean => VIDEO_EXTENSIONS.includes(path.extname(file).toLowerCase());

/** Output containers the encoder writes (each takes H.264 and MPEG-4 part 2), by extension. */
const CONTAINERS: Record<string, string> = { '.mp4': 'mp4', '.m4v': 'mp4', '.mov': 'mov', '.mkv': 'matroska' };
export const VIDEO_OUTPUT_EXTENSIONS = Object.keys(CONTAINERS);
/** ffmpeg's muxer for a video file name, by extension; undefined for one the encoder does not write. */
export const containerFor = (file: string): string | undefined => CONTAINERS[path.extname(file).toLowerCase()];

export interface FfmpegTools {
  ffmpeg: string;
  ffprobe: string;
  /** The video encoder used for output: 'libx264' when this ffmpeg has it, else 'mpeg4'. */
  encoder: 'libx264' | 'mpeg4';
}

/** ffmpeg or ffprobe missing, or not runnable. */
export class FfmpegMissingError extends Error {
  override name = 'FfmpegMissingError';
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** Resolves once the child has exited and its pipes are closed (or it never started). Never rejects. */
function whenExited(child: ChildProcess): Promise<Finished> {
  return new Promise((resolve) => {
    let error: Error | undefined;
    child.once('error', (e) => {
      error = e;
      // a spawn failure emits 'close' too in current Node; make sure we resolve either way
      if (child.pid === undefined) resolve({ code: null, signal: null, error });
    });
    child.once('close', (code, signal) => resolve({ code, signal, error }));
  });
}

/** Keeps the last `limit` characters of a stream (ffmpeg's stderr), for error messages. */
function tail(stream: NodeJS.ReadableStream | null, limit = 4000): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-limit);
  });
  return () => text.trim().split('\n').slice(-4).join(' | ');
}

/** Runs a tool to the end; resolves with its exit code and output (bounded). */
async function runTool(
  file: string,
  args: readonly string[],
  maxStdout = 8 * 2 ** 20,
): Promise<Finished & { stdout: string; stderr: string }> {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = whenExited(child);
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.length > maxStdout) child.kill('SIGKILL');
  });
  const stderr = tail(child.stderr);
  const finished = await exited;
  return { ...finished, stdout, stderr: stderr() };
}

/**
 * Finds ffmpeg and ffprobe: `option` is the ffmpeg executable (ffprobe beside it) or the folder
 * holding both; without it, both are looked up on PATH. Checks that ffmpeg runs and picks the
 * encoder. Throws FfmpegMissingError with what to install.
 */
export async function findFfmpeg(option?: string): Promise<FfmpegTools> {
  let ffmpeg: string | undefined, ffprobe: string | undefined;
  if (option !== undefined) {
    const info = await stat(option).catch(() => undefined);
    if (!info)
      throw new FfmpegMissingError(
        `--ffmpeg '${option}' does not exist; give the ffmpeg executable or the folder holding ffmpeg and ffprobe`,
      );
    const dir = info.isDirectory() ? option : path.dirname(option);
    ffmpeg = info.isDirectory() ? path.join(option, 'ffmpeg') : option;
    const base = path.basename(ffmpeg);
    const probeName = base.includes('ffmpeg') ? base.replace('ffmpeg', 'ffprobe') : 'ffprobe';
    if (!(await isExecutable(ffmpeg))) throw new FfmpegMissingError(`--ffmpeg: '${ffmpeg}' is not an executable file`);
    ffprobe = path.join(dir, probeName);
    if (!(await isExecutable(ffprobe))) {
      throw new FfmpegMissingError(
        `--ffmpeg '${option}': there is no ffprobe beside it ('${ffprobe}'); ffmpeg and ffprobe come together`,
      );
    }
  } else {
    ffmpeg = await onPath('ffmpeg');
    ffprobe = await onPath('ffprobe');
    if (!ffmpeg || !ffprobe) {
      throw new FfmpegMissingError(
        `videos need ${!ffmpeg ? 'ffmpeg' : 'ffprobe'}, which is not on PATH: ${FFMPEG_INSTALL_HINT}`,
      );
    }
  }
  const encoders = await runTool(ffmpeg, ['-hide_banner', '-encoders']);
  if (encoders.error || encoders.code !== 0) {
    throw new FfmpegMissingError(
      `'${ffmpeg}' does not run as ffmpeg (${encoders.error?.message ?? encoders.stderr ?? `exit code ${encoders.code}`}): ${FFMPEG_INSTALL_HINT}`,
    );
  }
  const encoder = /^\s*V\S*\s+libx264\s/m.test(encoders.stdout) ? 'libx264' : 'mpeg4';
  return { ffmpeg, ffprobe, encoder };
}

export interface VideoInfo {
  file: string;
  /** Frame size as decoded (after the stream's rotation, which ffmpeg applies). */
  width: number;
  height: number;
  /** Frames per second, and as the rational ffmpeg reported ('30000/1001'). */
  fps: number;
  fpsRational: string;
  /** Frames per second on average (frames / duration), and whether that differs from `fps` by over 1%: a variable-frame-rate stream. */
  averageFps: number;
  variableRate: boolean;
  /** Frames in the stream: the container's count when it has one, else duration × fps (`framesExact` false). */
  frames: number;
  framesExact: boolean;
  /** Seconds; NaN when unknown. */
  duration: number;
  codec: string;
  /** The video stream's time base ('1/10240'): the unit of its timestamps, kept by the encoder. */
  timeBase: string;
  /** The file's audio streams, in order (copied into an annotated video). */
  audio: AudioStreamInfo[];
  /**
   * The file's start time in seconds (ffprobe's format start_time; 0 when absent): ffmpeg counts
   * decoded timestamps from it, so a stream starting later than another has its first frame after 0.
   */
  startTime: number;
}

export interface AudioStreamInfo {
  /** ffmpeg's codec name ('aac', 'opus', 'pcm_s16le', …). */
  codec: string;
  /** Seconds; NaN when unknown. */
  duration: number;
}

interface ProbeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  time_base?: string;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number }[];
}

function parseRate(rate: string | undefined): number {
  const [n, d = '1'] = (rate ?? '').split('/');
  const value = Number(n) / Number(d);
  return Number.isFinite(value) && value > 0 && value <= 1000 ? value : NaN;
}

/** Width, height, frame rate and frame count of the first video stream; a clear error naming the file otherwise. */
export async function probeVideo(tools: FfmpegTools, file: string): Promise<VideoInfo> {
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new Error(`'${file}' does not exist`);
  if (!info.isFile()) throw new Error(`'${file}' is not a file`);
  try {
    await access(file, constants.R_OK);
  } catch {
    throw new Error(`'${file}' cannot be read (permission denied)`);
  }
  const probe = await runTool(tools.ffprobe, [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_streams',
    '-show_format',
    '--',
    file,
  ]);
  if (probe.error)
    throw new FfmpegMissingError(
      `cannot run ffprobe '${tools.ffprobe}': ${probe.error.message}: ${FFMPEG_INSTALL_HINT}`,
    );
  let parsed: { streams?: ProbeStream[]; format?: { duration?: string; start_time?: string } } | undefined;
  try {
    parsed = JSON.parse(probe.stdout);
  } catch {
    parsed = undefined;
  }
  if (probe.code !== 0 || !parsed) {
    throw new Error(`'${file}' is not a video ffmpeg can read${probe.stderr ? `: ${probe.stderr}` : ''}`);
  }
  const streams = parsed.streams ?? [];
  const formatDuration = parsed.format?.duration;
  const video = streams.find(
    (s) => s.codec_type === 'video' && !s.disposition?.attached_pic && (s.width ?? 0) > 0 && (s.height ?? 0) > 0,
  );
  if (!video) {
    const kinds = streams.map((s) =>
      s.disposition?.attached_pic
        ? 'cover image'
        : s.codec_type === 'video'
          ? `video of a size ffprobe cannot tell (${s.codec_name ?? 'unknown codec'})`
          : (s.codec_type ?? 'unknown'),
    );
    throw new Error(
      `'${file}' has no video stream (${kinds.length ? `it has ${kinds.join(', ')}` : 'it has no streams'})`,
    );
  }
  let fpsRational = video.r_frame_rate ?? '';
  let fps = parseRate(fpsRational);
  if (!(fps > 0)) {
    fpsRational = video.avg_frame_rate ?? '';
    fps = parseRate(fpsRational);
  }
  if (!(fps > 0)) {
    fpsRational = '25';
    fps = 25;
  }
  const duration = Number(video.duration ?? parsed.format?.duration ?? NaN);
  const averageFps = parseRate(video.avg_frame_rate) || fps;
  const counted = Number.parseInt(video.nb_frames ?? '', 10);
  const framesExact = Number.isInteger(counted) && counted > 0;
  const frames = framesExact ? counted : Number.isFinite(duration) ? Math.max(1, Math.round(duration * fps)) : 0;
  const rotation = Number(
    video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? video.tags?.rotate ?? 0,
  );
  const quarterTurn = Math.abs(Math.round(rotation / 90)) % 2 === 1;
  return {
    file,
    width: quarterTurn ? video.height! : video.width!,
    height: quarterTurn ? video.width! : video.height!,
    fps,
    fpsRational,
    averageFps,
    variableRate: Math.abs(averageFps - fps) > 0.01 * fps,
    frames,
    framesExact,
    duration,
    codec: video.codec_name ?? 'unknown',
    timeBase: /^\d+\/\d+$/.test(video.time_base ?? '') ? video.time_base! : '1/1000000',
    startTime: Number.isFinite(Number(parsed.format?.start_time)) ? Number(parsed.format?.start_time) : 0,
    audio: streams
      .filter((s) => s.codec_type === 'audio')
      .map((s) => ({
        codec: s.codec_name ?? 'unknown',
        duration: Number(s.duration ?? formatDuration ?? NaN),
      })),
  };
}

/** Waits for a child to exit after SIGTERM, then SIGKILL if it has not within `graceMs`. */
async function stopChild(child: ChildProcess, exited: Promise<Finished>, graceMs = 2000): Promise<void> {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  } else {
    await exited;
  }
}

export interface VideoFrame {
  /** 0, 1, 2, … in presentation order. */
  index: number;
  /**
   * The frame's presentation time from the decoder, in milliseconds from the start of the file
   * (its start time, `VideoInfo.startTime`, is 0: a video stream starting after the audio has its
   * first frame after 0). A variable-frame-rate file keeps its gaps:
   * frames are passed through as decoded, never repeated or dropped to a constant rate.
   */
  timestampMs: number;
  /** width × height × 3 bytes (the video's probed size), RGB, row-major. A new buffer per frame. */
  data: Buffer;
  /**
   * The size the decoder gave this frame. A stream whose size changes midway (a camera or an
   * adaptive stream switching resolution) has its other-sized frames scaled to the video's size.
   */
  decodedWidth: number;
  decodedHeight: number;
}

/** A rational time base as [numerator, denominator] ('1/10240' → [1, 10240]). */
function parseTimeBase(timeBase: string): [number, number] {
  const [num, den] = timeBase.split('/').map(Number);
  return [num, den];
}
const timeBaseSeconds = (timeBase: string) => parseTimeBase(timeBase)[0] / parseTimeBase(timeBase)[1];

/**
 * Frame timestamps from ffmpeg's `showinfo` filter, read from its log on stderr (`level+info`):
 * `config in time_base: 1/10240` once, then `n: 7 pts: 4096 …` per frame, before the frame goes
 * to stdout. Other lines are kept (the last few) for error messages.
 */
class ShowinfoTimestamps {
  private timeBase: [number, number];
  private readonly pending: { timestampMs: number; width: number; height: number }[] = [];
  private nextIndex = 0;
  /** Frames the current filter graph has seen: ffmpeg builds a new one (numbering from 0 again) when the frame size changes. */
  private graphFrames = 0;
  private partial = '';
  private ended = false;
  private wake: (() => void) | undefined;
  private messages: string[] = [];
  problem: string | undefined;

  /** `originMs`: subtracted from every timestamp (the file's start time: ffmpeg runs with -copyts). */
  constructor(
    stream: NodeJS.ReadableStream,
    fallbackTimeBase: string,
    private readonly originMs: number,
  ) {
    this.timeBase = parseTimeBase(fallbackTimeBase);
    stream.on('data', (chunk: Buffer) => {
      const lines = (this.partial + chunk.toString()).split('\n');
      this.partial = lines.pop()!;
      lines.forEach((line) => this.line(line));
      this.notify();
    });
    stream.on('close', () => {
      if (this.partial) this.line(this.partial);
      this.ended = true;
      this.notify();
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private line(line: string): void {
    if (line.includes('Parsed_showinfo_')) {
      const config = /config in time_base: (\d+\/\d+)/.exec(line);
      if (config) {
        this.timeBase = parseTimeBase(config[1]);
        return;
      }
      const frame = /\] \[info\] n:\s*(\d+) pts:\s*(-?\d+|NOPTS) .* s:(\d+)x(\d+) /.exec(line);
      if (!frame) return; // showinfo's second line per frame (colour), or its side data
      const n = Number(frame[1]);
      if (n === 0 && this.graphFrames > 0) this.graphFrames = 0; // a new filter graph: the frame size changed
      if (n !== this.graphFrames)
        this.problem ??= `showinfo reported frame ${n} where frame ${this.graphFrames} was next`;
      else if (frame[2] === 'NOPTS') this.problem ??= `frame ${this.nextIndex} has no timestamp`;
      // one division last: 3072 × 1000 / 10240 is 300 exactly
      const timestampMs = (Number(frame[2]) * this.timeBase[0] * 1000) / this.timeBase[1] - this.originMs;
      this.pending.push({ timestampMs, width: Number(frame[3]), height: Number(frame[4]) });
      this.graphFrames++;
      this.nextIndex++;
    } else if (/\[(error|fatal|panic)\]/.test(line)) {
      this.messages = [
        ...this.messages.slice(-3),
        line
          .replace(/^\[[^\]]*@ 0x[0-9a-f]+\] /, '')
          .replace(/\[(error|fatal|panic)\] /, '')
          .trim(),
      ];
    }
  }

  /** The last error lines ffmpeg logged, joined. */
  errors(): string {
    return this.messages.join(' | ');
  }

  /** The next frame's timestamp in ms and decoded size; waits for its log line (stderr may lag stdout). */
  async next(): Promise<{ timestampMs: number; width: number; height: number }> {
    while (this.pending.length === 0 && !this.ended)
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    if (this.problem) throw new Error(this.problem);
    const next = this.pending.shift();
    if (next === undefined) throw new Error(`ffmpeg logged no timestamp for frame ${this.nextIndex}`);
    return next;
  }
}

/**
 * Decodes the first video stream to RGB frames, one at a time, each with its decoder timestamp
 * (`-vsync passthrough`: no frame repeated or dropped) and its decoded size; frames of another
 * size than the video's (a resolution change midway) are scaled to it. Stopping the iteration early (break, an
 * exception in the loop body) kills ffmpeg and waits for it. A decoding failure throws after the
 * frames decoded so far, naming the file and ffmpeg's message.
 */
export async function* decodeFrames(tools: FfmpegTools, video: VideoInfo): AsyncGenerator<VideoFrame, void, undefined> {
  const frameBytes = video.width * video.height * 3;
  // -copyts: the file's own timestamps, counted from its start time here (ffmpeg's own offset
  // depends on which streams are mapped: with MPEG-TS it moves the video when the audio is left out)
  const child = spawn(
    tools.ffmpeg,
    [
      '-hide_banner',
      '-nostats',
      '-loglevel',
      'level+info',
      '-nostdin',
      '-copyts',
      '-i',
      video.file,
      // scale: frames of another size midway come at the video's size (ffmpeg 5.1 does so unasked; this makes it explicit)
      '-map',
      '0:v:0',
      '-an',
      '-sn',
      '-dn',
      '-vsync',
      'passthrough',
      '-vf',
      `showinfo,scale=${video.width}:${video.height}`,
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = whenExited(child);
  const timestamps = new ShowinfoTimestamps(child.stderr, video.timeBase, video.startTime * 1000);
  let completed = false;
  let index = 0;
  try {
    let frame = Buffer.allocUnsafe(frameBytes);
    let filled = 0;
    // async iteration reads only when asked: while the body (and our consumer) works, the pipe fills and ffmpeg waits
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          const decoded = await timestamps.next().catch((e: Error) => {
            throw new Error(`cannot time frame ${index} of '${video.file}': ${e.message}`);
          });
          yield {
            index,
            timestampMs: decoded.timestampMs,
            data: frame,
            decodedWidth: decoded.width,
            decodedHeight: decoded.height,
          };
          index++;
          frame = Buffer.allocUnsafe(frameBytes);
          filled = 0;
        }
      }
    }
    const finished = await exited;
    if (finished.error)
      throw new FfmpegMissingError(
        `cannot run ffmpeg '${tools.ffmpeg}': ${finished.error.message}: ${FFMPEG_INSTALL_HINT}`,
      );
    if (finished.code !== 0) {
      throw new Error(
        `ffmpeg could not decode '${video.file}' (after ${index} frames): ${timestamps.errors() || `exit code ${finished.code ?? finished.signal}`}`,
      );
    }
    completed = true;
  } finally {
    if (!completed) await stopChild(child, exited);
  }
}

export interface EncoderOptions {
  width: number;
  height: number;
  /**
   * The output video stream's time base ('1/10240'; default '1/1000000'): give the input's, so
   * each frame's timestamp comes out as it went in (the frames travel in microseconds).
   */
  timeBase?: string;
  /**
   * Audio to copy into the output: this file's audio streams (see audioPlan), in step with frames
   * whose timestamps count from the file's `startTime` (as decodeFrames gives them).
   */
  audioFrom?: { file: string; streams: readonly AudioStreamInfo[]; startTime: number };
}

/** MPEG-4 part 2 takes time bases up to 1/65535: a finer one (MPEG-TS's 1/90000, our default 1/1000000) becomes 1/60000 (timestamps kept to 17 µs). */
const MPEG4_MAX_TIME_BASE_DEN = 65535;
export function encoderTimeBase(encoder: FfmpegTools['encoder'], timeBase: string): string {
  return encoder === 'mpeg4' && parseTimeBase(timeBase)[1] > MPEG4_MAX_TIME_BASE_DEN ? '1/60000' : timeBase;
}

/** Audio codecs each output container takes as they are (copied); others are re-encoded to AAC. Checked with ffmpeg 5.1. */
const AUDIO_COPY: Record<string, readonly string[]> = {
  // flac and pcm do not go into .mp4; vorbis does, but players do not play it
  mp4: ['aac', 'mp3', 'ac3', 'eac3', 'opus', 'alac', 'mp2'],
  // opus and flac do not go into .mov
  mov: [
    'aac',
    'mp3',
    'ac3',
    'eac3',
    'alac',
    'mp2',
    'pcm_s16le',
    'pcm_s16be',
    'pcm_s24le',
    'pcm_s24be',
    'pcm_s32le',
    'pcm_f32le',
    'pcm_u8',
  ],
  matroska: [
    'aac',
    'mp3',
    'ac3',
    'eac3',
    'opus',
    'vorbis',
    'flac',
    'alac',
    'mp2',
    'dts',
    'truehd',
    'pcm_s16le',
    'pcm_s24le',
    'pcm_s32le',
    'pcm_f32le',
  ],
};

export interface AudioPlan {
  codec: string;
  /** 'copy': the stream as it is; 'aac': re-encoded, because `reason`. */
  action: 'copy' | 'aac';
  reason?: string;
}

/** What the encoder does with each audio stream for a container (ffmpeg's muxer name): copy it, or re-encode to AAC and why. */
export function audioPlan(streams: readonly AudioStreamInfo[], container: string): AudioPlan[] {
  return streams.map(({ codec }) =>
    (AUDIO_COPY[container] ?? []).includes(codec)
      ? { codec, action: 'copy' }
      : {
          codec,
          action: 'aac',
          reason: `${codec} audio cannot go into a ${container === 'matroska' ? 'Matroska' : container} file as it is`,
        },
  );
}

/**
 * Encodes RGB frames, each with its timestamp, to a video file (H.264 with libx264, else MPEG-4
 * part 2; yuv420p, so odd sizes are padded by one pixel). The container follows the file's
 * extension (.mp4 .m4v .mov .mkv). Frames keep their timestamps (`-vsync passthrough`): a
 * variable-frame-rate input comes out with the same timing. With `audioFrom`, that file's audio
 * streams are copied in (or re-encoded to AAC where the container cannot hold them).
 * Call `finish()` once after the last frame, or `abort()` to stop; both wait for ffmpeg.
 */
export class VideoEncoder {
  readonly pid: number | undefined;
  /** What happens to each audio stream of `audioFrom`. */
  readonly audio: AudioPlan[];
  private readonly child: ChildProcess;
  private readonly exited: Promise<Finished>;
  private readonly stderr: () => string;
  private readonly frameBytes: number;
  private done = false;
  private written = 0;
  private lastTimestampUs: number | undefined;

  constructor(
    private readonly tools: FfmpegTools,
    readonly file: string,
    options: EncoderOptions,
    container?: string,
  ) {
    const format = container ?? containerFor(file);
    if (!format) throw new Error(`cannot write the video '${file}': use one of ${VIDEO_OUTPUT_EXTENSIONS.join(' ')}`);
    const { width, height } = options;
    if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0))
      throw new RangeError(`frame size ${width}×${height} is not a positive integer size`);
    const timeBase = options.timeBase ?? '1/1000000';
    if (!(/^\d+\/\d+$/.test(timeBase) && timeBaseSeconds(timeBase) > 0))
      throw new RangeError(`time base '${timeBase}' is not a positive rational like '1/10240'`);
    this.frameBytes = width * height * 3;
    const codec =
      tools.encoder === 'libx264'
        ? ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20']
        : ['-c:v', 'mpeg4', '-q:v', '3'];
    this.audio = options.audioFrom ? audioPlan(options.audioFrom.streams, format) : [];
    // -copyts: the frames' timestamps as written (a first frame after 0 stays there); the audio
    // counted from the file's start time as the decoder counted the frames, so the two stay in step
    const audioStart = options.audioFrom?.startTime ?? 0;
    const audioInput =
      options.audioFrom && this.audio.length
        ? [...(audioStart !== 0 ? ['-itsoffset', String(-audioStart)] : []), '-i', options.audioFrom.file]
        : [];
    const audioMaps = audioInput.length
      ? this.audio.flatMap((plan, k) => [
          '-map',
          `1:a:${k}`,
          ...(plan.action === 'copy' ? [`-c:a:${k}`, 'copy'] : [`-c:a:${k}`, 'aac', `-b:a:${k}`, '160k']),
        ])
      : [];
    const args = [
      '-v',
      'error',
      '-nostdin',
      '-y',
      '-copyts',
      '-f',
      'matroska',
      '-i',
      'pipe:0',
      ...audioInput,
      '-map',
      '0:v:0',
      ...audioMaps,
      ...(width % 2 || height % 2 ? ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2'] : []),
      '-vsync',
      'passthrough',
      '-enc_time_base',
      encoderTimeBase(tools.encoder, timeBase),
      ...codec,
      '-pix_fmt',
      'yuv420p',
      ...(format === 'mp4' || format === 'mov' ? ['-movflags', '+faststart'] : []),
      '-f',
      format,
      file,
    ];
    this.child = spawn(tools.ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.pid = this.child.pid;
    this.exited = whenExited(this.child);
    this.stderr = tail(this.child.stderr);
    // a write to an encoder that died fails with EPIPE: reported by write()/finish() from the exit
    this.child.stdin!.on('error', () => {});
    this.child.stdin!.write(matroskaRgbHeader(width, height));
  }

  private failure(finished: Finished): Error {
    if (finished.error)
      return new FfmpegMissingError(
        `cannot run ffmpeg '${this.tools.ffmpeg}': ${finished.error.message}: ${FFMPEG_INSTALL_HINT}`,
      );
    return new Error(
      `ffmpeg could not encode '${this.file}' (after ${this.written} frames): ${this.stderr() || `exit code ${finished.code ?? finished.signal}`}`,
    );
  }

  /**
   * Writes one frame (width × height × 3 bytes of RGB) shown at `timestampMs` (≥ 0, after the
   * previous frame's, to the microsecond); resolves when the pipe can take more.
   */
  async write(frame: Uint8Array, timestampMs: number): Promise<void> {
    if (this.done) throw new Error('the encoder is finished');
    if (frame.length !== this.frameBytes)
      throw new RangeError(
        `a frame is ${frame.length} bytes; this encoder takes ${this.frameBytes} (width × height × 3)`,
      );
    const timestampUs = Math.round(timestampMs * 1000);
    if (!(Number.isFinite(timestampMs) && timestampUs >= 0))
      throw new RangeError(`frame ${this.written}'s timestamp is ${timestampMs} ms; it must be a finite time ≥ 0`);
    if (this.lastTimestampUs !== undefined && timestampUs <= this.lastTimestampUs) {
      throw new RangeError(
        `frame ${this.written}'s timestamp ${timestampMs} ms is not after the previous frame's ${this.lastTimestampUs / 1000} ms; a video's frames must be in time order`,
      );
    }
    const stdin = this.child.stdin!;
    if (this.child.exitCode !== null || this.child.signalCode !== null || stdin.destroyed)
      throw this.failure(await this.exited);
    this.lastTimestampUs = timestampUs;
    this.written++;
    stdin.write(matroskaRgbFramePrefix(timestampUs, frame.length));
    if (stdin.write(frame)) return;
    let onDrain: () => void = () => {};
    const drained = new Promise<'drain'>((resolve) => {
      onDrain = () => resolve('drain');
      stdin.once('drain', onDrain);
    });
    const result = await Promise.race([drained, this.exited]);
    stdin.off('drain', onDrain);
    if (result !== 'drain') throw this.failure(result);
  }

  /** Ends the input and waits for ffmpeg to write the file; throws with ffmpeg's message if it failed. */
  async finish(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.child.stdin!.end();
    const finished = await this.exited;
    if (finished.error || finished.code !== 0) throw this.failure(finished);
  }

  /** Stops ffmpeg (the file is left incomplete: the caller removes it) and waits for it. */
  async abort(): Promise<void> {
    this.done = true;
    this.child.stdin!.destroy();
    await stopChild(this.child, this.exited);
  }
}

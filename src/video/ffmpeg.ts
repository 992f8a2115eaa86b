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

export const FFMPEG_INSTALL_HINT = 'install it (Debian/Ubuntu: apt-get install ffmpeg) or pass --ffmpeg /path/to/ffmpeg';

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

interface Finished { code: number | null; signal: NodeJS.Signals | null; error?: Error }

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
async function runTool(file: string, args: readonly string[], maxStdout = 8 * 2 ** 20): Promise<Finished & { stdout: string; stderr: string }> {
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
    if (!info) throw new FfmpegMissingError(`--ffmpeg '${option}' does not exist; give the ffmpeg executable or the folder holding ffmpeg and ffprobe`);
    const dir = info.isDirectory() ? option : path.dirname(option);
    ffmpeg = info.isDirectory() ? path.join(option, 'ffmpeg') : option;
    const base = path.basename(ffmpeg);
    const probeName = base.includes('ffmpeg') ? base.replace('ffmpeg', 'ffprobe') : 'ffprobe';
    if (!(await isExecutable(ffmpeg))) throw new FfmpegMissingError(`--ffmpeg: '${ffmpeg}' is not an executable file`);
    ffprobe = path.join(dir, probeName);
    if (!(await isExecutable(ffprobe))) {
      throw new FfmpegMissingError(`--ffmpeg '${option}': there is no ffprobe beside it ('${ffprobe}'); ffmpeg and ffprobe come together`);
    }
  } else {
    ffmpeg = await onPath('ffmpeg');
    ffprobe = await onPath('ffprobe');
    if (!ffmpeg || !ffprobe) {
      throw new FfmpegMissingError(`videos need ${!ffmpeg ? 'ffmpeg' : 'ffprobe'}, which is not on PATH: ${FFMPEG_INSTALL_HINT}`);
    }
  }
  const encoders = await runTool(ffmpeg, ['-hide_banner', '-encoders']);
  if (encoders.error || encoders.code !== 0) {
    throw new FfmpegMissingError(`'${ffmpeg}' does not run as ffmpeg (${encoders.error?.message ?? encoders.stderr ?? `exit code ${encoders.code}`}): ${FFMPEG_INSTALL_HINT}`);
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
  /** Frames in the stream: the container's count when it has one, else duration × fps (`framesExact` false). */
  frames: number;
  framesExact: boolean;
  /** Seconds; NaN when unknown. */
  duration: number;
  codec: string;
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
  const probe = await runTool(tools.ffprobe, ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', '--', file]);
  if (probe.error) throw new FfmpegMissingError(`cannot run ffprobe '${tools.ffprobe}': ${probe.error.message}: ${FFMPEG_INSTALL_HINT}`);
  let parsed: { streams?: ProbeStream[]; format?: { duration?: string } } | undefined;
  try {
    parsed = JSON.parse(probe.stdout);
  } catch {
    parsed = undefined;
  }
  if (probe.code !== 0 || !parsed) {
    throw new Error(`'${file}' is not a video ffmpeg can read${probe.stderr ? `: ${probe.stderr}` : ''}`);
  }
  const streams = parsed.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic && (s.width ?? 0) > 0 && (s.height ?? 0) > 0);
  if (!video) {
    const kinds = streams.map((s) => s.disposition?.attached_pic ? 'cover image' : s.codec_type ?? 'unknown');
    throw new Error(`'${file}' has no video stream (${kinds.length ? `it has ${kinds.join(', ')}` : 'it has no streams'})`);
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
  const counted = Number.parseInt(video.nb_frames ?? '', 10);
  const framesExact = Number.isInteger(counted) && counted > 0;
  const frames = framesExact ? counted : Number.isFinite(duration) ? Math.max(1, Math.round(duration * fps)) : 0;
  const rotation = Number(video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? video.tags?.rotate ?? 0);
  const quarterTurn = Math.abs(Math.round(rotation / 90)) % 2 === 1;
  return {
    file, width: quarterTurn ? video.height! : video.width!, height: quarterTurn ? video.width! : video.height!,
    fps, fpsRational, frames, framesExact, duration, codec: video.codec_name ?? 'unknown',
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
  /** 0, 1, 2, … in decoding order. */
  index: number;
  /** index / fps, in milliseconds (frames come at the probed constant rate: ffmpeg repeats or drops frames of a variable-rate file). */
  timestampMs: number;
  /** width × height × 3 bytes, RGB, row-major. A new buffer per frame. */
  data: Buffer;
}

/**
 * Decodes the first video stream to RGB frames, one at a time. Stopping the iteration early
 * (break, an exception in the loop body) kills ffmpeg and waits for it. A decoding failure
 * throws after the frames decoded so far, naming the file and ffmpeg's message.
 */
export async function* decodeFrames(tools: FfmpegTools, video: VideoInfo): AsyncGenerator<VideoFrame, void, undefined> {
  const frameBytes = video.width * video.height * 3;
  const child = spawn(tools.ffmpeg, ['-v', 'error', '-nostdin', '-i', video.file, '-map', '0:v:0', '-an', '-sn', '-dn',
    '-r', video.fpsRational, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = whenExited(child);
  const stderr = tail(child.stderr);
  let completed = false;
  try {
    let frame = Buffer.allocUnsafe(frameBytes);
    let filled = 0;
    let index = 0;
    // async iteration reads only when asked: while the body (and our consumer) works, the pipe fills and ffmpeg waits
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          yield { index, timestampMs: (index * 1000) / video.fps, data: frame };
          index++;
          frame = Buffer.allocUnsafe(frameBytes);
          filled = 0;
        }
      }
    }
    const finished = await exited;
    if (finished.error) throw new FfmpegMissingError(`cannot run ffmpeg '${tools.ffmpeg}': ${finished.error.message}: ${FFMPEG_INSTALL_HINT}`);
    if (finished.code !== 0) {
      throw new Error(`ffmpeg could not decode '${video.file}' (after ${index} frames): ${stderr() || `exit code ${finished.code ?? finished.signal}`}`);
    }
    completed = true;
  } finally {
    if (!completed) await stopChild(child, exited);
  }
}

export interface EncoderOptions {
  width: number;
  height: number;
  /** Frame rate, a number or ffmpeg's rational ('30000/1001'). */
  fps: number | string;
}

/**
 * Encodes RGB frames to a video file (H.264 with libx264, else MPEG-4 part 2; yuv420p, so odd
 * sizes are padded by one pixel). The container follows the file's extension (.mp4 .m4v .mov .mkv).
 * Call `finish()` once after the last frame, or `abort()` to stop; both wait for ffmpeg.
 */
export class VideoEncoder {
  readonly pid: number | undefined;
  private readonly child: ChildProcess;
  private readonly exited: Promise<Finished>;
  private readonly stderr: () => string;
  private readonly frameBytes: number;
  private done = false;
  private written = 0;

  constructor(private readonly tools: FfmpegTools, readonly file: string, options: EncoderOptions, container?: string) {
    const format = container ?? containerFor(file);
    if (!format) throw new Error(`cannot write the video '${file}': use one of ${VIDEO_OUTPUT_EXTENSIONS.join(' ')}`);
    const { width, height } = options;
    if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) throw new RangeError(`frame size ${width}×${height} is not a positive integer size`);
    this.frameBytes = width * height * 3;
    const codec = tools.encoder === 'libx264'
      ? ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20']
      : ['-c:v', 'mpeg4', '-q:v', '3'];
    const args = ['-v', 'error', '-nostdin', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-video_size', `${width}x${height}`,
      '-framerate', String(options.fps), '-i', 'pipe:0',
      ...(width % 2 || height % 2 ? ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2'] : []),
      ...codec, '-pix_fmt', 'yuv420p', ...(format === 'mp4' || format === 'mov' ? ['-movflags', '+faststart'] : []),
      '-f', format, file];
    this.child = spawn(tools.ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.pid = this.child.pid;
    this.exited = whenExited(this.child);
    this.stderr = tail(this.child.stderr);
    // a write to an encoder that died fails with EPIPE: reported by write()/finish() from the exit
    this.child.stdin!.on('error', () => {});
  }

  private failure(finished: Finished): Error {
    if (finished.error) return new FfmpegMissingError(`cannot run ffmpeg '${this.tools.ffmpeg}': ${finished.error.message}: ${FFMPEG_INSTALL_HINT}`);
    return new Error(`ffmpeg could not encode '${this.file}' (after ${this.written} frames): ${this.stderr() || `exit code ${finished.code ?? finished.signal}`}`);
  }

  /** Writes one frame (width × height × 3 bytes of RGB); resolves when the pipe can take more. */
  async write(frame: Uint8Array): Promise<void> {
    if (this.done) throw new Error('the encoder is finished');
    if (frame.length !== this.frameBytes) throw new RangeError(`a frame is ${frame.length} bytes; this encoder takes ${this.frameBytes} (width × height × 3)`);
    const stdin = this.child.stdin!;
    if (this.child.exitCode !== null || this.child.signalCode !== null || stdin.destroyed) throw this.failure(await this.exited);
    this.written++;
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

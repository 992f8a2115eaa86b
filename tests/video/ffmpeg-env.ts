/**
 * Shared by the video tests: the ffmpeg they use, and the skip rule. Debian's `ffmpeg` package
 * (ffmpeg and ffprobe) found on PATH, or `SSD_EDGE_FFMPEG` (the skip test points it at a missing
 * path). Without it a video suite is skipped on one line saying what to install; with
 * SSD_EDGE_REQUIRE_FFMPEG=1 (what `.ci/run` sets, after installing it) it fails instead.
 */
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const REQUIRE_FFMPEG_ENV = 'SSD_EDGE_REQUIRE_FFMPEG';
export const FFMPEG_INSTALL_HINT = 'apt-get install ffmpeg';

/** The ffmpeg executable the tests pass as --ffmpeg; undefined: PATH's. */
export const FFMPEG_OPTION = process.env.SSD_EDGE_FFMPEG || undefined;

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** ffmpeg and ffprobe, as the tests will find them; undefined when either is missing. */
export function ffmpegPaths(): { ffmpeg: string; ffprobe: string } | undefined {
  if (FFMPEG_OPTION) {
    const ffprobe = path.join(path.dirname(FFMPEG_OPTION), 'ffprobe');
    return executable(FFMPEG_OPTION) && executable(ffprobe) ? { ffmpeg: FFMPEG_OPTION, ffprobe } : undefined;
  }
  const find = (name: string) =>
    (process.env.PATH ?? '')
      .split(path.delimiter)
      .map((d) => path.join(d || '.', name))
      .find(executable);
  const ffmpeg = find('ffmpeg'),
    ffprobe = find('ffprobe');
  return ffmpeg && ffprobe ? { ffmpeg, ffprobe } : undefined;
}

/**
 * The `skip` option of a video suite: false when ffmpeg and ffprobe are there, else a one-line
 * reason with what to install. With SSD_EDGE_REQUIRE_FFMPEG=1 a missing ffmpeg throws, failing the file.
 */
export function skipWithoutFfmpeg(): string | false {
  if (ffmpegPaths()) return false;
  const missing = `needs ffmpeg and ffprobe ${FFMPEG_OPTION ? `at ${FFMPEG_OPTION}` : 'on PATH'}: ${FFMPEG_INSTALL_HINT}`;
  if (process.env[REQUIRE_FFMPEG_ENV] === '1') {
    throw new Error(
      `${REQUIRE_FFMPEG_ENV}=1 and the video suite ${missing} (.ci/run installs it); it may not be skipped here`,
    );
  }
  return `skipped: ${missing}`;
}

/** Processes whose parent is this one (running or not yet reaped), as 'pid command' (Linux /proc). */
export function childProcesses(): string[] {
  const children: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'
      const close = stat.lastIndexOf(')');
      const [state, ppid] = stat.slice(close + 2).split(' ');
      if (Number(ppid) === process.pid)
        children.push(`${entry} ${stat.slice(stat.indexOf('(') + 1, close)} (${state})`);
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** Runs ffmpeg (the tests' one) with these arguments; rejects with its stderr. */
export async function ffmpegRun(args: readonly string[]): Promise<void> {
  const { execFile } = await import('node:child_process');
  const tools = ffmpegPaths();
  if (!tools) throw new Error(`ffmpeg is missing: ${FFMPEG_INSTALL_HINT}`);
  await new Promise<void>((resolve, reject) => {
    execFile(tools.ffmpeg, ['-v', 'error', '-nostdin', '-y', ...args], (error, _stdout, stderr) => {
      if (error) reject(new Error(`ffmpeg ${args.join(' ')}: ${stderr || error.message}`));
      else resolve();
    });
  });
}

export const DOG_JPG = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../samples/dog.jpg'); // from dist/tests/video

/**
 * A short H.264 clip panning over samples/dog.jpg (768×576): the photo scaled to 480 wide, a
 * 300×300 window moving right by `pan` pixels a frame; `frames` frames at `fps`.
 */
export async function makeDogClip(file: string, frames = 15, fps = 10, pan = 8): Promise<void> {
  await ffmpegRun([
    '-loop',
    '1',
    '-framerate',
    String(fps),
    '-i',
    DOG_JPG,
    '-vf',
    `scale=480:-2,crop=300:300:'min(n*${pan},iw-300)':'(ih-300)/2'`,
    '-frames:v',
    String(frames),
    '-c:v',
    'mpeg4',
    '-q:v',
    '2',
    '-pix_fmt',
    'yuv420p',
    file,
  ]);
}

/** An audio-only file (half a second of silence), named as given (e.g. a .mp4: a video by its extension). */
export async function makeAudioOnly(file: string): Promise<void> {
  await ffmpegRun(['-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '0.5', '-c:a', 'aac', '-f', 'mp4', file]);
}

/** Frame times (ms) of makeVfrDogClip: 5 frames 100 ms apart (10 fps), 6 at 40 ms (25 fps), 4 at 200 ms (5 fps). */
export const VFR_TIMES_MS = [0, 100, 200, 300, 400, 500, 540, 580, 620, 660, 700, 900, 1100, 1300, 1500];
/** The same times as a setpts expression of the frame number N, in integer milliseconds (after settb=1/1000: no rounding). */
const VFR_SETPTS = "setpts='if(lt(N,5),N*100,if(lt(N,11),500+(N-5)*40,700+(N-10)*200))'";

/**
 * A variable-frame-rate clip over samples/dog.jpg: the frames at VFR_TIMES_MS (millisecond time
 * base), a 300×300 window panning right at a constant 80 pixels a second of real time (so the dog
 * moves 5× as far between frames 200 ms apart as between frames 40 ms apart). With `audio`, a
 * 440 Hz sine of `audio.seconds` in `audio.codec` ('aac', 'pcm_s16le', …), 48 kHz mono.
 */
export async function makeVfrDogClip(file: string, audio?: { codec: string; seconds: number }): Promise<void> {
  // video first, then the sound muxed in beside it (one pass stops the audio where -frames:v stops the video)
  const video = audio ? `${file}.video.mkv` : file;
  await ffmpegRun([
    '-loop',
    '1',
    '-framerate',
    '25',
    '-i',
    DOG_JPG,
    '-filter:v',
    `scale=480:-2,settb=1/1000,${VFR_SETPTS},crop=300:300:'min(t*80,iw-300)':'(ih-300)/2'`,
    '-frames:v',
    String(VFR_TIMES_MS.length),
    '-vsync',
    'passthrough',
    '-enc_time_base',
    '1/1000',
    '-c:v',
    'mpeg4',
    '-q:v',
    '2',
    '-pix_fmt',
    'yuv420p',
    video,
  ]);
  if (!audio) return;
  try {
    await ffmpegRun([
      '-i',
      video,
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:sample_rate=48000:duration=${audio.seconds}`,
      '-map',
      '0:v',
      '-map',
      '1:a',
      '-c:v',
      'copy',
      '-c:a',
      audio.codec,
      file,
    ]);
  } finally {
    const { rm } = await import('node:fs/promises');
    await rm(video, { force: true });
  }
}

/** ffprobe's view of a stream of a file: its frames' presentation times in ms (decoded), or the stream's fields. */
export async function probeFrameTimes(file: string, stream = 'v:0'): Promise<number[]> {
  const out = await ffprobeJson(['-select_streams', stream, '-show_entries', 'frame=pts_time', file]);
  return (out.frames as { pts_time: string }[]).map((f) => Number(f.pts_time) * 1000);
}

/** ffprobe's decoded frame sizes ('320x240') of the first video stream. */
export async function probeFrameSizes(file: string): Promise<string[]> {
  const out = await ffprobeJson(['-select_streams', 'v:0', '-show_entries', 'frame=width,height', file]);
  return (out.frames as { width: number; height: number }[]).map((f) => `${f.width}x${f.height}`);
}

export async function probeStreams(
  file: string,
): Promise<{ codec_type: string; codec_name: string; duration?: string; start_time?: string }[]> {
  return (await ffprobeJson(['-show_streams', file])).streams as {
    codec_type: string;
    codec_name: string;
    duration?: string;
    start_time?: string;
  }[];
}

async function ffprobeJson(args: readonly string[]): Promise<Record<string, unknown>> {
  const { execFile } = await import('node:child_process');
  const tools = ffmpegPaths();
  if (!tools) throw new Error(`ffprobe is missing: ${FFMPEG_INSTALL_HINT}`);
  return new Promise((resolve, reject) => {
    execFile(
      tools.ffprobe,
      ['-v', 'error', '-of', 'json', ...args],
      { maxBuffer: 64 * 2 ** 20 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`ffprobe ${args.join(' ')}: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout) as Record<string, unknown>);
      },
    );
  });
}

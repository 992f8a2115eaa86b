/**
 * `ssd-edge detect clip.mp4`: the built-in COCO model on a short clip panning over samples/dog.jpg,
 * decoded and encoded by Debian's ffmpeg. Frame counts, JSON lines, track ids, --every with
 * predictions between, and the bad inputs: no ffmpeg, no video stream, a corrupt file, --out
 * over the input, a stopped run (no process, no temporary file left).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runDetect } from '../../src/cli/detect.js';
import { detectVideo, type VideoFrameRecord } from '../../src/cli/detect-video.js';
import { findFfmpeg, probeVideo } from '../../src/video/ffmpeg.js';
import { random } from '../helpers.js';
import {
  childProcesses,
  FFMPEG_OPTION,
  ffmpegRun,
  makeAudioOnly,
  makeDogClip,
  makeVfrDogClip,
  probeFrameTimes,
  probeStreams,
  skipWithoutFfmpeg,
  VFR_TIMES_MS,
} from '../video/ffmpeg-env.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { maxBuffer: 64 * 2 ** 20 });
const FRAMES = 15;
const ffmpegArgs = FFMPEG_OPTION ? ['--ffmpeg', FFMPEG_OPTION] : [];

async function cliFails(args: string[], message: RegExp): Promise<void> {
  await assert.rejects(cli(...args), (error: { code: number; stderr: string }) => {
    assert.equal(error.code, 1, `exit code 1 for ${args.join(' ')}`);
    assert.match(error.stderr, message);
    return true;
  });
}

/** A sink that collects what is written, calling `onLine` on each write. */
function collector(onLine: (line: string) => void = () => {}): Writable & { text: string } {
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      sink.text += chunk.toString();
      onLine(chunk.toString());
      callback();
    },
  }) as Writable & { text: string };
  sink.text = '';
  return sink;
}
const quiet = collector() as unknown as NodeJS.WriteStream;
const parseLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as VideoFrameRecord);

describe('detect on a video file', { skip: skipWithoutFfmpeg() }, () => {
  let dir: string;
  let clip: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-video-'));
    clip = path.join(dir, 'clip.mp4');
    await makeDogClip(clip, FRAMES, 10, 8);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('--track: an annotated video of every frame, JSON lines with one stable dog track id', async () => {
    const out = path.join(dir, 'annotated.mp4'),
      json = path.join(dir, 'tracks.jsonl');
    const summary = await detectVideo({
      input: clip,
      model: 'ssd-mobilenet-v2-coco',
      minScore: 0.5,
      track: true,
      out,
      json,
      ffmpeg: FFMPEG_OPTION,
      stderr: quiet,
    });
    assert.equal(summary.frames, FRAMES);
    assert.equal(summary.detectedFrames, FRAMES);
    const video = await probeVideo(await findFfmpeg(FFMPEG_OPTION), out);
    assert.deepEqual(
      [video.width, video.height, video.frames, video.fps, video.variableRate],
      [300, 300, FRAMES, 10, false],
    );
    const lines = parseLines(await readFile(json, 'utf8'));
    assert.deepEqual(
      lines.map((l) => l.frame),
      [...Array(FRAMES).keys()],
    );
    assert.deepEqual(
      lines.map((l) => l.timestamp),
      lines.map((l) => l.frame / 10),
    );
    assert.ok(lines.every((l) => l.detected));
    // SORT shows a track from its 3rd matched detection (minHits 3): frames 2, 3, … have the dog
    const dogIds = lines.slice(2).map((l) => {
      const dogs = l.detections.filter((d) => d.label === 'dog');
      assert.equal(dogs.length, 1, `frame ${l.frame}: one dog, got ${JSON.stringify(l.detections)}`);
      const [dog] = dogs;
      assert.ok(dog.score >= 0.5 && dog.state === 'confirmed');
      dog.pixelBox.forEach((v, k) =>
        assert.ok(Math.abs(v - dog.box[k] * 300) <= 0.11, `pixelBox ${dog.pixelBox} is box ${dog.box} × 300`),
      );
      return dog.trackId;
    });
    assert.ok(dogIds[0]! >= 1 && dogIds.every((id) => id === dogIds[0]), `one dog id throughout: ${dogIds}`);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.startsWith('.')),
      [],
      'no temporary file is left',
    );
    assert.deepEqual(childProcesses(), []);
  });

  it('--every 3 --track: detection on frames 0, 3, 6, …, predicted boxes moving with the dog between', async () => {
    const stdout = collector();
    await detectVideo({
      input: clip,
      model: 'ssd-mobilenet-v2-coco',
      minScore: 0.5,
      track: true,
      every: 3,
      minHits: 1,
      json: true,
      stdout,
      stderr: quiet,
      ffmpeg: FFMPEG_OPTION,
    });
    const lines = parseLines(stdout.text);
    assert.equal(lines.length, FRAMES);
    assert.deepEqual(
      lines.map((l) => l.detected),
      lines.map((l) => l.frame % 3 === 0),
    );
    const dog = (l: VideoFrameRecord) => l.detections.find((d) => d.label === 'dog');
    for (const l of lines) {
      assert.ok(dog(l), `frame ${l.frame} has the dog (minHits 1)`);
      assert.equal(dog(l)!.trackId, dog(lines[0])!.trackId, `frame ${l.frame}: the same id`);
      assert.equal(dog(l)!.state, l.detected ? 'confirmed' : 'predicted');
    }
    // the window pans right, so the dog moves left: once the track has a velocity, predictions follow it
    const left = (frame: number) => dog(lines[frame])!.pixelBox[0] + dog(lines[frame])!.pixelBox[2];
    assert.ok(left(4) < left(3) && left(5) < left(4), `frames 3–5 move left: ${[3, 4, 5].map(left)}`);
  });

  it('--every 2 without --track: the last detections stand between, with no ids', async () => {
    const stdout = collector();
    await detectVideo({
      input: clip,
      model: 'ssd-mobilenet-v2-coco',
      minScore: 0.5,
      every: 2,
      json: true,
      stdout,
      stderr: quiet,
      ffmpeg: FFMPEG_OPTION,
    });
    const lines = parseLines(stdout.text);
    assert.equal(lines.length, FRAMES);
    for (const l of lines) {
      assert.equal(l.detected, l.frame % 2 === 0);
      assert.ok(
        l.detections.some((d) => d.label === 'dog'),
        `frame ${l.frame} has the dog`,
      );
      assert.ok(l.detections.every((d) => d.trackId === undefined && d.state === undefined));
      if (!l.detected) assert.deepEqual(l.detections, lines[l.frame - 1].detections);
    }
  });

  it('a variable-frame-rate clip with sound: real timestamps in the JSON lines and the tracker, the timing and the audio kept in --out', async () => {
    const vfr = path.join(dir, 'vfr-sound.mp4');
    await makeVfrDogClip(vfr, { codec: 'aac', seconds: 1.8 });
    const inputTimes = await probeFrameTimes(vfr);
    const out = path.join(dir, 'vfr-annotated.mp4'),
      json = path.join(dir, 'vfr.jsonl');
    const summary = await detectVideo({
      input: vfr,
      model: 'ssd-mobilenet-v2-coco',
      minScore: 0.5,
      track: true,
      every: 2,
      minHits: 1,
      out,
      json,
      ffmpeg: FFMPEG_OPTION,
      stderr: quiet,
    });
    assert.deepEqual(summary.audio, [{ codec: 'aac', action: 'copy' }]);
    assert.ok(
      summary.video.variableRate,
      `ffprobe's rates differ for a VFR clip: ${summary.video.fps} vs ${summary.video.averageFps}`,
    );
    const lines = parseLines(await readFile(json, 'utf8'));
    assert.deepEqual(
      lines.map((l) => l.timestamp * 1000),
      inputTimes,
      "each line carries its frame's decoder time (ffprobe's)",
    );
    assert.deepEqual(inputTimes, VFR_TIMES_MS);
    assert.deepEqual(await probeFrameTimes(out), inputTimes, 'VFR in, the same timing out');
    const streams = await probeStreams(out);
    assert.deepEqual(
      streams.map((st) => st.codec_type),
      ['video', 'audio'],
    );
    assert.ok(
      Math.abs(Number(streams[1].duration) - 1.8) <= 0.025,
      `the whole 1.8 s of sound: ${streams[1].duration} s`,
    );
    // the window pans at 80 px/s of real time: a prediction over a 200 ms gap moves the dog ~5× as far as one over 40 ms
    // (by frame index they would move alike). The right edge: the left one reaches the frame's edge near the end.
    const dogRight = (l: VideoFrameRecord) => l.detections.find((d) => d.label === 'dog')!.pixelBox[2];
    const step = (frame: number) => Math.abs(dogRight(lines[frame]) - dogRight(lines[frame - 1]));
    assert.ok(!lines[7].detected && !lines[9].detected && !lines[11].detected && !lines[13].detected);
    const fast = (step(7) + step(9)) / 2,
      slow = (step(11) + step(13)) / 2; // gaps of 40 ms and 200 ms
    assert.ok(
      slow > 2 * fast,
      `predicted moves follow the time gaps: ${fast.toFixed(1)} px over 40 ms, ${slow.toFixed(1)} px over 200 ms`,
    );
    assert.ok(Math.abs(slow - 16) < 8, `about 80 px/s × 0.2 s = 16 px over 200 ms: ${slow.toFixed(1)}`);
  });

  it('a stopped run leaves no ffmpeg process, no temporary file and no output', async () => {
    const controller = new AbortController();
    const out = path.join(dir, 'stopped.mp4'),
      json = path.join(dir, 'stopped.jsonl');
    let ticks = 0;
    // the progress bar's writes come once per frame on a terminal: stop after the second frame
    const stderr = Object.assign(
      collector(() => {
        if (++ticks === 3) controller.abort();
      }),
      { isTTY: true, columns: 100 },
    ) as unknown as NodeJS.WriteStream;
    await assert.rejects(
      detectVideo({
        input: clip,
        model: 'ssd-mobilenet-v2-coco',
        minScore: 0.5,
        out,
        json,
        signal: controller.signal,
        stderr,
        ffmpeg: FFMPEG_OPTION,
      }),
      /stopped after 2 frames/,
    );
    assert.deepEqual(childProcesses(), []);
    const left = await readdir(dir);
    assert.ok(!left.includes('stopped.mp4') && !left.includes('stopped.jsonl'), `nothing written: ${left}`);
    assert.deepEqual(
      left.filter((f) => f.startsWith('.')),
      [],
      'no temporary file is left',
    );
  });

  it('through the CLI: a video found by ffprobe (no video extension), JSON lines on stdout, summary and fps on stderr', async () => {
    const bin = path.join(dir, 'clip.bin');
    await copyFile(clip, bin);
    const out = path.join(dir, 'cli.mkv');
    const { stdout, stderr } = await cli(
      'detect',
      bin,
      '--json',
      '--track',
      '--every',
      '5',
      '--out',
      out,
      ...ffmpegArgs,
    );
    const lines = parseLines(stdout);
    assert.equal(lines.length, FRAMES);
    assert.deepEqual(
      lines.filter((l) => l.detected).map((l) => l.frame),
      [0, 5, 10],
    );
    assert.match(stderr, /detect clip\.bin \(\w+\): 15\/15 [\d.]+ fps/);
    assert.match(stderr, /clip\.bin: 15 frames 300×300 at 10 fps, detection on 3/);
    assert.match(stderr, /wrote .*cli\.mkv \((libx264|mpeg4)\)/);
    assert.equal((await probeVideo(await findFfmpeg(FFMPEG_OPTION), out)).frames, FRAMES);
  });

  it('bad input: clear errors before any work, the input untouched', async () => {
    const before = await readFile(clip);
    await cliFails(
      ['detect', clip, '--ffmpeg', '/nonexistent/ffmpeg'],
      /detect: --ffmpeg '\/nonexistent\/ffmpeg' does not exist/,
    );
    const audio = path.join(dir, 'audio.mp4');
    await makeAudioOnly(audio);
    await cliFails(['detect', audio, ...ffmpegArgs], /detect: '.*audio\.mp4' has no video stream \(it has audio\)/);
    // the rest in this process (the same runDetect the CLI calls; each CLI start costs seconds here)
    const detectFails = (args: string[], message: RegExp) => assert.rejects(runDetect(args), message);
    const corrupt = path.join(dir, 'corrupt.mov');
    const rand = random(9);
    await writeFile(
      corrupt,
      Uint8Array.from({ length: 50000 }, () => Math.floor(rand() * 256)),
    );
    await detectFails([corrupt, ...ffmpegArgs], /detect: '.*corrupt\.mov' is not a video ffmpeg can read/);
    await detectFails([path.join(dir, 'missing.mp4'), ...ffmpegArgs], /detect: '.*missing\.mp4' does not exist/);
    await detectFails(
      [clip, '--out', clip, ...ffmpegArgs],
      /--out '.*clip\.mp4' is the input '.*clip\.mp4'; writing it would replace the input/,
    );
    await detectFails(
      [clip, '--json', clip.replace(/mp4$/, 'json'), '--out', path.join(dir, 'x.webm'), ...ffmpegArgs],
      /--out '.*x\.webm': a video is written as \.mp4, \.m4v, \.mov, \.mkv/,
    );
    await detectFails([clip, '--every', '0', ...ffmpegArgs], /--every is '0'; it must be a number in \[1/);
    await detectFails([path.join(dir, '..', path.basename(dir), 'nope.jpg'), '--track'], /--track is for videos/);
    // a file cut short: ffmpeg fails while decoding; the error names the file, nothing is written, no ffmpeg is left
    const mkv = path.join(dir, 'whole.mkv'),
      cut = path.join(dir, 'cut.mkv');
    await ffmpegRun(['-i', clip, '-c', 'copy', mkv]);
    await writeFile(cut, (await readFile(mkv)).subarray(0, 20000));
    await detectFails(
      [cut, '--out', path.join(dir, 'cut-out.mp4'), '--json', path.join(dir, 'cut.jsonl'), ...ffmpegArgs],
      /detect: ffmpeg could not decode '.*cut\.mkv' \(after \d+ frames\): .*ended prematurely/,
    );
    assert.deepEqual(childProcesses(), []);
    assert.deepEqual(await readFile(clip), before, 'the input is untouched');
    assert.ok(
      !(await readdir(dir)).some(
        (f) => f.startsWith('.') || ['x.webm', 'clip.json', 'cut-out.mp4', 'cut.jsonl'].includes(f),
      ),
      `nothing was written: ${await readdir(dir)}`,
    );
  });
});

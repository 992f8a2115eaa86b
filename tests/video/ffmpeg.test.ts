/**
 * src/video/ffmpeg.ts against Debian's ffmpeg: finding it (and saying what to install when it is
 * missing), probing, piped decoding and encoding, clear errors for files without video or not
 * readable, and no child process left behind on any path.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  audioPlan,
  decodeFrames,
  encoderTimeBase,
  FfmpegMissingError,
  findFfmpeg,
  probeVideo,
  VideoEncoder,
  type FfmpegTools,
} from '../../src/video/ffmpeg.js';
import { random } from '../helpers.js';
import {
  childProcesses,
  FFMPEG_OPTION,
  ffmpegRun,
  makeAudioOnly,
  makeDogClip,
  makeVfrDogClip,
  probeFrameSizes,
  probeFrameTimes,
  probeStreams,
  skipWithoutFfmpeg,
  VFR_TIMES_MS,
} from './ffmpeg-env.js';

const noChildren = (when: string) => assert.deepEqual(childProcesses(), [], `no child process is left ${when}`);

describe('ffmpeg: find, probe, decode, encode', { skip: skipWithoutFfmpeg() }, () => {
  let dir: string;
  let tools: FfmpegTools;
  let clip: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ssd-edge-ffmpeg-'));
    tools = await findFfmpeg(FFMPEG_OPTION);
    clip = path.join(dir, 'clip.mp4');
    await makeDogClip(clip, 12, 10);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('finds ffmpeg and ffprobe and picks an encoder', async () => {
    assert.match(path.basename(tools.ffmpeg), /ffmpeg/);
    assert.match(path.basename(tools.ffprobe), /ffprobe/);
    assert.ok(['libx264', 'mpeg4'].includes(tools.encoder));
    const viaFolder = await findFfmpeg(path.dirname(tools.ffmpeg));
    assert.equal(viaFolder.ffprobe, tools.ffprobe, '--ffmpeg may name the folder holding both');
  });

  it('says what to install when ffmpeg is missing: a wrong --ffmpeg, no ffprobe beside it, nothing on PATH', async () => {
    await assert.rejects(findFfmpeg('/nonexistent/ffmpeg'), (e: Error) => {
      assert.ok(e instanceof FfmpegMissingError);
      assert.match(e.message, /--ffmpeg '\/nonexistent\/ffmpeg' does not exist/);
      return true;
    });
    const lonely = path.join(dir, 'lonely');
    await mkdir(lonely);
    await writeFile(path.join(lonely, 'ffmpeg'), '#!/bin/sh\nexit 0\n');
    await chmod(path.join(lonely, 'ffmpeg'), 0o755);
    await assert.rejects(findFfmpeg(path.join(lonely, 'ffmpeg')), /there is no ffprobe beside it/);
    const savedPath = process.env.PATH;
    process.env.PATH = path.join(dir, 'empty-bin');
    try {
      await assert.rejects(
        findFfmpeg(),
        /videos need ffmpeg, which is not on PATH: install it \(Debian\/Ubuntu: apt-get install ffmpeg\) or pass --ffmpeg/,
      );
    } finally {
      process.env.PATH = savedPath;
    }
    // an executable that is not ffmpeg
    await writeFile(path.join(lonely, 'ffprobe'), '#!/bin/sh\nexit 3\n');
    await chmod(path.join(lonely, 'ffprobe'), 0o755);
    await writeFile(path.join(lonely, 'ffmpeg'), '#!/bin/sh\necho broken >&2\nexit 3\n');
    await assert.rejects(findFfmpeg(lonely), /does not run as ffmpeg \(broken\)/);
    noChildren('after the failed look-ups');
  });

  it('probes size, frame rate and frame count', async () => {
    const info = await probeVideo(tools, clip);
    assert.equal(info.width, 300);
    assert.equal(info.height, 300);
    assert.equal(info.fps, 10);
    assert.equal(info.frames, 12);
    assert.equal(info.framesExact, true);
    assert.ok(Math.abs(info.duration - 1.2) < 0.05, `duration ${info.duration}`);
  });

  it('a file without a video stream, a corrupt file, a missing file: errors naming the file', async () => {
    const audio = path.join(dir, 'audio.mp4');
    await makeAudioOnly(audio);
    await assert.rejects(probeVideo(tools, audio), /'.*audio\.mp4' has no video stream \(it has audio\)/);
    const corrupt = path.join(dir, 'corrupt.mp4');
    const rand = random(5);
    await writeFile(
      corrupt,
      Uint8Array.from({ length: 20000 }, () => Math.floor(rand() * 256)),
    );
    await assert.rejects(probeVideo(tools, corrupt), /'.*corrupt\.mp4' is not a video ffmpeg can read: .*Invalid data/);
    await assert.rejects(probeVideo(tools, path.join(dir, 'nothing.mp4')), /'.*nothing\.mp4' does not exist/);
    await assert.rejects(probeVideo(tools, dir), /is not a file/);
    noChildren('after probing bad files');
  });

  it('decodes every frame as RGB, one buffer per frame, with timestamps at the frame rate', async () => {
    const info = await probeVideo(tools, clip);
    const seen: number[] = [];
    let first: Buffer | undefined;
    for await (const frame of decodeFrames(tools, info)) {
      assert.equal(frame.data.length, 300 * 300 * 3);
      assert.equal(frame.timestampMs, frame.index * 100);
      seen.push(frame.index);
      first ??= frame.data;
    }
    assert.deepEqual(seen, [...Array(12).keys()]);
    // the photo, not a blank frame: the dog's sample has a wide spread of values
    const values = new Set(first!.subarray(0, 30000));
    assert.ok(values.size > 100, `frame 0 has ${values.size} distinct byte values`);
    noChildren('after decoding to the end');
  });

  it('stopping early kills the decoder and waits for it', async () => {
    const info = await probeVideo(tools, clip);
    let count = 0;
    for await (const frame of decodeFrames(tools, info)) {
      count++;
      assert.equal(childProcesses().length, 1, 'ffmpeg runs while frames come');
      if (frame.index === 1) break;
    }
    assert.equal(count, 2);
    noChildren('after a break');
    await assert.rejects(
      (async () => {
        for await (const frame of decodeFrames(tools, info)) if (frame.index === 0) throw new Error('consumer failed');
      })(),
      /consumer failed/,
    );
    noChildren('after the consumer threw');
  });

  it('encodes frames to a video of the same count (odd sizes padded), and abort leaves no process', async () => {
    for (const [width, height] of [
      [64, 48],
      [65, 33],
    ]) {
      const out = path.join(dir, `enc-${width}x${height}.mp4`);
      const encoder = new VideoEncoder(tools, out, { width, height });
      for (let i = 0; i < 7; i++) await encoder.write(new Uint8Array(width * height * 3).fill(i * 30), i * 40);
      await encoder.finish();
      const info = await probeVideo(tools, out);
      assert.deepEqual(
        [info.width, info.height, info.frames, info.fps],
        [width + (width % 2), height + (height % 2), 7, 25],
      );
    }
    const encoder = new VideoEncoder(tools, path.join(dir, 'aborted.mkv'), { width: 32, height: 32 });
    await encoder.write(new Uint8Array(32 * 32 * 3), 0);
    await assert.rejects(encoder.write(new Uint8Array(10), 200), /a frame is 10 bytes; this encoder takes 3072/);
    await assert.rejects(
      encoder.write(new Uint8Array(32 * 32 * 3), 0),
      /frame 1's timestamp 0 ms is not after the previous frame's 0 ms/,
    );
    await assert.rejects(
      encoder.write(new Uint8Array(32 * 32 * 3), NaN),
      /frame 1's timestamp is NaN ms; it must be a finite time ≥ 0/,
    );
    await encoder.abort();
    noChildren('after abort');
    assert.throws(
      () => new VideoEncoder(tools, path.join(dir, 'x.webm'), { width: 2, height: 2 }),
      /use one of \.mp4 \.m4v \.mov \.mkv/,
    );
  });

  it('an encoder that dies is reported by the next write, with its message', async () => {
    const encoder = new VideoEncoder(tools, path.join(dir, 'no-such-folder', 'x.mp4'), { width: 32, height: 32 });
    await assert.rejects(async () => {
      for (let i = 0; i < 200; i++) await encoder.write(new Uint8Array(32 * 32 * 3), i * 200);
      await encoder.finish();
    }, /ffmpeg could not encode '.*x\.mp4' .*No such file or directory/);
    noChildren('after the encoder failed');
  });

  it('a variable-frame-rate file: each frame has its decoder timestamp (as ffprobe reports it), and the encoder keeps them', async () => {
    const vfr = path.join(dir, 'vfr.mp4');
    await makeVfrDogClip(vfr);
    const inputTimes = await probeFrameTimes(vfr);
    assert.deepEqual(inputTimes, VFR_TIMES_MS, 'the generated clip has the planned times (ffprobe)');
    const info = await probeVideo(tools, vfr);
    const out = path.join(dir, 'vfr-out.mp4');
    const encoder = new VideoEncoder(tools, out, { width: info.width, height: info.height, timeBase: info.timeBase });
    const decoded: number[] = [];
    for await (const frame of decodeFrames(tools, info)) {
      decoded.push(frame.timestampMs);
      await encoder.write(frame.data, frame.timestampMs);
    }
    await encoder.finish();
    // not index / fps (which would give 0, 100/… at one rate, and repeat or drop frames to fill it)
    assert.deepEqual(decoded, inputTimes);
    assert.deepEqual(await probeFrameTimes(out), inputTimes, 'VFR in, the same timing out');
    noChildren('after the VFR round trip');
    // MPEG-4 part 2 (the encoder without libx264) refuses time bases finer than 1/65535
    assert.deepEqual(
      ['1/90000', '1/1000000', '1/16000', '1001/30000'].map((tb) => encoderTimeBase('mpeg4', tb)),
      ['1/60000', '1/60000', '1/16000', '1001/30000'],
    );
    assert.equal(encoderTimeBase('libx264', '1/90000'), '1/90000');
    const mpeg4 = path.join(dir, 'vfr-mpeg4.mp4');
    const mpeg4Encoder = new VideoEncoder({ ...tools, encoder: 'mpeg4' }, mpeg4, {
      width: info.width,
      height: info.height,
      timeBase: '1/90000',
    });
    for await (const frame of decodeFrames(tools, info)) await mpeg4Encoder.write(frame.data, frame.timestampMs);
    await mpeg4Encoder.finish();
    assert.deepEqual(await probeFrameTimes(mpeg4), inputTimes, 'the MPEG-4 encoder keeps the timing too');
  });

  it('audio: copied when the container takes the codec, re-encoded to AAC when not (and why), with its duration', async () => {
    assert.deepEqual(
      audioPlan(
        [
          { codec: 'aac', duration: 1 },
          { codec: 'pcm_s16le', duration: 1 },
        ],
        'mp4',
      ),
      [
        { codec: 'aac', action: 'copy' },
        { codec: 'pcm_s16le', action: 'aac', reason: 'pcm_s16le audio cannot go into a mp4 file as it is' },
      ],
    );
    assert.deepEqual(
      audioPlan(
        [
          { codec: 'pcm_s16le', duration: 1 },
          { codec: 'flac', duration: 1 },
        ],
        'matroska',
      ).map((p) => p.action),
      ['copy', 'copy'],
    );
    assert.deepEqual(
      audioPlan([{ codec: 'opus', duration: 1 }], 'mov').map((p) => p.action),
      ['aac'],
    );
    for (const [codec, input, output, expected] of [
      ['pcm_s16le', 'sound.mkv', 'sound-out.mp4', 'aac'],
      ['aac', 'sound.mp4', 'sound-out.mov', 'aac'],
      ['flac', 'sound-flac.mkv', 'sound-flac-out.mkv', 'flac'],
    ] as const) {
      const file = path.join(dir, input);
      await makeVfrDogClip(file, { codec, seconds: 1.8 });
      const info = await probeVideo(tools, file);
      assert.deepEqual(
        info.audio.map((a) => a.codec),
        [codec],
      );
      const out = path.join(dir, output);
      const encoder = new VideoEncoder(tools, out, {
        width: info.width,
        height: info.height,
        timeBase: info.timeBase,
        audioFrom: { file, streams: info.audio, startTime: info.startTime },
      });
      assert.equal(encoder.audio[0].action, codec === expected ? 'copy' : 'aac', `${codec} into ${output}`);
      for await (const frame of decodeFrames(tools, info)) await encoder.write(frame.data, frame.timestampMs);
      await encoder.finish();
      const streams = await probeStreams(out);
      assert.deepEqual(
        streams.map((st) => `${st.codec_type}:${st.codec_type === 'audio' ? st.codec_name : ''}`),
        ['video:', `audio:${expected}`],
      );
      const seconds = Number(streams[1].duration ?? (await probeVideo(tools, out)).duration);
      // the whole 1.8 s of sound (AAC adds a frame of 1024 samples at most: 21 ms at 48 kHz)
      assert.ok(Math.abs(seconds - 1.8) <= 0.025, `${output}: audio of ${seconds} s, the input's 1.8 s`);
      assert.deepEqual(
        await probeFrameTimes(out),
        VFR_TIMES_MS,
        `${output}: the video's timing is kept beside the audio`,
      );
    }
    noChildren('after encoding with audio');
  });

  it('a stream whose frame size changes midway: every frame comes at the size of the video, with its decoded size and its time', async () => {
    // two MPEG-TS parts, 320×240 then 160×120, joined by ffmpeg's concat demuxer (as a camera or an adaptive stream switching)
    const parts = ['big', 'small'].map((name) => path.join(dir, `${name}.ts`));
    await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '0.5', '-c:v', 'mpeg2video', parts[0]]);
    await ffmpegRun(['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '0.5', '-c:v', 'mpeg2video', parts[1]]);
    const list = path.join(dir, 'parts.txt'),
      joined = path.join(dir, 'joined.ts');
    await writeFile(list, parts.map((p) => `file '${p}'\n`).join(''));
    await ffmpegRun(['-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', joined]);
    const info = await probeVideo(tools, joined);
    assert.deepEqual([info.width, info.height], [320, 240]);
    const frames: { ms: number; size: string; bytes: number }[] = [];
    for await (const frame of decodeFrames(tools, info)) {
      frames.push({
        ms: frame.timestampMs,
        size: `${frame.decodedWidth}x${frame.decodedHeight}`,
        bytes: frame.data.length,
      });
    }
    // ffprobe's own decoding: each frame's size and time (its times count from the file's start time)
    const probed = await probeFrameTimes(joined);
    const sizes = await probeFrameSizes(joined);
    assert.ok(sizes.includes('320x240') && sizes.includes('160x120'), `both sizes decoded: ${sizes}`);
    assert.deepEqual(
      frames.map((f) => f.size),
      sizes,
    );
    assert.deepEqual(
      frames.map((f) => f.ms),
      probed.map((ms) => Math.round(ms - probed[0])),
    );
    assert.ok(
      frames.every((f) => f.bytes === 320 * 240 * 3),
      "every frame at the video's size",
    );
    noChildren('after the size change');
  });

  it('audio stays in step when the video starts after the audio, or the file after 0 (MPEG-TS)', async () => {
    const video = path.join(dir, 'late-video.mkv');
    await makeVfrDogClip(video);
    const sine = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=2'];
    const late = path.join(dir, 'late.mp4'),
      ts = path.join(dir, 'late.ts');
    await ffmpegRun([
      '-itsoffset',
      '0.3',
      '-i',
      video,
      ...sine,
      '-map',
      '0:v',
      '-map',
      '1:a',
      '-c:v',
      'copy',
      '-c:a',
      'aac',
      late,
    ]);
    // MPEG-TS starts its clock at 1.4 s (H.264: ffprobe cannot size MPEG-4 part 2 copied into TS)
    await ffmpegRun(['-i', late, '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'copy', '-f', 'mpegts', ts]);
    for (const [input, output] of [
      [late, 'late-out.mp4'],
      [ts, 'late-ts-out.mkv'],
    ] as const) {
      const info = await probeVideo(tools, input);
      const out = path.join(dir, output);
      const encoder = new VideoEncoder(tools, out, {
        width: info.width,
        height: info.height,
        timeBase: info.timeBase,
        audioFrom: { file: input, streams: info.audio, startTime: info.startTime },
      });
      const decoded: number[] = [];
      for await (const frame of decodeFrames(tools, info)) {
        decoded.push(frame.timestampMs);
        await encoder.write(frame.data, frame.timestampMs);
      }
      await encoder.finish();
      // the decoder counts from the file's start: the video's first frame 0.3 s after the audio's
      const starts = async (file: string) =>
        Object.fromEntries((await probeStreams(file)).map((st) => [st.codec_type, Number(st.start_time) * 1000]));
      const [inStart, outStart] = [await starts(input), await starts(out)];
      assert.ok(
        Math.abs(decoded[0] - (inStart.video - info.startTime * 1000)) < 0.5,
        `${input}: first frame at ${decoded[0]} ms from the file's start`,
      );
      const inGap = inStart.video - inStart.audio,
        outGap = outStart.video - outStart.audio;
      assert.ok(Math.abs(inGap - 300) < 25, `${input}: the video starts ${inGap} ms after the audio`);
      assert.ok(Math.abs(outGap - inGap) <= 1, `${output}: video ${outGap} ms after the audio; the input had ${inGap}`);
      const [inTimes, outTimes] = [await probeFrameTimes(input), await probeFrameTimes(out)];
      assert.deepEqual(
        outTimes.map((t) => Math.round(t - outTimes[0])),
        inTimes.map((t) => Math.round(t - inTimes[0])),
        `${output}: the frames' timing`,
      );
    }
    noChildren('after the late-video files');
  });
});

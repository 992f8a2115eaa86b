// Drives detector.track() from the ESM bundle for track.test.ts: the fake camera (a generated
// .y4m) as a MediaStream and in a <video>, and the bad inputs. Returns plain data.
const api = await import('/bundle/ssd-edge.mjs');
const ortUrl = '/ort/ort.min.mjs';
let detector;

const plain = (r) => ({
  frame: r.frame,
  timestampMs: r.timestampMs,
  detected: r.detected,
  queue: r.queue,
  maxQueue: r.maxQueue,
  dropped: r.dropped,
  fps: r.fps,
  sourceFps: r.sourceFps,
  detectionFps: r.detectionFps,
  width: r.sourceWidth,
  height: r.sourceHeight,
  timings: r.timings,
  objects: r.objects.map(({ trackId, label, score, state, box, cssBox }) => ({
    trackId,
    label,
    score,
    state,
    box,
    cssBox,
  })),
});

async function getDetector() {
  detector ??= await api.createDetector({ model: '/model.onnx', backend: 'wasm', scoreThreshold: 0.4 });
  return detector;
}

/** Tracks the fake camera until `results` results (or `seconds`), then stops; the results and the summary. */
async function camera({
  results: wanted,
  seconds,
  every = 1,
  useVideo = false,
  tracker = { minHits: 2, maxAge: 5 },
  track = true,
  raise,
}) {
  const d = await getDetector();
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
  let source = stream;
  if (useVideo) {
    const video = document.getElementById('video');
    video.srcObject = stream;
    await video.play();
    source = video;
  }
  const results = [];
  let enough;
  const finished = new Promise((resolve) => {
    enough = resolve;
  });
  let handle;
  handle = await d.track(
    source,
    (r) => {
      results.push(plain(r));
      // raise: { after, scoreThreshold } — new thresholds mid-run, as the demo's slider sends them
      if (raise && results.length === raise.after) handle.setThresholds({ scoreThreshold: raise.scoreThreshold });
      if (results.length >= wanted) enough();
    },
    { ortUrl, every, tracker, track },
  );
  const worker = handle.worker;
  await Promise.race([finished, new Promise((r) => setTimeout(r, seconds * 1000))]);
  const summary = await handle.stop();
  stream.getTracks().forEach((t) => t.stop());
  // what setThresholds refuses (checked before anything is sent, even after stop)
  const refused = [{ scoreThresold: 0.5 }, { nmsThreshold: 2 }].map((o) => {
    try {
      handle.setThresholds(o);
      return 'accepted';
    } catch (error) {
      return `${error.name}: ${error.message}`;
    }
  });
  return { results, summary, framesHeld: handle.framesHeld, worker, refused };
}

/**
 * A short WebM recorded from a canvas (a square moving over a flat colour): a <video> file made in
 * the page. On a busy machine Chromium's recorder now and then hands back an empty recording; a
 * recording that does not load is made again (three tries), so that it is not mistaken for track()'s
 * failure.
 */
async function recordedClip(ms) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await recordClipOnce(ms);
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

async function recordClipOnce(ms) {
  const canvas = document.createElement('canvas');
  canvas.width = 320;
  canvas.height = 240;
  const context = canvas.getContext('2d');
  const recorder = new MediaRecorder(canvas.captureStream(15), { mimeType: 'video/webm' });
  const chunks = [];
  recorder.ondataavailable = (e) => chunks.push(e.data);
  const stopped = new Promise((resolve) => {
    recorder.onstop = resolve;
  });
  const started = performance.now();
  const draw = () => {
    context.fillStyle = '#86a';
    context.fillRect(0, 0, 320, 240);
    context.fillStyle = '#fc4';
    context.fillRect(20 + (performance.now() - started) / 10, 80, 60, 60);
  };
  draw();
  recorder.start(250);
  // a timer, not requestAnimationFrame: it keeps drawing however busy the page's frames are
  const timer = setInterval(draw, 1000 / 15);
  await new Promise((resolve) => setTimeout(resolve, ms));
  clearInterval(timer);
  recorder.stop();
  await stopped;
  const blob = new Blob(chunks, { type: 'video/webm' });
  // checked here, so that a recording Chromium cannot play is not mistaken for track()'s failure
  const video = document.createElement('video');
  video.muted = true;
  video.src = URL.createObjectURL(blob);
  await new Promise((resolve, reject) => {
    video.onloadedmetadata = resolve;
    video.onerror = () =>
      reject(
        new Error(
          `the recorded clip (${blob.size} bytes in ${chunks.length} chunks) does not load: ${video.error?.message}`,
        ),
      );
  });
  return video;
}

/** Bad inputs: each one's error (name: message). */
async function badInputs() {
  const d = await getDetector();
  const out = {};
  const catching = async (name, run) => {
    try {
      await run();
      out[name] = 'no error';
    } catch (error) {
      out[name] = `${error.name}: ${error.message}`;
    }
  };
  await catching('audioOnly', async () => {
    const audio = new AudioContext().createMediaStreamDestination().stream;
    await d.track(audio, () => {}, { ortUrl });
  });
  await catching('closedFrame', async () => {
    const canvas = new OffscreenCanvas(64, 48);
    canvas.getContext('2d').fillRect(0, 0, 10, 10);
    const open = new VideoFrame(canvas, { timestamp: 0 });
    const closed = new VideoFrame(canvas, { timestamp: 40_000 });
    closed.close();
    const handle = await d.track([open, closed], () => {}, { ortUrl });
    await handle.done;
  });
  await catching('endedTrack', async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true });
    stream.getVideoTracks()[0].stop();
    await d.track(stream, () => {}, { ortUrl });
  });
  await catching('badWorker', async () => {
    await d.track([], () => {}, { ortUrl, workerUrl: '/nowhere/worker.mjs' });
  });
  // a <video> of a file that is not a video, and of a sound file (no picture): errors naming the problem
  await catching('unreadableVideo', async () => {
    const video = document.createElement('video');
    video.muted = true;
    video.src = '/garbage.webm';
    await d.track(video, () => {}, { ortUrl });
  });
  await catching('audioOnlyVideo', async () => {
    const video = document.createElement('video');
    video.muted = true;
    video.src = '/tone.wav';
    await d.track(video, () => {}, { ortUrl });
  });
  // a <video> file that plays to its end: a clean end ('ended'), with results on the way
  await catching('videoEnds', async () => {
    const video = await recordedClip(1500);
    document.body.append(video);
    let results = 0;
    const handle = await d.track(
      video,
      () => {
        results++;
      },
      { ortUrl },
    );
    await video.play();
    out.videoEndsSummary = { ...(await handle.done), resultsSeen: results };
    video.remove();
  });
  // a stream whose track ends mid-run: a clean end, not an error
  await catching('endsMidRun', async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
    const handle = await d.track(stream, () => {}, { ortUrl });
    setTimeout(() => stream.getVideoTracks()[0].stop(), 1500);
    const summary = await handle.done;
    out.endsMidRunSummary = summary;
  });
  return out;
}

/**
 * stop() while the worker is stuck in a detection (slow-track-worker.js blocks it for 5 s once it
 * has read the frame's pixels): stop() waits 2 s, then terminates the worker.
 */
async function stopWhileBusy() {
  const d = await getDetector();
  const canvas = new OffscreenCanvas(320, 240);
  canvas.getContext('2d').fillRect(40, 40, 100, 80);
  const frame = new VideoFrame(canvas, { timestamp: 0 });
  let results = 0;
  const handle = await d.track(
    [frame],
    () => {
      results++;
    },
    { ortUrl, workerUrl: '/pages/slow-track-worker.js' },
  );
  // the frame went to the worker at once; give it time to arrive and block the worker
  await new Promise((resolve) => setTimeout(resolve, 500));
  const started = performance.now();
  const summary = await handle.stop();
  return { summary, stopMs: performance.now() - started, results, framesHeld: handle.framesHeld };
}

window.trackPage = {
  ready: true,
  camera,
  badInputs,
  stopWhileBusy,
  prepare: async () => {
    await getDetector();
  },
};
document.getElementById('log').textContent = 'ready';

// The COCO detector in Chromium for bench/browser.bench.ts (--coco): onnxruntime-web (through the
// ESM bundle's detector, or a bare session for the levers) and TensorFlow Lite's own wasm runtime
// (tfjs-tflite, XNNPACK) on the same page, fed the same 300 × 300 uint8 input. Each function
// returns plain numbers (milliseconds) for the Node side. onnxruntime-web fixes its thread count
// at its first session, so the Node side opens a fresh page for each thread count.
const log = document.getElementById('log');
const say = (text) => {
  log.textContent += `${text}\n`;
};

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Bytes of `actual` (float heads requantised with `q`) that differ from `expected` (uint8). */
function differing(actual, expected, q) {
  let n = 0;
  for (let i = 0; i < expected.length; i++) if (Math.round(actual[i] / q.scale) + q.zeroPoint !== expected[i]) n++;
  return n;
}

/**
 * ssd-edge's detector on the photo (an ImageBitmap): median stage timings of `runs` detections
 * after the warm-up that createDetector does.
 */
async function detector({ model, threads, photo, runs, backend = 'wasm' }) {
  const api = await import('/bundle/ssd-edge.mjs');
  const d = await api.createDetector({ model, backend, ...(backend === 'int8' ? {} : { threads }) });
  try {
    const bitmap = await createImageBitmap(await (await fetch(photo)).blob());
    const all = [];
    let found = [];
    for (let i = 0; i < runs + 1; i++) {
      const start = performance.now();
      found = await d.detect(bitmap);
      const total = performance.now() - start;
      if (i > 0) all.push({ ...d.lastTimings, total });
    }
    const m = (key) => median(all.map((t) => t[key]));
    say(`${backend} detector ${model} ${d.threads} thread(s): ${m('inference').toFixed(1)} ms inference`);
    return {
      backend: d.backend,
      threads: d.threads,
      decode: m('decode'),
      preprocess: m('preprocess'),
      inference: m('inference'),
      postprocess: m('postprocess'),
      total: m('total'),
      detections: found.map((x) => `${x.label} ${x.score.toFixed(2)}`),
    };
  } finally {
    await d.dispose();
  }
}

/**
 * A bare onnxruntime-web session on one [1,300,300,3] uint8 input: creation time, median and
 * minimum of `runs` runs after one warm-up, and how many head bytes differ from TFLite's
 * (`expected`: box encodings and class predictions with their quantisation), for the levers.
 */
async function ortSession({ model, threads, input, runs, options = {}, proxy = false, expected }) {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = proxy;
  const bytes = await fetchBytes(model);
  let start = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], ...options });
  const createMs = performance.now() - start;
  try {
    const inputBytes = await fetchBytes(input);
    // a fresh tensor per run: the proxy worker takes (detaches) the buffer it is given
    const feed = () => ({ image: new ort.Tensor('uint8', inputBytes.slice(), [1, 300, 300, 3]) });
    start = performance.now();
    const out = await session.run(feed());
    const firstRunMs = performance.now() - start;
    let diff = null;
    if (expected) {
      diff =
        differing(out.loc.data, await fetchBytes(expected.loc), expected.locQ) +
        differing(out.conf.data, await fetchBytes(expected.conf), expected.confQ);
    }
    const times = [];
    for (let i = 0; i < runs; i++) {
      start = performance.now();
      await session.run(feed());
      times.push(performance.now() - start);
    }
    say(
      `ort session ${model} ${threads} thread(s) ${JSON.stringify(options)} proxy ${proxy}: ${median(times).toFixed(1)} ms`,
    );
    return {
      threads: ort.env.wasm.numThreads,
      createMs,
      firstRunMs,
      inference: median(times),
      min: Math.min(...times),
      differingBytes: diff,
    };
  } finally {
    await session.release();
  }
}

/** RGB bytes of a bitmap drawn at 300 × 300 (what a tfjs-tflite user does before Invoke). */
function rgb300(bitmap, canvas, target) {
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0, 300, 300);
  const rgba = context.getImageData(0, 0, 300, 300).data;
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    target[j] = rgba[i];
    target[j + 1] = rgba[i + 1];
    target[j + 2] = rgba[i + 2];
  }
}

/**
 * TensorFlow Lite's runtime (tfjs-tflite's TFLiteWebModelRunner, XNNPACK) on the .tflite:
 * load time, median Invoke() on `input` (which includes TFLite_Detection_PostProcess), the whole
 * per-image path on the photo (draw at 300 × 300, RGBA → RGB, Invoke, read the four outputs),
 * and the per-op profile of one Invoke.
 */
async function tflite({ model, threads, input, photo, runs }) {
  tflite_.setWasmPath(`${location.origin}/tfjs-tflite/wasm/`);
  const bytes = await fetchBytes(model);
  let start = performance.now();
  const runner = await tfweb.TFLiteWebModelRunner.create(bytes.buffer, { numThreads: threads, enableProfiling: true });
  const loadMs = performance.now() - start;
  try {
    const inputBytes = await fetchBytes(input);
    const target = runner.getInputs()[0].data();
    const infer = () => {
      if (!runner.infer()) throw new Error('TFLite Invoke() failed');
    };
    new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(inputBytes);
    infer(); // warm-up
    const times = [];
    for (let i = 0; i < runs; i++) {
      start = performance.now();
      infer();
      times.push(performance.now() - start);
    }
    const profile = runner.getProfilingResults();
    // the whole path from a decoded image
    const bitmap = await createImageBitmap(await (await fetch(photo)).blob());
    const canvas = new OffscreenCanvas(300, 300);
    const pre = [],
      inf = [],
      post = [],
      total = [];
    let count = 0;
    for (let i = 0; i < runs + 1; i++) {
      const t0 = performance.now();
      const view = runner.getInputs()[0].data();
      rgb300(bitmap, canvas, new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
      const t1 = performance.now();
      infer();
      const t2 = performance.now();
      const outputs = runner.getOutputs().map((t) => t.data().slice());
      count = outputs[3][0];
      const t3 = performance.now();
      if (i === 0) continue;
      pre.push(t1 - t0);
      inf.push(t2 - t1);
      post.push(t3 - t2);
      total.push(t3 - t0);
    }
    say(`tflite ${threads} thread(s): ${median(times).toFixed(1)} ms`);
    return {
      threads,
      loadMs,
      inference: median(times),
      min: Math.min(...times),
      profile: profile.map(({ nodeType, nodeName, nodeExecMs }) => ({ nodeType, nodeName, nodeExecMs })),
      pipeline: {
        preprocess: median(pre),
        inference: median(inf),
        postprocess: median(post),
        total: median(total),
        detections: count,
      },
    };
  } finally {
    runner.cleanUp();
  }
}

// tfjs-tflite's global is `tflite`; the function above is named tflite too
const tflite_ = window.tflite;
window.cocoBench = { ready: true, detector, ortSession, tflite };
say('ready');

// Drives the ESM bundle (served at /bundle/) on the page's main thread for bundle.test.ts: each
// image input kind a browser detect() takes, the WebGPU and auto backends, and the wasm location
// override. Every function returns plain data for the Node test to compare.
const api = await import('/bundle/ssd-edge.mjs');
const log = document.getElementById('log');
const say = (text) => {
  log.textContent += `${text}\n`;
};

/** The image at `url` as each input kind: an <img>, a canvas, ImageData and an ImageBitmap. */
async function inputs(url) {
  const blob = await (await fetch(url)).blob();
  const img = new Image();
  img.src = URL.createObjectURL(blob);
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0);
  const imageData = context.getImageData(0, 0, canvas.width, canvas.height);
  const imageBitmap = await createImageBitmap(blob);
  return { img, canvas, imageData, imageBitmap };
}

const plain = (detections) =>
  detections.map(({ classId, label, score, box, pixelBox }) => ({ classId, label, score, box, pixelBox }));

/** Detections of each input kind (default all) with one detector. */
async function detectEach(options, imageUrl, kinds) {
  const detector = await api.createDetector(options);
  try {
    const results = {};
    const timings = {};
    for (const [kind, image] of Object.entries(await inputs(imageUrl))) {
      if (kinds && !kinds.includes(kind)) continue;
      results[kind] = plain(await detector.detect(image));
      timings[kind] = detector.lastTimings;
      say(`${detector.backend} ${kind}: ${results[kind].length} detections, ${JSON.stringify(detector.lastTimings)}`);
    }
    return {
      backend: detector.backend,
      backendReason: detector.backendReason,
      adapter: detector.adapter ?? null,
      threads: detector.threads,
      coreBuild: detector.coreBuild,
      results,
      timings,
    };
  } finally {
    await detector.dispose();
  }
}

/** Median stage timings of `runs` detections of one image (ms). */
async function time(options, imageUrl, runs) {
  const detector = await api.createDetector(options);
  try {
    const { imageBitmap } = await inputs(imageUrl);
    const all = [];
    for (let i = 0; i < runs; i++) {
      await detector.detect(imageBitmap);
      all.push(detector.lastTimings);
    }
    const median = (key) => all.map((t) => t[key]).sort((a, b) => a - b)[Math.floor(runs / 2)];
    return {
      backend: detector.backend,
      threads: detector.threads,
      decode: median('decode'),
      preprocess: median('preprocess'),
      inference: median('inference'),
      postprocess: median('postprocess'),
    };
  } finally {
    await detector.dispose();
  }
}

/** Where the core's wasm is looked for: a wrong folder gives an error naming it; the right one works. */
async function wasmOverride(wrong, right) {
  api.setWasmBaseUrl(wrong);
  const failure = await api.createPostprocessor('ssd300Voc').then(
    () => 'no error',
    (error) => error.message,
  );
  api.setWasmBaseUrl(right);
  const post = await api.createPostprocessor('ssd300Voc');
  const build = post.build;
  post.dispose();
  api.setWasmBaseUrl(undefined);
  return { failure, build };
}

/** What a page gets where wasm SIMD is missing: the baseline core, and onnxruntime-web refused clearly. */
async function withoutSimd(modelUrl) {
  const post = await api.createPostprocessor('ssd300Voc');
  const build = post.build;
  post.dispose();
  const detectorError = await api.createDetector({ model: modelUrl, profile: 'low-power' }).then(
    (d) => d.dispose().then(() => 'no error'),
    (error) => error.message,
  );
  return { simd: api.simdSupported(), build, detectorError };
}

window.bundlePage = { ready: true, detectEach, time, wasmOverride, withoutSimd };

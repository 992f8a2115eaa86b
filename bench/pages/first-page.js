// Time to the first result in a fresh page (bench/browser.bench.ts --coco): from navigation start
// (performance.now() = 0) to the first detections of the COCO model, with the stages on the way.
// Query: runtime = ort (a bare onnxruntime-web session) | detector (ssd-edge's createDetector +
// detect) | tflite (tfjs-tflite); model, input (300 × 300 × 3 uint8), photo, threads;
// parallel=1 fetches the model and onnxruntime-web's .wasm side by side before creating the session;
// level = graphOptimizationLevel; backend = the detector's (default 'wasm'; 'int8': the core's uint8 kernels on the .tflite).
const query = new URLSearchParams(location.search);
const threads = Number(query.get('threads') ?? 1);
const stages = {};
const mark = (name) => {
  stages[name] = performance.now();
};

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function ortFirst() {
  const ort = await import('onnxruntime-web');
  mark('scriptLoaded');
  ort.env.wasm.numThreads = threads;
  let model;
  if (query.get('parallel') === '1') {
    // the model and the runtime's binary come down together; the session then compiles from memory
    const wasmFile = query.get('ort') === 'wasm' ? 'ort-wasm-simd-threaded.wasm' : 'ort-wasm-simd-threaded.jsep.wasm';
    const [m, wasm] = await Promise.all([fetchBytes(query.get('model')), fetchBytes(`/ort/${wasmFile}`)]);
    ort.env.wasm.wasmBinary = wasm.buffer;
    model = m;
  } else {
    model = await fetchBytes(query.get('model'));
  }
  mark('fetched');
  const options = { executionProviders: ['wasm'] };
  if (query.get('level')) options.graphOptimizationLevel = query.get('level');
  const session = await ort.InferenceSession.create(model, options);
  mark('sessionCreated');
  const input = await fetchBytes(query.get('input'));
  const out = await session.run({ image: new ort.Tensor('uint8', input, [1, 300, 300, 3]) });
  mark('firstResult');
  return { outputs: Object.keys(out).length };
}

async function detectorFirst() {
  const api = await import('/bundle/ssd-edge.mjs');
  mark('scriptLoaded');
  const backend = query.get('backend') ?? 'wasm';
  const detector = await api.createDetector({
    model: query.get('model'),
    backend,
    ...(backend === 'int8' ? {} : { threads }),
  });
  mark('sessionCreated'); // includes the model fetch and createDetector's warm-up run
  const bitmap = await createImageBitmap(await (await fetch(query.get('photo'))).blob());
  const found = await detector.detect(bitmap);
  mark('firstResult');
  return { outputs: found.length };
}

async function tfliteFirst() {
  mark('scriptLoaded');
  tflite.setWasmPath(`${location.origin}/tfjs-tflite/wasm/`);
  const model = await fetchBytes(query.get('model'));
  mark('fetched');
  const runner = await tfweb.TFLiteWebModelRunner.create(model.buffer, { numThreads: threads });
  mark('sessionCreated');
  const input = await fetchBytes(query.get('input'));
  const target = runner.getInputs()[0].data();
  new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(input);
  if (!runner.infer()) throw new Error('TFLite Invoke() failed');
  const count = runner.getOutputs()[3].data()[0];
  mark('firstResult');
  return { outputs: count };
}

const run = { ort: ortFirst, detector: detectorFirst, tflite: tfliteFirst }[query.get('runtime')];
window.firstResult = run().then(
  (r) => ({ ...r, stages }),
  (error) => ({ error: String(error?.stack ?? error), stages }),
);

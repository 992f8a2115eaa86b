// TensorFlow Lite's own C++ runtime (tfjs-tflite's wasm build) behind a small API for the Node
// runner (tools/tflite-reference/runner.ts), which drives it through playwright:
//   await tfliteReference.environment()          wasm features, cross-origin isolation, cores
//   await tfliteReference.load(url, options)     model from the server → tensor infos, load time
//   await tfliteReference.run(inputUrls)         per input: every output tensor as base64 bytes
//   tfliteReference.profile()                    per-op profile of the last run (enableProfiling)
//   tfliteReference.dispose()
// It uses tfjs-tflite's TFLiteWebModelRunner directly (the object loadTFLiteModel wraps), not
// tfjs tensors: tfjs has no uint8 dtype, and the runner's tensors are views of the wasm heap, so
// inputs go in and outputs come out as raw bytes with their TFLite dtype.
'use strict';

const statusLine = () => document.getElementById('status');
/** tfjs-tflite's wasm files (the package's wasm/ folder), served by the runner. */
tflite.setWasmPath(`${location.origin}/tfjs-tflite/wasm/`);

let runner = null;

function base64(view) {
  // the threaded build's heap is a SharedArrayBuffer: copy out before reading as bytes
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  return new Uint8Array(await response.arrayBuffer());
}

const info = (t) => ({
  id: t.id,
  name: t.name,
  shape: t.shape === '' ? [] : t.shape.split(',').map(Number),
  dtype: t.dataType,
});

window.tfliteReference = {
  async environment() {
    const features = await tflite.getWasmFeatures();
    return {
      simd: features.simd,
      multiThreading: features.multiThreading,
      crossOriginIsolated: self.crossOriginIsolated,
      hardwareConcurrency: navigator.hardwareConcurrency,
      userAgent: navigator.userAgent,
    };
  },

  async load(url, options) {
    if (runner) {
      runner.cleanUp();
      runner = null;
    }
    const bytes = await fetchBytes(url);
    const start = performance.now();
    runner = await tfweb.TFLiteWebModelRunner.create(bytes.buffer, { ...options });
    const loadMs = performance.now() - start;
    // which wasm variant the loader picked (it adds a <script> for it)
    const script = document.getElementById('tflite_web_api_loader_script');
    statusLine().textContent = `model loaded (${bytes.length} bytes) in ${loadMs.toFixed(0)} ms`;
    return {
      loadMs,
      wasmScript: script ? script.getAttribute('src') : null,
      inputs: runner.getInputs().map(info),
      outputs: runner.getOutputs().map(info),
    };
  },

  async run(inputUrls) {
    if (!runner) throw new Error('run() before load(): load a model first');
    const results = [];
    for (const url of inputUrls) {
      const bytes = await fetchBytes(url);
      const inputs = runner.getInputs();
      if (inputs.length !== 1) throw new Error(`the model has ${inputs.length} inputs; the runner feeds exactly one`);
      const target = inputs[0].data();
      if (target.byteLength !== bytes.length) {
        throw new Error(
          `input ${url} has ${bytes.length} bytes; the model's input '${inputs[0].name}' [${inputs[0].shape}] ${inputs[0].dataType} needs ${target.byteLength}`,
        );
      }
      new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(bytes);
      const start = performance.now();
      if (!runner.infer()) throw new Error(`TFLite Invoke() failed on ${url} (see the page console)`);
      const inferMs = performance.now() - start;
      // data() afresh after infer: a grown heap detaches older views
      const outputs = runner.getOutputs().map((t) => ({ ...info(t), base64: base64(t.data()) }));
      results.push({ inferMs, outputs });
    }
    statusLine().textContent = `ran ${inputUrls.length} input(s)`;
    return results;
  },

  profile() {
    if (!runner) throw new Error('profile() before load()');
    return { items: runner.getProfilingResults(), summary: runner.getProfilingSummary() };
  },

  dispose() {
    if (runner) runner.cleanUp();
    runner = null;
  },
};
statusLine().textContent = 'ready';

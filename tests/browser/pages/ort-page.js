// Runs the test's exported SSD300 on onnxruntime-web in this page. The Node test drives it through
// playwright: `await window.ortPage.ready`, then `window.ortPage.run('webgpu' | 'wasm')`, which
// returns the outputs as base64 float32 bytes plus timings; `window.ortPage.report(...)` writes the
// test's comparison into the table so that the screenshot shows it.
const params = new URLSearchParams(location.search);
const build = params.get('build') ?? 'ort.min.mjs'; // a file of onnxruntime-web's dist/
const threads = Number(params.get('threads') ?? '2');
const verbose = params.get('log') === 'verbose'; // onnxruntime's own logs, node placement included

const envBox = document.getElementById('env');
const tbody = document.querySelector('#runs tbody');

function base64(floats) {
  const bytes = new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function adapterInfo() {
  if (!navigator.gpu)
    return { available: false, reason: 'navigator.gpu is missing (WebGPU not enabled in this browser)' };
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return { available: false, reason: 'navigator.gpu.requestAdapter() returned null (no WebGPU adapter)' };
  const info = adapter.info ?? {};
  return {
    available: true,
    adapter,
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? null,
  };
}

function describe(gpu) {
  if (!gpu.available) return gpu.reason;
  const name = [gpu.vendor, gpu.architecture, gpu.device, gpu.description].filter(Boolean).join(' / ') || 'unnamed';
  return `${name}${gpu.isFallbackAdapter ? ' (fallback adapter)' : ''}`;
}

const ready = (async () => {
  const ort = await import(`/ort/${build}`);
  ort.env.wasm.wasmPaths = new URL('/ort/', location.href).href;
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = verbose ? 'verbose' : 'warning';
  const gpu = await adapterInfo();
  const [model, input, meta] = await Promise.all([
    fetchBytes('/model.onnx'),
    fetchBytes('/input.bin'),
    fetch('/input.json').then((r) => r.json()),
  ]);
  envBox.textContent =
    `onnxruntime-web ${ort.env.versions?.web ?? '?'} (${build}), ` +
    `crossOriginIsolated ${globalThis.crossOriginIsolated}, hardwareConcurrency ${navigator.hardwareConcurrency}, ` +
    `WebGPU adapter: ${describe(gpu)}; model ${(model.length / 1024).toFixed(0)} KiB, input [${meta.dims}]`;
  return { ort, gpu, model, input: new Float32Array(input.buffer, input.byteOffset, input.byteLength / 4), meta };
})();

ready.catch((error) => {
  envBox.textContent = `FAILED to load: ${error.message}`;
  envBox.className = 'fail';
});

async function run(backend) {
  const row = tbody.insertRow();
  row.id = `row-${backend}`;
  const cell = (text) => {
    const c = row.insertCell();
    c.textContent = text;
    return c;
  };
  cell(backend);
  try {
    return await runIn(backend, cell);
  } catch (error) {
    const c = cell(`FAILED: ${error.message}`);
    c.colSpan = 8;
    c.className = 'fail';
    throw error;
  }
}

async function runIn(backend, cell) {
  const { ort, gpu, model, input, meta } = await ready;
  if (backend === 'webgpu') {
    if (!gpu.available) throw new Error(`WebGPU: ${gpu.reason}`);
    ort.env.webgpu.adapter = gpu.adapter;
  }
  const t0 = performance.now();
  // session log severity 0 (verbose): onnxruntime then logs where it placed the graph's nodes
  // ("All nodes placed on [JsExecutionProvider]"), which the test reads from the console
  const session = await ort.InferenceSession.create(model, {
    executionProviders: [backend],
    logSeverityLevel: 0,
    logVerbosityLevel: 0,
  });
  const t1 = performance.now();
  let device = null;
  if (backend === 'webgpu') {
    // proof that a GPUDevice was made (onnxruntime throws rather than falling back to wasm when
    // 'webgpu' is the only provider asked for, but say so in the result as well)
    device = await Promise.resolve(ort.env.webgpu.device).catch(() => null);
  }
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, meta.dims) };
  const runOptions = { logSeverityLevel: verbose ? 0 : 2 };
  const first = await session.run(feeds, runOptions);
  const t2 = performance.now();
  const second = await session.run(feeds, runOptions);
  const t3 = performance.now();
  const outputs = {};
  for (const name of session.outputNames) {
    const tensor = second[name];
    outputs[name] = { dims: [...tensor.dims], type: tensor.type, base64: base64(tensor.data) };
    // the first run must equal the second (catches uninitialised or stale GPU buffers)
    const a = first[name].data,
      b = tensor.data;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
    outputs[name].firstVsSecondMaxAbs = diff;
  }
  await session.release();
  const result = {
    backend,
    build,
    threads: ort.env.wasm.numThreads,
    crossOriginIsolated: globalThis.crossOriginIsolated,
    adapter:
      backend === 'webgpu'
        ? {
            vendor: gpu.vendor,
            architecture: gpu.architecture,
            device: gpu.device,
            description: gpu.description,
            isFallbackAdapter: gpu.isFallbackAdapter,
          }
        : null,
    gpuDevice: backend === 'webgpu' ? device !== null && typeof device === 'object' : null,
    createMs: t1 - t0,
    firstRunMs: t2 - t1,
    secondRunMs: t3 - t2,
    outputs,
  };
  cell(backend === 'webgpu' ? describe(gpu) : '—');
  cell(String(result.threads));
  cell(`${result.createMs.toFixed(0)} ms`);
  cell(`${result.firstRunMs.toFixed(0)} ms`);
  cell(`${result.secondRunMs.toFixed(0)} ms`);
  cell(
    Object.entries(outputs)
      .map(([name, o]) => `${name} [${o.dims}]`)
      .join(', '),
  );
  cell('').className = 'placement';
  cell('…').className = 'verdict';
  return result;
}

/** Writes the Node test's findings for one backend into its row: node placement, verdict. */
function report(backend, placement, text, ok) {
  const where = document.querySelector(`#row-${backend} .placement`);
  if (where) where.textContent = placement;
  const verdict = document.querySelector(`#row-${backend} .verdict`);
  if (verdict) {
    verdict.textContent = text;
    verdict.className = `verdict ${ok ? 'ok' : 'fail'}`;
  }
}

window.ortPage = {
  ready: ready.then(({ gpu }) => ({ adapter: describe(gpu), gpu: { ...gpu, adapter: undefined } })),
  run,
  report,
};

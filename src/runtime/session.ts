/**
 * One interface over the ONNX backends: 'node' (onnxruntime-node, native, optional peer),
 * 'wasm' and 'webgpu' (onnxruntime-web). Each runtime package is imported on first use only, so
 * a browser bundle never pulls onnxruntime-node and a Node user of 'node' never loads the wasm.
 *
 * Threads: onnxruntime-node takes them per session (`intraOpNumThreads`). onnxruntime-web reads
 * `env.wasm.numThreads` once, when its first session initialises the wasm runtime, and ignores
 * it afterwards; in a page that is not cross-origin isolated it runs one thread whatever is asked.
 * So the first 'wasm'/'webgpu' session of a process (or page) fixes the count, `threads` reports
 * the count actually running, and asking a later session for a different count is an error.
 */
import type * as Ort from 'onnxruntime-web';
import { simdSupported } from '../core/loader.js';
import { builtinModelUrl, isBuiltinModel } from './builtin-models.js';
import { defaultThreads, importOptional, IS_NODE } from './environment.js';
import { importOrtWeb, type OrtWeb } from './ort-web.js';
import { readResponseBytes, type ByteProgress } from './read-response.js';
import type { Backend, DetectorOptions, Profile, WebGpuAdapterReport } from './types.js';

const BACKENDS: readonly (Backend | 'auto')[] = ['auto', 'node', 'wasm', 'webgpu', 'int8'];
const PROFILES: readonly Profile[] = ['default', 'low-power'];

export type ModelSource = DetectorOptions['model'];

/** A model's bytes and a name for messages (the path or URL, else its size). */
export interface ModelBytes {
  bytes: Uint8Array;
  name: string;
}

export interface SessionOptions {
  /** Default 'auto': in Node 'node' when onnxruntime-node loads, else 'wasm'; in browsers
   *  'webgpu' on a hardware adapter, else 'wasm'. */
  backend?: Backend | 'auto';
  /** Default: see DetectorOptions.threads. */
  threads?: number;
  /** Default 'default'; see DetectorOptions.profile. */
  profile?: Profile;
  /** The onnxruntime-web module for 'wasm'/'webgpu'; see DetectorOptions.ort. */
  ort?: OrtWeb;
}

/** An output tensor as the session returns it. */
export interface SessionOutput {
  type: string;
  data: unknown;
  dims: readonly number[];
  /** For uint8 heads (backend 'int8'): real value = (q − zeroPoint) · scale. */
  quantization?: { scale: number; zeroPoint: number };
}

export interface ModelSession {
  readonly backend: Backend;
  /** CPU threads the backend runs (for 'webgpu': those of operators that fall back to the CPU). */
  readonly threads: number;
  /** The WebGPU adapter: the one running the model ('webgpu'), or the one 'auto' passed over
   *  (none is requested for 'wasm' or the low-power profile's 'auto'). */
  readonly adapter?: WebGpuAdapterReport;
  /** Why this backend: "asked for", or what 'auto' found. */
  readonly backendReason: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Declared input types and shapes (a string is a symbolic dimension, e.g. 'N'). */
  readonly inputMetadata: readonly Ort.InferenceSession.ValueMetadata[];
  /** Runs the model on one input tensor (float32, or uint8 for quantised models); returns every output by name. */
  run(input: Float32Array | Uint8Array, dims: readonly number[]): Promise<Record<string, SessionOutput>>;
  release(): Promise<void>;
}

type OrtModule = typeof Ort;

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i; // 'https://…', 'file://…' (not 'C:\…')

/**
 * Reads a model given as a built-in model's name (BUILTIN_MODELS; its .tflite twin with `tflite`),
 * a path (Node), a URL (fetched; `file:` read in Node) or bytes. In a browser a string is a URL
 * relative to the page.
 */
export async function readModelBytes(
  model: ModelSource,
  { tflite = false, onProgress }: { tflite?: boolean; onProgress?: ByteProgress } = {},
): Promise<ModelBytes> {
  let bytes: Uint8Array, name: string;
  if (model instanceof Uint8Array || model instanceof ArrayBuffer) {
    bytes = model instanceof Uint8Array ? model : new Uint8Array(model);
    name = `(${bytes.length} bytes)`;
    onProgress?.({ loaded: bytes.length, total: bytes.length });
  } else if (isBuiltinModel(model)) {
    name = `'${model}' (built-in${tflite ? ', .tflite' : ''})`;
    const url = builtinModelUrl(model, { tflite });
    try {
      bytes = await fetchBytes(url, onProgress);
    } catch (error) {
      throw new Error(
        `cannot load model ${name} from ${url.href}: ${(error as Error).message}` +
          (IS_NODE
            ? ''
            : '; if the bundle was moved without its models/ files, call setModelBaseUrl() with where they are served'),
        { cause: error },
      );
    }
  } else if (typeof model === 'string' || model instanceof URL) {
    name = `'${String(model)}'`;
    try {
      bytes = await fetchBytes(model, onProgress);
    } catch (error) {
      throw new Error(`cannot load model ${name}: ${(error as Error).message}`, { cause: error });
    }
  } else {
    throw new TypeError(
      `model must be a file path, a URL, or the model's bytes (Uint8Array or ArrayBuffer), got ${
        model === null ? 'null' : typeof model
      }`,
    );
  }
  if (bytes.length === 0) throw new Error(`cannot load model ${name}: it is empty (0 bytes)`);
  return { bytes, name };
}

/** The bytes at a path or URL; `onProgress` follows them as they arrive (a file read: once, when read). */
async function fetchBytes(model: string | URL, onProgress?: ByteProgress): Promise<Uint8Array> {
  const isUrlText = typeof model === 'string' && URL_SCHEME.test(model);
  if (IS_NODE && (model instanceof URL ? model.protocol === 'file:' : !isUrlText || /^file:/i.test(model))) {
    const { readFile } = await import('node:fs/promises');
    const { fileURLToPath } = await import('node:url');
    const bytes = await readFile(typeof model === 'string' && !isUrlText ? model : fileURLToPath(model));
    onProgress?.({ loaded: bytes.length, total: bytes.length });
    return bytes;
  }
  const url = IS_NODE ? new URL(model) : new URL(model, globalThis.location?.href);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    // undici says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a certificate) is in its cause
    const cause = (error as Error & { cause?: { message?: string; code?: string } }).cause;
    const reason = cause
      ? `: ${cause.code && !String(cause.message).includes(cause.code) ? `${cause.code} ` : ''}${cause.message ?? ''}`
      : '';
    throw new Error(`${(error as Error).message} (${url.href})${reason}`, { cause: error });
  }
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText} from ${response.url}`);
  if (onProgress) return readResponseBytes(response, onProgress);
  return new Uint8Array(await response.arrayBuffer());
}

// ---- WebGPU adapter ----------------------------------------------------------------------

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|basic render|\bwarp\b/i;

/** Describes an adapter and tells a CPU implementation (SwiftShader, llvmpipe, WARP) from a GPU. */
export function describeAdapter(adapter: Pick<GPUAdapter, 'info'>): WebGpuAdapterReport {
  const info = adapter.info;
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((part) => part);
  const description = [...new Set(parts)].join(' ') || 'unnamed adapter';
  // isFallbackAdapter moved from the adapter to its info; older browsers have only the former
  const fallback = info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return { description, software: fallback === true || SOFTWARE_ADAPTER.test(description) };
}

let adapterRequest: Promise<GPUAdapter | null> | undefined;

/** The page's WebGPU adapter, requested once; null where there is none. */
function webgpuAdapter(): Promise<GPUAdapter | null> {
  const gpu = globalThis.navigator?.gpu;
  adapterRequest ??= gpu ? gpu.requestAdapter().catch(() => null) : Promise.resolve(null);
  return adapterRequest;
}

// ---- backends ----------------------------------------------------------------------------

interface BackendChoice {
  backend: Backend;
  reason: string;
  /** The adapter seen, in a browser with WebGPU. */
  gpuAdapter?: GPUAdapter;
}

/** Picks the backend for 'auto' and checks that an explicit one can run here. */
async function resolveBackend(requested: Backend | 'auto', profile: Profile): Promise<BackendChoice> {
  if (requested === 'node' && !IS_NODE) {
    throw new Error("backend 'node' needs Node.js (onnxruntime-node); in a browser use 'webgpu', 'wasm' or 'auto'");
  }
  if (requested === 'webgpu' && !globalThis.navigator?.gpu) {
    throw new Error(
      IS_NODE
        ? "backend 'webgpu' runs in browsers only (onnxruntime-web needs navigator.gpu); in Node use 'node', 'wasm' or 'auto'"
        : "backend 'webgpu' needs WebGPU, which this browser does not offer (navigator.gpu is missing); use 'wasm' or 'auto'",
    );
  }
  if (requested === 'node') return { backend: 'node', reason: "backend 'node' asked for" };
  if (requested === 'auto' && IS_NODE) {
    return loadOrtNode().then(
      () => ({ backend: 'node' as const, reason: 'auto: onnxruntime-node is installed' }),
      () => ({ backend: 'wasm' as const, reason: 'auto: onnxruntime-node is not installed' }),
    );
  }
  // no adapter request where WebGPU will not run: it starts the GPU process (or SwiftShader),
  // which costs memory and power
  if (requested === 'wasm') return { backend: 'wasm', reason: "backend 'wasm' asked for" };
  if (requested === 'auto' && profile === 'low-power') {
    return { backend: 'wasm', reason: "auto (profile 'low-power'): wasm, WebGPU not tried" };
  }
  const gpuAdapter = (await webgpuAdapter()) ?? undefined;
  if (requested !== 'auto') return { backend: requested, reason: `backend '${requested}' asked for`, gpuAdapter };
  if (!globalThis.navigator?.gpu)
    return { backend: 'wasm', reason: 'auto: this browser has no WebGPU (navigator.gpu is missing)' };
  if (!gpuAdapter) return { backend: 'wasm', reason: 'auto: WebGPU gave no adapter' };
  const adapter = describeAdapter(gpuAdapter);
  // a software adapter runs shaders on the CPU, slower than the wasm backend's SIMD kernels
  return adapter.software
    ? { backend: 'wasm', reason: `auto: the WebGPU adapter (${adapter.description}) is a software one`, gpuAdapter }
    : { backend: 'webgpu', reason: `auto: a hardware WebGPU adapter (${adapter.description})`, gpuAdapter };
}

let ortNode: Promise<OrtModule> | undefined;

/** Whether onnxruntime-node is installed and loads (Node only). */
export function onnxruntimeNodeLoads(): Promise<boolean> {
  return IS_NODE
    ? loadOrtNode().then(
        () => true,
        () => false,
      )
    : Promise.resolve(false);
}

function loadOrtNode(): Promise<OrtModule> {
  // onnxruntime-node implements the same onnxruntime-common API as onnxruntime-web
  ortNode ??= importOptional<OrtModule>('onnxruntime-node', "backend 'node'");
  return ortNode;
}

/** The thread count each onnxruntime-web module (build) was initialised with in this process/page. */
const webThreads = new WeakMap<OrtModule, number>();

/** Records, once, the thread count onnxruntime-web settled on when it initialised (1 where threads
 *  cannot run), which every later session inherits; returns it. */
function settleWebThreads(ort: OrtModule): number {
  if (!webThreads.has(ort)) webThreads.set(ort, ort.env.wasm.numThreads ?? 1);
  return webThreads.get(ort)!;
}

/** Checks `backend` and `threads` (RangeError naming the value), before anything loads. */
export function checkSessionOptions({ backend, threads, profile }: SessionOptions): void {
  if (backend !== undefined && !BACKENDS.includes(backend)) {
    throw new RangeError(
      `backend is ${JSON.stringify(backend)}; it must be one of ${BACKENDS.map((b) => `'${b}'`).join(', ')}`,
    );
  }
  if (threads !== undefined && (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1)) {
    throw new RangeError(`threads is ${String(threads)}; it must be an integer ≥ 1, or omitted for every core`);
  }
  if (profile !== undefined && !PROFILES.includes(profile)) {
    throw new RangeError(
      `profile is ${JSON.stringify(profile)}; it must be one of ${PROFILES.map((p) => `'${p}'`).join(', ')}`,
    );
  }
  if (backend === 'int8' && threads !== undefined && threads !== 1 && threads !== 2) {
    throw new RangeError(
      `threads is ${threads}, but backend 'int8' runs one or two threads; pass 1 or 2, or omit threads`,
    );
  }
  if (profile === 'low-power' && threads !== undefined && threads !== 1) {
    throw new RangeError(
      `threads is ${threads}, but profile 'low-power' runs one thread; omit threads or use profile 'default'`,
    );
  }
}

/**
 * Session options of a profile. 'low-power' turns off onnxruntime's CPU memory arena and memory
 * pattern planning, which trade a higher peak memory for fewer allocations.
 */
function memoryOptions(profile: Profile): Ort.InferenceSession.SessionOptions {
  return profile === 'low-power' ? { enableCpuMemArena: false, enableMemPattern: false } : {};
}

/** Turns onnxruntime's complaint about bad bytes into one that says what is wrong with the file. */
function loadError(name: string, error: unknown): Error {
  const message = (error as Error).message;
  const invalid = /protobuf parsing failed|no graph was found|model data pointer is null/i.test(message);
  return new Error(
    invalid
      ? `cannot load model ${name}: it is not a valid ONNX model (truncated, or not an .onnx file): onnxruntime says "${message}"`
      : `cannot load model ${name}: onnxruntime could not create a session: ${message}`,
  );
}

function wrap(ort: OrtModule, session: Ort.InferenceSession, choice: BackendChoice, threads: number): ModelSession {
  const inputName = session.inputNames[0];
  return {
    backend: choice.backend,
    threads,
    backendReason: choice.reason,
    adapter: choice.gpuAdapter && describeAdapter(choice.gpuAdapter),
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputMetadata: session.inputMetadata,
    async run(input, dims) {
      const tensor =
        input instanceof Uint8Array ? new ort.Tensor('uint8', input, dims) : new ort.Tensor('float32', input, dims);
      const outputs = await session.run({ [inputName]: tensor });
      const result: Record<string, SessionOutput> = {};
      for (const [name, value] of Object.entries(outputs)) {
        const tensor = value as Ort.Tensor;
        result[name] = { type: tensor.type, data: tensor.data, dims: tensor.dims };
      }
      return result;
    },
    release: () => session.release(),
  };
}

/**
 * An inference session for the model's bytes on the chosen backend. Errors: a RangeError for a
 * bad `backend` or `threads`; an Error when the backend cannot run here, its package is missing,
 * or the bytes are not a valid ONNX model (the message says which, and quotes onnxruntime).
 */
export async function createSession(model: ModelBytes, options: SessionOptions = {}): Promise<ModelSession> {
  checkSessionOptions(options);
  if (options.backend === 'int8') {
    throw new Error(
      `backend 'int8' runs uint8 TensorFlow Lite SSDs (a .tflite file, or a built-in model with a .tflite twin); ` +
        `model ${model.name} is ONNX: use backend 'auto', 'node', 'wasm' or 'webgpu'`,
    );
  }
  const profile = options.profile ?? 'default';
  const requestedThreads = profile === 'low-power' ? 1 : options.threads;
  const choice = await resolveBackend(options.backend ?? 'auto', profile);
  const { backend } = choice;

  if (backend === 'node') {
    const ort = await loadOrtNode();
    const threads = requestedThreads ?? (await defaultThreads());
    try {
      const session = await ort.InferenceSession.create(model.bytes, {
        executionProviders: ['cpu'],
        intraOpNumThreads: threads,
        ...memoryOptions(profile),
      });
      return wrap(ort, session, choice, threads);
    } catch (error) {
      throw loadError(model.name, error);
    }
  }

  if (!simdSupported()) {
    // onnxruntime-web 1.30 ships SIMD builds only (ort-wasm-simd-threaded*.wasm)
    throw new Error(
      `backend '${backend}' needs onnxruntime-web, which needs wasm SIMD, and this engine has none` +
        (IS_NODE
          ? "; use backend 'node' (onnxruntime-node)"
          : ': use a browser with wasm SIMD (Chrome 91, Firefox 89, Safari 16.4 or later)'),
    );
  }
  const ort: OrtModule = options.ort ?? (await importOrtWeb(backend === 'webgpu' ? 'webgpu' : 'wasm'));
  if (typeof ort?.InferenceSession?.create !== 'function' || !ort.env?.wasm) {
    throw new TypeError(
      "ort must be the onnxruntime-web module (import * as ort from 'onnxruntime-web' or 'onnxruntime-web/wasm')",
    );
  }
  const settled = webThreads.get(ort);
  if (settled === undefined) {
    ort.env.wasm.numThreads = requestedThreads ?? (await defaultThreads());
  } else if (requestedThreads !== undefined && requestedThreads !== settled) {
    throw new Error(
      `threads is ${requestedThreads}${profile === 'low-power' ? " (profile 'low-power')" : ''}, but onnxruntime-web ` +
        `already runs ${settled} thread(s) here: its thread count is fixed by the first session of a ${IS_NODE ? 'process' : 'page'}. ` +
        `Pass threads: ${settled}, or omit it` +
        (IS_NODE ? ", or use backend 'node'" : ''),
    );
  }
  if (backend === 'webgpu') {
    if (!choice.gpuAdapter)
      throw new Error(
        "backend 'webgpu': this browser has WebGPU but no adapter (navigator.gpu.requestAdapter() gave null); use 'wasm' or 'auto'",
      );
    ort.env.webgpu.adapter = choice.gpuAdapter; // onnxruntime uses the adapter we describe
  }
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model.bytes, {
      executionProviders: [backend],
      ...memoryOptions(profile),
    });
  } catch (error) {
    throw loadError(model.name, error);
  } finally {
    settleWebThreads(ort); // initialised even when this model failed to load
  }
  return wrap(ort, session, choice, settleWebThreads(ort));
}

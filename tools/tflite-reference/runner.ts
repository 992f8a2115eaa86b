/**
 * TensorFlow Lite's own outputs for a .tflite model, from Node: TFLite's C++ runtime compiled to
 * wasm (`@tensorflow/tfjs-tflite`, which does not load in Node) runs in Debian's Chromium, driven
 * by playwright-core. The reference that the converter's results are checked against.
 *
 * ```ts
 * const [{ outputs }] = await runTfliteReference(modelBytes, [input300x300x3]);
 * // outputs: [{ name: 'TFLite_Detection_PostProcess', index: 252, shape: [1, 10, 4], dtype: 'float32', data }, …]
 * // intermediate tensors instead of the model's outputs (indices from readTfliteModel):
 * await runTfliteReference(modelBytes, inputs, { outputs: [250, 259] });
 * ```
 *
 * One Chromium per `openTfliteReference()`; load several models (or one with different options)
 * and run many inputs on it before `close()`. The page is served from 127.0.0.1 with cross-origin
 * isolation, so tfjs-tflite picks its SIMD + threads wasm build. Chromium gets the flags of
 * tests/browser/chromium.ts; playwright's launch() gives every launch a fresh temporary profile
 * (its own --user-data-dir), removed on close.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startServer, type StaticServer } from '../../web/server.js';
import {
  CHROMIUM,
  launchChromium,
  openPage,
  repoRoot,
  withConsole,
  type Chromium,
} from '../../tests/browser/chromium.js';
import {
  readTfliteModel,
  withSubgraphOutputs,
  type TfliteModelSummary,
  type TfliteQuantization,
} from './flatbuffer.js';

export { CHROMIUM };

export type TfliteData = Uint8Array | Int8Array | Int16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

export interface TfliteOutput {
  name: string;
  /** Tensor index in the model's subgraph (the flatbuffer's, same as TFLite's runtime id). */
  index: number;
  shape: number[];
  /** TFLite's dtype: 'uint8', 'int32', 'float32', … */
  dtype: string;
  /** The tensor's raw values, copied out of the wasm heap. */
  data: TfliteData;
  /** From the flatbuffer: real = scale · (q − zeroPoint). */
  quantization?: TfliteQuantization;
}

export interface TfliteRun {
  outputs: TfliteOutput[];
  /** Wall time of TFLite's Invoke() in the page. */
  inferMs: number;
}

export interface TfliteReferenceOptions {
  /** Tensor indices to return instead of the model's outputs (see `withSubgraphOutputs`). */
  outputs?: readonly number[];
  /**
   * TFLite interpreter threads. Default: tfjs-tflite's own default, navigator.hardwareConcurrency / 2
   * (1 on a 2-core machine). -1 lets TFLite choose.
   */
  threads?: number;
  /** Record TFLite's per-op profile (node types show whether XNNPACK took the ops). */
  profile?: boolean;
}

export interface TfliteEnvironment {
  simd: boolean;
  multiThreading: boolean;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  userAgent: string;
  /** Chromium start-up to page ready. */
  launchMs: number;
}

export interface TfliteProfileItem {
  nodeType: string;
  nodeName: string;
  nodeExecMs: number;
}

export interface LoadedTfliteModel {
  summary: TfliteModelSummary;
  /** Model bytes to interpreter ready, in the page. */
  loadMs: number;
  /** The tfjs-tflite wasm build in use, e.g. '…/tflite_web_api_cc_simd_threaded.js'. */
  wasmScript: string | null;
  inputs: { id: number; name: string; shape: number[]; dtype: string }[];
  outputs: { id: number; name: string; shape: number[]; dtype: string }[];
  /** Runs each input (raw bytes of the model's one input tensor, e.g. [1,300,300,3] uint8 NHWC). */
  run(inputs: readonly Uint8Array[]): Promise<TfliteRun[]>;
  /** The profile of the last run (needs `profile: true`). */
  profile(): Promise<{ items: TfliteProfileItem[]; summary: string }>;
}

export interface TfliteReference {
  environment: TfliteEnvironment;
  /** Loads a model (the previous one is released). */
  load(model: Uint8Array, options?: TfliteReferenceOptions): Promise<LoadedTfliteModel>;
  close(): Promise<void>;
}

interface PageTensor {
  id: number;
  name: string;
  shape: number[];
  dtype: string;
}
interface PageLoad {
  loadMs: number;
  wasmScript: string | null;
  inputs: PageTensor[];
  outputs: PageTensor[];
}
interface PageRun {
  inferMs: number;
  outputs: (PageTensor & { base64: string })[];
}

declare global {
  interface Window {
    tfliteReference: {
      environment(): Promise<Omit<TfliteEnvironment, 'launchMs'>>;
      load(url: string, options: { numThreads?: number; enableProfiling?: boolean }): Promise<PageLoad>;
      run(inputUrls: string[]): Promise<PageRun[]>;
      profile(): { items: TfliteProfileItem[]; summary: string };
      dispose(): void;
    };
  }
}

const require = createRequire(import.meta.url);
/** node_modules/@tensorflow/tfjs-tflite (its dist/ has the UMD bundle, its wasm/ the runtimes). */
const tfliteDir = path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json'));
const tfjsCoreDist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist');
const pageDir = path.join(repoRoot, 'tools/tflite-reference/page');

const TYPED: Record<string, (bytes: ArrayBuffer) => TfliteData> = {
  uint8: (b) => new Uint8Array(b),
  int8: (b) => new Int8Array(b),
  bool: (b) => new Uint8Array(b),
  int16: (b) => new Int16Array(b),
  int32: (b) => new Int32Array(b),
  uint32: (b) => new Uint32Array(b),
  float32: (b) => new Float32Array(b),
  float64: (b) => new Float64Array(b),
};

function decode(base64: string, dtype: string): TfliteData {
  const bytes = Buffer.from(base64, 'base64');
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  const make = TYPED[dtype];
  if (!make)
    throw new TypeError(`TFLite returned a tensor of dtype '${dtype}', which the reference runner cannot decode`);
  return make(copy);
}

/** Starts Chromium on the reference page; one per process is plenty. */
export async function openTfliteReference(): Promise<TfliteReference> {
  if (!existsSync(path.join(pageDir, 'page.js'))) {
    throw new Error(`${pageDir}/page.js is missing: the reference page is served from the source tree`);
  }
  const started = performance.now();
  const files = new Map<string, Uint8Array>();
  const server: StaticServer = await startServer({
    mounts: { '/': pageDir, '/tfjs-tflite/': tfliteDir, '/tfjs-core/': tfjsCoreDist },
    files,
  });
  let chromium: Chromium | undefined;
  let page: Page;
  let consoleLines: string[];
  try {
    chromium = await launchChromium();
    ({ page, consoleLines } = await openPage(chromium.context, `${server.url}/index.html`));
  } catch (error) {
    await chromium?.close();
    await server.close();
    throw error;
  }
  const inPage = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw new Error(withConsole(consoleLines, `TFLite reference page: ${what} failed: ${(error as Error).message}`), {
        cause: error,
      });
    }
  };
  const environment: TfliteEnvironment = {
    ...(await inPage('start-up', () => page.evaluate(() => window.tfliteReference.environment()))),
    launchMs: performance.now() - started,
  };
  let generation = 0;

  async function load(model: Uint8Array, options: TfliteReferenceOptions = {}): Promise<LoadedTfliteModel> {
    const summary = readTfliteModel(model);
    const bytes = options.outputs ? withSubgraphOutputs(model, options.outputs) : model;
    const modelUrl = `/data/model-${++generation}.tflite`;
    files.set(modelUrl, bytes);
    const pageOptions = {
      ...(options.threads !== undefined ? { numThreads: options.threads } : {}),
      ...(options.profile ? { enableProfiling: true } : {}),
    };
    const loaded = await inPage(`loading the model (${bytes.length} bytes)`, () =>
      page.evaluate(({ url, o }) => window.tfliteReference.load(url, o), { url: modelUrl, o: pageOptions }),
    );
    files.delete(modelUrl);
    const self = generation;
    return {
      summary,
      loadMs: loaded.loadMs,
      wasmScript: loaded.wasmScript,
      inputs: loaded.inputs,
      outputs: loaded.outputs,
      async run(inputs) {
        if (self !== generation)
          throw new Error('this model was replaced by a later load(): run it before loading another');
        const urls = inputs.map((input, i) => {
          const url = `/data/input-${self}-${i}.bin`;
          files.set(url, input);
          return url;
        });
        try {
          const runs = await inPage(`running ${inputs.length} input(s)`, () =>
            page.evaluate((u) => window.tfliteReference.run(u), urls),
          );
          return runs.map((r) => ({
            inferMs: r.inferMs,
            outputs: r.outputs.map((o) => {
              const quantization = summary.tensors[o.id]?.quantization;
              return {
                name: o.name,
                index: o.id,
                shape: o.shape,
                dtype: o.dtype,
                data: decode(o.base64, o.dtype),
                ...(quantization ? { quantization } : {}),
              };
            }),
          }));
        } finally {
          urls.forEach((u) => files.delete(u));
        }
      },
      profile: () => inPage('reading the profile', () => page.evaluate(() => window.tfliteReference.profile())),
    };
  }

  return {
    environment,
    load,
    async close() {
      try {
        await chromium?.close();
      } finally {
        await server.close();
      }
    },
  };
}

/**
 * One-shot: TFLite's outputs for each input (each the raw bytes of the model's input tensor,
 * e.g. a [1,300,300,3] uint8 NHWC image), in one Chromium launch.
 */
export async function runTfliteReference(
  model: Uint8Array,
  inputs: readonly Uint8Array[],
  options: TfliteReferenceOptions = {},
): Promise<TfliteRun[]> {
  const reference = await openTfliteReference();
  try {
    const loaded = await reference.load(model, options);
    return await loaded.run(inputs);
  } finally {
    await reference.close();
  }
}

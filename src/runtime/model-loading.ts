/**
 * Loading a detector's model: its bytes (a path, URL, bytes, or a built-in model by name, whose
 * .tflite twin is taken where the int8 kernels will run it), what it records about its own
 * processing, and the session that runs it: ssd-edge's int8 kernels for a uint8 TensorFlow Lite
 * SSD when asked for (or when 'auto' finds them the faster choice), else onnxruntime, on the
 * ONNX file or the .tflite's exact ONNX conversion.
 */
import { presetByName } from '../core/presets.js';
import { BUILTIN_TFLITE_TWINS, isBuiltinModel } from './builtin-models.js';
import { onnxRecords, type ModelRecords } from './detector-config.js';
import { IS_NODE } from './environment.js';
import { hasOnnxGraph, readModelMetadata } from './model-metadata.js';
import { createSession, onnxruntimeNodeLoads, readModelBytes, type ModelBytes, type ModelSession } from './session.js';
import type { TfliteSsd } from './tflite-model.js';
import type { DetectorOptions } from './types.js';

/** Whether the bytes are a TensorFlow Lite flatbuffer (file identifier 'TFL3' at byte 4). */
export function isTflite(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3';
}

/** What a file's first bytes say it is, for messages. */
export function describeBytes(bytes: Uint8Array): string {
  const ascii = String.fromCharCode(...bytes.subarray(0, 8));
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'JPEG';
  if (ascii.startsWith('\x89PNG')) return 'PNG';
  if (ascii.slice(4, 8) === 'TFL3') return 'TensorFlow Lite';
  if (ascii.startsWith('PK')) return 'zip (PyTorch?)';
  return 'non-ONNX';
}

/**
 * Why 'auto' runs a uint8 TFLite SSD on the int8 kernels, or undefined where onnxruntime is the
 * better choice: onnxruntime-node (Node, when installed) is faster than the one-thread kernels,
 * and threads > 1 asked for is onnxruntime's to give (BENCHMARKS.md has the figures).
 */
async function autoInt8Reason(options: DetectorOptions): Promise<string | undefined> {
  if (options.threads !== undefined && options.threads > 1) return undefined;
  if (!IS_NODE)
    return "auto: a uint8 TensorFlow Lite SSD runs exactly on ssd-edge's int8 kernels, faster than onnxruntime-web";
  if (await onnxruntimeNodeLoads()) return undefined;
  return "auto: onnxruntime-node is not installed, and ssd-edge's int8 kernels run a uint8 TensorFlow Lite SSD faster than onnxruntime-web";
}

/**
 * Threads of the int8 kernels: `threads` when given (1 or 2); by default two on a cross-origin-
 * isolated page with more than two cores (with two, the second thread competes with the page and
 * the browser itself), else one; one in Node, where onnxruntime-node is the faster server choice.
 */
function int8Threads(options: DetectorOptions): 1 | 2 {
  if (options.threads !== undefined) return options.threads === 2 ? 2 : 1;
  if (options.profile === 'low-power' || IS_NODE) return 1;
  return globalThis.crossOriginIsolated === true && (globalThis.navigator?.hardwareConcurrency ?? 1) > 2 ? 2 : 1;
}

/**
 * The session of a .tflite SSD: the int8 kernels when `int8Reason` says so (for 'auto', models they
 * cannot run go on to onnxruntime, and the reason says why), else its exact ONNX conversion on
 * onnxruntime. Returns the bytes the session runs (track()'s worker builds its twin from them).
 */
async function tfliteSession(
  tflite: typeof import('./tflite-model.js'),
  ssd: TfliteSsd,
  model: ModelBytes,
  options: DetectorOptions,
  int8Reason: string | undefined,
): Promise<{ session: ModelSession; model: ModelBytes }> {
  let passedOver = '';
  if (int8Reason !== undefined) {
    try {
      const threads = int8Threads(options);
      return {
        session: await tflite.createInt8Session(ssd, int8Reason, { wasmBaseUrl: options.wasmBaseUrl, threads }),
        model,
      };
    } catch (error) {
      if (!(error instanceof tflite.TfliteFormatError)) throw error;
      if (options.backend === 'int8') {
        throw new Error(
          `backend 'int8' cannot run model ${model.name}: ${error.message}; backend 'auto' runs its ONNX conversion on onnxruntime`,
          { cause: error },
        );
      }
      passedOver = `auto: the int8 kernels do not run model ${model.name} (${error.message}); `;
    }
  }
  const { tfliteToOnnx } = await import('./tflite-convert.js');
  let bytes: Uint8Array;
  try {
    bytes = tfliteToOnnx(ssd);
  } catch (error) {
    throw new Error(`${passedOver}${(error as Error).message}`, { cause: error }); // a browser bundle, which does not convert
  }
  const onnx: ModelBytes = { bytes, name: model.name };
  const session = await createSession(onnx, options);
  return {
    session: passedOver ? { ...session, backendReason: passedOver + session.backendReason } : session,
    model: onnx,
  };
}

/** A model read and described, its session not yet open. */
export interface LoadedModel {
  model: ModelBytes;
  /** What the model records about its own processing. */
  records: ModelRecords;
  /** Opens the session that runs the model; returns it with the bytes it runs (track()'s worker builds its twin from them). */
  openSession(): Promise<{ session: ModelSession; model: ModelBytes }>;
}

/** Reads `options.model` and what it records (an ONNX file's metadata, a .tflite's detection op and input). */
export async function loadModel(options: DetectorOptions): Promise<LoadedModel> {
  const requested = options.backend ?? 'auto';
  const twin = isBuiltinModel(options.model) ? BUILTIN_TFLITE_TWINS[options.model] : undefined;
  // a built-in model with a .tflite twin: that file, where the int8 kernels will run it
  const int8Auto = requested === 'auto' ? await autoInt8Reason(options) : undefined;
  const int8Twin = twin !== undefined && (requested === 'int8' || int8Auto !== undefined);
  if ((int8Twin || requested === 'int8') && int8Threads(options) === 2) {
    // the two-thread kernels' wasm compiles while the model's bytes arrive
    void import('../int8/threads.js').then(
      ({ precompileThreaded }) => precompileThreaded(options.wasmBaseUrl),
      () => {}, // the session's own import reports a failure
    );
  }
  const model = await readModelBytes(options.model, {
    tflite: int8Twin,
    onProgress: options.onProgress && ((progress) => options.onProgress?.({ stage: 'model', ...progress })),
  });
  if (isTflite(model.bytes)) {
    const tflite = await import('./tflite-model.js');
    const preset = typeof options.preset === 'string' ? presetByName(options.preset) : options.preset;
    const ssd = tflite.readTfliteSsd(model.bytes, model.name, { labels: twin?.labels, preset });
    const { description } = ssd;
    return {
      model,
      records: {
        postprocess: {
          config: description.postprocess,
          name: `the model's ${description.detection ? 'TFLite_Detection_PostProcess' : 'anchors'}`,
        },
        preprocess: description.preprocess,
      },
      openSession: () =>
        tfliteSession(tflite, ssd, model, options, requested === 'int8' ? "backend 'int8' asked for" : int8Auto),
    };
  }
  let metadata: Record<string, string>;
  try {
    metadata = readModelMetadata(model.bytes);
  } catch (error) {
    throw new Error(
      `cannot load model ${model.name}: it is not a valid ONNX model (truncated, or not an .onnx file): ` +
        (error as Error).message,
      { cause: error },
    );
  }
  if (!hasOnnxGraph(model.bytes)) {
    throw new Error(
      `cannot load model ${model.name}: it is not an ONNX model (no graph in it; a ${describeBytes(model.bytes)} file?): ` +
        'pass an .onnx or a .tflite file',
    );
  }
  return {
    model,
    records: onnxRecords(metadata),
    openSession: async () => ({ session: await createSession(model, options), model }),
  };
}

/**
 * TensorFlow Lite SSDs in createDetector: a .tflite file (or a built-in model's .tflite twin) runs
 * either on the core's own uint8 kernels — the 'int8' backend, TensorFlow Lite's exact integer
 * arithmetic, one thread, no onnxruntime — or, for the onnxruntime backends and for models those
 * kernels do not run (float or per-channel weights), as its exact ONNX conversion made in memory.
 * Loaded on demand (import()), so a detector of ONNX models never loads the TFLite reader; the
 * conversion is a module of its own (tflite-convert.ts), which the browser bundles leave out.
 */
import {
  describeTfliteSsd,
  DETECTION_POSTPROCESS,
  type TfliteSsdDescription,
  type TfliteSsdGiven,
} from '../convert/tflite/describe.js';
import type { PostprocessConfig } from '../core/types.js';
import { foldFloat16Weights } from '../convert/tflite/fold-constants.js';
import { readTflite, type TfliteModel } from '../convert/tflite/read.js';

export { TfliteFormatError } from '../convert/tflite/read.js';
import { createTfliteInt8Network } from '../int8/network.js';
import type { ModelSession } from './session.js';

/** A .tflite SSD read and described: its heads and the pre- and post-processing it records. */
export interface TfliteSsd {
  model: TfliteModel;
  description: TfliteSsdDescription;
  /** What the file lacks and was given (labels; anchors and post-processing for a raw-output model). */
  given: Pick<TfliteSsdGiven, 'labels' | 'anchors' | 'postprocess'>;
}

/**
 * Reads an SSD's .tflite; errors name the model and what is wrong with the file. A model that ends
 * in TFLite_Detection_PostProcess records its anchors and options; one exported without it (raw
 * outputs, as MediaPipe's) takes them from `preset`, the detector's post-processing config.
 */
export function readTfliteSsd(
  bytes: Uint8Array,
  name: string,
  { labels, preset }: { labels?: readonly string[]; preset?: PostprocessConfig } = {},
): TfliteSsd {
  try {
    const model = foldFloat16Weights(readTflite(bytes));
    const raw = !model.operators.some((op) => op.custom && op.name === DETECTION_POSTPROCESS);
    const { priors, ...postprocess } = preset ?? ({} as Partial<PostprocessConfig>);
    const given = { ...(labels ? { labels } : {}), ...(raw && preset ? { anchors: priors, postprocess } : {}) };
    return { model, description: describeTfliteSsd(model, given), given };
  } catch (error) {
    const hint = /pass anchors/.test((error as Error).message)
      ? ' (createDetector: pass preset, a PostprocessConfig with its priors)'
      : '';
    throw new Error(`cannot load model ${name}: ${(error as Error).message}${hint}`, { cause: error });
  }
}

/**
 * The 'int8' backend's session: the network up to the SSD heads on the core's uint8 kernels, which
 * run on one thread, or two (`threads: 2`: the caller and a worker on shared memory). Its
 * outputs `loc` and `conf` are the uint8 heads with their quantisation (the detector thresholds
 * the scores in uint8 before dequantising: Postprocessor.runQuantized). Throws (with the operator
 * or tensor at fault) when the model is not a per-tensor uint8 network of the operators those
 * kernels cover.
 */
export async function createInt8Session(
  ssd: TfliteSsd,
  backendReason: string,
  { wasmBaseUrl, threads = 1 }: { wasmBaseUrl?: string | URL; threads?: 1 | 2 } = {},
): Promise<ModelSession> {
  const { boxIndex, scoreIndex } = ssd.description;
  const network = await createTfliteInt8Network(ssd.model, { outputs: [boxIndex, scoreIndex], wasmBaseUrl, threads });
  backendReason += `; ${network.buildReason}`; // which kernels: relaxed SIMD, SIMD or the scalar baseline, and why
  // two threads asked for but one running: say why (no shared memory, no SIMD, …)
  if (network.threads === 2 || threads === 2)
    backendReason += `; ${network.threads} thread(s): ${network.threadsReason}`;
  const [inputName] = ssd.model.inputs.map((index) => ssd.model.tensors[index].name);
  const heads = network.outputs.map(({ shape, quant }) => {
    const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    return {
      quantization: { scale: quant.scale, zeroPoint: quant.zeroPoint },
      dims: [1, rows / shape[0], shape[shape.length - 1]],
    };
  });
  let released = false;
  return {
    backend: 'int8',
    threads: network.threads,
    backendReason,
    inputNames: [inputName],
    outputNames: ['loc', 'conf'],
    inputMetadata: [{ name: inputName, isTensor: true, type: 'uint8', shape: network.inputShape }],
    async run(input) {
      if (released) throw new Error('this int8 session was released');
      if (!(input instanceof Uint8Array)) throw new TypeError("the 'int8' backend takes uint8 input tensors");
      const views = network.run(input);
      // copies: the views are the network's memory, rewritten by the next run; the detector keeps these for setThresholds()
      const [loc, conf] = heads.map(({ quantization, dims }, k) => ({
        type: 'uint8',
        data: views[k].slice(),
        dims,
        quantization,
      }));
      return { loc, conf };
    },
    async release() {
      released = true; // the network's memory goes with its core instance, once unreferenced
      await network.dispose(); // and its worker, with two threads
    },
  };
}

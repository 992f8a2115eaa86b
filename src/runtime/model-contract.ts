/**
 * The contract between a model and the detector: one image input whose type and shape the
 * pre-processing makes (batch fixed at 1 or dynamic), and two outputs, loc [N, priors, 4] and
 * conf [N, priors, classes], float32, or uint8 with their quantisation (backend 'int8'), whose
 * prior and class counts agree with the post-processing. Checked at load on a warm-up run, and
 * on every run's outputs.
 */
import type { Postprocessor, Quantization } from '../core/postprocessor.js';
import type { Detection } from '../core/types.js';
import { inputDims } from './preprocess.js';
import type { ModelSession, SessionOutput } from './session.js';
import type { PreprocessSpec } from './types.js';

function shapeText(dims: readonly (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

/**
 * Checks the model's one input against the pre-processing; returns whether its batch size is
 * dynamic (several images per run) or fixed at 1.
 */
export function checkInput(session: ModelSession, spec: PreprocessSpec, model: string): boolean {
  if (session.inputNames.length !== 1) {
    throw new Error(
      `model ${model} has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); ` +
        'ssd-edge feeds one image tensor',
    );
  }
  const input = session.inputMetadata[0];
  if (!input?.isTensor || input.shape.length === 0) return false; // undeclared: run one image at a time
  const expected = inputDims(spec, 1);
  const what = `model input '${input.name}' is ${input.type} ${shapeText(input.shape)}`;
  const feeds = spec.inputType ?? 'float32';
  if (input.type !== feeds) {
    throw new Error(
      `${what}; the pre-processing feeds ${feeds} tensors` +
        (input.type === 'uint8' ? " (a quantised model: set preprocess.inputType 'uint8')" : ''),
    );
  }
  const fits =
    input.shape.length === 4 && input.shape.every((d, i) => typeof d === 'string' || i === 0 || d === expected[i]);
  if (!fits) {
    throw new Error(
      `${what}, but the pre-processing makes ${shapeText(expected)} (${spec.size[0]} × ${spec.size[1]}, ` +
        `${spec.layout}): pass the preset or preprocess this model was trained with`,
    );
  }
  if (typeof input.shape[0] === 'number' && input.shape[0] !== 1) {
    throw new Error(
      `${what}: a batch fixed at ${input.shape[0]} is not supported; export it with batch 1 or a dynamic batch`,
    );
  }
  return typeof input.shape[0] === 'string';
}

/** Output names: 'loc' and 'conf' when the model has both, else its first two outputs in order. */
export function chooseOutputs(session: ModelSession, model: string): [loc: string, conf: string] {
  const names = session.outputNames;
  if (names.includes('loc') && names.includes('conf')) return ['loc', 'conf'];
  if (names.length >= 2) return [names[0], names[1]];
  throw new Error(
    `model ${model} has ${names.length} output(s) (${names.join(', ')}); an SSD needs two: ` +
      'loc [N, priors, 4] and conf [N, priors, classes]',
  );
}

/** The output's values, after checking it is float32 of rank 3 with `batch` rows first. */
function outputValues(output: SessionOutput, name: string, batch: number, pattern: string): Float32Array {
  if (!(output.data instanceof Float32Array))
    throw new Error(`model output '${name}' is ${output.type}; ssd-edge needs float32`);
  checkRank(output, name, batch, pattern);
  return output.data;
}

function checkRank(output: SessionOutput, name: string, batch: number, pattern: string): void {
  if (output.dims.length !== 3 || output.dims[0] !== batch) {
    throw new Error(`model output '${name}' has shape ${shapeText(output.dims)}; expected ${pattern}`);
  }
}

/** Checks the warm-up outputs' shapes against the post-processing config. */
function checkOutputs(
  outputs: Record<string, SessionOutput>,
  [locName, confName]: [string, string],
  post: Postprocessor,
  configName: string,
): void {
  const { numPriors, numClasses, locValues } = post.config;
  // uint8 heads with their quantisation (backend 'int8') or float32
  const check = (name: string, pattern: string) =>
    (outputs[name].quantization ? checkRank : outputValues)(outputs[name], name, 1, pattern);
  check(locName, '[N, priors, 4] (box offsets)');
  check(confName, '[N, priors, classes] (class scores)');
  const [, boxes, four] = outputs[locName].dims;
  const [, rows, classes] = outputs[confName].dims;
  if (four !== locValues) {
    throw new Error(
      `model output '${locName}' has ${four} values per box; loc must be [N, priors, ${locValues}]` +
        (locValues > 4 ? ` (4 box values and ${(locValues - 4) / 2} keypoints, from the config's keypoints)` : ''),
    );
  }
  if (boxes !== numPriors) throw new Error(`model outputs ${boxes} boxes but ${configName} has ${numPriors} priors`);
  if (rows !== boxes)
    throw new Error(`model outputs ${boxes} boxes in '${locName}' but ${rows} score rows in '${confName}'`);
  if (classes !== numClasses) {
    throw new Error(
      `model outputs ${classes} class scores per box but ${configName} has ${numClasses} classes (numClasses)`,
    );
  }
}

/** A model's two heads: float32, or uint8 with their quantisation (backend 'int8'). */
export type Heads =
  | { loc: Float32Array; conf: Float32Array }
  | { loc: Uint8Array; conf: Uint8Array; locQuant: Quantization; confQuant: Quantization };

/** Post-processing of either kind of heads: uint8 scores are thresholded before dequantising. */
export function postprocess(post: Postprocessor, heads: Heads, batch: number): Detection[][] {
  return 'locQuant' in heads
    ? post.runQuantized(heads.loc, heads.locQuant, heads.conf, heads.confQuant, batch)
    : post.run(heads.loc, heads.conf, batch);
}

/** The two heads of a run, checked. */
export function readHeads(
  outputs: Record<string, SessionOutput>,
  [locName, confName]: [string, string],
  batch: number,
): Heads {
  const [loc, conf] = [outputs[locName], outputs[confName]];
  if (loc.quantization && conf.quantization) {
    return {
      loc: loc.data as Uint8Array,
      conf: conf.data as Uint8Array,
      locQuant: loc.quantization,
      confQuant: conf.quantization,
    };
  }
  return {
    loc: outputValues(loc, locName, batch, '[N, priors, 4]'),
    conf: outputValues(conf, confName, batch, '[N, priors, classes]'),
  };
}

/**
 * Runs the model once on a zero image (the first run of a session is the slow one) and checks
 * its outputs against the post-processing, so a mismatch is reported before any detect().
 */
export async function warmUp(
  session: ModelSession,
  spec: PreprocessSpec,
  outputs: [loc: string, conf: string],
  post: Postprocessor,
  configName: string,
  model: string,
): Promise<void> {
  let results: Record<string, SessionOutput>;
  try {
    const size = 3 * spec.size[0] * spec.size[1];
    results = await session.run(
      spec.inputType === 'uint8' ? new Uint8Array(size) : new Float32Array(size),
      inputDims(spec, 1),
    );
  } catch (error) {
    throw new Error(
      `model ${model} failed on a zero image ${shapeText(inputDims(spec, 1))}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  checkOutputs(results, outputs, post, configName);
}

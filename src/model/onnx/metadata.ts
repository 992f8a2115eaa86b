/**
 * What an ssd-edge model records about itself in ONNX metadata_props, so the runtime can run it
 * with no other configuration: the operator set, the pre-processing the network expects, the
 * post-processing that decodes its outputs, its width and class count. Values are strings
 * (JSON for the two configs), keys start with 'ssd-edge.'.
 * No protobuf code here, so the runtime can parse metadata it read its own way (read.ts decodes
 * a whole model with onnx-proto).
 */
import type { PostprocessConfig } from '../../core/types.js';
import { inputPresets } from '../../runtime/input-presets.js';
import { METADATA_POSTPROCESS, METADATA_PREPROCESS } from '../../runtime/model-metadata.js';
import type { PreprocessSpec } from '../../runtime/types.js';

export const PRODUCER_NAME = 'ssd-edge';
export const METADATA_PREFIX = 'ssd-edge.';
export const METADATA_KEYS = Object.freeze({
  opset: 'ssd-edge.opset',
  preprocess: METADATA_PREPROCESS,
  postprocess: METADATA_POSTPROCESS,
  width: 'ssd-edge.width',
  numClasses: 'ssd-edge.numClasses',
});

/**
 * The input our exports expect by default: ssd.pytorch's (see inputPresets.ssd300Voc), so models
 * trained here and ssd.pytorch checkpoints take the same tensor.
 */
export const DEFAULT_PREPROCESS: PreprocessSpec = inputPresets.ssd300Voc;

export interface SsdEdgeMetadata {
  opset: number;
  preprocess: PreprocessSpec;
  postprocess: PostprocessConfig;
  width: number;
  numClasses: number;
  /** The model's other metadata_props. */
  extra: Record<string, string>;
}

/** The metadata_props entries for a model. Typed arrays in the configs become JSON arrays. */
export function encodeSsdEdgeMetadata(meta: Omit<SsdEdgeMetadata, 'extra'>): Record<string, string> {
  const json = (value: unknown) =>
    JSON.stringify(value, (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v));
  return {
    [METADATA_KEYS.opset]: String(meta.opset),
    [METADATA_KEYS.preprocess]: json(meta.preprocess),
    [METADATA_KEYS.postprocess]: json(meta.postprocess),
    [METADATA_KEYS.width]: String(meta.width),
    [METADATA_KEYS.numClasses]: String(meta.numClasses),
  };
}

/** A caller's extra metadata_props, checked to stay out of the exporter's 'ssd-edge.' keys. */
export function checkExtraMetadata(extra: Readonly<Record<string, string>> = {}): Readonly<Record<string, string>> {
  const reserved = Object.keys(extra).find((key) => key.startsWith(METADATA_PREFIX));
  if (reserved !== undefined)
    throw new RangeError(
      `metadata key '${reserved}' is reserved: keys starting '${METADATA_PREFIX}' are written by the exporter`,
    );
  return extra;
}

function bad(key: string, why: string): Error {
  return new Error(`ssd-edge metadata '${key}' ${why}`);
}

function parseJson(key: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (e) {
    throw bad(key, `is not valid JSON (${(e as Error).message})`);
  }
}

function parseNumber(key: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw bad(key, `is '${value}', not a number`);
  return n;
}

function isNumbers(value: unknown, length: number): value is number[] {
  return (
    Array.isArray(value) && value.length === length && value.every((v) => typeof v === 'number' && Number.isFinite(v))
  );
}

function parsePreprocess(value: string): PreprocessSpec {
  const key = METADATA_KEYS.preprocess;
  const spec = parseJson(key, value) as Partial<Record<keyof PreprocessSpec, unknown>> | null;
  if (spec === null || typeof spec !== 'object') throw bad(key, 'is not an object');
  if (!isNumbers(spec.size, 2) || !spec.size.every((v) => Number.isInteger(v) && v > 0))
    throw bad(key, 'size must be [width, height] in pixels');
  if (spec.channels !== 'rgb' && spec.channels !== 'bgr') throw bad(key, `channels must be 'rgb' or 'bgr'`);
  if (!isNumbers(spec.mean, 3)) throw bad(key, 'mean must be 3 numbers');
  if (!isNumbers(spec.std, 3) || spec.std.includes(0)) throw bad(key, 'std must be 3 non-zero numbers');
  if (spec.layout !== 'nchw' && spec.layout !== 'nhwc') throw bad(key, `layout must be 'nchw' or 'nhwc'`);
  if (spec.inputType !== undefined && spec.inputType !== 'float32' && spec.inputType !== 'uint8')
    throw bad(key, `inputType must be 'float32' or 'uint8'`);
  return spec as PreprocessSpec;
}

/** Structure only: createPostprocessor validates every field when the runtime uses it. */
function parsePostprocess(value: string, numClasses: number): PostprocessConfig {
  const key = METADATA_KEYS.postprocess;
  const config = parseJson(key, value) as (Omit<PostprocessConfig, 'priors'> & { priors: unknown }) | null;
  if (config === null || typeof config !== 'object' || config.priors === null || typeof config.priors !== 'object') {
    throw bad(key, 'is not a PostprocessConfig (an object with priors)');
  }
  if (config.numClasses !== numClasses) {
    throw bad(key, `has numClasses ${config.numClasses}, but the model records ${numClasses}`);
  }
  // Prior rows were written as a JSON array; the config schema wants a Float32Array.
  const priors = Array.isArray(config.priors) ? new Float32Array(config.priors) : config.priors;
  return { ...config, priors } as PostprocessConfig;
}

/**
 * The ssd-edge metadata among a model's metadata_props, or undefined when it has none (a model
 * exported by another tool). Throws an error naming the key when it is incomplete or malformed.
 */
export function parseSsdEdgeMetadata(props: Readonly<Record<string, string>>): SsdEdgeMetadata | undefined {
  const ours = new Map<string, string>();
  const extra: Record<string, string> = {};
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith(METADATA_PREFIX)) ours.set(key, value);
    else extra[key] = value;
  }
  if (ours.size === 0) return undefined;
  const get = (key: string) => {
    const value = ours.get(key);
    if (value === undefined) throw bad(key, 'is missing');
    return value;
  };
  const numClasses = parseNumber(METADATA_KEYS.numClasses, get(METADATA_KEYS.numClasses));
  return {
    opset: parseNumber(METADATA_KEYS.opset, get(METADATA_KEYS.opset)),
    preprocess: parsePreprocess(get(METADATA_KEYS.preprocess)),
    postprocess: parsePostprocess(get(METADATA_KEYS.postprocess), numClasses),
    width: parseNumber(METADATA_KEYS.width, get(METADATA_KEYS.width)),
    numClasses,
    extra,
  };
}

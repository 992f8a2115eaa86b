/**
 * Which post- and pre-processing a detector runs: the options first, then what the model records
 * about itself (an ONNX file's metadata, a .tflite's detection op and input), then a named
 * preset's input preset; an error asks for what is missing.
 */
import { presetByName, presets, type PresetName } from '../core/presets.js';
import type { PostprocessConfig } from '../core/types.js';
import { inputPresets } from './input-presets.js';
import { METADATA_POSTPROCESS, METADATA_PREPROCESS } from './model-metadata.js';
import { validatePreprocessSpec } from './preprocess.js';
import type { DetectorOptions, PreprocessSpec } from './types.js';

export interface PostprocessChoice {
  config: PostprocessConfig;
  /** How messages name it: "preset 'ssd300Voc'", "this config", … */
  name: string;
  /** The input preset of a named preset. */
  input?: PreprocessSpec;
}

function presetNamed(name: string): PostprocessChoice {
  return { config: presetByName(name), name: `preset '${name}'`, input: inputPresets[name as PresetName] };
}

/** Parses a JSON metadata value; errors name the key (a model's metadata is not the user's fault). */
function fromMetadata<T>(metadata: Record<string, string>, key: string, parse: (value: unknown) => T): T | undefined {
  const text = metadata[key];
  if (text === undefined) return undefined;
  try {
    return parse(JSON.parse(text));
  } catch (error) {
    throw new Error(`the model's metadata '${key}' is unusable: ${(error as Error).message}`, { cause: error });
  }
}

/** A metadata post-processing entry: a preset name, or a PostprocessConfig whose priors may be a JSON array. */
function postprocessFromJson(value: unknown): PostprocessChoice {
  if (typeof value === 'string') return presetNamed(value);
  if (value === null || typeof value !== 'object')
    throw new TypeError('expected a preset name or a PostprocessConfig object');
  const config = value as PostprocessConfig & { priors: unknown };
  const priors = Array.isArray(config.priors) ? new Float32Array(config.priors as number[]) : config.priors;
  return { config: { ...config, priors }, name: `the model's '${METADATA_POSTPROCESS}' config` };
}

/** What a model records about its own processing: an ONNX file's metadata, or a .tflite's detection op and input. */
export interface ModelRecords {
  postprocess?: PostprocessChoice;
  preprocess?: PreprocessSpec;
}

export function onnxRecords(metadata: Record<string, string>): ModelRecords {
  return {
    postprocess: fromMetadata(metadata, METADATA_POSTPROCESS, postprocessFromJson),
    preprocess: fromMetadata(metadata, METADATA_PREPROCESS, (v) => validatePreprocessSpec(v as PreprocessSpec)),
  };
}

/** Post-processing: options.preset, else what the model records, else an error asking for one. */
export function choosePostprocess(options: DetectorOptions, records: ModelRecords, model: string): PostprocessChoice {
  const { preset } = options;
  let choice: PostprocessChoice | undefined;
  if (typeof preset === 'string') choice = presetNamed(preset);
  else if (preset !== undefined) {
    // a preset object passed as is still brings its input preset
    const name = (Object.keys(presets) as PresetName[]).find((key) => presets[key] === preset);
    choice = name ? presetNamed(name) : { config: preset, name: 'this config' };
  } else choice = records.postprocess;
  if (!choice) {
    throw new Error(
      `model ${model} records no post-processing (metadata '${METADATA_POSTPROCESS}'): pass preset, ` +
        `one of ${Object.keys(presets).join(', ')}, or a PostprocessConfig`,
    );
  }
  const config = { ...choice.config };
  if (options.labels !== undefined) config.labels = options.labels;
  if (options.scoreThreshold !== undefined) config.scoreThreshold = options.scoreThreshold;
  if (options.nmsThreshold !== undefined) config.nmsThreshold = options.nmsThreshold;
  if (options.keepTopK !== undefined) config.keepTopK = options.keepTopK;
  return { ...choice, config };
}

/** Pre-processing: options.preprocess, else what the model records, else the preset's input preset. */
export function choosePreprocess(
  options: DetectorOptions,
  records: ModelRecords,
  post: PostprocessChoice,
): PreprocessSpec {
  const spec = options.preprocess ?? records.preprocess ?? post.input;
  if (!spec) {
    throw new Error(
      `no pre-processing is known for ${post.name}: pass preprocess (a PreprocessSpec such as ` +
        'inputPresets.ssd300Voc), or a preset by name',
    );
  }
  return validatePreprocessSpec(spec);
}

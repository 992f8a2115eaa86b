/**
 * The `--model` option of detect and demo: a built-in model's name ('ssd-mobilenet-v2-coco',
 * 'shapes') or an .onnx or .tflite file; the default is the COCO detector.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUILTIN_MODELS, builtinModelUrl, DEFAULT_MODEL, isBuiltinModel } from '../runtime/builtin-models.js';

export const MODEL_OPTION_HELP = `${Object.keys(BUILTIN_MODELS).join(' | ')} | an .onnx or .tflite file (default ${DEFAULT_MODEL})`;

/** What createDetector gets: the name of a built-in model or a file path. */
export function resolveModelOption(command: string, value: string | undefined): string {
  const model = value ?? DEFAULT_MODEL;
  if (isBuiltinModel(model)) {
    if (!existsSync(builtinModelUrl(model))) {
      throw new Error(
        `${command}: the built-in model '${model}' is missing from this installation (${fileURLToPath(builtinModelUrl(model))}); pass --model m.onnx`,
      );
    }
    return model;
  }
  if (!existsSync(model))
    throw new Error(`${command}: the model ${model} does not exist; pass --model ${MODEL_OPTION_HELP}`);
  return model;
}

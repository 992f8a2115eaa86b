/**
 * Folds TFLite's float16 weight storage: a float16-quantised model (MediaPipe's BlazeFace, any
 * `converter.target_spec.supported_types = [tf.float16]` export) stores each weight as a float16
 * constant followed by a DEQUANTIZE operator whose float32 output feeds the convolution. TFLite
 * runs those DEQUANTIZEs once, at preparation; here they become float32 constants (every float16
 * widens to float32 exactly), so the converter sees ordinary float weights.
 *
 * Only DEQUANTIZE of a float16 constant is folded: quantised (uint8/int8) tensors keep their
 * operators, so 'exact' mode's integer arithmetic is untouched.
 */
import type { TfliteModel } from './read.js';
import { constantFloats } from './constants.js';

/** The model with every DEQUANTIZE(float16 constant) replaced by a float32 constant; the same object when there is none. */
export function foldFloat16Weights(model: TfliteModel): TfliteModel {
  const folded = new Set<number>();
  const tensors = model.tensors.slice();
  for (const op of model.operators) {
    if (op.name !== 'DEQUANTIZE' || op.inputs.length !== 1 || op.outputs.length !== 1) continue;
    const source = model.tensors[op.inputs[0]];
    const target = model.tensors[op.outputs[0]];
    if (!source?.data || source.type !== 'float16' || !target || target.type !== 'float32') continue;
    const widened = constantFloats(source);
    tensors[target.index] = { ...target, data: new Uint8Array(widened.buffer), quantization: undefined };
    folded.add(op.index);
  }
  if (folded.size === 0) return model;
  return { ...model, tensors, operators: model.operators.filter((op) => !folded.has(op.index)) };
}

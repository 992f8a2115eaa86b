/**
 * Model rewrites tried as speed levers on the exact COCO conversion (bench/coco-browser.ts,
 * BENCHMARKS.md); not part of the converter.
 */
import { decodeOnnxModel } from '../src/model/onnx/read.js';
import { onnx } from '../src/model/onnx/proto.js';

const UINT8 = 2;
const INT8 = 3;

/**
 * The model with every QLinearConv's weights and weight zero point as int8, shifted by −128
 * (u8 → s8: w_s8 = w_u8 − 128, zp_s8 = zp_u8 − 128). The integers a convolution sums are the same,
 * (w_u8 − zp_u8) = (w_s8 − zp_s8), so the outputs are too, if the runtime's u8s8 kernel is exact
 * (no saturating int16 intermediate sums): check with the TFLite fixtures.
 */
export function int8WeightsModel(bytes: Uint8Array): Uint8Array {
  const model = decodeOnnxModel(bytes);
  const graph = model.graph!;
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const users = new Map<string, number>();
  for (const node of graph.node ?? [])
    for (const input of node.input ?? []) users.set(input, (users.get(input) ?? 0) + 1);
  for (const node of graph.node ?? []) {
    if (node.opType !== 'QLinearConv') continue;
    for (const name of [node.input![3], node.input![5]]) {
      const tensor = initializers.get(name);
      if (!tensor)
        throw new Error(
          `QLinearConv ${node.name || node.output![0]}: ${name} is not an initializer; its weights cannot be shifted`,
        );
      if (tensor.dataType !== UINT8)
        throw new Error(
          `QLinearConv ${node.name || node.output![0]}: ${name} is not uint8 (ONNX type ${tensor.dataType})`,
        );
      if (users.get(name) !== 1)
        throw new Error(`${name} is used by ${users.get(name)} nodes; shifting it would change the others`);
      const values = tensor.rawData?.length ? tensor.rawData : Uint8Array.from(tensor.int32Data ?? []);
      const shifted = new Uint8Array(values.length);
      for (let i = 0; i < values.length; i++) shifted[i] = (values[i] - 128) & 0xff; // two's complement of w − 128
      tensor.rawData = shifted;
      tensor.int32Data = [];
      tensor.dataType = INT8;
    }
  }
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The ONNX protobuf schema: onnx-proto, protobufjs static code generated from onnx.proto
 * (ONNX 1.10, IR version 8). The package is CommonJS; its module.exports is `{ onnx }`.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxSchema } from 'onnx-proto';

/** The message classes (`onnx.ModelProto.encode`, ...). */
export const onnx = onnxProto.onnx;
/** The message types (`OnnxSchema.INodeProto`, ...). */
export type { OnnxSchema };

/**
 * Decoding ONNX bytes with a clear verdict: `Error: not an ONNX model: ...` for anything that is
 * not a complete ModelProto (empty, truncated, another format), instead of a protobuf decoder
 * message or an onnxruntime failure later; and the ssd-edge metadata of a model's bytes.
 */
import { parseSsdEdgeMetadata, type SsdEdgeMetadata } from './metadata.js';
import { onnx, type OnnxSchema } from './proto.js';

function notOnnx(reason: string): Error {
  return new Error(`not an ONNX model: ${reason}`);
}

/** A protobuf int64 (a number, or a Long where the `long` package is present) as a number. */
export function int64(value: number | { toString(): string } | null | undefined): number {
  return value == null ? 0 : Number(String(value));
}

/** Decodes a ModelProto; graph initializers stay views into `bytes`. */
export function decodeOnnxModel(bytes: Uint8Array | ArrayBuffer): OnnxSchema.ModelProto {
  if (!(bytes instanceof Uint8Array || bytes instanceof ArrayBuffer)) {
    throw new TypeError(
      `ONNX model bytes must be a Uint8Array or an ArrayBuffer, got ${bytes === null ? 'null' : typeof bytes}`,
    );
  }
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (view.length === 0) throw notOnnx('0 bytes');
  let model: OnnxSchema.ModelProto;
  try {
    model = onnx.ModelProto.decode(view);
  } catch (e) {
    throw notOnnx(
      `${view.length} bytes do not decode as a ModelProto (${(e as Error).message}): truncated, or another format?`,
    );
  }
  if (int64(model.irVersion) <= 0) throw notOnnx(`no IR version in ${view.length} bytes`);
  if (!model.graph) throw notOnnx(`no graph in ${view.length} bytes`);
  if (!model.opsetImport.length) throw notOnnx(`no operator set in ${view.length} bytes`);
  return model;
}

/**
 * The ssd-edge metadata of a model (see parseSsdEdgeMetadata), or undefined for a model without
 * any. Throws `Error: not an ONNX model: ...` for bytes that are not a model.
 */
export function readSsdEdgeMetadata(bytes: Uint8Array | ArrayBuffer): SsdEdgeMetadata | undefined {
  const props: Record<string, string> = {};
  for (const { key, value } of decodeOnnxModel(bytes).metadataProps) props[key ?? ''] = value ?? '';
  return parseSsdEdgeMetadata(props);
}

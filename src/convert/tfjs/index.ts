/**
 * TensorFlow.js weight manifests → ssd-edge ONNX models. The manifest reader is generic
 * (manifest.ts); the networks it knows are face-api's SSD MobileNet V1 (faceapi.ts).
 */
import {
  convertFaceApiSsd,
  looksLikeFaceApiSsd,
  TfjsWeightsMismatchError,
  type FaceApiSsdConversionReport,
  type FaceApiSsdConvertOptions,
} from './faceapi.js';
import { parseWeightsManifest, readWeightsManifest, TfjsManifestError } from './manifest.js';

export * from './manifest.js';
export * from './faceapi.js';

export interface TfjsConvertOptions extends FaceApiSsdConvertOptions {
  /**
   * The manifest's shards: a map from the paths the manifest names (relative to it) to their
   * bytes, or a function returning a shard's bytes, undefined when it is missing.
   */
  shards?: Readonly<Record<string, Uint8Array>> | ((path: string) => Uint8Array | undefined);
}

export type TfjsConversionReport = FaceApiSsdConversionReport;

/** Whether the bytes are a tfjs weights manifest (or a model.json with one). */
export function isTfjsManifest(bytes: Uint8Array): boolean {
  return parseWeightsManifest(bytes) !== undefined;
}

/** Converts a tfjs weights manifest (its bytes) and its shards into an ssd-edge ONNX model. */
export function convertTfjsManifest(
  manifestBytes: Uint8Array,
  options: TfjsConvertOptions = {},
): { onnx: Uint8Array; report: TfjsConversionReport } {
  const manifest = parseWeightsManifest(manifestBytes);
  if (!manifest)
    throw new TfjsManifestError('not a tfjs weights manifest: expected JSON, an array of { paths, weights } groups');
  const { shards } = options;
  if (shards === undefined)
    throw new TfjsManifestError(
      `a tfjs weights manifest needs its shards (${manifest.flatMap((g) => g.paths).join(', ')}): pass options.shards`,
    );
  const shard =
    typeof shards === 'function' ? shards : (path: string) => (Object.hasOwn(shards, path) ? shards[path] : undefined);
  const weights = readWeightsManifest(manifest, shard);
  if (!looksLikeFaceApiSsd(weights)) {
    // Not a network ssd-edge knows: list what face-api's SSD needs and the manifest's names.
    const names = [...weights.keys()];
    throw new TfjsWeightsMismatchError(
      ['Output/extra_dim', 'MobilenetV1/Conv2d_0_pointwise/weights'].filter((n) => !weights.has(n)),
      names,
      [],
    );
  }
  return convertFaceApiSsd(weights, options);
}

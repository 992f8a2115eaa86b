/**
 * A TensorFlow.js weights manifest (`*-weights_manifest.json` or the `weightsManifest` of a
 * `model.json`) and its binary shards → named tensors, as tfjs-core's `io.decodeWeights` reads
 * them. No tfjs needed.
 *
 * The manifest is an array of groups `{ paths: string[], weights: WeightEntry[] }`. A group's
 * shards, concatenated in `paths` order, hold its weights back to back in `weights` order,
 * little-endian. A weight with `quantization` is stored as `quantization.dtype`:
 * - 'uint8' | 'uint16' with `{ min, scale }`: real value = q · scale + min (computed in double,
 *   stored as float32; an int32 weight is rounded, as tfjs does);
 * - 'float16': IEEE half floats.
 * Unquantised weights are float32, int32 or bool (one byte) as their `dtype` says.
 *
 * Errors (TfjsManifestError) name the group, the shard and the weight: a missing shard, shards
 * whose byte count does not match the weights, an unknown dtype or quantization.
 */

/** The manifest or a shard is malformed, missing or of the wrong size. */
export class TfjsManifestError extends Error {
  override readonly name = 'TfjsManifestError';
}

export type TfjsDtype = 'float32' | 'int32' | 'bool';

/** One manifest entry, decoded. */
export interface TfjsWeight {
  name: string;
  shape: number[];
  dtype: TfjsDtype;
  /** The values as tfjs holds them: float32 (dequantised when stored quantised), int32 or bool (0/1 in an Int32Array). */
  values: Float32Array | Int32Array;
  /** For a uint8/uint16-quantised float32 weight: the stored integers and the affine map q · scale + min. */
  quantized?: { dtype: 'uint8' | 'uint16'; data: Uint8Array | Uint16Array; scale: number; min: number };
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype?: string; min?: number; scale?: number; [key: string]: unknown };
}

interface ManifestGroup {
  paths: string[];
  weights: ManifestEntry[];
}

/** Whether `value` looks like a weights manifest: an array of { paths, weights } groups. */
export function isWeightsManifest(value: unknown): value is ManifestGroup[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (g) =>
        g !== null &&
        typeof g === 'object' &&
        Array.isArray((g as ManifestGroup).paths) &&
        Array.isArray((g as ManifestGroup).weights),
    )
  );
}

/**
 * The manifest from a manifest file's bytes or text, a `model.json`'s bytes (its
 * `weightsManifest`), or an already parsed value; undefined when it is none of these.
 */
export function parseWeightsManifest(input: Uint8Array | string | unknown): ManifestGroup[] | undefined {
  let value: unknown = input;
  if (input instanceof Uint8Array || typeof input === 'string') {
    const text = typeof input === 'string' ? input : new TextDecoder().decode(input.subarray(0, 64));
    if (!/^\s*[[{]/.test(text)) return undefined;
    try {
      value = JSON.parse(typeof input === 'string' ? input : new TextDecoder().decode(input));
    } catch {
      return undefined;
    }
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'weightsManifest' in value) {
    value = (value as { weightsManifest: unknown }).weightsManifest;
  }
  return isWeightsManifest(value) ? value : undefined;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Decodes IEEE 754 half floats. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f,
    fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function checkEntry(entry: ManifestEntry, group: number): void {
  const where = `manifest group ${group}, weight '${String(entry?.name)}'`;
  if (entry === null || typeof entry !== 'object' || typeof entry.name !== 'string')
    throw new TfjsManifestError(`${where}: not a { name, shape, dtype } entry`);
  if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new TfjsManifestError(`${where}: shape ${JSON.stringify(entry.shape)} is not a list of sizes`);
  }
  if (entry.dtype !== 'float32' && entry.dtype !== 'int32' && entry.dtype !== 'bool') {
    throw new TfjsManifestError(`${where}: dtype '${String(entry.dtype)}' is not supported (float32, int32, bool)`);
  }
  const q = entry.quantization;
  if (q === undefined) return;
  if (q.dtype !== 'uint8' && q.dtype !== 'uint16' && q.dtype !== 'float16') {
    throw new TfjsManifestError(
      `${where}: quantization dtype '${String(q.dtype)}' is unknown (uint8, uint16, float16)`,
    );
  }
  if (q.dtype !== 'float16' && !(Number.isFinite(q.min) && Number.isFinite(q.scale))) {
    throw new TfjsManifestError(
      `${where}: ${q.dtype} quantization needs finite 'min' and 'scale', got ${JSON.stringify(q)}`,
    );
  }
  if (q.dtype === 'float16' && entry.dtype !== 'float32')
    throw new TfjsManifestError(`${where}: float16 quantization of a ${entry.dtype} weight`);
}

/**
 * Reads every weight of the manifest. `shard(path)` returns a shard's bytes (paths as the
 * manifest writes them, relative to the manifest), or undefined when it is missing.
 */
export function readWeightsManifest(
  manifest: unknown,
  shard: (path: string) => Uint8Array | undefined,
): Map<string, TfjsWeight> {
  if (!isWeightsManifest(manifest))
    throw new TfjsManifestError('not a tfjs weights manifest: expected an array of { paths, weights } groups');
  const weights = new Map<string, TfjsWeight>();
  manifest.forEach((group, g) => {
    for (const entry of group.weights) checkEntry(entry, g);
    const parts = group.paths.map((path) => {
      if (typeof path !== 'string')
        throw new TfjsManifestError(`manifest group ${g}: shard path ${JSON.stringify(path)} is not a string`);
      const bytes = shard(path);
      if (bytes === undefined)
        throw new TfjsManifestError(
          `manifest group ${g}: shard '${path}' is missing (shards are read beside the manifest)`,
        );
      return bytes;
    });
    const sizes = group.weights.map(
      (e) => e.shape.reduce((n, d) => n * d, 1) * BYTES[e.quantization?.dtype ?? e.dtype],
    );
    const needed = sizes.reduce((a, b) => a + b, 0);
    const have = parts.reduce((n, p) => n + p.length, 0);
    if (have !== needed) {
      throw new TfjsManifestError(
        `manifest group ${g}: shards ${group.paths.map((p) => `'${p}'`).join(', ')} hold ${have} bytes; ` +
          `its ${group.weights.length} weights need ${needed}${have < needed ? ' (a truncated or wrong shard?)' : ''}`,
      );
    }
    const buffer = new Uint8Array(needed);
    let at = 0;
    for (const p of parts) {
      buffer.set(p, at);
      at += p.length;
    }
    at = 0;
    group.weights.forEach((entry, i) => {
      const bytes = buffer.slice(at, at + sizes[i]); // a copy: aligned for the typed-array views
      at += sizes[i];
      if (weights.has(entry.name)) throw new TfjsManifestError(`manifest: weight '${entry.name}' appears twice`);
      weights.set(entry.name, decodeEntry(entry, bytes));
    });
  });
  return weights;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndian<T extends Uint16Array | Float32Array | Int32Array>(
  bytes: Uint8Array,
  make: (b: ArrayBuffer) => T,
  width: number,
): T {
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
  }
  return make(bytes.buffer as ArrayBuffer);
}

function decodeEntry(entry: ManifestEntry, bytes: Uint8Array): TfjsWeight {
  const { name, shape } = entry;
  const dtype = entry.dtype as TfjsDtype;
  const q = entry.quantization;
  if (q?.dtype === 'uint8' || q?.dtype === 'uint16') {
    const data = q.dtype === 'uint8' ? bytes : littleEndian(bytes, (b) => new Uint16Array(b), 2);
    const { scale, min } = q as { scale: number; min: number };
    if (dtype === 'float32') {
      const values = new Float32Array(data.length);
      for (let i = 0; i < data.length; i++) values[i] = data[i] * scale + min;
      return { name, shape, dtype, values, quantized: { dtype: q.dtype, data, scale, min } };
    }
    const values = new Int32Array(data.length);
    for (let i = 0; i < data.length; i++) values[i] = Math.round(data[i] * scale + min);
    return { name, shape, dtype, values };
  }
  if (q?.dtype === 'float16') {
    const halves = littleEndian(bytes, (b) => new Uint16Array(b), 2);
    return { name, shape, dtype, values: Float32Array.from(halves, halfToFloat) };
  }
  if (dtype === 'float32') return { name, shape, dtype, values: littleEndian(bytes, (b) => new Float32Array(b), 4) };
  if (dtype === 'int32') return { name, shape, dtype, values: littleEndian(bytes, (b) => new Int32Array(b), 4) };
  return { name, shape, dtype, values: Int32Array.from(bytes, (b) => (b ? 1 : 0)) };
}

/**
 * Training checkpoints: one directory holding
 *   checkpoint.json         — format, architecture (arch, numClasses, width, classes), progress
 *                             (step, epoch), the training options, a table of the tensors in the
 *                             binary, and the binary's name, size and SHA-256 (`bin`);
 *   checkpoint-<id>.bin     — every tensor's float32 values (little-endian), back to back: the
 *                             model's weights (`weights/<name>`) then the SGD momentum buffers
 *                             (`momentum/<name>`). `<id>` is the step and a random suffix.
 * One atomic unit: the new binary is written under its own name, then checkpoint.json is replaced
 * by a rename (the one commit point), then the old binary is removed. A run killed at any moment
 * leaves a JSON and the binary it names, and a binary that is not the one the JSON recorded
 * (size or hash) is refused. Weights or momentum holding NaN or ±Infinity are never saved and
 * never loaded.
 *
 * Version 1 checkpoints (a fixed `checkpoint.bin` and no `bin` record) still load.
 *
 * `loadCheckpoint(dir)` reads one back; `loadCheckpointModel(dir)` builds the network it holds
 * (what an exporter needs: `const { model } = await loadCheckpointModel(dir)`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMiniSsd, type MiniSsd } from '../model/mini.js';
import { createMobilenetSsd, MOBILENET_SSD_INPUT_SIZE, type MobilenetSsd } from '../model/mobilenet-ssd.js';
import { createSsd300, type Ssd300 } from '../model/ssd300.js';
import type { PreprocessSpec } from '../runtime/types.js';
import { isMobilenetArch, mobilenetVariant, TRAINING_ARCHS, type MobilenetArch } from './arch-names.js';

export const CHECKPOINT_FORMAT = 'ssd-edge-checkpoint';
export const CHECKPOINT_VERSION = 2;
export const CHECKPOINT_JSON = 'checkpoint.json';
/** The binary of a version 1 checkpoint (version 2 names its binary in `bin.file`). */
export const CHECKPOINT_BIN = 'checkpoint.bin';
/** Binaries of this module, current and stale: `checkpoint.bin`, `checkpoint-<id>.bin` (and their `.tmp`). */
const BIN_FILE = /^checkpoint(-[\w-]+)?\.bin(\.tmp)?$/;

export interface CheckpointTensor {
  /** `weights/<variable>` or `momentum/<variable>`. */
  name: string;
  shape: number[];
  /** Float32 element offset into checkpoint.bin. */
  offset: number;
  length: number;
}

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /**
   * The network: 'ssd300', 'mini' (the mini SSD; numClasses 2, background and its one class),
   * 'mobilenet-v2' (SSD MobileNet V2), 'ssdlite-mobilenet-v2' (SSDLite MobileNet V2) or
   * 'ssd-mobilenet-v1' (SSD MobileNet V1); the
   * MobileNets' input size is `preprocess.size`.
   */
  arch: 'ssd300' | 'mini' | MobilenetArch;
  /** Classes including the background. */
  numClasses: number;
  width: number;
  /** Ssd300Options.batchNorm (absent in checkpoints written before it existed: false). */
  batchNorm?: boolean;
  /** The pre-processing the network was trained with (absent: DEFAULT_PREPROCESS, ssd.pytorch's). */
  preprocess?: PreprocessSpec;
  /** Class names, 'background' first. */
  classes: string[];
  /** Completed optimisation steps. */
  step: number;
  /** The epoch the next step belongs to (0-based). */
  epoch: number;
  /** The options of the run that wrote it (JSON-safe subset of TrainOptions). */
  options: Record<string, unknown>;
  /** Loss of the last completed step, for a glance. */
  lastLoss?: { total: number; loc: number; conf: number };
  savedAt: string;
  tensors: CheckpointTensor[];
  /** The binary this JSON belongs to (absent in version 1: `checkpoint.bin`, unchecked). */
  bin?: { file: string; bytes: number; sha256: string };
}

export interface Checkpoint {
  meta: CheckpointMeta;
  /** Model variables by name (Ssd300.loadWeights takes this). */
  weights: Record<string, Float32Array>;
  /** Momentum buffers by variable name (empty for a checkpoint saved without optimiser state). */
  momentum: Record<string, Float32Array>;
}

/**
 * The first non-finite value among `values` (`{ name, index, value }`), or undefined when all are
 * finite.
 */
export function findNonFinite(
  values: Record<string, Float32Array>,
): { name: string; index: number; value: number } | undefined {
  for (const [name, data] of Object.entries(values)) {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) return { name, index: i, value: data[i] };
    }
  }
  return undefined;
}

/**
 * Writes a checkpoint into `dir` (created if needed), replacing the one there as one atomic unit
 * (see the module comment). Throws a RangeError, writing nothing, when a weight or momentum value
 * is NaN or ±Infinity.
 */
export async function saveCheckpoint(
  dir: string,
  meta: Omit<CheckpointMeta, 'format' | 'version' | 'tensors' | 'savedAt'>,
  weights: Record<string, Float32Array>,
  momentum: Record<string, Float32Array>,
  shapes: Record<string, readonly number[]>,
): Promise<string> {
  for (const [group, values] of [
    ['weights', weights],
    ['momentum', momentum],
  ] as const) {
    const bad = findNonFinite(values);
    if (bad)
      throw new RangeError(
        `checkpoint: ${group}/${bad.name}[${bad.index}] is ${bad.value}; a checkpoint with non-finite values is not saved (in '${dir}')`,
      );
  }
  await mkdir(dir, { recursive: true });
  const tensors: CheckpointTensor[] = [];
  let total = 0;
  const add = (group: string, values: Record<string, Float32Array>) => {
    for (const [name, data] of Object.entries(values)) {
      tensors.push({
        name: `${group}/${name}`,
        shape: [...(shapes[name] ?? [data.length])],
        offset: total,
        length: data.length,
      });
      total += data.length;
    }
  };
  add('weights', weights);
  add('momentum', momentum);
  const bin = new Float32Array(total);
  const all = { ...prefix('weights', weights), ...prefix('momentum', momentum) };
  for (const t of tensors) bin.set(all[t.name], t.offset);
  const bytes = new Uint8Array(bin.buffer, bin.byteOffset, bin.byteLength);
  const binFile = `checkpoint-${meta.step}-${randomBytes(4).toString('hex')}.bin`;
  const full: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    ...meta,
    savedAt: new Date().toISOString(),
    tensors,
    bin: { file: binFile, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') },
  };
  const binPath = join(dir, binFile),
    jsonPath = join(dir, CHECKPOINT_JSON);
  await writeFile(`${binPath}.tmp`, bytes);
  await rename(`${binPath}.tmp`, binPath);
  await writeFile(`${jsonPath}.tmp`, `${JSON.stringify(full, null, 1)}\n`);
  await rename(`${jsonPath}.tmp`, jsonPath); // the commit: from here on the new checkpoint is the one
  for (const name of await readdir(dir)) {
    if (name !== binFile && BIN_FILE.test(name)) await unlink(join(dir, name)).catch(() => {});
  }
  return jsonPath;
}

function prefix(group: string, values: Record<string, Float32Array>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${group}/${k}`, v]));
}

/** True when `dir` holds a checkpoint.json. */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  try {
    await readFile(join(dir, CHECKPOINT_JSON));
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads the checkpoint in `dir` (a directory, or the path of its checkpoint.json). Throws an
 * error naming the file when it is missing, of another format, or its binary is short.
 */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const root = dir.endsWith('.json') ? join(dir, '..') : dir;
  const jsonPath = join(root, CHECKPOINT_JSON);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(await readFile(jsonPath, 'utf8')) as CheckpointMeta;
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new Error(
      code === 'ENOENT'
        ? `no checkpoint in '${root}' (${jsonPath} is missing)`
        : `checkpoint ${jsonPath} is unreadable: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (meta.format !== CHECKPOINT_FORMAT || !(meta.version === 1 || meta.version === CHECKPOINT_VERSION)) {
    throw new Error(
      `${jsonPath} is not an ${CHECKPOINT_FORMAT} v1 or v${CHECKPOINT_VERSION} file (format ${meta.format}, version ${meta.version})`,
    );
  }
  if (
    meta.version !== 1 &&
    !(meta.bin && typeof meta.bin.file === 'string' && !meta.bin.file.includes('/') && BIN_FILE.test(meta.bin.file))
  ) {
    throw new Error(`${jsonPath} names no binary (bin.file)`);
  }
  const binPath = join(root, meta.bin?.file ?? CHECKPOINT_BIN);
  let bytes: Buffer;
  try {
    bytes = await readFile(binPath);
  } catch (error) {
    throw new Error(`checkpoint binary ${binPath} is unreadable: ${(error as Error).message}`, { cause: error });
  }
  if (
    meta.bin &&
    (bytes.byteLength !== meta.bin.bytes || createHash('sha256').update(bytes).digest('hex') !== meta.bin.sha256)
  ) {
    throw new Error(
      `checkpoint binary ${binPath} is not the one ${jsonPath} (step ${meta.step}) recorded: ` +
        `${bytes.byteLength} bytes, ${meta.bin.bytes} expected, or another SHA-256; the two files do not belong together`,
    );
  }
  const values = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(values.buffer).set(bytes.subarray(0, values.length * 4));
  const weights: Record<string, Float32Array> = {},
    momentum: Record<string, Float32Array> = {};
  for (const t of meta.tensors) {
    if (t.offset + t.length > values.length)
      throw new Error(
        `${binPath} is short: ${t.name} needs values up to ${t.offset + t.length}, it has ${values.length}`,
      );
    const slash = t.name.indexOf('/');
    const group = t.name.slice(0, slash),
      name = t.name.slice(slash + 1);
    const data = values.slice(t.offset, t.offset + t.length);
    if (group === 'weights') weights[name] = data;
    else if (group === 'momentum') momentum[name] = data;
  }
  for (const [group, values] of [
    ['weights', weights],
    ['momentum', momentum],
  ] as const) {
    const bad = findNonFinite(values);
    if (bad)
      throw new Error(
        `checkpoint ${binPath} holds ${bad.value} in ${group}/${bad.name}[${bad.index}] (step ${meta.step}); refusing a checkpoint with non-finite values`,
      );
  }
  return { meta, weights, momentum };
}

export type CheckpointModel =
  | { arch: 'ssd300'; model: Ssd300; meta: CheckpointMeta }
  | { arch: 'mini'; model: MiniSsd; meta: CheckpointMeta }
  | { arch: MobilenetArch; model: MobilenetSsd; meta: CheckpointMeta };

/** The checkpoint's network with its weights loaded (the caller disposes `model`). */
export async function loadCheckpointModel(dir: string): Promise<CheckpointModel> {
  const { meta, weights } = await loadCheckpoint(dir);
  const archs: readonly string[] = TRAINING_ARCHS;
  if (!archs.includes(meta.arch))
    throw new Error(`checkpoint in '${dir}' holds arch '${String(meta.arch)}'; this version reads ${archs.join(', ')}`);
  const batchNorm = meta.batchNorm ?? false;
  const loaded: CheckpointModel =
    meta.arch === 'mini'
      ? { arch: 'mini', model: createMiniSsd({ width: meta.width }), meta }
      : isMobilenetArch(meta.arch)
        ? {
            arch: meta.arch,
            meta,
            model: createMobilenetSsd({
              numClasses: meta.numClasses,
              width: meta.width,
              batchNorm,
              ...mobilenetVariant(meta.arch),
              inputSize: meta.preprocess?.size[0] ?? MOBILENET_SSD_INPUT_SIZE,
            }),
          }
        : { arch: 'ssd300', model: createSsd300({ numClasses: meta.numClasses, width: meta.width, batchNorm }), meta };
  const { model } = loaded;
  try {
    model.loadWeights(weights);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return loaded;
}

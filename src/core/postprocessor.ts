/**
 * createPostprocessor: the public host of the wasm core. Validates input before it reaches
 * wasm (a trap would leave the instance unusable), copies the model output into the arena
 * once, runs the whole batch in one call, and reads the results as views.
 */
import { resolveConfig, scoreGate, type ResolvedConfig } from './config.js';
import { instantiateCore, type Core, type CoreBuild, type LoadCoreOptions } from './loader.js';
import { layout, recordWords, writePlan, type Layout } from './plan.js';
import { presetByName } from './presets.js';
import { generatePriorsWith } from './priors.js';
import type { Detection, PostprocessConfig } from './types.js';

export interface Postprocessor {
  /** Which core build runs: 'simd' or 'baseline'. */
  readonly build: CoreBuild;
  /** The validated configuration, defaults filled in. */
  readonly config: Readonly<ResolvedConfig>;
  /** Prior rows (cx, cy, w, h) the offsets are decoded against. */
  readonly priors: Float32Array;
  /**
   * Detections per image, best first. `loc` holds batch × numPriors × 4 offsets (4 + 2 per
   * keypoint with `keypoints`), `conf` holds
   * batch × numPriors × numClasses scores (both row-major, as SSD heads output them).
   * `batch` defaults to what the lengths imply.
   */
  run(loc: ArrayLike<number>, conf: ArrayLike<number>, batch?: number): Detection[][];
  /** Releases the core instance; later calls throw. */
  dispose(): void;
}

export type PostprocessorOptions = LoadCoreOptions;

function lengthOf(value: unknown, name: string): number {
  if (value === null || typeof value !== 'object' || typeof (value as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`${name} must be a Float32Array (or an array of numbers), got ${value === null ? 'null' : typeof value}`);
  }
  const values = value as ArrayLike<unknown>;
  // a typed array holds numbers; a plain array may hold anything, and Float32Array.set reads null as 0
  if (!ArrayBuffer.isView(value)) {
    for (let i = 0; i < values.length; i++) {
      if (typeof values[i] !== 'number') {
        throw new TypeError(`${name}[${i}] is ${values[i] === null ? 'null' : typeof values[i]}; model outputs must be numbers`);
      }
    }
  }
  return values.length;
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

class WasmPostprocessor implements Postprocessor {
  readonly build: CoreBuild;
  readonly priors: Float32Array;
  private core: Core | null;
  private regions: Layout & Record<string, number>;
  private readonly gate: number;

  constructor(core: Core, readonly config: ResolvedConfig, private readonly name: string) {
    this.core = core;
    this.build = core.build;
    this.priors = config.priors;
    this.gate = scoreGate(config);
    this.regions = this.reserve(1);
  }

  private reserve(batch: number): Layout & Record<string, number> {
    const core = this.core!;
    const regions = layout(this.config, core.heapBase, batch);
    writePlan(core, this.config, this.gate, regions);
    return regions;
  }

  run(loc: ArrayLike<number>, conf: ArrayLike<number>, batch?: number): Detection[][] {
    const core = this.core;
    if (!core) throw new Error('this postprocessor was disposed; create a new one');
    const { numPriors: P, numClasses: C, locValues: V } = this.config;
    if (batch !== undefined && typeof batch !== 'number') {
      throw new TypeError(`batch is ${typeof batch === 'string' ? `the string '${batch}'` : describe(batch)}; it must be a number (an integer ≥ 1)`);
    }
    const locLength = lengthOf(loc, 'loc');
    const confLength = lengthOf(conf, 'conf');
    const images = batch ?? locLength / (P * V);
    if (!Number.isInteger(images) || images < 1) {
      throw new RangeError(batch === undefined
        ? `loc has ${locLength} values, not a whole number of images for ${this.name} (${P} priors × ${V} = ${P * V} per image)`
        : `batch is ${batch}; it must be an integer ≥ 1`);
    }
    if (locLength !== images * P * V) {
      throw new RangeError(`loc has ${locLength} values; ${this.name} needs ${images} × ${P} priors × ${V} = ${images * P * V}` +
        (V > 4 ? ` (4 box values and ${(V - 4) / 2} keypoints per prior)` : ''));
    }
    if (confLength !== images * P * C) {
      throw new RangeError(`conf has ${confLength} values; ${this.name} needs ${images} × ${P} priors × ${C} classes = ${images * P * C}` +
        (confLength % (P * images) === 0 ? ` (it has ${confLength / (P * images)} per prior: is numClasses right?)` : ''));
    }
    if (images > this.regions.batch) this.regions = this.reserve(images);
    const r = this.regions;
    const buffer = core.memory.buffer;
    new Float32Array(buffer, r.loc, locLength).set(loc);
    new Float32Array(buffer, r.conf, confLength).set(conf);
    this.rejectNonFinite(core, r.loc, locLength, 'loc', V);
    this.rejectNonFinite(core, r.conf, confLength, 'conf', C);

    core.exports.detectBatch(r.plan, images);

    const counts = new Int32Array(buffer, r.outCounts, images);
    const perImage = this.config.outputCapacity;
    const RECORD_WORDS = recordWords(this.config);
    const numKeypoints = (RECORD_WORDS - 7) / 2;
    const words = new Int32Array(buffer, r.out, images * perImage * RECORD_WORDS);
    const reals = new Float32Array(buffer, r.out, words.length);
    const labels = this.config.labels;
    const results: Detection[][] = [];
    for (let image = 0; image < images; image++) {
      const detections: Detection[] = [];
      for (let i = 0; i < counts[image]; i++) {
        const at = (image * perImage + i) * RECORD_WORDS;
        const classId = words[at];
        const detection: Detection = {
          classId,
          score: reals[at + 2],
          box: [reals[at + 3], reals[at + 4], reals[at + 5], reals[at + 6]],
          priorIndex: words[at + 1],
        };
        if (labels) detection.label = labels[classId];
        if (numKeypoints > 0) {
          detection.keypoints = Array.from({ length: numKeypoints }, (_, k) => [reals[at + 7 + 2 * k], reals[at + 8 + 2 * k]]);
        }
        detections.push(detection);
      }
      results.push(detections);
    }
    return results;
  }

  private rejectNonFinite(core: Core, ptr: number, length: number, name: string, perPrior: number): void {
    const index = core.exports.findNonFinite(ptr, length);
    if (index < 0) return;
    const value = new Float32Array(core.memory.buffer, ptr, length)[index];
    const P = this.config.numPriors;
    const image = Math.floor(index / (P * perPrior));
    const prior = Math.floor(index / perPrior) % P;
    throw new RangeError(`${name}[${index}] (image ${image}, prior ${prior}, ${name === 'loc' ? 'offset' : 'class'} ` +
      `${index % perPrior}) is ${value}; model outputs must be finite`);
  }

  dispose(): void {
    this.core = null;
  }
}

/**
 * A post-processor for one SSD configuration: a preset name, a preset object, or a full
 * PostprocessConfig. Loads the SIMD core where supported (see `build`).
 * @example
 * const post = await createPostprocessor(presets.ssd300Voc);
 * const [detections] = post.run(loc, conf); // one Detection[] per image
 */
export async function createPostprocessor(config: PostprocessConfig | string,
                                          options: PostprocessorOptions = {}): Promise<Postprocessor> {
  const name = typeof config === 'string' ? `preset '${config}'` : 'this config';
  const given = typeof config === 'string' ? presetByName(config) : config;
  if (given === null || typeof given !== 'object') throw new TypeError('config must be a PostprocessConfig or a preset name');
  if (Array.isArray(given.priors)) {
    throw new TypeError(`priors is a plain array of ${(given.priors as unknown[]).length} values; pass new Float32Array(priors) ` +
      '((cx, cy, w, h) rows, normalised) or a PriorConfig { family, ... }');
  }
  if (given.priors === null || typeof given.priors !== 'object') {
    throw new TypeError(`priors must be a Float32Array of (cx, cy, w, h) rows or a PriorConfig { family, ... }, got ${describe(given.priors)}`);
  }
  const core = await instantiateCore(options);
  const priors = given.priors instanceof Float32Array ? given.priors : generatePriorsWith(core, given.priors);
  return new WasmPostprocessor(core, resolveConfig(given, priors), name);
}

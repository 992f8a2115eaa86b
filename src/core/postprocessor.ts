/**
 * createPostprocessor: the public host of the wasm core. Validates input before it reaches
 * wasm (a trap would leave the instance unusable), copies the model output into the arena
 * once, runs the whole batch in one call, and reads the results as views.
 */
import { resolveConfig, scoreGate, type ResolvedConfig } from './config.js';
import { expf } from './expf.js';

const f32 = Math.fround;
import { instantiateCore, type Core, type CoreBuild, type LoadCoreOptions } from './loader.js';
import {
  layout,
  PLAN_WORDS,
  QUANT_FIELDS,
  QUANT_PLAN_OFFSET,
  recordWords,
  writeBlock,
  writePlan,
  type Layout,
} from './plan.js';
import { presetByName } from './presets.js';
import { generatePriorsWith } from './priors.js';
import type { Detection, PostprocessConfig } from './types.js';
import { rejectUnknownKeys } from '../util/strict-keys.js';

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
  /**
   * The same detections from a quantised model's uint8 heads, without dequantising them first:
   * exactly `run(dequantize(loc, locQuant), dequantize(conf, confQuant), batch)`. The float
   * score threshold becomes one uint8 threshold per class (the smallest byte whose dequantised,
   * activated score passes), the rows are compared in uint8, and only the rows with a passing
   * class are dequantised and post-processed. Softmax scores (a row's scores depend on each
   * other) and MediaPipe's decoding take the plain path: dequantise, then run().
   */
  runQuantized(
    loc: Uint8Array,
    locQuant: Quantization,
    conf: Uint8Array,
    confQuant: Quantization,
    batch?: number,
  ): Detection[][];
  /**
   * The uint8 score threshold per class for `confQuant` (what runQuantized compares against): a
   * byte q of class c passes iff q ≥ result[c]; 256 = never (the background class, or a threshold
   * above every score); null when the scores cannot be thresholded in uint8 (softmax, MediaPipe,
   * or an activation that is not monotone on this grid).
   */
  quantizedThresholds(confQuant: Quantization): Uint16Array | null;
  /**
   * Changes the score and/or NMS threshold of later runs in place: the same core and arena, the
   * plan rewritten (a threshold slider costs no new instance). Validates first: a bad value
   * throws (RangeError naming it) and leaves the thresholds as they were.
   */
  setThresholds(thresholds: PostprocessThresholds): void;
  /** Releases the core instance; later calls throw. */
  dispose(): void;
}

/** The thresholds setThresholds() changes; a field left out keeps its value. */
export interface PostprocessThresholds {
  scoreThreshold?: PostprocessConfig['scoreThreshold'];
  nmsThreshold?: number;
}

export type PostprocessorOptions = LoadCoreOptions;

/** A uint8 tensor's quantisation: real value = scale · (q − zeroPoint). */
export interface Quantization {
  scale: number;
  zeroPoint: number;
}

function checkQuantization(quant: Quantization, name: string): void {
  if (
    quant === null ||
    typeof quant !== 'object' ||
    !(quant.scale > 0 && quant.scale < Infinity) ||
    !Number.isInteger(quant.zeroPoint) ||
    quant.zeroPoint < 0 ||
    quant.zeroPoint > 255
  ) {
    throw new RangeError(
      `${name} is ${JSON.stringify(quant)}; it must be { scale, zeroPoint }: a finite scale > 0 and an integer zero point in [0, 255]`,
    );
  }
}

/** The f32 value of every byte: (q − zeroPoint) · scale in f32, as ONNX DequantizeLinear computes it. */
export function dequantizeTable(quant: Quantization): Float32Array {
  checkQuantization(quant, 'the quantisation');
  const scale = f32(quant.scale);
  return Float32Array.from({ length: 256 }, (_, q) => (q - quant.zeroPoint) * scale);
}

/** A uint8 tensor as f32 values: (q − zeroPoint) · scale in f32 (ONNX DequantizeLinear). */
export function dequantize(values: Uint8Array, quant: Quantization): Float32Array {
  const table = dequantizeTable(quant);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = table[values[i]];
  return out;
}

function lengthOf(value: unknown, name: string): number {
  if (value === null || typeof value !== 'object' || typeof (value as ArrayLike<number>).length !== 'number') {
    throw new TypeError(
      `${name} must be a Float32Array (or an array of numbers), got ${value === null ? 'null' : typeof value}`,
    );
  }
  const values = value as ArrayLike<unknown>;
  // a typed array holds numbers; a plain array may hold anything, and Float32Array.set reads null as 0
  if (!ArrayBuffer.isView(value)) {
    for (let i = 0; i < values.length; i++) {
      if (typeof values[i] !== 'number') {
        throw new TypeError(
          `${name}[${i}] is ${values[i] === null ? 'null' : typeof values[i]}; model outputs must be numbers`,
        );
      }
    }
  }
  return values.length;
}

const align16 = (n: number) => (n + 15) & ~15;

/**
 * Per class, the smallest byte q whose score passes the class threshold with every byte above
 * it passing too, evaluated with the core's own f32 arithmetic (the activation of
 * reference/f32.ts, bit for bit the core's): q ≥ result[c] is then exactly "the dequantised
 * score passes". 256: no byte passes (and the background). null: scores that cannot be
 * thresholded one by one (softmax, MediaPipe) or an activation not monotone on this grid.
 */
function quantizedThresholds(config: ResolvedConfig, table: Float32Array): Uint16Array | null {
  if (config.activation === 'softmax' || config.mediapipe !== null) return null;
  const scores = config.activation === 'sigmoid' ? table.map((l) => f32(1 / f32(1 + expf(-l)))) : table;
  const gates = new Uint16Array(config.numClasses).fill(256);
  const known = new Map<number, number>();
  for (let c = 0; c < config.numClasses; c++) {
    if (c === config.backgroundClass) continue;
    // every mode compares score > thresholds[c] (TFLite's and MediaPipe's ≥ are stored as the f32 below)
    const threshold = config.thresholds[c];
    let gate = known.get(threshold);
    if (gate === undefined) {
      gate = 256;
      while (gate > 0 && scores[gate - 1] > threshold) gate--;
      for (let q = 0; q < gate; q++) if (scores[q] > threshold) return null; // not monotone: no single byte threshold
      known.set(threshold, gate);
    }
    gates[c] = gate;
  }
  return gates;
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

class WasmPostprocessor implements Postprocessor {
  readonly build: CoreBuild;
  readonly priors: Float32Array;
  private core: Core | null;
  private regions: Layout & Record<string, number>;
  private gate: number;
  private gateCache: { key: string; gates: Uint16Array | null } | null = null;

  /** `given` is the config as passed (setThresholds re-resolves it with new thresholds). */
  constructor(
    core: Core,
    public config: ResolvedConfig,
    private given: PostprocessConfig,
    private readonly name: string,
  ) {
    this.core = core;
    this.build = core.build;
    this.priors = config.priors;
    this.gate = scoreGate(config);
    this.regions = this.reserve(1);
  }

  coreAfterArena(): Core {
    const live = (): Core => {
      if (!this.core) throw new Error('this postprocessor was disposed; create a new one');
      return this.core;
    };
    const base = () => align16(this.regions.end);
    return {
      build: this.build,
      get exports() {
        return live().exports;
      },
      get memory() {
        return live().memory;
      },
      get heapBase() {
        return base();
      },
      scratch(bytes: number, purpose?: string): number {
        const core = live();
        const at = base();
        core.scratch(at - core.heapBase + bytes, purpose);
        return at;
      },
    };
  }

  setThresholds(thresholds: PostprocessThresholds): void {
    const core = this.core;
    if (!core) throw new Error('this postprocessor was disposed; create a new one');
    if (thresholds === null || typeof thresholds !== 'object') {
      throw new TypeError(`setThresholds takes { scoreThreshold?, nmsThreshold? }, got ${describe(thresholds)}`);
    }
    rejectUnknownKeys(thresholds, ['scoreThreshold', 'nmsThreshold'], 'setThresholds');
    const given = { ...this.given };
    if (thresholds.scoreThreshold !== undefined) given.scoreThreshold = thresholds.scoreThreshold;
    if (thresholds.nmsThreshold !== undefined) given.nmsThreshold = thresholds.nmsThreshold;
    const config = resolveConfig(given, this.priors); // throws before anything changes
    this.given = given;
    this.config = config;
    this.gate = scoreGate(config);
    this.gateCache = null;
    writePlan(core, config, this.gate, this.regions);
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
    const locLength = lengthOf(loc, 'loc');
    const confLength = lengthOf(conf, 'conf');
    const images = this.checkLengths(locLength, confLength, batch);
    if (images > this.regions.batch) this.regions = this.reserve(images);
    const r = this.regions;
    const buffer = core.memory.buffer;
    new Float32Array(buffer, r.loc, locLength).set(loc);
    new Float32Array(buffer, r.conf, confLength).set(conf);
    // the SSD modes' score scan checks the input on its way (and is safe on NaN and ±∞); the
    // others are checked first. Either way nothing is read back from a non-finite input.
    const scanChecks = this.config.tflite === null && this.config.mediapipe === null;
    if (!scanChecks) this.rejectNonFinite(core, r, locLength, confLength);
    const finite = core.exports.detectBatch(r.plan, images);
    // not finite: a NaN or ±∞ somewhere, or finite values whose sum overflowed (then the results stand)
    if (scanChecks && !finite) this.rejectNonFinite(core, r, locLength, confLength);
    return this.collect(core, images);
  }

  /** The number of images `loc` and `conf` hold; throws when their lengths disagree with the config or `batch`. */
  private checkLengths(locLength: number, confLength: number, batch: number | undefined): number {
    const { numPriors: P, numClasses: C, locValues: V } = this.config;
    if (batch !== undefined && typeof batch !== 'number') {
      throw new TypeError(
        `batch is ${typeof batch === 'string' ? `the string '${batch}'` : describe(batch)}; it must be a number (an integer ≥ 1)`,
      );
    }
    const images = batch ?? locLength / (P * V);
    if (!Number.isInteger(images) || images < 1) {
      throw new RangeError(
        batch === undefined
          ? `loc has ${locLength} values, not a whole number of images for ${this.name} (${P} priors × ${V} = ${P * V} per image)`
          : `batch is ${batch}; it must be an integer ≥ 1`,
      );
    }
    if (locLength !== images * P * V) {
      throw new RangeError(
        `loc has ${locLength} values; ${this.name} needs ${images} × ${P} priors × ${V} = ${images * P * V}` +
          (V > 4 ? ` (4 box values and ${(V - 4) / 2} keypoints per prior)` : ''),
      );
    }
    if (confLength !== images * P * C) {
      throw new RangeError(
        `conf has ${confLength} values; ${this.name} needs ${images} × ${P} priors × ${C} classes = ${images * P * C}` +
          (confLength % (P * images) === 0
            ? ` (it has ${confLength / (P * images)} per prior: is numClasses right?)`
            : ''),
      );
    }
    return images;
  }

  /** Reads the records of `images` images from the arena. */
  private collect(core: Core, images: number): Detection[][] {
    const buffer = core.memory.buffer;
    const r = this.regions;
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
          detection.keypoints = Array.from({ length: numKeypoints }, (_, k) => [
            reals[at + 7 + 2 * k],
            reals[at + 8 + 2 * k],
          ]);
        }
        detections.push(detection);
      }
      results.push(detections);
    }
    return results;
  }

  runQuantized(
    loc: Uint8Array,
    locQuant: Quantization,
    conf: Uint8Array,
    confQuant: Quantization,
    batch?: number,
  ): Detection[][] {
    const core = this.core;
    if (!core) throw new Error('this postprocessor was disposed; create a new one');
    if (!(loc instanceof Uint8Array) || !(conf instanceof Uint8Array)) {
      throw new TypeError(
        `runQuantized takes the uint8 heads as Uint8Arrays, got ${loc?.constructor?.name ?? describe(loc)} and ${conf?.constructor?.name ?? describe(conf)}`,
      );
    }
    checkQuantization(locQuant, 'locQuant');
    checkQuantization(confQuant, 'confQuant');
    const gates = this.quantizedThresholds(confQuant);
    if (gates === null) return this.run(dequantize(loc, locQuant), dequantize(conf, confQuant), batch);
    const { numPriors: P, numClasses: C } = this.config;
    const images = this.checkLengths(loc.length, conf.length, batch);
    if (images > this.regions.batch) this.regions = this.reserve(images);
    const r = this.regions;
    // after the arena: quant block + plan copy | gates | 2 tables | rows | priors | loc | conf
    const gateBytes = align16(C) + 16;
    const at = { quant: r.end, gates: r.end + QUANT_PLAN_OFFSET + PLAN_WORDS * 4 } as Record<string, number>;
    at.locLut = at.gates + gateBytes;
    at.confLut = at.locLut + 1024;
    at.rows = at.confLut + 1024;
    at.priors = align16(at.rows + 4 * P);
    at.loc = at.priors + 16 * P;
    at.conf = align16(at.loc + loc.length + 16);
    const end = align16(at.conf + conf.length + 16);
    core.scratch(end - core.heapBase, `the uint8 heads of a batch of ${images} (${P} priors × ${C} classes)`);
    const buffer = core.memory.buffer;
    const bytes = new Uint8Array(buffer);
    let allPass = 0;
    bytes.fill(255, at.gates, at.gates + gateBytes);
    for (let c = 0; c < C; c++) {
      if (gates[c] === 0) allPass = 1;
      else if (gates[c] <= 255) bytes[at.gates + c] = gates[c] - 1;
    }
    new Float32Array(buffer, at.locLut, 256).set(dequantizeTable(locQuant));
    new Float32Array(buffer, at.confLut, 256).set(dequantizeTable(confQuant));
    bytes.set(loc, at.loc);
    bytes.set(conf, at.conf);
    writeBlock(buffer, at.quant, QUANT_FIELDS, {
      locQPtr: at.loc,
      confQPtr: at.conf,
      gatesPtr: at.gates,
      allPass,
      locLutPtr: at.locLut,
      confLutPtr: at.confLut,
      rowsPtr: at.rows,
      priorsPtr: at.priors,
    });
    core.exports.detectBatchQuantized(r.plan, images, at.quant);
    return this.collect(core, images);
  }

  quantizedThresholds(confQuant: Quantization): Uint16Array | null {
    checkQuantization(confQuant, 'confQuant');
    const key = `${confQuant.scale} ${confQuant.zeroPoint}`;
    if (this.gateCache?.key === key) return this.gateCache.gates;
    const gates = quantizedThresholds(this.config, dequantizeTable(confQuant));
    this.gateCache = { key, gates };
    return gates;
  }

  /** Throws a RangeError naming the first non-finite value of loc, else of conf, in the arena. */
  private rejectNonFinite(core: Core, r: Layout, locLength: number, confLength: number): void {
    this.rejectNonFiniteIn(core, r.loc, locLength, 'loc', this.config.locValues);
    this.rejectNonFiniteIn(core, r.conf, confLength, 'conf', this.config.numClasses);
  }

  private rejectNonFiniteIn(core: Core, ptr: number, length: number, name: string, perPrior: number): void {
    const index = core.exports.findNonFinite(ptr, length);
    if (index < 0) return;
    const value = new Float32Array(core.memory.buffer, ptr, length)[index];
    const P = this.config.numPriors;
    const image = Math.floor(index / (P * perPrior));
    const prior = Math.floor(index / perPrior) % P;
    throw new RangeError(
      `${name}[${index}] (image ${image}, prior ${prior}, ${name === 'loc' ? 'offset' : 'class'} ` +
        `${index % perPrior}) is ${value}; model outputs must be finite`,
    );
  }

  dispose(): void {
    this.core = null;
  }
}

/**
 * The post-processor's core as a Core whose scratch() hands out the memory after the arena, for
 * transient work between runs (the detector's pre-processing), so one instance serves both. Its
 * heapBase follows the arena when a larger batch moves its end; it throws once `post` is disposed.
 */
export function coreAfterArena(post: Postprocessor): Core {
  if (!(post instanceof WasmPostprocessor))
    throw new TypeError('coreAfterArena takes a postprocessor made by createPostprocessor');
  return post.coreAfterArena();
}

/**
 * A post-processor for one SSD configuration: a preset name, a preset object, or a full
 * PostprocessConfig. Loads the SIMD core where supported (see `build`).
 * @example
 * const post = await createPostprocessor(presets.ssd300Voc);
 * const [detections] = post.run(loc, conf); // one Detection[] per image
 */
export async function createPostprocessor(
  config: PostprocessConfig | string,
  options: PostprocessorOptions = {},
): Promise<Postprocessor> {
  const name = typeof config === 'string' ? `preset '${config}'` : 'this config';
  const given = typeof config === 'string' ? presetByName(config) : config;
  if (given === null || typeof given !== 'object')
    throw new TypeError('config must be a PostprocessConfig or a preset name');
  if (Array.isArray(given.priors)) {
    throw new TypeError(
      `priors is a plain array of ${(given.priors as unknown[]).length} values; pass new Float32Array(priors) ` +
        '((cx, cy, w, h) rows, normalised) or a PriorConfig { family, ... }',
    );
  }
  if (given.priors === null || typeof given.priors !== 'object') {
    throw new TypeError(
      `priors must be a Float32Array of (cx, cy, w, h) rows or a PriorConfig { family, ... }, got ${describe(given.priors)}`,
    );
  }
  const core = await instantiateCore(options);
  const priors = given.priors instanceof Float32Array ? given.priors : generatePriorsWith(core, given.priors);
  return new WasmPostprocessor(core, resolveConfig(given, priors), given, name);
}

/**
 * createMatcher: ground-truth matching for training targets, run by the same wasm core and the
 * same box coder as inference, so training and detection cannot disagree about box coding.
 */
import { resolveConfig, type ResolvedConfig } from './config.js';
import { instantiateCore, type Core, type LoadCoreOptions } from './loader.js';
import { blockBytes, MATCH_FIELDS } from './params.js';
import { writeBlock } from './plan.js';
import { presetByName } from './presets.js';
import { generatePriorsWith } from './priors.js';
import type { PostprocessConfig } from './types.js';

export interface MatchTargets {
  /** Class per prior: the matched truth's label, 0 for background. */
  conf: Int32Array;
  /** Offsets per prior (4 each) encoding its matched truth, in the config's box coding. */
  loc: Float32Array;
  /** Priors with a positive match. */
  numPositive: number;
}

export interface Matcher {
  readonly priors: Float32Array;
  /**
   * Matches ground truths to priors: each truth forces its best prior, every other prior takes
   * its best truth when IoU ≥ `threshold` (default 0.5). `truths` holds (xmin, ymin, xmax, ymax)
   * rows, normalised; `labels` one class in [1, numClasses) per truth.
   */
  match(truths: ArrayLike<number>, labels: ArrayLike<number>, threshold?: number): MatchTargets;
  dispose(): void;
}

class WasmMatcher implements Matcher {
  readonly priors: Float32Array;
  private core: Core | null;

  constructor(
    core: Core,
    private readonly config: ResolvedConfig,
  ) {
    this.core = core;
    this.priors = config.priors;
  }

  match(truths: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): MatchTargets {
    const core = this.core;
    if (!core) throw new Error('this matcher was disposed; create a new one');
    const { numPriors: P, numClasses: C, backgroundClass } = this.config;
    if (truths?.length === undefined || labels?.length === undefined)
      throw new TypeError('truths and labels must be arrays');
    if (truths.length % 4 !== 0)
      throw new RangeError(`truths has ${truths.length} values, not rows of (xmin, ymin, xmax, ymax)`);
    const G = truths.length / 4;
    if (labels.length !== G) throw new RangeError(`labels has ${labels.length} entries for ${G} truth boxes`);
    if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`threshold is ${threshold}; it must be in [0, 1]`);
    for (let t = 0; t < G; t++) {
      const [x1, y1, x2, y2] = [truths[4 * t], truths[4 * t + 1], truths[4 * t + 2], truths[4 * t + 3]];
      if (![x1, y1, x2, y2].every(Number.isFinite) || !(x2 > x1 && y2 > y1)) {
        throw new RangeError(
          `truth ${t} is (${x1}, ${y1}, ${x2}, ${y2}); it needs finite corners with xmax > xmin and ymax > ymin`,
        );
      }
      const label = labels[t];
      if (!Number.isInteger(label) || label < 0 || label >= C || label === backgroundClass) {
        throw new RangeError(
          `labels[${t}] is ${label}; it must be a foreground class in [0, ${C - 1}] other than the background ${backgroundClass}`,
        );
      }
    }
    // layout: params | priors | truths | labels | bestOverlap | bestTruth | conf | loc
    const sizes = [blockBytes(MATCH_FIELDS), P * 16, G * 16, G * 4, P * 4, P * 4, P * 4, P * 16].map(
      (n) => (n + 15) & ~15,
    );
    const base = core.scratch(sizes.reduce((a, b) => a + b, 0));
    const at: number[] = [];
    sizes.reduce((offset, n) => {
      at.push(offset);
      return offset + n;
    }, base);
    const [paramsAt, priorsAt, truthsAt, labelsAt, bestOverlapAt, bestTruthAt, confAt, locAt] = at;
    const buffer = core.memory.buffer;
    new Float32Array(buffer, priorsAt, P * 4).set(this.priors);
    new Float32Array(buffer, truthsAt, G * 4).set(truths);
    new Int32Array(buffer, labelsAt, G).set(labels);
    const {
      scales: [scaleX, scaleY, scaleW, scaleH],
      order,
    } = this.config.coding;
    writeBlock(buffer, paramsAt, MATCH_FIELDS, {
      priorsPtr: priorsAt,
      numPriors: P,
      truthsPtr: truthsAt,
      labelsPtr: labelsAt,
      threshold,
      order: order === 'yxhw' ? 1 : 0,
      scaleX,
      scaleY,
      scaleW,
      scaleH,
      bestOverlapPtr: bestOverlapAt,
      bestTruthPtr: bestTruthAt,
      confOutPtr: confAt,
      locOutPtr: locAt,
    });
    const numPositive = core.exports.matchPriors(paramsAt, G);
    return {
      conf: new Int32Array(buffer, confAt, P).slice(),
      loc: new Float32Array(buffer, locAt, P * 4).slice(),
      numPositive,
    };
  }

  dispose(): void {
    this.core = null;
  }
}

/** A matcher for the priors and box coding of a preset or PostprocessConfig. */
export async function createMatcher(
  config: PostprocessConfig | string,
  options: LoadCoreOptions = {},
): Promise<Matcher> {
  const given = typeof config === 'string' ? presetByName(config) : config;
  const core = await instantiateCore(options);
  const priors = given.priors instanceof Float32Array ? given.priors : generatePriorsWith(core, given.priors);
  const resolved = resolveConfig(given, priors);
  if (resolved.mediapipe && !resolved.mediapipe.exponential) {
    throw new RangeError(
      "the matcher encodes with variances or scale factors; a linearScales box coding (MediaPipe's) has no training targets here",
    );
  }
  return new WasmMatcher(core, resolved);
}

/**
 * The mini SSD: a compact single-class detector for very small devices. A stack of stride-2
 * 3×3 convolutions (batch normalisation, ReLU) turns a 128 × 96 image into one 4 × 3 grid of
 * cells; two 3×3 heads read it:
 *
 *   objectness [N, 3, 4, 1]  a logit per cell: sigmoid → P(an object's centre lies in the cell)
 *   offsets    [N, 3, 4, 2]  (dx, dy): the centre's offset from the cell's top-left corner, in
 *                            cells (0..1 inside the cell)
 *
 * Layout inside: NHWC, rows top to bottom, columns left to right; cell (i, j) is row i, column j,
 * index i·4 + j. The ONNX export (onnx/export-mini.ts) turns the heads into the SSD outputs the
 * runtime and the post-processing core take, with one prior per cell (see miniPriors).
 */
import * as tf from '@tensorflow/tfjs-core';
import { NetworkBuilder, VariableNetwork, type Network } from './builder.js';
import { applyConv, type ConvLayer, type ForwardMode } from './layers.js';

/** Grid columns × rows, and the input (width × height) that five stride-2 convolutions map onto it. */
export const MINI_GRID = { columns: 4, rows: 3 } as const;
export const MINI_INPUT_SIZE = [128, 96] as const;
/** Channels of the five stride-2 convolutions at width 1. */
const MINI_CHANNELS = [16, 32, 64, 96, 128] as const;

export interface MiniSsdOptions {
  /** Multiplies every trunk channel count (max(1, round(c · width))); in (0, 1]. Default 1. */
  width?: number;
  /** Seed of the weight initialisation. Default 0. */
  seed?: number;
  /** The objectness head's initial probability (its bias ln(p / (1 − p)), RetinaNet's prior). Default 0.1. */
  objectPrior?: number;
}

export interface MiniSsdOutput {
  /** `[N, 3, 4, 1]` logits. */
  objectness: tf.Tensor4D;
  /** `[N, 3, 4, 2]` centre offsets (dx, dy) in cells. */
  offsets: tf.Tensor4D;
}

export interface MiniSsd extends Network {
  /** The stride-2 trunk, then the two heads; the exporter walks these. */
  readonly trunk: readonly ConvLayer[];
  readonly objectnessHead: ConvLayer;
  readonly offsetHead: ConvLayer;
  /** `images`: `[N, 96, 128, 3]` (NHWC), pre-processed. The caller disposes the outputs. */
  apply(images: tf.Tensor4D, mode?: ForwardMode): MiniSsdOutput;
}

/** The priors of the grid, (cx, cy, w, h) rows normalised, cell order: one cell-sized box per cell. */
export function miniPriors(): Float32Array {
  const { columns, rows } = MINI_GRID;
  const priors = new Float32Array(columns * rows * 4);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++)
      priors.set([(j + 0.5) / columns, (i + 0.5) / rows, 1 / columns, 1 / rows], (i * columns + j) * 4);
  }
  return priors;
}

/**
 * The heads as the SSD outputs the export writes (the ONNX tail of onnx/export-mini.ts, in tfjs):
 * loc [N, 12, 4] = (dx − 0.5, dy − 0.5, 0, 0), conf [N, 12, 2] = (0, logit). The caller disposes them.
 */
export function miniSsdRows({ objectness, offsets }: MiniSsdOutput): { loc: tf.Tensor3D; conf: tf.Tensor3D } {
  return tf.tidy(() => {
    const n = objectness.shape[0],
      cells = MINI_GRID.columns * MINI_GRID.rows;
    const logits = tf.reshape(objectness, [n, cells, 1]),
      centre = tf.reshape(offsets, [n, cells, 2]);
    return {
      loc: tf.concat([tf.sub(centre, 0.5), tf.zerosLike(centre)], 2) as tf.Tensor3D,
      conf: tf.concat([tf.zerosLike(logits), logits], 2) as tf.Tensor3D,
    };
  });
}

let instances = 0;

class MiniSsdNetwork extends VariableNetwork implements MiniSsd {
  constructor(
    readonly width: number,
    readonly trunk: readonly ConvLayer[],
    readonly objectnessHead: ConvLayer,
    readonly offsetHead: ConvLayer,
    variables: ReadonlyMap<string, tf.Variable>,
  ) {
    super('mini SSD', variables);
  }

  apply(images: tf.Tensor4D, mode: ForwardMode = {}): MiniSsdOutput {
    this.checkLive();
    const [, h, w, c] = images.shape;
    if (images.rank !== 4 || w !== MINI_INPUT_SIZE[0] || h !== MINI_INPUT_SIZE[1] || c !== 3) {
      throw new RangeError(
        `images has shape [${images.shape.join(', ')}]; the mini SSD needs [N, ${MINI_INPUT_SIZE[1]}, ${MINI_INPUT_SIZE[0]}, 3] (NHWC)`,
      );
    }
    return tf.tidy(() => {
      let x = images;
      for (const layer of this.trunk) x = applyConv(x, layer, mode);
      return { objectness: applyConv(x, this.objectnessHead), offsets: applyConv(x, this.offsetHead) };
    });
  }
}

/** Builds the mini SSD with fresh weights (He for the trunk, σ = 0.01 for the heads). */
export function createMiniSsd({ width = 1, seed = 0, objectPrior = 0.1 }: MiniSsdOptions = {}): MiniSsd {
  if (!(typeof width === 'number' && width > 0 && width <= 1)) throw new RangeError(`width ${width} must be in (0, 1]`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed ${seed} must be an integer`);
  if (!(objectPrior > 0 && objectPrior < 1))
    throw new RangeError(`objectPrior ${objectPrior} must be a probability in (0, 1)`);
  const b = new NetworkBuilder(`mini_${++instances}/`, seed);
  const trunk: ConvLayer[] = [];
  let channels = 3;
  MINI_CHANNELS.forEach((c, k) => {
    const out = Math.max(1, Math.round(c * width));
    trunk.push(b.conv(`conv${k + 1}`, 'he', channels, out, { stride: 2, pad: 1, batchNorm: true }));
    channels = out;
  });
  const head = (name: string, outChannels: number, bias: number) =>
    b.conv(name, 'small', channels, outChannels, {
      pad: 1,
      relu: false,
      bias: new Float32Array(outChannels).fill(bias),
    });
  // Offsets start at the cell's centre (0.5, 0.5).
  const objectnessHead = head('objectness', 1, Math.log(objectPrior / (1 - objectPrior)));
  const offsetHead = head('offsets', 2, 0.5);
  return new MiniSsdNetwork(width, trunk, objectnessHead, offsetHead, b.variables);
}

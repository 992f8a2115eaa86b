/**
 * What every ssd-edge network shares: a seeded builder of named tfjs variables and the layer
 * records that hold them (convolutions with optional batch normalisation, L2Norm), and the
 * weight save/load of a variable map (a checkpoint's `weights`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from '../util/random.js';
import { initFilter, type FilterInit } from './init.js';
import { SQRT_GUARD, type BatchNormLayer, type ConvLayer, type L2NormLayer } from './layers.js';

/** see: torch.nn.BatchNorm2d defaults */
const BATCH_NORM_EPS = 1e-5;
const BATCH_NORM_MOMENTUM = 0.1;
/** see: ssd.pytorch layers/modules/l2norm.py */
const L2NORM_EPS = 1e-10;

export interface ConvOptions {
  kernel?: number;
  stride?: number;
  /** Cells on every side, or 'same' (TensorFlow's SAME). Default 0. */
  pad?: number | 'same';
  dilation?: number;
  /** Default true. */
  relu?: boolean;
  /** The ReLU is ReLU6 (MobileNet's). Default false. */
  relu6?: boolean;
  /** Batch normalisation between the convolution and the ReLU. Default false. */
  batchNorm?: boolean;
  /** Initial bias values (outChannels of them). Default 0. */
  bias?: Float32Array;
}

/**
 * Creates the variables of one network instance. tfjs variable names are global to the engine,
 * so each instance gets its own prefix; `variables` maps the unprefixed names (`conv1_1.filter`).
 */
export class NetworkBuilder {
  readonly variables = new Map<string, tf.Variable>();
  private readonly rand: () => number;

  constructor(
    private readonly prefix: string,
    seed: number,
  ) {
    this.rand = mulberry32(seed);
  }

  private variable<R extends tf.Rank>(name: string, value: tf.Tensor<R>, trainable = true): tf.Variable<R> {
    const v = tf.variable(value, trainable, this.prefix + name);
    value.dispose();
    this.variables.set(name, v);
    return v;
  }

  conv(
    name: string,
    init: FilterInit,
    inChannels: number,
    outChannels: number,
    {
      kernel = 3,
      stride = 1,
      pad = 0,
      dilation = 1,
      relu = true,
      relu6 = false,
      batchNorm = false,
      bias,
    }: ConvOptions = {},
  ): ConvLayer {
    const values = initFilter(this.rand, init, kernel, inChannels, outChannels);
    return {
      kind: 'conv',
      name,
      kernel,
      stride,
      pad,
      dilation,
      relu,
      ...(relu6 ? { relu6 } : {}),
      filter: this.variable(`${name}.filter`, tf.tensor4d(values, [kernel, kernel, inChannels, outChannels])),
      bias: this.variable(`${name}.bias`, bias ? tf.tensor1d(bias) : tf.zeros([outChannels])),
      ...(batchNorm ? { batchNorm: this.batchNorm(name, outChannels) } : {}),
    };
  }

  /**
   * A depthwise convolution (depth multiplier 1): filter `[kernel, kernel, channels, 1]`, drawn
   * with fan-in kernel² (each output sees one channel's window).
   */
  depthwise(
    name: string,
    init: FilterInit,
    channels: number,
    {
      kernel = 3,
      stride = 1,
      pad = 0,
      relu = true,
      relu6 = false,
      batchNorm = false,
    }: Omit<ConvOptions, 'dilation' | 'bias'> = {},
  ): ConvLayer {
    // [k, k, 1, C] and [k, k, C, 1] have the same memory order.
    const values = initFilter(this.rand, init, kernel, 1, channels);
    return {
      kind: 'conv',
      name,
      kernel,
      stride,
      pad,
      dilation: 1,
      relu,
      ...(relu6 ? { relu6 } : {}),
      depthwise: true,
      filter: this.variable(`${name}.filter`, tf.tensor4d(values, [kernel, kernel, channels, 1])),
      bias: this.variable(`${name}.bias`, tf.zeros([channels])),
      ...(batchNorm ? { batchNorm: this.batchNorm(name, channels) } : {}),
    };
  }

  private batchNorm(name: string, channels: number): BatchNormLayer {
    return {
      gamma: this.variable(`${name}.bn.gamma`, tf.ones([channels])),
      beta: this.variable(`${name}.bn.beta`, tf.zeros([channels])),
      movingMean: this.variable(`${name}.bn.movingMean`, tf.zeros([channels]), false),
      movingVariance: this.variable(`${name}.bn.movingVariance`, tf.ones([channels]), false),
      eps: BATCH_NORM_EPS,
      momentum: BATCH_NORM_MOMENTUM,
    };
  }

  l2norm(name: string, channels: number, initialScale: number): L2NormLayer {
    return {
      kind: 'l2norm',
      name,
      eps: L2NORM_EPS,
      guard: SQRT_GUARD,
      scale: this.variable(`${name}.scale`, tf.fill([channels], initialScale)),
    };
  }
}

/** What every network built here offers around its variables (VariableNetwork implements it). */
export interface Network {
  /** The channel width multiplier it was built with. */
  readonly width: number;
  /** Every variable by name (`conv1_1.filter`, ..., `conv1_1.bn.movingMean`); filters are HWIO. */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** The variables an optimiser updates: all but the batch normalisation's moving statistics. */
  readonly trainableVariables: ReadonlyMap<string, tf.Variable>;
  /** Trainable values (what the exported network holds, batch normalisation folded or not). */
  readonly numParameters: number;
  /** A copy of every variable's values by name (a checkpoint). */
  saveWeights(): Promise<Record<string, Float32Array>>;
  /** Sets every variable from a checkpoint of this architecture; nothing changes on a mismatch. */
  loadWeights(weights: Readonly<Record<string, Float32Array>>): void;
  dispose(): void;
}

/**
 * What every network built here shares around its variables: the trainable subset (not batch
 * normalisation's moving statistics), the parameter count, checkpoint save/load, dispose, and
 * a clear error when used after dispose. `what` names the network in messages.
 */
export abstract class VariableNetwork {
  readonly trainableVariables: ReadonlyMap<string, tf.Variable>;
  /** Trainable values (what the exported network holds, batch normalisation folded or not). */
  readonly numParameters: number;
  private disposed = false;

  constructor(
    private readonly what: string,
    readonly variables: ReadonlyMap<string, tf.Variable>,
  ) {
    this.trainableVariables = new Map([...variables].filter(([, v]) => v.trainable));
    this.numParameters = [...this.trainableVariables.values()].reduce((n, v) => n + v.size, 0);
  }

  protected checkLive(): void {
    if (this.disposed) throw new Error(`this ${this.what} was disposed; create a new one`);
  }

  /** A copy of every variable's values by name (a checkpoint). */
  async saveWeights(): Promise<Record<string, Float32Array>> {
    this.checkLive();
    return saveVariables(this.variables);
  }

  /** Sets every variable from a checkpoint of this architecture; nothing changes on a mismatch. */
  loadWeights(weights: Readonly<Record<string, Float32Array>>): void {
    this.checkLive();
    loadVariables(this.variables, weights, this.what);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.variables.values()) v.dispose();
  }
}

/** A copy of every variable's values by name (a checkpoint). */
export async function saveVariables(
  variables: ReadonlyMap<string, tf.Variable>,
): Promise<Record<string, Float32Array>> {
  const weights: Record<string, Float32Array> = {};
  // The cpu backend hands out its own buffer: copy, so editing a checkpoint never edits the model.
  for (const [name, v] of variables) weights[name] = ((await v.data()) as Float32Array).slice();
  return weights;
}

/**
 * Sets every variable from `weights`; nothing changes on a mismatch (an unknown or missing
 * name, a wrong length), which throws a RangeError naming it. `what` names the network in messages.
 */
export function loadVariables(
  variables: ReadonlyMap<string, tf.Variable>,
  weights: Readonly<Record<string, Float32Array>>,
  what: string,
): void {
  for (const name of Object.keys(weights)) {
    if (!variables.has(name)) throw new RangeError(`checkpoint has '${name}', which this ${what} does not`);
  }
  for (const [name, v] of variables) {
    const values = weights[name];
    if (!(values instanceof Float32Array))
      throw new RangeError(`checkpoint lacks '${name}' (a Float32Array of ${v.size})`);
    if (values.length !== v.size) {
      throw new RangeError(
        `checkpoint '${name}' has ${values.length} values; this ${what} needs ${v.size} ` +
          `([${v.shape.join(', ')}]): was it saved with another width or numClasses?`,
      );
    }
  }
  for (const [name, v] of variables) tf.tidy(() => v.assign(tf.tensor(weights[name], v.shape)));
}

/**
 * `train --init-from vgg16_reducedfc.pth`: the VGG16 backbone weights ssd.pytorch trains from,
 * read from a PyTorch checkpoint (src/convert/pytorch/, nothing executed) into the tfjs SSD300's
 * conv1_1 … conv7. Accepted: the bare VGG state dict ssd.pytorch ships (`vgg16_reducedfc.pth`:
 * keys `0.weight` … `33.bias`, fc6/fc7 already reduced to conv6/conv7), or an ssd.pytorch SSD
 * checkpoint, whose `vgg.N` keys are taken and its other keys (L2Norm, extras, heads) left alone.
 * The L2Norm, the extras and the heads keep their fresh initialisation, as in ssd.pytorch's train.py
 * (`ssd_net.vgg.load_state_dict(vgg_weights)`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointMismatchError } from '../convert/pytorch/errors.js';
import { findStateDict, readPth } from '../convert/pytorch/read.js';
import { SSD_PYTORCH_VGG } from '../convert/pytorch/ssd.js';
import type { ConvLayer } from '../model/layers.js';
import type { Ssd300 } from '../model/ssd300.js';

export interface InitFromReport {
  /** '' for a bare VGG state dict, 'vgg.' for an ssd.pytorch SSD checkpoint. */
  prefix: string;
  /** The trunk layers loaded (conv1_1 … conv7). */
  layers: string[];
  parameters: number;
  /** Keys of an SSD checkpoint that are not the VGG's (left to their initialisation). */
  ignored: number;
}

/** OIHW (PyTorch) → HWIO (tfjs). */
function oihwToHwio(values: Float32Array, [o, i, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) out[((y * w + x) * i + b) * o + a] = values[((a * i + b) * h + y) * w + x];
      }
    }
  }
  return out;
}

/** Loads the VGG16 backbone of a `.pth` file's bytes into `model`'s conv1_1 … conv7; one error lists every mismatch. */
export function initFromPytorch(model: Ssd300, bytes: Uint8Array): InitFromReport {
  const { stateDict } = findStateDict(readPth(bytes).root);
  const prefix = stateDict.has('vgg.0.weight') ? 'vgg.' : '';
  const convs = model.layers.trunk.filter((l): l is ConvLayer => l.kind === 'conv' && l.name in SSD_PYTORCH_VGG);
  const missing: string[] = [],
    wrongShapes: string[] = [];
  const used = new Set<string>();
  const updates: [tf.Variable, Float32Array, readonly number[]][] = [];
  for (const layer of convs) {
    const key = `${prefix}${SSD_PYTORCH_VGG[layer.name]}`;
    const [k, , inChannels, outChannels] = layer.filter.shape;
    for (const [suffix, variable, expected] of [
      ['weight', layer.filter, [outChannels, inChannels, k, k]],
      ['bias', layer.bias, [outChannels]],
    ] as const) {
      const name = `${key}.${suffix}`;
      used.add(name);
      const tensor = stateDict.get(name);
      if (!tensor) {
        missing.push(name);
        continue;
      }
      if (tensor.shape.length !== expected.length || tensor.shape.some((d, i) => d !== expected[i])) {
        wrongShapes.push(`${name} is [${tensor.shape.join(', ')}], expected [${expected.join(', ')}] (${layer.name})`);
        continue;
      }
      const values = tensor.float32();
      updates.push([variable, suffix === 'weight' ? oihwToHwio(values, tensor.shape) : values, variable.shape]);
    }
  }
  const others = [...stateDict.keys()].filter((key) => !used.has(key));
  // An SSD checkpoint carries more than the VGG; a bare VGG file must be only that.
  const unexpected = prefix === '' ? others : others.filter((key) => key.startsWith('vgg.'));
  if (missing.length || unexpected.length || wrongShapes.length) {
    const mismatch = new CheckpointMismatchError('ssd300 (the VGG16 backbone)', missing, unexpected, wrongShapes);
    if (wrongShapes.length && model.width !== 1)
      mismatch.message += `; the model has width ${model.width}: pretrained VGG16 weights need width 1`;
    throw mismatch;
  }
  for (const [variable, values, shape] of updates) tf.tidy(() => variable.assign(tf.tensor(values, shape as number[])));
  return {
    prefix,
    layers: convs.map((l) => l.name),
    ignored: others.length,
    parameters: updates.reduce((n, [, values]) => n + values.length, 0),
  };
}

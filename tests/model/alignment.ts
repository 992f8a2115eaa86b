/**
 * Prior alignment without training: weights that make every output row say where it came from.
 *
 * All filters are zero and every trunk bias is 1, so every feature map is the constant 1 (the
 * L2Norm scale is set to √channels, which normalises conv4_3's constant to 1 as well). Each head
 * then writes, for box b of source k, the four values (k, b, top, left): k and b through its
 * bias, `top` through a filter tap on the cell above (0 on the map's first row, where that tap
 * reads zero padding) and `left` through a tap on the cell to the left (0 on the first column).
 * A row is aligned with prior i when (k, b) give prior i's size and (top, left) its first-row
 * and first-column status.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { SsdPriorConfig } from '../../src/core/types.js';
import type { ConvLayer } from '../../src/model/layers.js';
import type { Ssd300 } from '../../src/model/ssd300.js';

/** HWIO index of filter tap (dy, dx), input channel 0, output channel `out`. */
function tap(layer: ConvLayer, dy: number, dx: number, out: number): number {
  const [, kw, inChannels, outChannels] = layer.filter.shape;
  return (dy * kw + dx) * inChannels * outChannels + out;
}

function assign(layer: ConvLayer, filter: Float32Array, bias: Float32Array): void {
  tf.tidy(() => {
    layer.filter.assign(tf.tensor4d(filter, layer.filter.shape));
    layer.bias.assign(tf.tensor1d(bias));
  });
}

export function setAlignmentWeights(model: Ssd300): void {
  const { trunk, sources } = model.layers;
  for (const layer of trunk) {
    if (layer.kind === 'conv')
      assign(layer, new Float32Array(layer.filter.size), new Float32Array(layer.bias.size).fill(1));
  }
  for (const [k, source] of sources.entries()) {
    if (source.norm) {
      const scale = source.norm.scale;
      tf.tidy(() => scale.assign(tf.fill(scale.shape, Math.sqrt(scale.size))));
    }
    for (const [head, perBox] of [
      [source.loc, 4],
      [source.conf, model.numClasses],
    ] as const) {
      const filter = new Float32Array(head.filter.size),
        bias = new Float32Array(head.bias.size);
      for (let b = 0; b < source.boxesPerLocation; b++) {
        bias[b * perBox] = k;
        bias[b * perBox + 1] = b;
        filter[tap(head, 0, 1, b * perBox + 2)] = 1; // the cell above
        filter[tap(head, 1, 0, b * perBox + 3)] = 1; // the cell to the left
      }
      assign(head, filter, bias);
    }
  }
}

/** Box sizes (w, h) of source k in ssd.pytorch's order, clipped as the preset clips them. */
function boxSizes(config: SsdPriorConfig, k: number): [number, number][] {
  const image = config.imageSize as number;
  const s = config.minSizes[k] / image;
  const sizes: [number, number][] = [[s, s]];
  const extra = Math.sqrt(s * (config.maxSizes![k] / image));
  sizes.push([extra, extra]);
  for (const r of config.aspectRatios[k])
    sizes.push([s * Math.sqrt(r), s / Math.sqrt(r)], [s / Math.sqrt(r), s * Math.sqrt(r)]);
  return sizes.map(([w, h]) => [Math.min(w, 1), Math.min(h, 1)]);
}

/** Asserts that every row of `loc` and `conf` (from setAlignmentWeights) describes prior i. */
export function assertAligned(
  loc: Float32Array,
  conf: Float32Array,
  numClasses: number,
  priors: Float32Array,
  config: SsdPriorConfig,
  context: string,
): void {
  const numPriors = priors.length / 4;
  assert.equal(loc.length, numPriors * 4, `${context}: loc has ${loc.length / 4} rows, priors ${numPriors}`);
  const rowsPerSource = new Array<number>(config.featureMaps.length).fill(0);
  let previous = 0;
  for (let i = 0; i < numPriors; i++) {
    const [k, b, top, left] = Array.from(loc.subarray(i * 4, i * 4 + 4), Math.round);
    const why = `${context}: row ${i} says source ${k}, box ${b}, top ${top}, left ${left}`;
    assert.deepEqual(
      Array.from(conf.subarray(i * numClasses, i * numClasses + 4), Math.round),
      [k, b, top, left],
      `${why}; conf disagrees`,
    );
    assert.ok(k >= 0 && k < rowsPerSource.length && k >= previous, `${why}: sources must come in order`);
    previous = k;
    rowsPerSource[k]++;
    const [cx, cy, w, h] = priors.subarray(i * 4, i * 4 + 4);
    const [ew, eh] = boxSizes(config, k)[b] ?? [NaN, NaN];
    assert.ok(
      Math.abs(w - ew) < 1e-6 && Math.abs(h - eh) < 1e-6,
      `${why}: prior ${i} is ${w} × ${h}, expected ${ew} × ${eh}`,
    );
    const firstCentre = (0.5 * (config.steps[k] as number)) / (config.imageSize as number);
    assert.equal(cy > firstCentre + 1e-6, top === 1, `${why}: prior ${i} has cy ${cy}`);
    assert.equal(cx > firstCentre + 1e-6, left === 1, `${why}: prior ${i} has cx ${cx}`);
  }
  const expected = config.featureMaps.map((f, k) => (f as number) ** 2 * boxSizes(config, k).length);
  assert.deepEqual(rowsPerSource, expected, `${context}: rows per source`);
}

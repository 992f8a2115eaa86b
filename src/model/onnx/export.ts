/**
 * SSD300 → ONNX. Walks the network's layer records (the same ones its tfjs forward pass applies)
 * and writes one node sequence per record, NCHW:
 *
 * Batch normalisation, where the model has it, is folded into the convolution before it.
 *
 *   image [N,3,300,300] ─► Conv+Relu / MaxPool ... ─► conv4_3 ─► L2Norm ─► heads 0
 *                                                   └► ... conv7, conv8_2 ... conv11_2 ─► heads 1..5
 *   head: Conv ─► Transpose [0,2,3,1] (NHWC, as the priors are ordered) ─► Reshape [N, -1, k]
 *   loc = Concat(loc heads, axis 1) [N, 8732, 4]; conf = Concat(conf heads) [N, 8732, C]
 *
 * Only ops that onnxruntime-web's wasm and WebGPU providers and onnxruntime-node all implement at
 * opset 13: Conv, Relu, MaxPool, ReduceSumSquare, Sqrt, Add, Div, Mul, Transpose, Reshape, Concat
 * (the L2Norm's guard is an Add, not a Max: the WebGPU provider has no binary Max). The
 * ceil-mode pool is written as explicit end padding instead of ceil_mode: the same result, since
 * MaxPool padding is never selected, and every provider supports pads.
 */
import * as tf from '@tensorflow/tfjs-core';
import { presets } from '../../core/presets.js';
import type { PostprocessConfig } from '../../core/types.js';
import type { PreprocessSpec } from '../../runtime/types.js';
import type { ConvLayer, L2NormLayer, MaxPoolLayer } from '../layers.js';
import { SSD300_INPUT_SIZE, type Ssd300 } from '../ssd300.js';
import { emitConv, emitL2Norm, emitRows } from './emit.js';
import { GraphBuilder } from './graph.js';
import { checkExtraMetadata, DEFAULT_PREPROCESS, encodeSsdEdgeMetadata, PRODUCER_NAME } from './metadata.js';

/** The operator set of every export: ReduceSumSquare still takes `axes` as an attribute here. */
export const EXPORT_OPSET = 13;
/** IR version 7 is the one that introduced opset 13 (ONNX 1.8): readable by any runtime that runs the opset. */
export const EXPORT_IR_VERSION = 7;
/** The symbolic batch dimension of every export's input and outputs. */
export const BATCH = 'N';

export interface ExportOptions {
  /** The input the network expects. Default: DEFAULT_PREPROCESS (ssd.pytorch's: RGB minus 123, 117, 104, NCHW). */
  preprocess?: PreprocessSpec;
  /** Default: presets.ssd300Voc with the model's numClasses (and `labels`). */
  postprocess?: PostprocessConfig;
  /** Class names, background first; one per class. Default: VOC's for 21 classes, else none. */
  labels?: readonly string[];
  /** More metadata_props (dataset, training run, ...); keys must not start with 'ssd-edge.'. */
  metadata?: Readonly<Record<string, string>>;
}

/** The post-processing an export of `model` records (ExportOptions.postprocess and labels resolved). */
export function ssd300Postprocess(
  model: Ssd300,
  { postprocess, labels }: Pick<ExportOptions, 'postprocess' | 'labels'>,
): PostprocessConfig {
  const { numClasses } = model;
  if (labels !== undefined && labels.length !== numClasses) {
    throw new RangeError(`labels has ${labels.length} names; the model has ${numClasses} classes (background first)`);
  }
  const base = postprocess ?? presets.ssd300Voc;
  if (postprocess && postprocess.numClasses !== numClasses) {
    throw new RangeError(`postprocess.numClasses is ${postprocess.numClasses}; the model has ${numClasses} classes`);
  }
  // The preset's labels are VOC's: they only describe a model with VOC's class count.
  const keepLabels = postprocess !== undefined || numClasses === presets.ssd300Voc.numClasses;
  const { labels: baseLabels, ...rest } = base;
  const chosen = labels ?? (keepLabels ? baseLabels : undefined);
  return { ...rest, numClasses, ...(chosen ? { labels: chosen } : {}) };
}

/** The network as ONNX bytes (weights included), with ssd-edge's metadata. */
export function exportSsd300(model: Ssd300, options: ExportOptions = {}): Uint8Array {
  if ([...model.variables.values()].some((v) => v.isDisposed))
    throw new Error('this Ssd300 was disposed; export it before dispose()');
  const postprocess = ssd300Postprocess(model, options);
  const extra = checkExtraMetadata(options.metadata);

  const g = new GraphBuilder('ssd300');
  const data = (v: tf.Tensor) => v.dataSync() as Float32Array;

  const conv = (input: string, layer: ConvLayer): string => emitConv(g, input, layer);

  const maxPool = (input: string, layer: MaxPoolLayer): string =>
    g.node('MaxPool', [input], layer.name, {
      kernel_shape: [layer.size, layer.size],
      strides: [layer.stride, layer.stride],
      pads: [...layer.pads],
    });

  // x / (√(Σ_c x² + guard) + eps) · scale, exactly as layers.ts applies it.
  const l2norm = (input: string, layer: L2NormLayer): string =>
    emitL2Norm(g, input, layer.name, data(layer.scale), layer.guard, layer.eps);

  const head = (input: string, layer: ConvLayer, shape: string): string =>
    emitRows(g, conv(input, layer), layer.name, shape);

  let x = g.input('image', [BATCH, 3, SSD300_INPUT_SIZE, SSD300_INPUT_SIZE]);
  for (const layer of model.layers.trunk) x = layer.kind === 'conv' ? conv(x, layer) : maxPool(x, layer);

  // Reshape's 0 copies the batch dimension (opset 13 has no allowzero).
  const locShape = g.int64s('loc.shape', [0, -1, 4]);
  const confShape = g.int64s('conf.shape', [0, -1, model.numClasses]);
  const loc: string[] = [],
    conf: string[] = [];
  for (const source of model.layers.sources) {
    const features = source.norm ? l2norm(source.from, source.norm) : source.from;
    loc.push(head(features, source.loc, locShape));
    conf.push(head(features, source.conf, confShape));
  }
  g.node('Concat', loc, 'loc', { axis: 1 });
  g.node('Concat', conf, 'conf', { axis: 1 });
  g.output('loc', [BATCH, model.numPriors, 4]);
  g.output('conf', [BATCH, model.numPriors, model.numClasses]);

  const metadata = encodeSsdEdgeMetadata({
    opset: EXPORT_OPSET,
    preprocess: options.preprocess ?? DEFAULT_PREPROCESS,
    postprocess,
    width: model.width,
    numClasses: model.numClasses,
  });
  return g.encode({
    opset: EXPORT_OPSET,
    irVersion: EXPORT_IR_VERSION,
    producerName: PRODUCER_NAME,
    metadata: { ...metadata, ...extra },
  });
}

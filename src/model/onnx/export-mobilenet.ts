/**
 * SSD / SSDLite MobileNet V2 and SSD MobileNet V1 → ONNX. Walks the network's layer records (the ones its tfjs forward
 * pass applies), NCHW, batch normalisation folded into each convolution:
 *
 *   image [N,3,S,S] ─► Conv (+Clip 0..6) ─► inverted residual blocks: [expand] ─► depthwise Conv
 *     (group = channels) ─► project [─► Add input] ... ─► Conv_1 ─► extras ─► six sources
 *   (V1: Conv2d_0 ─► 13 × (depthwise Conv ─► pointwise Conv, each + Clip) ─► extras ─► six sources)
 *   head: [depthwise Conv + Clip (SSDLite)] ─► Conv ─► Transpose [0,2,3,1] ─► Reshape [N, -1, k]
 *   loc = Concat(box heads) [N, P, 4] (ty, tx, th, tw); conf = Concat(class heads) [N, P, C]
 *
 * TensorFlow's SAME padding is written as explicit pads (asymmetric for the stride-2 layers on
 * even sizes), ReLU6 as Clip(0, 6). The metadata records the network's input (RGB scaled to
 * [−1, 1], NCHW) and its post-processing: the multiple-grid anchors of its input size and TF box
 * coding, so createDetector needs no preset. Ops: Conv, Clip, Add, Transpose, Reshape, Concat
 * (opset 13), which onnxruntime-web's wasm and WebGPU providers and onnxruntime-node all run.
 */
import type { PostprocessConfig } from '../../core/types.js';
import type { PreprocessSpec } from '../../runtime/types.js';
import type { ConvLayer } from '../layers.js';
import { mobilenetSsdPostprocess, type MobilenetSsd } from '../mobilenet-ssd.js';
import { convOutputSize, emitConv, emitRows } from './emit.js';
import { BATCH, EXPORT_IR_VERSION, EXPORT_OPSET } from './export.js';
import { GraphBuilder } from './graph.js';
import { checkExtraMetadata, encodeSsdEdgeMetadata, PRODUCER_NAME } from './metadata.js';

/** TF OD API MobileNets' input: RGB in [−1, 1], (x − 127.5) / 127.5; NCHW as exported. */
export function mobilenetPreprocess(inputSize: number): PreprocessSpec {
  return {
    size: [inputSize, inputSize],
    channels: 'rgb',
    mean: [127.5, 127.5, 127.5],
    std: [127.5, 127.5, 127.5],
    layout: 'nchw',
  };
}

export interface ExportMobilenetOptions {
  /** The input the network expects. Default: mobilenetPreprocess(model.inputSize). */
  preprocess?: PreprocessSpec;
  /**
   * Default: mobilenetSsdPostprocess with the model's anchors and `scoreActivation` (softmax, as
   * ssd-edge trains the class heads), threshold 0.5, NMS 0.6, 100 detections.
   */
  postprocess?: PostprocessConfig;
  /** With the default postprocess: 'softmax' (default: a network trained by ssd-edge) or 'sigmoid' (TF OD API class heads). */
  scoreActivation?: 'softmax' | 'sigmoid';
  /** Class names, background first; one per class. */
  labels?: readonly string[];
  /** More metadata_props; keys must not start with 'ssd-edge.'. */
  metadata?: Readonly<Record<string, string>>;
}

/** The post-processing an export of `model` records (options resolved). */
export function mobilenetExportPostprocess(
  model: MobilenetSsd,
  { postprocess, labels, scoreActivation = 'softmax' }: ExportMobilenetOptions,
): PostprocessConfig {
  const { numClasses } = model;
  if (labels !== undefined && labels.length !== numClasses) {
    throw new RangeError(`labels has ${labels.length} names; the model has ${numClasses} classes (background first)`);
  }
  if (postprocess && postprocess.numClasses !== numClasses) {
    throw new RangeError(`postprocess.numClasses is ${postprocess.numClasses}; the model has ${numClasses} classes`);
  }
  const base =
    postprocess ?? mobilenetSsdPostprocess(numClasses, undefined, { inputSize: model.inputSize, scoreActivation });
  return { ...base, ...(labels ? { labels: [...labels] } : {}) };
}

/** The network as ONNX bytes (weights included, batch normalisation folded), with ssd-edge's metadata. */
export function exportMobilenetSsd(model: MobilenetSsd, options: ExportMobilenetOptions = {}): Uint8Array {
  if ([...model.variables.values()].some((v) => v.isDisposed))
    throw new Error('this MobilenetSsd was disposed; export it before dispose()');
  const postprocess = mobilenetExportPostprocess(model, options);
  const extra = checkExtraMetadata(options.metadata);
  const { stem, blocks, last, extras, sources } = model.layers;
  const g = new GraphBuilder(model.lite ? 'ssdlite-mobilenet-v2' : `ssd-mobilenet-v${model.version}`);

  /** Each emitted tensor's spatial size, for the SAME pads of the layers that read it. */
  const sizes = new Map<string, [number, number]>();
  const conv = (input: string, layer: ConvLayer): string => {
    const size = sizes.get(input)!;
    const out = emitConv(g, input, layer, size);
    sizes.set(out, convOutputSize(layer, size));
    return out;
  };

  let x = g.input('image', [BATCH, 3, model.inputSize, model.inputSize]);
  sizes.set(x, [model.inputSize, model.inputSize]);
  x = conv(x, stem);
  for (const block of blocks) {
    const input = x;
    if (block.expand) x = conv(x, block.expand);
    x = conv(conv(x, block.depthwise), block.project);
    if (block.residual) {
      const sum = g.node('Add', [x, input], `${block.name}/add`);
      sizes.set(sum, sizes.get(x)!);
      x = sum;
    }
  }
  if (last) x = conv(x, last);
  for (const layer of extras) x = conv(x, layer);

  // Reshape's 0 copies the batch dimension (opset 13 has no allowzero).
  const locShape = g.int64s('loc.shape', [0, -1, 4]);
  const confShape = g.int64s('conf.shape', [0, -1, model.numClasses]);
  const loc: string[] = [],
    conf: string[] = [];
  const head = (features: string, depthwise: ConvLayer | undefined, layer: ConvLayer, shape: string) =>
    emitRows(g, conv(depthwise ? conv(features, depthwise) : features, layer), layer.name, shape);
  for (const source of sources) {
    if (!sizes.has(source.from)) throw new Error(`source '${source.from}' reads a layer the export has not written`);
    loc.push(head(source.from, source.locDepthwise, source.loc, locShape));
    conf.push(head(source.from, source.confDepthwise, source.conf, confShape));
  }
  g.node('Concat', loc, 'loc', { axis: 1 });
  g.node('Concat', conf, 'conf', { axis: 1 });
  g.output('loc', [BATCH, model.numPriors, 4]);
  g.output('conf', [BATCH, model.numPriors, model.numClasses]);

  const metadata = encodeSsdEdgeMetadata({
    opset: EXPORT_OPSET,
    preprocess: options.preprocess ?? mobilenetPreprocess(model.inputSize),
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

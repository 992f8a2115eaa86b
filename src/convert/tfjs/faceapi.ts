/**
 * face-api's SSD MobileNet V1 face detector (`ssd_mobilenetv1_model-weights_manifest.json` +
 * `ssd_mobilenetv1_model.bin`, in @vladmandic/face-api and justadudewhohacks/face-api.js) → an
 * ssd-edge ONNX model. The network is face-api's src/ssdMobilenetv1 (mobileNetV1.ts,
 * predictionLayer.ts, boxPredictionLayer.ts, outputLayer.ts), op for op:
 *
 * - input [N, 512, 512, 3] NHWC, x / 127.5 − 1 (recorded as mean 127.5, std 127.5);
 * - MobileNet V1: conv_0 3×3 stride 2 (32), then 13 depthwise-separable pairs (strides 2 at
 *   pairs 2, 4, 6, 12): depthwise 3×3 → batch norm (gamma, beta, moving mean and variance,
 *   ε = 0.0010000000474974513) → ReLU6; pointwise 1×1 + `convolution_bn_offset` (batch norm
 *   folded by TF) → ReLU6. Every convolution pads 'same' as TensorFlow does (the extra row and
 *   column at the bottom and right for stride 2);
 * - prediction layer: 8 more pointwise convs (1×1 then 3×3 stride 2, four times) with ReLU6;
 *   box predictors on conv 11 (32×32, 3 anchors), conv 13 (16×16, 6) and the four extra maps
 *   (8, 4, 2, 1; 6 each): 5118 anchors; each predictor a 1×1 conv + bias giving 4 box values
 *   (ty, tx, th, tw) and 3 class logits per anchor, rows in (row, column, anchor) order;
 * - output: the anchors are the `Output/extra_dim` tensor [1, 5118, 4] (ymin, xmin, ymax, xmax),
 *   decoded with TF's box coder (scale factors 10, 10, 5, 5, y first); the face score is
 *   sigmoid(logit 1) (logit 0 is the background, logit 2 is unused). The ONNX `conf` output keeps
 *   logits 0 and 1, so the post-processing is a 2-class sigmoid SSD with background 0.
 *
 * face-api's post-processing (SsdMobilenetv1.locateFaces, nonMaxSuppression.ts): scores > 0.5
 * (minConfidence), greedy NMS suppressing IoU > 0.5, at most 100 faces, boxes clipped to the
 * image after NMS. Its pre-processing (NetInput.toBatchTensor(512, false)): pad the image with
 * zeros to a square at the bottom or right, then tf.image.resizeBilinear to 512 × 512 with
 * alignCorners and halfPixelCenters both false. The model records both as pre-processing
 * (fit 'pad', resize 'tf-legacy'), so the runtime pads and samples as face-api does and maps the
 * boxes back to the image; face-api's box scaling (through its rounded resize size, up to 0.1 %
 * off) is the one step not reproduced.
 *
 * Weights stay uint8 in the ONNX file by default (Cast → Mul(scale) → Add(min), folded by
 * onnxruntime at load), so the file is as small as the manifest's shard.
 */
import type { PostprocessConfig } from '../../core/types.js';
import { EXPORT_IR_VERSION, EXPORT_OPSET } from '../../model/onnx/export.js';
import { emitRows } from '../../model/onnx/emit.js';
import { GraphBuilder } from '../../model/onnx/graph.js';
import { encodeSsdEdgeMetadata, PRODUCER_NAME } from '../../model/onnx/metadata.js';
import type { PreprocessSpec, RawImage } from '../../runtime/types.js';
import type { TfjsWeight } from './manifest.js';

export const FACEAPI_SSD_INPUT_SIZE = 512;
/** tf.batchNorm's epsilon in face-api's mobileNetV1.ts. */
const BATCH_NORM_EPSILON = 0.0010000000474974513;

/**
 * face-api's pre-processing as the runtime does it: padded to a square at the bottom or right
 * (fit 'pad'), resized with TF's legacy rule (resize 'tf-legacy'), [−1, 1].
 */
export const FACEAPI_SSD_PREPROCESS: PreprocessSpec = {
  size: [FACEAPI_SSD_INPUT_SIZE, FACEAPI_SSD_INPUT_SIZE],
  channels: 'rgb',
  mean: [127.5, 127.5, 127.5],
  std: [127.5, 127.5, 127.5],
  layout: 'nhwc',
  fit: 'pad',
  resize: 'tf-legacy',
};

/** face-api's own pre-processing in its own words, recorded as 'ssd-edge.sourcePreprocess' (FACEAPI_SSD_PREPROCESS is its runtime form). */
export const FACEAPI_SSD_SOURCE_PREPROCESS = {
  padToSquare: 'bottom-right, zeros',
  resize: 'bilinear, alignCorners false, halfPixelCenters false (TF legacy)',
  scale: 'x / 127.5 - 1',
  boxes: 'relative to the padded square, rescaled to the image, clipped to [0, 1] after NMS',
} as const;

/** A face-api SSD MobileNet V1 weight map does not fit the network: every problem listed. */
export class TfjsWeightsMismatchError extends Error {
  override readonly name = 'TfjsWeightsMismatchError';

  constructor(
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
    readonly wrongShapes: readonly string[],
  ) {
    const parts: string[] = [];
    const list = (what: string, names: readonly string[]) => {
      if (names.length)
        parts.push(`${names.length} ${what}: ${names.slice(0, 40).join(', ')}${names.length > 40 ? ', …' : ''}`);
    };
    list('missing', missing);
    list('unknown', unexpected);
    list('with the wrong shape', wrongShapes);
    super(`the weights manifest is not face-api's SSD MobileNet V1: ${parts.join('; ')}`);
  }
}

/** MobileNet V1's depthwise-separable pairs 1–13: [input channels, output channels, stride]. */
const PAIRS: [number, number, number][] = [
  [32, 64, 1],
  [64, 128, 2],
  [128, 128, 1],
  [128, 256, 2],
  [256, 256, 1],
  [256, 512, 2],
  [512, 512, 1],
  [512, 512, 1],
  [512, 512, 1],
  [512, 512, 1],
  [512, 512, 1],
  [512, 1024, 2],
  [1024, 1024, 1],
];
/** The prediction layer's extra convs 0–7: [kernel, input channels, output channels, stride]. */
const EXTRAS: [number, number, number, number][] = [
  [1, 1024, 256, 1],
  [3, 256, 512, 2],
  [1, 512, 128, 1],
  [3, 128, 256, 2],
  [1, 256, 128, 1],
  [3, 128, 256, 2],
  [1, 256, 64, 1],
  [3, 64, 128, 2],
];
/** Box predictors 0–5: [input channels, anchors per cell]; inputs conv 11, conv 13, extras 1, 3, 5, 7. */
const PREDICTORS: [number, number][] = [
  [512, 3],
  [1024, 6],
  [512, 6],
  [256, 6],
  [256, 6],
  [128, 6],
];
const NUM_CLASS_LOGITS = 3;

/** Every weight the network reads, with its tfjs shape. */
export function faceApiSsdWeightShapes(): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const pointwise = (prefix: string, k: number, inC: number, outC: number) => {
    shapes.set(`${prefix}/weights`, [k, k, inC, outC]);
    shapes.set(`${prefix}/convolution_bn_offset`, [outC]);
  };
  pointwise('MobilenetV1/Conv2d_0_pointwise', 3, 3, 32);
  PAIRS.forEach(([inC, outC], i) => {
    const d = `MobilenetV1/Conv2d_${i + 1}_depthwise`;
    shapes.set(`${d}/depthwise_weights`, [3, 3, inC, 1]);
    for (const p of ['gamma', 'beta', 'moving_mean', 'moving_variance']) shapes.set(`${d}/BatchNorm/${p}`, [inC]);
    pointwise(`MobilenetV1/Conv2d_${i + 1}_pointwise`, 1, inC, outC);
  });
  EXTRAS.forEach(([k, inC, outC], i) => pointwise(`Prediction/Conv2d_${i}_pointwise`, k, inC, outC));
  PREDICTORS.forEach(([inC, anchors], i) => {
    const p = `Prediction/BoxPredictor_${i}`;
    shapes.set(`${p}/BoxEncodingPredictor/weights`, [1, 1, inC, 4 * anchors]);
    shapes.set(`${p}/BoxEncodingPredictor/biases`, [4 * anchors]);
    shapes.set(`${p}/ClassPredictor/weights`, [1, 1, inC, NUM_CLASS_LOGITS * anchors]);
    shapes.set(`${p}/ClassPredictor/biases`, [NUM_CLASS_LOGITS * anchors]);
  });
  const sizes = [32, 16, 8, 4, 2, 1];
  const anchors = PREDICTORS.reduce((n, [, a], i) => n + sizes[i] ** 2 * a, 0);
  shapes.set('Output/extra_dim', [1, anchors, 4]);
  return shapes;
}

/**
 * Graph constants of TF's export that face-api's manifest carries and face-api ignores
 * (Preprocessor/..., Postprocessor/..., the predictors' stack and strided_slice shapes, concat axes).
 */
function isIgnorable(weight: TfjsWeight): boolean {
  return (
    (weight.dtype === 'int32' && weight.shape.length <= 1) ||
    (/^(Preprocessor|Postprocessor)\//.test(weight.name) && weight.shape.length <= 1)
  );
}

/** Checks the weight map against the network; throws TfjsWeightsMismatchError listing every problem. */
export function checkFaceApiSsdWeights(weights: ReadonlyMap<string, TfjsWeight>): void {
  const shapes = faceApiSsdWeightShapes();
  const missing: string[] = [],
    wrongShapes: string[] = [];
  for (const [name, shape] of shapes) {
    const w = weights.get(name);
    if (!w) missing.push(name);
    else if (w.dtype !== 'float32' || w.shape.join() !== shape.join()) {
      wrongShapes.push(`${name} (${w.dtype} [${w.shape.join(', ')}], expected float32 [${shape.join(', ')}])`);
    }
  }
  const unexpected = [...weights.values()].filter((w) => !shapes.has(w.name) && !isIgnorable(w)).map((w) => w.name);
  if (missing.length || unexpected.length || wrongShapes.length)
    throw new TfjsWeightsMismatchError(missing, unexpected, wrongShapes);
}

/** Whether the weight names are face-api's SSD MobileNet V1's (its anchors and first conv). */
export function looksLikeFaceApiSsd(weights: ReadonlyMap<string, TfjsWeight>): boolean {
  return weights.has('Output/extra_dim') && weights.has('MobilenetV1/Conv2d_0_pointwise/weights');
}

/** Permutes a row-major tensor's elements (any typed array); `perm` as numpy.transpose's. */
function transpose<T extends Float32Array | Uint8Array | Uint16Array>(
  data: T,
  shape: readonly number[],
  perm: readonly number[],
): T {
  const outShape = perm.map((p) => shape[p]);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((n, d) => n * d, 1));
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const index = new Array<number>(outShape.length).fill(0);
  for (let o = 0; o < data.length; o++) {
    let from = 0;
    for (let k = 0; k < perm.length; k++) from += index[k] * strides[perm[k]];
    out[o] = data[from];
    for (let k = outShape.length - 1; k >= 0; k--) {
      if (++index[k] < outShape[k]) break;
      index[k] = 0;
    }
  }
  return out;
}

/** TensorFlow's 'same' padding along one axis: [before, after] and the output size. */
function samePadding(size: number, kernel: number, stride: number): { before: number; after: number; out: number } {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  return { before: Math.floor(total / 2), after: total - Math.floor(total / 2), out };
}

/** face-api's anchors (ymin, xmin, ymax, xmax) as ssd-edge prior rows (cx, cy, w, h), float32 as face-api computes them. */
export function faceApiAnchorsToPriors(extraDim: Float32Array): Float32Array {
  const priors = new Float32Array(extraDim.length);
  const f = Math.fround;
  for (let i = 0; i < extraDim.length; i += 4) {
    const [ymin, xmin, ymax, xmax] = extraDim.subarray(i, i + 4);
    const h = f(ymax - ymin),
      w = f(xmax - xmin);
    priors[i] = f(xmin + f(w / 2));
    priors[i + 1] = f(ymin + f(h / 2));
    priors[i + 2] = w;
    priors[i + 3] = h;
  }
  return priors;
}

export interface FaceApiSsdConvertOptions {
  /** 'uint8' (default): quantised weights stay uint8 with a dequantising Cast/Mul/Add; 'float32': dequantised in the file. */
  storage?: 'uint8' | 'float32';
  /** Fields over the post-processing face-api uses (scores > 0.5, NMS IoU 0.5, 100 faces). */
  postprocess?: Partial<PostprocessConfig>;
  /** More metadata_props ('ssd-edge.convertedFrom', ...). */
  metadata?: Readonly<Record<string, string>>;
}

export interface FaceApiSsdConversionReport {
  network: 'faceapi-ssd-mobilenet-v1';
  tensors: number;
  parameters: number;
  /** Manifest constants face-api does not use. */
  ignored: string[];
  numPriors: number;
  numClasses: number;
  storage: 'uint8' | 'float32';
  onnxNodes: number;
}

/** face-api's post-processing as an ssd-edge PostprocessConfig, with the anchors as prior rows. */
export function faceApiSsdPostprocess(priors: Float32Array): PostprocessConfig {
  return {
    priors,
    numClasses: 2,
    backgroundClass: 0,
    boxCoding: { scaleFactors: [10, 10, 5, 5], order: 'yxhw' },
    scoreActivation: 'sigmoid',
    scoreThreshold: 0.5,
    nmsThreshold: 0.5,
    topK: priors.length / 4,
    keepTopK: 100,
    clip: false,
    labels: ['background', 'face'],
  };
}

/** Builds the ONNX model from face-api's weight map (see readWeightsManifest). */
export function convertFaceApiSsd(
  weights: ReadonlyMap<string, TfjsWeight>,
  options: FaceApiSsdConvertOptions = {},
): { onnx: Uint8Array; report: FaceApiSsdConversionReport } {
  checkFaceApiSsdWeights(weights);
  const storage = options.storage ?? 'uint8';
  if (storage !== 'uint8' && storage !== 'float32')
    throw new RangeError(`storage is '${String(storage)}'; use 'uint8' or 'float32'`);
  const g = new GraphBuilder('faceapi_ssd_mobilenetv1');
  let nodes = 0;
  const node: GraphBuilder['node'] = (...args) => {
    nodes++;
    return g.node(...args);
  };
  const scalar = (name: string, value: number) => g.floats(name, new Float32Array([value]), []);

  /** A weight as an ONNX tensor, permuted by `perm` (tfjs layout → ONNX's): uint8 + dequantisation, or float32. */
  const tensor = (name: string, perm?: number[]): string => {
    const w = weights.get(name)!;
    const dims = perm ? perm.map((p) => w.shape[p]) : w.shape;
    const q = w.quantized;
    if (storage === 'uint8' && q?.dtype === 'uint8') {
      const data = perm ? transpose(q.data as Uint8Array, w.shape, perm) : (q.data as Uint8Array);
      const cast = node('Cast', [g.raw(`${name}:q`, 'uint8', data, dims)], `${name}:cast`, { to: 1 });
      const scaled = node('Mul', [cast, scalar(`${name}:scale`, q.scale)], `${name}:scaled`);
      return node('Add', [scaled, scalar(`${name}:min`, q.min)], name);
    }
    return g.floats(name, perm ? transpose(w.values as Float32Array, w.shape, perm) : (w.values as Float32Array), dims);
  };
  const zero = scalar('relu6.min', 0),
    six = scalar('relu6.max', 6);
  let size = FACEAPI_SSD_INPUT_SIZE;
  const convAttributes = (kernel: number, stride: number, at: number) => {
    const { before, after, out } = samePadding(at, kernel, stride);
    return {
      attributes: { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [before, before, after, after] },
      out,
    };
  };
  /** conv (HWIO filters) + convolution_bn_offset → ReLU6, face-api's pointwiseConvLayer. */
  const pointwise = (x: string, prefix: string, kernel: number, stride: number, at: number): [string, number] => {
    const { attributes, out } = convAttributes(kernel, stride, at);
    const conv = node(
      'Conv',
      [x, tensor(`${prefix}/weights`, [3, 2, 0, 1]), tensor(`${prefix}/convolution_bn_offset`)],
      `${prefix}:conv`,
      attributes,
    );
    return [node('Clip', [conv, zero, six], prefix), out];
  };
  /** depthwise conv → batch norm → ReLU6, face-api's depthwiseConvLayer. */
  const depthwise = (x: string, prefix: string, channels: number, stride: number, at: number): [string, number] => {
    const { attributes, out } = convAttributes(3, stride, at);
    const conv = node('Conv', [x, tensor(`${prefix}/depthwise_weights`, [2, 3, 0, 1])], `${prefix}:conv`, {
      ...attributes,
      group: channels,
    });
    const bn = node(
      'BatchNormalization',
      ['gamma', 'beta', 'moving_mean', 'moving_variance'].reduce(
        (inputs, p) => [...inputs, tensor(`${prefix}/BatchNorm/${p}`)],
        [conv],
      ),
      `${prefix}:bn`,
      { epsilon: { float: BATCH_NORM_EPSILON } },
    );
    return [node('Clip', [bn, zero, six], prefix), out];
  };

  const image = g.input('image', ['N', FACEAPI_SSD_INPUT_SIZE, FACEAPI_SSD_INPUT_SIZE, 3]);
  let x = node('Transpose', [image], 'image:nchw', { perm: [0, 3, 1, 2] });
  [x, size] = pointwise(x, 'MobilenetV1/Conv2d_0_pointwise', 3, 2, size);
  const features: string[] = [];
  PAIRS.forEach(([inC, , stride], i) => {
    [x, size] = depthwise(x, `MobilenetV1/Conv2d_${i + 1}_depthwise`, inC, stride, size);
    [x, size] = pointwise(x, `MobilenetV1/Conv2d_${i + 1}_pointwise`, 1, 1, size);
    if (i + 1 === 11) features.push(x);
  });
  features.push(x);
  EXTRAS.forEach(([kernel, , , stride], i) => {
    [x, size] = pointwise(x, `Prediction/Conv2d_${i}_pointwise`, kernel, stride, size);
    if (i % 2 === 1) features.push(x);
  });

  const locShape = g.int64s('loc.shape', [0, -1, 4]);
  const logitShape = g.int64s('logits.shape', [0, -1, NUM_CLASS_LOGITS]);
  const loc: string[] = [],
    logits: string[] = [];
  features.forEach((f, i) => {
    const head = (kind: string) => {
      const p = `Prediction/BoxPredictor_${i}/${kind}`;
      return node('Conv', [f, tensor(`${p}/weights`, [3, 2, 0, 1]), tensor(`${p}/biases`)], `${p}:conv`, {
        kernel_shape: [1, 1],
      });
    };
    loc.push(emitRows(g, head('BoxEncodingPredictor'), `Prediction/BoxPredictor_${i}/BoxEncodingPredictor`, locShape));
    logits.push(emitRows(g, head('ClassPredictor'), `Prediction/BoxPredictor_${i}/ClassPredictor`, logitShape));
    nodes += 4;
  });
  const numPriors = weights.get('Output/extra_dim')!.shape[1];
  node('Concat', loc, 'loc', { axis: 1 });
  const allLogits = node('Concat', logits, 'logits', { axis: 1 });
  // Logits 0 (background) and 1 (face): face-api scores sigmoid(logit 1) and never reads logit 2.
  node(
    'Slice',
    [allLogits, g.int64s('conf.starts', [0]), g.int64s('conf.ends', [2]), g.int64s('conf.axes', [2])],
    'conf',
  );
  g.output('loc', ['N', numPriors, 4]);
  g.output('conf', ['N', numPriors, 2]);

  const priors = faceApiAnchorsToPriors(weights.get('Output/extra_dim')!.values as Float32Array);
  const postprocess = { ...faceApiSsdPostprocess(priors), ...options.postprocess };
  const metadata = encodeSsdEdgeMetadata({
    opset: EXPORT_OPSET,
    preprocess: FACEAPI_SSD_PREPROCESS,
    postprocess,
    width: 1,
    numClasses: 2,
  });
  const onnx = g.encode({
    opset: EXPORT_OPSET,
    irVersion: EXPORT_IR_VERSION,
    producerName: PRODUCER_NAME,
    metadata: {
      ...metadata,
      'ssd-edge.source': 'tfjs',
      'ssd-edge.arch': 'faceapi-ssd-mobilenet-v1',
      'ssd-edge.sourcePreprocess': JSON.stringify(FACEAPI_SSD_SOURCE_PREPROCESS),
      ...options.metadata,
    },
  });
  const shapes = faceApiSsdWeightShapes();
  const parameters = [...shapes.keys()].reduce((n, name) => n + weights.get(name)!.values.length, 0);
  return {
    onnx,
    report: {
      network: 'faceapi-ssd-mobilenet-v1',
      tensors: weights.size,
      parameters,
      numPriors,
      numClasses: 2,
      storage,
      onnxNodes: nodes,
      ignored: [...weights.keys()].filter((name) => !shapes.has(name)),
    },
  };
}

/**
 * The image padded with zeros to a square at the bottom or right, as face-api's padToSquare
 * does before resizing: run a face-api model on the padded image to get face-api's geometry.
 * Pixel boxes are the same in the padded and the original image (the pad is after them).
 */
export function padImageToSquare(image: RawImage): RawImage {
  const { width, height } = image;
  const channels = (image.channels ?? image.data.length / (width * height)) as 1 | 3 | 4;
  if (width === height) return image;
  const side = Math.max(width, height);
  const data = new Uint8Array(side * side * channels);
  for (let y = 0; y < height; y++)
    data.set(image.data.subarray(y * width * channels, (y + 1) * width * channels), y * side * channels);
  if (channels === 4)
    for (let i = 0; i < side * side; i++) if (i % side >= width || i >= side * height) data[i * 4 + 3] = 255;
  return { data, width: side, height: side, channels };
}

/**
 * A PyTorch SSD checkpoint → an ssd-edge ONNX model. The graph is built straight from the state
 * dict's tensors (OIHW, as ONNX wants them) with the exporter's GraphBuilder and emitters, in
 * the layout of src/model/onnx/export.ts: image [N, 3, S, S] NCHW → loc [N, P, 4], conf [N, P, C],
 * each head's rows in (row, column, box) order.
 *
 * Architectures (`arch`), each with its keys:
 * - 'ssd300-voc', 'ssd512-voc': ssd.pytorch (amdegroot/ssd.pytorch ssd.py): `vgg.N` (the VGG16
 *   ModuleList: convs at 0, 2, 5, ..., conv6 at 31, conv7 at 33), `L2Norm.weight`, `extras.N`
 *   (ReLU after each, as SSD.forward applies it), `loc.N`, `conf.N`. SSD512's extras are the
 *   SSD paper's (Caffe SSD512): four 1×1 / 3×3 stride-2 pairs, then 1×1 and a 4×4 pad-1 conv.
 * - 'torchvision-ssd300': torchvision `ssd300_vgg16` (models/detection/ssd.py): `backbone.features.N`
 *   (VGG16 to conv4_3), `backbone.scale_weight` (its L2Norm scale), `backbone.extra.0.{1,3,5}`
 *   (conv5), `backbone.extra.0.7.{1,3}` (conv6, conv7), `backbone.extra.K.{0,2}`,
 *   `head.regression_head.module_list.K`, `head.classification_head.module_list.K`.
 *   torchvision's heads lay out their rows as ssd.pytorch's do (view(N, A, K, H, W) → permute →
 *   (row, column, box)); only its default boxes are ordered differently, which the
 *   torchvisionSsd300Coco preset's priors reproduce.
 *
 * Channel counts are read from the tensors (any width; the class count from conf head 0) and
 * checked along the chain; every unknown, missing or misshapen key is listed in one
 * CheckpointMismatchError.
 */
import { presets } from '../../core/presets.js';
import type { PostprocessConfig } from '../../core/types.js';
import { EXPORT_IR_VERSION, EXPORT_OPSET } from '../../model/onnx/export.js';
import { emitL2Norm, emitRows } from '../../model/onnx/emit.js';
import { GraphBuilder } from '../../model/onnx/graph.js';
import { encodeSsdEdgeMetadata, PRODUCER_NAME } from '../../model/onnx/metadata.js';
import { inputPresets } from '../../runtime/input-presets.js';
import type { PreprocessSpec } from '../../runtime/types.js';
import { CheckpointMismatchError } from './errors.js';
import { findStateDict, readPth, type PthFormat, type StateDict } from './read.js';
import type { TorchTensor } from './tensor.js';

export const PYTORCH_ARCHS = ['ssd300-voc', 'ssd512-voc', 'torchvision-ssd300'] as const;
export type PytorchArch = (typeof PYTORCH_ARCHS)[number];

interface ConvSpec {
  kind: 'conv';
  /** The ONNX name (conv1_1, ...). */
  name: string;
  /** The state-dict prefix: `${key}.weight`, `${key}.bias`. */
  key: string;
  kernel: number;
  stride: number;
  pad: number;
  dilation: number;
}

interface PoolSpec {
  kind: 'maxPool';
  name: string;
  size: number;
  stride: number;
  pad: number;
  /** PyTorch's ceil_mode. */
  ceil: boolean;
}

interface ArchSpec {
  imageSize: number;
  /** Trunk layers in order; every conv is followed by a ReLU. */
  trunk: (ConvSpec | PoolSpec)[];
  /** Trunk layer names whose outputs feed the heads, in prior order. */
  sources: string[];
  boxesPerLocation: number[];
  /** The L2Norm on source 0: its scale's key and ONNX constants. */
  norm: { key: string; guard: number; eps: number };
  locKey: (k: number) => string;
  confKey: (k: number) => string;
  preset: 'ssd300Voc' | 'ssd512Voc' | 'torchvisionSsd300Coco';
}

const conv = (name: string, key: string, kernel: number, { stride = 1, pad = 0, dilation = 1 } = {}): ConvSpec => ({
  kind: 'conv',
  name,
  key,
  kernel,
  stride,
  pad,
  dilation,
});
const pool = (name: string, size: number, stride: number, pad = 0, ceil = false): PoolSpec => ({
  kind: 'maxPool',
  name,
  size,
  stride,
  pad,
  ceil,
});

/**
 * VGG16 to conv7 with its pools, keys from `key(block, layer)`. see: ssd.pytorch ssd.py vgg(),
 * base['300'] (pool3 in ceil mode; pool5 3×3/1 pad 1; conv6 3×3 dilation 6; conv7 1×1)
 */
function vggTrunk(key: (name: string) => string): (ConvSpec | PoolSpec)[] {
  const layers: (ConvSpec | PoolSpec)[] = [];
  [2, 2, 3, 3, 3].forEach((convs, b) => {
    for (let i = 1; i <= convs; i++) layers.push(conv(`conv${b + 1}_${i}`, key(`conv${b + 1}_${i}`), 3, { pad: 1 }));
    layers.push(b === 4 ? pool('pool5', 3, 1, 1) : pool(`pool${b + 1}`, 2, 2, 0, b === 2));
  });
  layers.push(conv('conv6', key('conv6'), 3, { pad: 6, dilation: 6 }), conv('conv7', key('conv7'), 1));
  return layers;
}

/** ssd.pytorch's vgg ModuleList indices. */
export const SSD_PYTORCH_VGG: Readonly<Record<string, number>> = {
  conv1_1: 0,
  conv1_2: 2,
  conv2_1: 5,
  conv2_2: 7,
  conv3_1: 10,
  conv3_2: 12,
  conv3_3: 14,
  conv4_1: 17,
  conv4_2: 19,
  conv4_3: 21,
  conv5_1: 24,
  conv5_2: 26,
  conv5_3: 28,
  conv6: 31,
  conv7: 33,
};

/** torchvision's keys: features (to conv4_3), then extra.0 = pool4, conv5_x, and the fc Sequential (pool5, conv6, conv7). */
const TORCHVISION_VGG: Record<string, string> = {
  conv1_1: 'features.0',
  conv1_2: 'features.2',
  conv2_1: 'features.5',
  conv2_2: 'features.7',
  conv3_1: 'features.10',
  conv3_2: 'features.12',
  conv3_3: 'features.14',
  conv4_1: 'features.17',
  conv4_2: 'features.19',
  conv4_3: 'features.21',
  conv5_1: 'extra.0.1',
  conv5_2: 'extra.0.3',
  conv5_3: 'extra.0.5',
  conv6: 'extra.0.7.1',
  conv7: 'extra.0.7.3',
};

/** Extra layers as (kernel, stride, pad) pairs; pair p is conv{8+p}_1 (1×1) and conv{8+p}_2. */
function extras(pairs: [number, number, number][], key: (index: number) => string): ConvSpec[] {
  return pairs.flatMap(([kernel, stride, pad], p) => [
    conv(`conv${8 + p}_1`, key(2 * p), 1),
    conv(`conv${8 + p}_2`, key(2 * p + 1), kernel, { stride, pad }),
  ]);
}

/** see: ssd.pytorch ssd.py extras['300']: two stride-2 pairs, then two unpadded 3×3 pairs. */
const EXTRAS_300: [number, number, number][] = [
  [3, 2, 1],
  [3, 2, 1],
  [3, 1, 0],
  [3, 1, 0],
];
/** see: the SSD paper's SSD512 (Caffe ssd_pascal_512.py): four stride-2 pairs, then a 4×4 pad-1 conv. */
const EXTRAS_512: [number, number, number][] = [
  [3, 2, 1],
  [3, 2, 1],
  [3, 2, 1],
  [3, 2, 1],
  [4, 1, 1],
];

const EXTRA_SOURCES = (pairs: number) => Array.from({ length: pairs }, (_, p) => `conv${8 + p}_2`);

const ARCHS: Record<PytorchArch, ArchSpec> = {
  'ssd300-voc': {
    imageSize: 300,
    trunk: [...vggTrunk((name) => `vgg.${SSD_PYTORCH_VGG[name]}`), ...extras(EXTRAS_300, (i) => `extras.${i}`)],
    sources: ['conv4_3', 'conv7', ...EXTRA_SOURCES(4)],
    boxesPerLocation: [4, 6, 6, 6, 4, 4],
    // see: ssd.pytorch layers/modules/l2norm.py: x / (√Σx² + 1e-10) · weight
    norm: { key: 'L2Norm.weight', guard: 0, eps: 1e-10 },
    locKey: (k) => `loc.${k}`,
    confKey: (k) => `conf.${k}`,
    preset: 'ssd300Voc',
  },
  'ssd512-voc': {
    imageSize: 512,
    trunk: [...vggTrunk((name) => `vgg.${SSD_PYTORCH_VGG[name]}`), ...extras(EXTRAS_512, (i) => `extras.${i}`)],
    sources: ['conv4_3', 'conv7', ...EXTRA_SOURCES(5)],
    boxesPerLocation: [4, 6, 6, 6, 6, 4, 4],
    norm: { key: 'L2Norm.weight', guard: 0, eps: 1e-10 },
    locKey: (k) => `loc.${k}`,
    confKey: (k) => `conf.${k}`,
    preset: 'ssd512Voc',
  },
  'torchvision-ssd300': {
    imageSize: 300,
    trunk: [
      ...vggTrunk((name) => `backbone.${TORCHVISION_VGG[name]}`),
      ...extras(EXTRAS_300, (i) => `backbone.extra.${1 + (i >> 1)}.${(i & 1) * 2}`),
    ],
    sources: ['conv4_3', 'conv7', ...EXTRA_SOURCES(4)],
    boxesPerLocation: [4, 6, 6, 6, 4, 4],
    // see: torchvision SSDFeatureExtractorVGG.forward: scale_weight · F.normalize(x), i.e.
    // x / max(‖x‖, 1e-12); √(Σx² + 1e-24) gives the same 0 for an all-zero location and
    // differs from it only where ‖x‖ < 1e-12.
    norm: { key: 'backbone.scale_weight', guard: 1e-24, eps: 0 },
    locKey: (k) => `head.regression_head.module_list.${k}`,
    confKey: (k) => `head.classification_head.module_list.${k}`,
    preset: 'torchvisionSsd300Coco',
  },
};

/** The architecture a state dict's keys name, or undefined when they name none of ours. */
export function detectArch(stateDict: StateDict): PytorchArch | undefined {
  if (stateDict.has('backbone.scale_weight') || stateDict.has('backbone.features.0.weight'))
    return 'torchvision-ssd300';
  if (!stateDict.has('vgg.0.weight')) return undefined;
  return stateDict.has('extras.9.weight') ? 'ssd512-voc' : 'ssd300-voc';
}

export interface PytorchConvertOptions {
  /** The architecture; default: detected from the keys (detectArch). */
  arch?: PytorchArch;
  /** Class names, background first; default: the preset's when the class count is the preset's. */
  labels?: readonly string[];
  /** Fields over the arch's preset (ssd300Voc, ssd512Voc, torchvisionSsd300Coco); numClasses is the checkpoint's. */
  postprocess?: Partial<PostprocessConfig>;
  /** Default: the arch's input preset (inputPresets.ssd300Voc, ...). */
  preprocess?: PreprocessSpec;
  /** More metadata_props (source, licence, 'ssd-edge.convertedFrom', ...). */
  metadata?: Readonly<Record<string, string>>;
}

export interface PytorchConversionReport {
  arch: PytorchArch;
  /** How --arch was settled: given, or detected from the keys. */
  archSource: 'given' | 'detected';
  format: PthFormat;
  /** Where the state dict sat in the checkpoint ([] at the top, ['state_dict'], ...). */
  stateDictPath: string[];
  /** Where the storages were saved ('cpu', 'cuda:0', ...). */
  locations: string[];
  tensors: number;
  parameters: number;
  numClasses: number;
  numPriors: number;
  /** conv1_1's output channels / 64: 1 for the published networks. */
  width: number;
  onnxNodes: number;
}

/** Output size of a conv or pool along one axis, as PyTorch computes it (ceil mode included). */
function outputSize(size: number, kernel: number, stride: number, pad: number, dilation = 1, ceil = false): number {
  const span = size + 2 * pad - dilation * (kernel - 1) - 1;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out--; // PyTorch drops a window starting in the end padding
  return out;
}

/**
 * Checks every tensor the architecture reads against the state dict; throws one
 * CheckpointMismatchError listing all problems. Returns the tensors by key and the class count.
 */
function bindTensors(arch: PytorchArch, spec: ArchSpec, stateDict: StateDict) {
  const missing: string[] = [],
    wrongShapes: string[] = [];
  const used = new Set<string>();
  const get = (key: string, expected: (number | undefined)[], what: string): TorchTensor | undefined => {
    used.add(key);
    const tensor = stateDict.get(key);
    if (!tensor) {
      missing.push(key);
      return undefined;
    }
    const ok =
      tensor.shape.length === expected.length && expected.every((d, i) => d === undefined || d === tensor.shape[i]);
    if (!ok) {
      wrongShapes.push(
        `${key} is [${tensor.shape.join(', ')}], expected [${expected.map((d) => d ?? '*').join(', ')}] (${what})`,
      );
      return undefined;
    }
    return tensor;
  };
  const convs = new Map<string, { weight?: TorchTensor; bias?: TorchTensor; out?: number; in?: number }>();
  /** Reads a conv's weight and bias with in-channels `inChannels` (undefined: unknown after an earlier error). */
  const bindConv = (layer: ConvSpec, inChannels: number | undefined, outChannels?: number) => {
    const weight = get(
      `${layer.key}.weight`,
      [outChannels, inChannels, layer.kernel, layer.kernel],
      `${layer.name}: out, in, ${layer.kernel}×${layer.kernel}`,
    );
    const out = weight?.shape[0] ?? outChannels;
    const bias = get(`${layer.key}.bias`, [out], `${layer.name}: one per output`);
    convs.set(layer.name, { weight, bias, out, in: inChannels });
    return out;
  };

  const channels = new Map<string, number | undefined>();
  const sizes = new Map<string, number>();
  let c: number | undefined = 3,
    size = spec.imageSize;
  for (const layer of spec.trunk) {
    if (layer.kind === 'conv') {
      c = bindConv(layer, c);
      size = outputSize(size, layer.kernel, layer.stride, layer.pad, layer.dilation);
    } else {
      size = outputSize(size, layer.size, layer.stride, layer.pad, 1, layer.ceil);
    }
    channels.set(layer.name, c);
    sizes.set(layer.name, size);
  }
  const normChannels = channels.get(spec.sources[0]);
  const norm = get(spec.norm.key, [normChannels], `L2Norm of ${spec.sources[0]}: one scale per channel`);

  // The class count: conf head 0's outputs / its boxes per location.
  const conf0 = stateDict.get(`${spec.confKey(0)}.weight`);
  const numClasses =
    conf0 && conf0.shape.length === 4 && conf0.shape[0] % spec.boxesPerLocation[0] === 0
      ? conf0.shape[0] / spec.boxesPerLocation[0]
      : undefined;
  const heads = spec.sources.map((from, k) => {
    const boxes = spec.boxesPerLocation[k];
    const head = (kind: 'loc' | 'conf', perBox: number | undefined) => {
      const layer = conv(`${kind}${k}`, kind === 'loc' ? spec.locKey(k) : spec.confKey(k), 3, { pad: 1 });
      bindConv(layer, channels.get(from), perBox === undefined ? undefined : boxes * perBox);
      return layer;
    };
    return { from, loc: head('loc', 4), conf: head('conf', numClasses), boxes, featureMap: sizes.get(from)! };
  });
  if (numClasses === undefined && conf0) {
    wrongShapes.push(
      `${spec.confKey(0)}.weight is [${conf0.shape.join(', ')}], expected [${spec.boxesPerLocation[0]} boxes × classes, *, 3, 3] (conf0)`,
    );
  }
  const unexpected = [...stateDict.keys()].filter((key) => !used.has(key));
  if (missing.length || unexpected.length || wrongShapes.length) {
    throw new CheckpointMismatchError(arch, missing, unexpected, [...new Set(wrongShapes)]);
  }
  return { convs, norm: norm!, heads, numClasses: numClasses!, width: convs.get('conv1_1')!.out! / 64 };
}

/** The post-processing a converted model records: the preset with the checkpoint's class count. */
function convertedPostprocess(
  spec: ArchSpec,
  numClasses: number,
  { postprocess, labels }: PytorchConvertOptions,
): PostprocessConfig {
  if (labels !== undefined && labels.length !== numClasses) {
    throw new RangeError(
      `labels has ${labels.length} names; the checkpoint has ${numClasses} classes (background first)`,
    );
  }
  if (postprocess?.numClasses !== undefined && postprocess.numClasses !== numClasses) {
    throw new RangeError(
      `postprocess.numClasses is ${postprocess.numClasses}; the checkpoint has ${numClasses} classes`,
    );
  }
  const preset = presets[spec.preset];
  const base: PostprocessConfig = { ...preset, ...postprocess };
  // The preset's labels name the preset's classes only.
  const keepLabels = postprocess?.labels !== undefined || numClasses === preset.numClasses;
  const { labels: baseLabels, ...rest } = base;
  const chosen = labels ?? (keepLabels ? baseLabels : undefined);
  return { ...rest, numClasses, ...(chosen ? { labels: chosen } : {}) };
}

/** Builds the ONNX graph of an SSD from a state dict. */
export function convertPytorchStateDict(
  stateDict: StateDict,
  options: PytorchConvertOptions = {},
): { onnx: Uint8Array; report: Omit<PytorchConversionReport, 'format' | 'stateDictPath' | 'locations'> } {
  const detected = detectArch(stateDict);
  const arch = options.arch ?? detected;
  if (arch === undefined) {
    const keys = [...stateDict.keys()];
    throw new RangeError(
      `cannot tell the architecture from the checkpoint's keys (${keys.slice(0, 6).join(', ')}` +
        `${keys.length > 6 ? ', …' : ''}); pass arch: one of ${PYTORCH_ARCHS.join(', ')}`,
    );
  }
  if (!PYTORCH_ARCHS.includes(arch)) throw new RangeError(`unknown arch '${arch}'; valid: ${PYTORCH_ARCHS.join(', ')}`);
  const spec = ARCHS[arch];
  const { convs, norm, heads, numClasses, width } = bindTensors(arch, spec, stateDict);
  const postprocess = convertedPostprocess(spec, numClasses, options);

  const g = new GraphBuilder(arch);
  let nodes = 0;
  const node: GraphBuilder['node'] = (...args) => {
    nodes++;
    return g.node(...args);
  };
  const emitConv = (input: string, layer: ConvSpec, relu: boolean): string => {
    const { weight, bias } = convs.get(layer.name)!;
    const w = g.floats(`${layer.name}.weight`, weight!.float32(), weight!.shape);
    const b = g.floats(`${layer.name}.bias`, bias!.float32(), bias!.shape);
    const { kernel: k, pad: p, stride: s, dilation: d } = layer;
    const attributes = { kernel_shape: [k, k], pads: [p, p, p, p], strides: [s, s], dilations: [d, d] };
    if (!relu) return node('Conv', [input, w, b], layer.name, attributes);
    return node('Relu', [node('Conv', [input, w, b], `${layer.name}.conv`, attributes)], layer.name);
  };

  let x = g.input('image', ['N', 3, spec.imageSize, spec.imageSize]);
  let size = spec.imageSize;
  for (const layer of spec.trunk) {
    if (layer.kind === 'conv') {
      x = emitConv(x, layer, true);
      size = outputSize(size, layer.kernel, layer.stride, layer.pad, layer.dilation);
      continue;
    }
    // Ceil mode as explicit end padding (never selected by a max): every provider supports pads.
    const out = outputSize(size, layer.size, layer.stride, layer.pad, 1, layer.ceil);
    const end = layer.pad + Math.max(0, (out - 1) * layer.stride + layer.size - (size + 2 * layer.pad));
    x = node('MaxPool', [x], layer.name, {
      kernel_shape: [layer.size, layer.size],
      strides: [layer.stride, layer.stride],
      pads: [layer.pad, layer.pad, end, end],
    });
    size = out;
  }

  const locShape = g.int64s('loc.shape', [0, -1, 4]);
  const confShape = g.int64s('conf.shape', [0, -1, numClasses]);
  const loc: string[] = [],
    conf: string[] = [];
  heads.forEach((head, k) => {
    let features = head.from;
    if (k === 0) {
      features = emitL2Norm(g, features, `${head.from}_norm`, norm.float32(), spec.norm.guard, spec.norm.eps);
      nodes += 6;
    }
    loc.push(emitRows(g, emitConv(features, head.loc, false), head.loc.name, locShape));
    conf.push(emitRows(g, emitConv(features, head.conf, false), head.conf.name, confShape));
    nodes += 4;
  });
  const numPriors = heads.reduce((n, h) => n + h.featureMap ** 2 * h.boxes, 0);
  node('Concat', loc, 'loc', { axis: 1 });
  node('Concat', conf, 'conf', { axis: 1 });
  g.output('loc', ['N', numPriors, 4]);
  g.output('conf', ['N', numPriors, numClasses]);

  const metadata = encodeSsdEdgeMetadata({
    opset: EXPORT_OPSET,
    preprocess: options.preprocess ?? inputPresets[spec.preset],
    postprocess,
    width,
    numClasses,
  });
  const onnx = g.encode({
    opset: EXPORT_OPSET,
    irVersion: EXPORT_IR_VERSION,
    producerName: PRODUCER_NAME,
    metadata: { ...metadata, 'ssd-edge.source': 'pytorch', 'ssd-edge.arch': arch, ...options.metadata },
  });
  const parameters = [...convs.values()].reduce((n, { weight, bias }) => n + weight!.numel + bias!.numel, norm.numel);
  return {
    onnx,
    report: {
      arch,
      archSource: options.arch ? 'given' : 'detected',
      tensors: stateDict.size,
      parameters,
      numClasses,
      numPriors,
      width,
      onnxNodes: nodes,
    },
  };
}

/** Converts a `.pth` file's bytes (zip or legacy format) into an ssd-edge ONNX model. */
export function convertPytorchSsd(
  bytes: Uint8Array,
  options: PytorchConvertOptions = {},
): { onnx: Uint8Array; report: PytorchConversionReport } {
  const checkpoint = readPth(bytes);
  const { stateDict, path } = findStateDict(checkpoint.root);
  const { onnx, report } = convertPytorchStateDict(stateDict, options);
  return {
    onnx,
    report: { ...report, format: checkpoint.format, stateDictPath: path, locations: checkpoint.locations },
  };
}

/**
 * Presets: complete PostprocessConfig objects for known model families. Copy one and override
 * fields: `{ ...presets.ssd300Voc, scoreThreshold: 0.3 }`.
 */
import { COCO91_LABELS, VOC_LABELS } from './labels.js';
import type { PostprocessConfig } from './types.js';

/** SSD300 on PASCAL VOC as ssd.pytorch trains it (data/config.py `voc`, layers/functions/detection.py). */
const ssd300Voc: PostprocessConfig = {
  priors: {
    family: 'ssd',
    imageSize: 300,
    featureMaps: [38, 19, 10, 5, 3, 1],
    steps: [8, 16, 32, 64, 100, 300],
    minSizes: [30, 60, 111, 162, 213, 264],
    maxSizes: [60, 111, 162, 213, 264, 315],
    aspectRatios: [[2], [2, 3], [2, 3], [2, 3], [2], [2]],
    clip: true,
  },
  numClasses: 21,
  backgroundClass: 0,
  boxCoding: { variances: [0.1, 0.2] },
  scoreActivation: 'softmax',
  scoreThreshold: 0.01,
  nmsThreshold: 0.45,
  topK: 200,
  keepTopK: 200,
  clip: false,
  labels: VOC_LABELS,
};

/** SSD512 on PASCAL VOC (the SSD paper's 512 configuration, ssd.pytorch-style priors). */
const ssd512Voc: PostprocessConfig = {
  ...ssd300Voc,
  priors: {
    family: 'ssd',
    imageSize: 512,
    featureMaps: [64, 32, 16, 8, 4, 2, 1],
    steps: [8, 16, 32, 64, 128, 256, 512],
    minSizes: [35.84, 76.8, 153.6, 230.4, 307.2, 384.0, 460.8],
    maxSizes: [76.8, 153.6, 230.4, 307.2, 384.0, 460.8, 537.6],
    aspectRatios: [[2], [2, 3], [2, 3], [2, 3], [2, 3], [2], [2]],
    clip: true,
  },
};

/**
 * torchvision `ssd300_vgg16` (COCO, 91 indices): DefaultBoxGenerator priors, BoxCoder weights
 * (10, 10, 5, 5), softmax, 400 candidates per class, NMS 0.45, 200 per image, boxes clipped.
 */
const torchvisionSsd300Coco: PostprocessConfig = {
  priors: {
    family: 'torchvision',
    imageSize: 300,
    featureMaps: [38, 19, 10, 5, 3, 1],
    scales: [0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05],
    aspectRatios: [[2], [2, 3], [2, 3], [2, 3], [2], [2]],
    steps: [8, 16, 32, 64, 100, 300],
    clip: true,
  },
  numClasses: 91,
  backgroundClass: 0,
  boxCoding: { scaleFactors: [10, 10, 5, 5], order: 'xywh' },
  scoreActivation: 'softmax',
  scoreThreshold: 0.01,
  nmsThreshold: 0.45,
  topK: 400,
  keepTopK: 200,
  clip: true,
  labels: COCO91_LABELS,
};

/**
 * TF Object Detection API `ssd_mobilenet_v1_coco` at 300×300: multiple-grid anchors (1917),
 * scale factors (10, 10, 5, 5) on (y, x, h, w), sigmoid scores, per-class NMS 0.6,
 * 100 per class and per image, as its pipeline.config sets them.
 */
const tfSsdMobilenetV1Coco: PostprocessConfig = {
  priors: {
    family: 'tfGrid',
    featureMaps: [19, 10, 5, 3, 2, 1],
    minScale: 0.2,
    maxScale: 0.95,
    aspectRatios: [1.0, 2.0, 0.5, 3.0, 0.3333],
    reduceBoxesInLowestLayer: true,
  },
  numClasses: 91,
  backgroundClass: 0,
  boxCoding: { scaleFactors: [10, 10, 5, 5], order: 'yxhw' },
  scoreActivation: 'sigmoid',
  scoreThreshold: 1e-8,
  nmsThreshold: 0.6,
  topK: 100,
  keepTopK: 100,
  clip: false,
  labels: COCO91_LABELS,
};

export const presets = Object.freeze({ ssd300Voc, ssd512Voc, torchvisionSsd300Coco, tfSsdMobilenetV1Coco });
export type PresetName = keyof typeof presets;

/** The preset of that name, or a RangeError listing the valid names. */
export function presetByName(name: string): PostprocessConfig {
  if (!Object.prototype.hasOwnProperty.call(presets, name)) {
    throw new RangeError(`unknown preset '${name}'; valid presets: ${Object.keys(presets).join(', ')}`);
  }
  return presets[name as PresetName];
}

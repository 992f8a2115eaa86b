/**
 * The pre-processing each post-processing preset's model family was trained with, keyed by the
 * same names as `presets`. All values are on 0–255 pixels; `mean` and `std` are in the tensor's
 * channel order.
 */
import type { PresetName } from '../core/presets.js';
import type { PreprocessSpec } from './types.js';

/**
 * ssd.pytorch as its train.py and eval.py feed the network: data/voc0712.py subtracts
 * (104, 117, 123) from the BGR image cv2 reads, then flips it to RGB (`img[:, :, (2, 1, 0)]`),
 * so the tensor is R − 123, G − 117, B − 104, NCHW, no scaling. Weights converted from the
 * original Caffe SSD (ssd.pytorch's `ssd_300_VOC0712.pth`) expect BGR instead:
 * `{ ...inputPresets.ssd300Voc, channels: 'bgr', mean: [104, 117, 123] }`.
 */
const ssd300Voc: PreprocessSpec = {
  size: [300, 300],
  channels: 'rgb',
  mean: [123, 117, 104],
  std: [1, 1, 1],
  layout: 'nchw',
};

const ssd512Voc: PreprocessSpec = { ...ssd300Voc, size: [512, 512] };

/**
 * torchvision `ssd300_vgg16`: GeneralizedRCNNTransform on 0–1 RGB with image_mean
 * [0.48235, 0.45882, 0.40784] and image_std [1/255] × 3 (torchvision/models/detection/ssd.py),
 * i.e. x·255 − mean·255 on 0–255 values; resized to a fixed 300 × 300 with bilinear,
 * align_corners=False.
 */
const torchvisionSsd300Coco: PreprocessSpec = {
  size: [300, 300],
  channels: 'rgb',
  mean: [0.48235 * 255, 0.45882 * 255, 0.40784 * 255],
  std: [1, 1, 1],
  layout: 'nchw',
};

/** TF Object Detection API `ssd_mobilenet_v1_coco`: (x − 127.5) / 127.5 on RGB, NHWC, 300 × 300. */
const tfSsdMobilenetV1Coco: PreprocessSpec = {
  size: [300, 300],
  channels: 'rgb',
  mean: [127.5, 127.5, 127.5],
  std: [127.5, 127.5, 127.5],
  layout: 'nhwc',
};

// `satisfies` keeps this table in step with the post-processing presets.
export const inputPresets = Object.freeze({
  ssd300Voc,
  ssd512Voc,
  torchvisionSsd300Coco,
  tfSsdMobilenetV1Coco,
} satisfies Record<PresetName, PreprocessSpec>);

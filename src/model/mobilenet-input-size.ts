/**
 * The square input sizes a MobileNet SSD (SSD / SSDLite MobileNet V2, SSD MobileNet V1) is built,
 * trained, exported and fine-tuned at, and the feature maps each gives. Apart from the network
 * (no tfjs) so the commands can check a size before they load tfjs.
 *
 * The rule: 300 (the TF OD API v1 COCO models), or a multiple of 32 from 128 to 640 (320 is the
 * TF2 zoo's; 128 … 224 are MobileNet's own ImageNet resolutions). The convolutions do not depend
 * on the size, so a COCO model fine-tunes at any of them; only the anchor grid changes. A multiple
 * of 32 makes the stride-16 and stride-32 maps exact (size/16, size/32). 128 keeps the first map
 * at 8×8 (below it the small-object map is little more than a 4×4 grid); above 640 a training step
 * outgrows what the wasm backend handles in reasonable time and memory.
 */

/** The TF OD API v1 models' input size, and the default. */
export const MOBILENET_SSD_INPUT_SIZE = 300;
export const MOBILENET_SSD_MIN_INPUT_SIZE = 128;
export const MOBILENET_SSD_MAX_INPUT_SIZE = 640;
/** Apart from 300, sizes are multiples of this: the base's output stride (Conv_1, Conv2d_13_pointwise). */
export const MOBILENET_SSD_INPUT_SIZE_STEP = 32;

/** Every size the rule allows, ascending: 128, 160, 192, 224, 256, 288, 300, 320, …, 640. */
export const MOBILENET_SSD_INPUT_SIZES: readonly number[] = Object.freeze(
  [
    ...Array.from(
      { length: (MOBILENET_SSD_MAX_INPUT_SIZE - MOBILENET_SSD_MIN_INPUT_SIZE) / MOBILENET_SSD_INPUT_SIZE_STEP + 1 },
      (_, i) => MOBILENET_SSD_MIN_INPUT_SIZE + i * MOBILENET_SSD_INPUT_SIZE_STEP,
    ),
    MOBILENET_SSD_INPUT_SIZE,
  ].sort((a, b) => a - b),
);

/** The rule in words, for messages and help texts. */
export const MOBILENET_SSD_INPUT_SIZE_RULE = `${MOBILENET_SSD_INPUT_SIZE}, or a multiple of ${MOBILENET_SSD_INPUT_SIZE_STEP} from ${MOBILENET_SSD_MIN_INPUT_SIZE} to ${MOBILENET_SSD_MAX_INPUT_SIZE}`;

export const isMobilenetSsdInputSize = (size: unknown): size is number =>
  typeof size === 'number' && MOBILENET_SSD_INPUT_SIZES.includes(size);

/** Throws a RangeError naming the option (`inputSize`, `train: inputSize`, `export: --input-size`) unless `size` follows the rule. */
export function checkMobilenetSsdInputSize(size: unknown, option = 'inputSize'): void {
  if (!isMobilenetSsdInputSize(size)) {
    throw new RangeError(`${option} is ${String(size)}; a MobileNet SSD takes ${MOBILENET_SSD_INPUT_SIZE_RULE}`);
  }
}

/** The number of MobileNet SSD's prediction sources (feature maps). */
export const MOBILENET_SSD_NUM_FEATURE_MAPS = 6;

/**
 * The six feature maps' sizes at a `size` × `size` input: TF's SAME padding gives ceil(n / 2) at
 * every stride-2 layer, so the first source (stride 16) is ceil(size / 16) and each further one
 * halves it, rounding up (never below 1). 300: 19, 10, 5, 3, 2, 1; 320: 20, 10, 5, 3, 2, 1;
 * 192: 12, 6, 3, 2, 1, 1; 128: 8, 4, 2, 1, 1, 1.
 */
export function mobilenetSsdFeatureMaps(size: number): number[] {
  checkMobilenetSsdInputSize(size);
  const maps = [Math.ceil(size / 16)];
  while (maps.length < MOBILENET_SSD_NUM_FEATURE_MAPS) maps.push(Math.ceil(maps[maps.length - 1] / 2));
  return maps;
}

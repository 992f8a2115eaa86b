/**
 * Batches: each epoch's image order, flips and augmentation seeds drawn from (seed, epoch), so a
 * resumed run draws what an uninterrupted one would; and a batch's images, decoded, augmented
 * ('flip' or the SSD augmentation) and pre-processed into one NHWC tensor with their boxes.
 */
import { decodeImage } from '../runtime/image-node.js';
import type { WasmPreprocessor } from '../runtime/preprocess-wasm.js';
import type { PreprocessSpec } from '../runtime/types.js';
import { mulberry32 } from '../util/random.js';
import { augmentSsd } from './data/augment.js';
import type { VocItem } from './data/index.js';
import type { TrainingNetwork } from './networks.js';
import type { BoxAnnotation } from './targets.js';

/**
 * One epoch's plan, from (seed, epoch): the image order, which of those images are flipped
 * (augment 'flip'), and each position's augmentation seed (augment 'ssd').
 */
export function epochPlan(
  seed: number,
  epoch: number,
  numImages: number,
  flip: number,
): { order: number[]; flipped: boolean[]; seeds: number[] } {
  const random = mulberry32((Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  const order = Array.from({ length: numImages }, (_, i) => i);
  for (let i = numImages - 1; i > 0; i--) {
    // Fisher–Yates
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const flipped = order.map(() => random() < flip);
  const seeds = order.map(() => Math.floor(random() * 2 ** 32));
  return { order, flipped, seeds };
}

/** ssd.pytorch's RandomMirror on normalised boxes: xmin' = 1 − xmax, xmax' = 1 − xmin. */
function flipBoxes(boxes: Float32Array): Float32Array {
  const out = boxes.slice();
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = 1 - boxes[i + 2];
    out[i + 2] = 1 - boxes[i];
  }
  return out;
}

/** Mirrors image `index` of an NHWC [*, height, width, 3] buffer in place. */
function flipNhwc(data: Float32Array, index: number, width: number, height: number): void {
  const rowLength = width * 3;
  for (let y = 0; y < height; y++) {
    const row = (index * height + y) * rowLength;
    for (let a = 0, b = width - 1; a < b; a++, b--) {
      for (let c = 0; c < 3; c++) {
        const i = row + a * 3 + c,
          j = row + b * 3 + c;
        const t = data[i];
        data[i] = data[j];
        data[j] = t;
      }
    }
  }
}

/** Keeps the non-difficult objects (ssd.pytorch keep_difficult=False), as the network learns them. */
function annotationOf(
  item: VocItem,
  annotate: TrainingNetwork['annotation'],
): { boxes: Float32Array; labels: Int32Array } {
  const keep = [...item.difficult.keys()].filter((i) => item.difficult[i] === 0);
  return annotate(
    Float32Array.from(keep.flatMap((i) => [...item.boxes.subarray(4 * i, 4 * i + 4)])),
    Int32Array.from(keep.map((i) => item.labels[i])),
  );
}

export interface Batch {
  images: Float32Array;
  annotations: BoxAnnotation[];
}

export interface BatchPlan {
  flips: readonly boolean[];
  seeds: readonly number[];
  augment: 'flip' | 'ssd';
  flip: number;
}

export async function loadBatch(
  items: readonly VocItem[],
  plan: BatchPlan,
  pre: WasmPreprocessor,
  spec: PreprocessSpec,
  annotate: TrainingNetwork['annotation'],
): Promise<Batch> {
  const [width, height] = spec.size;
  const images = new Float32Array(items.length * width * height * 3);
  const decoded = await Promise.all(items.map((item) => decodeImage(item.imagePath)));
  const flips = plan.flips;
  const annotations = items.map((item, i) => {
    const { boxes, labels } = annotationOf(item, annotate);
    if (plan.augment === 'ssd') {
      const mean = spec.channels === 'rgb' ? spec.mean : ([spec.mean[2], spec.mean[1], spec.mean[0]] as const);
      // Augmented at the source's size (a square), then resized to the input by the pre-processing.
      const size = Math.max(decoded[i].width, decoded[i].height);
      const out = augmentSsd(decoded[i], boxes, labels, mulberry32(plan.seeds[i]), { size, mean, flip: plan.flip });
      pre.run(out.image, spec, images, i);
      return { boxes: out.boxes, labels: out.labels };
    }
    pre.run(decoded[i], spec, images, i);
    if (!flips[i]) return { boxes, labels };
    flipNhwc(images, i, width, height);
    return { boxes: flipBoxes(boxes), labels };
  });
  return { images, annotations };
}

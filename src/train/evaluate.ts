/**
 * PASCAL VOC mAP@0.5 of an ONNX model through the real runtime: the model runs in a Detector
 * (its metadata carries pre- and post-processing) on every image of a VOC split, and the
 * detections are scored with `evaluateDetections` (map.ts) against the split's annotations,
 * `difficult` boxes excluded. Boxes are normalised xyxy on both sides, so IoU is continuous
 * (`pixelPlusOne: false`).
 */
import { createDetector } from '../runtime/detector.js';
import type { Backend } from '../runtime/types.js';
import { readVocDataset } from './data/index.js';
import { evaluateDetections, type EvalDetection, type EvaluationResult, type GroundTruthImage } from './map.js';

export interface EvaluateModelOptions {
  /** An .onnx file path, URL, or the model's bytes. */
  model: string | URL | Uint8Array | ArrayBuffer;
  /** Root of a PASCAL VOC layout dataset. */
  data: string;
  /** Image set `ImageSets/Main/<split>.txt`. Default 'test'. */
  split?: string;
  /** Inference backend. Default 'auto'. */
  backend?: Backend | 'auto';
  /**
   * Post-processing score threshold override. Default 0.01 (the SSD presets' own: mAP wants the
   * low-score tail of the ranking).
   */
  scoreThreshold?: number;
  /** Evaluate only the first `limit` images of the split. */
  limit?: number;
  /** Called after each image. */
  onProgress?: (done: number, total: number, imageId: string) => void;
}

export interface ModelEvaluation extends EvaluationResult {
  /** Images evaluated. */
  images: number;
  /** Wall time of detection and scoring, seconds. */
  seconds: number;
  /** The backend that ran the model ('auto' resolved). */
  backend: Backend;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The model class of each dataset class (−1: not evaluated). A model with the dataset's classes
 * maps one to one; a one-class model (background and one label, as the mini SSD) is scored on
 * that class of the dataset, or on every object when its label is 'object'.
 */
function classMapping(modelLabels: string[] | undefined, numClasses: number, datasetClasses: readonly string[], data: string): number[] {
  if (modelLabels ? sameList(modelLabels, datasetClasses) : numClasses === datasetClasses.length) return datasetClasses.map((_, i) => i);
  if (modelLabels && numClasses === 2) {
    const [, label] = modelLabels;
    if (label === 'object') return datasetClasses.map((_, i) => (i === 0 ? 0 : 1));
    if (datasetClasses.includes(label)) return datasetClasses.map((name, i) => (i === 0 ? 0 : name === label ? 1 : -1));
  }
  throw new Error(`evaluate: the model's classes do not match the dataset's; ` +
    `model (${numClasses}): ${modelLabels ? modelLabels.join(', ') : '(no labels in its metadata)'}; ` +
    `dataset ${data} (${datasetClasses.length}): ${datasetClasses.join(', ')}`);
}

/** mAP@0.5 (VOC2007 11-point and all-point), per class, of `model` on a VOC split. */
export async function evaluateModel(options: EvaluateModelOptions): Promise<ModelEvaluation> {
  const { model, data, split = 'test', backend = 'auto', scoreThreshold = 0.01, limit, onProgress } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  if (!(scoreThreshold >= 0 && scoreThreshold < 1)) throw new RangeError(`scoreThreshold must be in [0, 1), got ${scoreThreshold}`);
  const dataset = await readVocDataset(data, { split });
  const items = limit === undefined ? dataset.items : dataset.items.slice(0, limit);
  if (items.length === 0) throw new Error(`evaluate: split '${split}' of ${data} lists no images`);

  const detector = await createDetector({ model, backend, scoreThreshold });
  try {
    const { config } = detector;
    const modelLabels = config.labels ? [...config.labels] : undefined;
    const toModelClass = classMapping(modelLabels, config.numClasses, dataset.classes, data);
    if ((config.backgroundClass ?? 0) !== 0) {
      throw new Error(`evaluate: the model's background class is ${config.backgroundClass}; the VOC reader puts background at 0`);
    }
    const started = performance.now();
    const groundTruth: GroundTruthImage[] = [];
    const detections: EvalDetection[][] = [];
    for (const item of items) {
      const found = await detector.detect(item.imagePath);
      detections.push(found.map(({ classId, score, box }) => ({ classId, score, box })));
      const keep = [...item.labels.keys()].filter((i) => toModelClass[item.labels[i]] > 0);
      groundTruth.push({
        boxes: Float32Array.from(keep.flatMap((i) => [...item.boxes.subarray(4 * i, 4 * i + 4)])),
        labels: Int32Array.from(keep, (i) => toModelClass[item.labels[i]]),
        difficult: keep.map((i) => item.difficult[i] === 1),
      });
      onProgress?.(detections.length, items.length, item.id);
    }
    const result = evaluateDetections(groundTruth, detections, {
      numClasses: config.numClasses, backgroundClass: 0, iouThreshold: 0.5, labels: modelLabels ?? dataset.classes, pixelPlusOne: false,
    });
    return { ...result, images: items.length, seconds: (performance.now() - started) / 1000, backend: detector.backend };
  } finally {
    await detector.dispose();
  }
}

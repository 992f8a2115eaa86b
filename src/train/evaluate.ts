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
    if (modelLabels ? !sameList(modelLabels, dataset.classes) : config.numClasses !== dataset.classes.length) {
      throw new Error(`evaluate: the model's classes do not match the dataset's; ` +
        `model (${config.numClasses}): ${modelLabels ? modelLabels.join(', ') : '(no labels in its metadata)'}; ` +
        `dataset ${data} (${dataset.classes.length}): ${dataset.classes.join(', ')}`);
    }
    if ((config.backgroundClass ?? 0) !== 0) {
      throw new Error(`evaluate: the model's background class is ${config.backgroundClass}; the VOC reader puts background at 0`);
    }
    const started = performance.now();
    const groundTruth: GroundTruthImage[] = [];
    const detections: EvalDetection[][] = [];
    for (const item of items) {
      const found = await detector.detect(item.imagePath);
      detections.push(found.map(({ classId, score, box }) => ({ classId, score, box })));
      groundTruth.push({ boxes: item.boxes, labels: item.labels, difficult: Array.from(item.difficult, (d) => d === 1) });
      onProgress?.(detections.length, items.length, item.id);
    }
    const result = evaluateDetections(groundTruth, detections, {
      numClasses: dataset.classes.length, backgroundClass: 0, iouThreshold: 0.5, labels: dataset.classes, pixelPlusOne: false,
    });
    return { ...result, images: items.length, seconds: (performance.now() - started) / 1000, backend: detector.backend };
  } finally {
    await detector.dispose();
  }
}

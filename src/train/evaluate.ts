/**
 * PASCAL VOC mAP@0.5 of an ONNX model through the real runtime: the model runs in a Detector
 * (its metadata carries pre- and post-processing) on every image of a VOC split, and the
 * detections are scored with `evaluateDetections` (map.ts) against the split's annotations,
 * `difficult` boxes excluded. Boxes are normalised xyxy on both sides, so IoU is continuous
 * (`pixelPlusOne: false`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { createPostprocessor, type Postprocessor } from '../core/postprocessor.js';
import type { PostprocessConfig } from '../core/types.js';
import { miniSsdRows } from '../model/mini.js';
import { ssd300Postprocess } from '../model/onnx/export.js';
import { miniPostprocess } from '../model/onnx/export-mini.js';
import { mobilenetExportPostprocess } from '../model/onnx/export-mobilenet.js';
import { DEFAULT_PREPROCESS } from '../model/onnx/metadata.js';
import { createDetector } from '../runtime/detector.js';
import { decodeImage } from '../runtime/image-node.js';
import { createWasmPreprocessor, type WasmPreprocessor } from '../runtime/preprocess-wasm.js';
import type { Backend, PreprocessSpec } from '../runtime/types.js';
import { loadCheckpointModel } from './checkpoint.js';
import { readVocDataset, type VocDataset, type VocItem } from './data/index.js';
import { initTraining, type TrainingBackendName } from './tfjs.js';
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
  /**
   * Leave out (and count in `skipped`) the annotations the VOC reader finds invalid (zero-size or
   * out-of-size boxes, mis-sized images, repeated ids) instead of failing; see ReadVocOptions. Default false.
   */
  skipInvalid?: boolean;
  /** Called after each image. */
  onProgress?: (done: number, total: number, imageId: string) => void;
}

export interface ModelEvaluation extends EvaluationResult {
  /** Images evaluated. */
  images: number;
  /** Wall time of detection and scoring, seconds. */
  seconds: number;
  /** The backend that ran the model ('auto' resolved): a runtime backend, or `tfjs-<backend>` for a checkpoint. */
  backend: Backend | `tfjs-${TrainingBackendName}`;
  /** What `skipInvalid` left out of the split (all zero without it). */
  skipped: VocDataset['skipped'];
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The model class of each dataset class (−1: not evaluated). A model with the dataset's classes
 * maps one to one; a one-class model (background and one label, as the mini SSD) is scored on
 * that class of the dataset, or on every object when its label is 'object'.
 */
function classMapping(
  modelLabels: string[] | undefined,
  numClasses: number,
  datasetClasses: readonly string[],
  data: string,
): number[] {
  if (modelLabels ? sameList(modelLabels, datasetClasses) : numClasses === datasetClasses.length)
    return datasetClasses.map((_, i) => i);
  if (modelLabels && numClasses === 2) {
    const [, label] = modelLabels;
    if (label === 'object') return datasetClasses.map((_, i) => (i === 0 ? 0 : 1));
    if (datasetClasses.includes(label)) return datasetClasses.map((name, i) => (i === 0 ? 0 : name === label ? 1 : -1));
  }
  throw new Error(
    `evaluate: the model's classes do not match the dataset's; ` +
      `model (${numClasses}): ${modelLabels ? modelLabels.join(', ') : '(no labels in its metadata)'}; ` +
      `dataset ${data} (${datasetClasses.length}): ${datasetClasses.join(', ')}`,
  );
}

/** The images of a split to score, with the dataset's classes (background first). */
interface SplitToScore {
  data: string;
  classes: readonly string[];
  items: readonly VocItem[];
  skipped: VocDataset['skipped'];
}

/** What produces an image's detections: an ONNX model in a Detector, or a checkpoint in tfjs. */
interface DetectionSource {
  config: Pick<PostprocessConfig, 'labels' | 'numClasses' | 'backgroundClass'>;
  backend: ModelEvaluation['backend'];
  detect(imagePath: string): Promise<EvalDetection[]>;
  dispose(): Promise<void>;
}

function checkCommon({ scoreThreshold = 0.01, limit }: { scoreThreshold?: number; limit?: number }): void {
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1))
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  if (!(scoreThreshold >= 0 && scoreThreshold < 1))
    throw new RangeError(`scoreThreshold must be in [0, 1), got ${scoreThreshold}`);
}

/** The split's images (the first `limit`), read before any model is loaded so a bad path fails first. */
async function readSplit({
  data,
  split = 'test',
  limit,
  skipInvalid,
}: Omit<EvaluateModelOptions, 'model' | 'backend'>): Promise<SplitToScore> {
  const dataset = await readVocDataset(data, { split, skipInvalid });
  const items = limit === undefined ? dataset.items : dataset.items.slice(0, limit);
  if (items.length === 0) throw new Error(`evaluate: split '${split}' of ${data} lists no images`);
  return { data, classes: dataset.classes, items, skipped: dataset.skipped };
}

/** Runs `source` on every image of the split and scores its detections. Disposes `source`. */
async function evaluateSource(
  source: DetectionSource,
  { data, classes, items, skipped }: SplitToScore,
  onProgress: EvaluateModelOptions['onProgress'],
): Promise<ModelEvaluation> {
  try {
    const { config } = source;
    const modelLabels = config.labels ? [...config.labels] : undefined;
    const toModelClass = classMapping(modelLabels, config.numClasses, classes, data);
    if ((config.backgroundClass ?? 0) !== 0) {
      throw new Error(
        `evaluate: the model's background class is ${config.backgroundClass}; the VOC reader puts background at 0`,
      );
    }
    const started = performance.now();
    const groundTruth: GroundTruthImage[] = [];
    const detections: EvalDetection[][] = [];
    for (const item of items) {
      detections.push(await source.detect(item.imagePath));
      const keep = [...item.labels.keys()].filter((i) => toModelClass[item.labels[i]] > 0);
      groundTruth.push({
        boxes: Float32Array.from(keep.flatMap((i) => [...item.boxes.subarray(4 * i, 4 * i + 4)])),
        labels: Int32Array.from(keep, (i) => toModelClass[item.labels[i]]),
        difficult: keep.map((i) => item.difficult[i] === 1),
      });
      onProgress?.(detections.length, items.length, item.id);
    }
    const result = evaluateDetections(groundTruth, detections, {
      numClasses: config.numClasses,
      backgroundClass: 0,
      iouThreshold: 0.5,
      labels: modelLabels ?? [...classes],
      pixelPlusOne: false,
    });
    return {
      ...result,
      images: items.length,
      seconds: (performance.now() - started) / 1000,
      backend: source.backend,
      skipped,
    };
  } finally {
    await source.dispose();
  }
}

/** mAP@0.5 (VOC2007 11-point and all-point), per class, of an ONNX `model` on a VOC split, through the runtime. */
export async function evaluateModel(options: EvaluateModelOptions): Promise<ModelEvaluation> {
  const { model, backend = 'auto', scoreThreshold = 0.01 } = options;
  checkCommon(options);
  const split = await readSplit(options);
  const detector = await createDetector({ model, backend, scoreThreshold });
  return evaluateSource(
    {
      config: detector.config,
      backend: detector.backend,
      detect: async (imagePath) =>
        (await detector.detect(imagePath)).map(({ classId, score, box }) => ({ classId, score, box })),
      dispose: () => detector.dispose(),
    },
    split,
    options.onProgress,
  );
}

export interface EvaluateCheckpointOptions extends Omit<EvaluateModelOptions, 'model' | 'backend'> {
  /** A training checkpoint directory (ssd-edge train). */
  checkpoint: string;
  /** The tfjs backend (as for training). Default 'auto'. */
  backend?: TrainingBackendName | 'auto';
}

/**
 * The same mAP of a training checkpoint run in tfjs (inference mode), with the post-processing
 * its export would record: the number an exported model's `evaluateModel` must reproduce.
 */
export async function evaluateCheckpoint(options: EvaluateCheckpointOptions): Promise<ModelEvaluation> {
  const { checkpoint, backend = 'auto', scoreThreshold = 0.01 } = options;
  checkCommon(options);
  const split = await readSplit(options);
  const chosen = await initTraining({ backend, log: () => {} });
  const loaded = await loadCheckpointModel(checkpoint);
  const spec: PreprocessSpec = { ...(loaded.meta.preprocess ?? DEFAULT_PREPROCESS), layout: 'nhwc' };
  const base =
    loaded.arch === 'mini'
      ? miniPostprocess(loaded.meta.classes[1])
      : loaded.arch === 'ssd300'
        ? ssd300Postprocess(loaded.model, { labels: loaded.meta.classes })
        : mobilenetExportPostprocess(loaded.model, { labels: loaded.meta.classes });
  let post: Postprocessor | undefined, pre: WasmPreprocessor;
  try {
    post = await createPostprocessor({ ...base, scoreThreshold });
    pre = await createWasmPreprocessor();
  } catch (error) {
    post?.dispose();
    loaded.model.dispose();
    throw error;
  }
  const [width, height] = spec.size;
  return evaluateSource(
    {
      config: base,
      backend: `tfjs-${chosen.name}`,
      async detect(imagePath) {
        const pixels = pre.run(await decodeImage(imagePath), spec);
        // The tidy returns tensors, read after it: tf.tidy walks whatever it returns value by value
        // looking for tensors: for the heads' typed arrays that cost about a small network's forward pass.
        const out = tf.tidy<{ loc: tf.Tensor3D; conf: tf.Tensor3D }>(() => {
          const images = tf.tensor4d(pixels, [1, height, width, 3]);
          return loaded.arch === 'mini' ? miniSsdRows(loaded.model.apply(images)) : loaded.model.apply(images);
        });
        try {
          const found = post!.run(out.loc.dataSync() as Float32Array, out.conf.dataSync() as Float32Array, 1)[0];
          return found.map(({ classId, score, box }) => ({ classId, score, box }));
        } finally {
          tf.dispose([out.loc, out.conf]);
        }
      },
      async dispose() {
        post!.dispose();
        loaded.model.dispose();
      },
    },
    split,
    options.onProgress,
  );
}

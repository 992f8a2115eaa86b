/**
 * PASCAL VOC detection mAP, as the VOC devkit (`VOCevaldet.m`, `VOCap.m`) and its Python ports
 * (py-faster-rcnn `voc_eval.py`, ssd.pytorch `eval.py`) compute it, per class:
 *
 * 1. The class's detections of all images are sorted by score, highest first. Ties keep input
 *    order (image index, then position in that image's list): a stable sort, as MATLAB's `sort`.
 * 2. Each detection in turn takes the ground truth of its image and class with the highest IoU
 *    — over all of them, already matched and `difficult` ones included (the devkit's rule; on
 *    equal IoU the first in input order). If that IoU ≥ `iouThreshold` (0.5 counts, as the
 *    MATLAB devkit's `ovmax >= minoverlap`): a `difficult` truth makes the detection neither TP
 *    nor FP; an unmatched truth becomes matched and the detection is a TP; an already matched
 *    truth makes it a FP (a duplicate). Otherwise (lower IoU, or no truth of that class in the
 *    image) it is a FP. So a duplicate is a FP even when another unmatched truth overlaps it
 *    enough: the devkit does not fall back to the next best truth.
 * 3. recall = cumulative TP / number of non-difficult truths;
 *    precision = cumulative TP / max(cumulative TP + FP, ε) (0 before the first TP or FP).
 * 4. AP, two ways:
 *    - VOC2007 11-point: the mean over t = 0, 0.1, …, 1 of the highest precision at recall ≥ t
 *      (0 where recall never reaches t). The thresholds are the doubles nearest k/10; numpy's
 *      `np.arange(0., 1.1, 0.1)` gives 0.30000000000000004, 0.6000000000000001 and
 *      0.7000000000000001 instead, so a recall of exactly 3/10, 6/10 or 7/10 counts here and not
 *      in the Python ports.
 *    - all-point (VOC2010+): the area under the precision envelope (precision made
 *      non-increasing in recall), summed where recall changes, with sentinels (0, 0) and (1, 0).
 *
 * Boxes are `xyxy` corners. ssd-edge boxes are normalised to [0, 1] (or float pixels), so by
 * default IoU is continuous: area = (xmax − xmin)·(ymax − ymin). `pixelPlusOne: true` uses the
 * devkit's inclusive integer-pixel convention (width = xmax − xmin + 1), which reproduces the
 * devkit exactly on its pixel annotations; it is wrong for normalised boxes.
 *
 * A class without non-difficult ground truth has no recall (the devkit divides by zero and gets
 * NaN): its AP is NaN and it is left out of the mean. A class with ground truth and no
 * detections has AP 0 (ssd.pytorch's `eval.py` reports −1 there and averages it in; the devkit
 * gives 0). The mean is over the classes that have ground truth, NaN when none has.
 */

/** One image's ground truth. */
export interface GroundTruthImage {
  /**
   * `xyxy` boxes: rows `[xmin, ymin, xmax, ymax]`, or flattened with 4 values per box (the
   * layout of `BoxAnnotation` in targets.ts).
   */
  boxes: readonly (readonly number[])[] | ArrayLike<number>;
  /** One class per box, in [0, numClasses), not the background class. */
  labels: ArrayLike<number>;
  /** Per box; `difficult` boxes are neither required nor penalised. Default all false. */
  difficult?: ArrayLike<boolean>;
}

/** A detection as evaluated (a `Detection` from the post-processor fits). */
export interface EvalDetection {
  classId: number;
  score: number;
  /** `[xmin, ymin, xmax, ymax]`, in the ground truth's units. */
  box: ArrayLike<number>;
}

export interface EvaluateOptions {
  /** Classes including the background: class ids are in [0, numClasses). */
  numClasses: number;
  /** The class id that is not evaluated; −1 for none. Default 0. */
  backgroundClass?: number;
  /** Smallest IoU of a match (inclusive). Default 0.5. */
  iouThreshold?: number;
  /** Class names by class id, copied to the results. */
  labels?: readonly string[];
  /** The devkit's +1 pixel convention in IoU; for integer pixel boxes only. Default false. */
  pixelPlusOne?: boolean;
}

export interface ClassResult {
  classId: number;
  label?: string;
  /** VOC2007 11-point AP; NaN when `numGroundTruth` is 0. */
  ap07: number;
  /** All-point (area) AP, VOC2010+; NaN when `numGroundTruth` is 0. */
  apAll: number;
  /** Non-difficult ground truths (the recall's denominator). */
  numGroundTruth: number;
  /** `difficult` ground truths (ignored). */
  numDifficult: number;
  /** Detections of this class, all images. */
  numDetections: number;
  truePositives: number;
  falsePositives: number;
  /** Cumulative recall after each detection in score order (empty when `numGroundTruth` is 0). */
  recall: Float64Array;
  /** Cumulative precision after each detection in score order. */
  precision: Float64Array;
}

export interface EvaluationResult {
  /** Every class but the background, by class id. */
  perClass: ClassResult[];
  /** Mean `ap07` over the classes with ground truth; NaN when none has. */
  map07: number;
  /** Mean `apAll` over the classes with ground truth; NaN when none has. */
  mapAll: number;
}

/** IoU of two `xyxy` boxes given as 4 values at offsets `i` and `j`. */
export function boxIou(a: ArrayLike<number>, b: ArrayLike<number>, pixelPlusOne = false, i = 0, j = 0): number {
  const one = pixelPlusOne ? 1 : 0;
  const iw = Math.min(a[i + 2], b[j + 2]) - Math.max(a[i], b[j]) + one;
  const ih = Math.min(a[i + 3], b[j + 3]) - Math.max(a[i + 1], b[j + 1]) + one;
  if (!(iw > 0 && ih > 0)) return 0;
  const inter = iw * ih;
  const union =
    (a[i + 2] - a[i] + one) * (a[i + 3] - a[i + 1] + one) +
    (b[j + 2] - b[j] + one) * (b[j + 3] - b[j + 1] + one) -
    inter;
  return union > 0 ? inter / union : 0;
}

/** VOC2007 11-point AP of a recall/precision sequence (recall non-decreasing). */
export function voc07Ap(recall: ArrayLike<number>, precision: ArrayLike<number>): number {
  let sum = 0;
  for (let k = 0; k <= 10; k++) {
    const t = k / 10;
    let p = 0;
    for (let n = 0; n < recall.length; n++) if (recall[n] >= t && precision[n] > p) p = precision[n];
    sum += p;
  }
  return sum / 11;
}

/** All-point AP (VOC2010+): area under the non-increasing precision envelope. */
export function vocAllPointAp(recall: ArrayLike<number>, precision: ArrayLike<number>): number {
  const n = recall.length;
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  for (let k = 0; k < n; k++) {
    mrec[k + 1] = recall[k];
    mpre[k + 1] = precision[k];
  }
  mrec[n + 1] = 1;
  for (let k = n; k >= 0; k--) if (mpre[k + 1] > mpre[k]) mpre[k] = mpre[k + 1];
  let ap = 0;
  for (let k = 1; k < n + 2; k++) if (mrec[k] !== mrec[k - 1]) ap += (mrec[k] - mrec[k - 1]) * mpre[k];
  return ap;
}

function flatBoxes(boxes: GroundTruthImage['boxes'], image: number): ArrayLike<number> {
  if (Array.isArray(boxes) && boxes.length > 0 && Array.isArray(boxes[0])) {
    const rows = boxes as readonly (readonly number[])[];
    const flat = new Float64Array(rows.length * 4);
    rows.forEach((row, r) => {
      if (row.length !== 4)
        throw new RangeError(
          `groundTruth[${image}].boxes[${r}] has ${row.length} values; a box is [xmin, ymin, xmax, ymax]`,
        );
      flat.set(row, r * 4);
    });
    return flat;
  }
  const flat = boxes as ArrayLike<number>;
  if (flat.length % 4 !== 0)
    throw new RangeError(`groundTruth[${image}].boxes has ${flat.length} values, not a multiple of 4`);
  return flat;
}

interface ClassTruth {
  /** Flat boxes of this class in this image. */
  boxes: number[];
  difficult: boolean[];
  matched: boolean[];
}

/** PASCAL VOC mAP of `detections[i]` against `groundTruth[i]`, image by image (see the module note). */
export function evaluateDetections(
  groundTruth: readonly GroundTruthImage[],
  detections: readonly (readonly EvalDetection[])[],
  options: EvaluateOptions,
): EvaluationResult {
  const { numClasses, backgroundClass = 0, iouThreshold = 0.5, labels, pixelPlusOne = false } = options;
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new RangeError(`numClasses must be a positive integer, got ${numClasses}`);
  if (!Number.isInteger(backgroundClass) || backgroundClass < -1 || backgroundClass >= numClasses)
    throw new RangeError(`backgroundClass must be −1 or in [0, ${numClasses}), got ${backgroundClass}`);
  if (!(iouThreshold >= 0 && iouThreshold <= 1))
    throw new RangeError(`iouThreshold must be in [0, 1], got ${iouThreshold}`);
  if (groundTruth.length !== detections.length)
    throw new RangeError(`groundTruth has ${groundTruth.length} images but detections has ${detections.length}`);
  const checkClass = (c: number, where: string): void => {
    if (!Number.isInteger(c) || c < 0 || c >= numClasses)
      throw new RangeError(`${where} = ${c} is not a class id in [0, ${numClasses})`);
    if (c === backgroundClass) throw new RangeError(`${where} is the background class ${backgroundClass}`);
  };

  // truths[image][class], built only for classes present.
  const truths: Map<number, ClassTruth>[] = [];
  const numGroundTruth = new Array<number>(numClasses).fill(0);
  const numDifficult = new Array<number>(numClasses).fill(0);
  groundTruth.forEach((gt, image) => {
    const boxes = flatBoxes(gt.boxes, image);
    const n = boxes.length / 4;
    if (gt.labels.length !== n)
      throw new RangeError(`groundTruth[${image}] has ${n} boxes but ${gt.labels.length} labels`);
    if (gt.difficult && gt.difficult.length !== n)
      throw new RangeError(`groundTruth[${image}] has ${n} boxes but ${gt.difficult.length} difficult flags`);
    const byClass = new Map<number, ClassTruth>();
    for (let k = 0; k < n; k++) {
      const c = gt.labels[k];
      checkClass(c, `groundTruth[${image}].labels[${k}]`);
      let t = byClass.get(c);
      if (!t) byClass.set(c, (t = { boxes: [], difficult: [], matched: [] }));
      for (let m = 0; m < 4; m++) t.boxes.push(boxes[k * 4 + m]);
      const difficult = gt.difficult ? Boolean(gt.difficult[k]) : false;
      t.difficult.push(difficult);
      t.matched.push(false);
      if (difficult) numDifficult[c]++;
      else numGroundTruth[c]++;
    }
    truths.push(byClass);
  });

  // Detections per class, in input order (image, then position): the stable sort keeps it on ties.
  const byClass: { image: number; det: EvalDetection }[][] = Array.from({ length: numClasses }, () => []);
  detections.forEach((list, image) =>
    list.forEach((det, k) => {
      checkClass(det.classId, `detections[${image}][${k}].classId`);
      if (!Number.isFinite(det.score))
        throw new RangeError(`detections[${image}][${k}].score is ${det.score}, not a finite number`);
      if (det.box.length !== 4)
        throw new RangeError(`detections[${image}][${k}].box has ${det.box.length} values, not 4`);
      byClass[det.classId].push({ image, det });
    }),
  );

  const perClass: ClassResult[] = [];
  let sum07 = 0;
  let sumAll = 0;
  let counted = 0;
  for (let c = 0; c < numClasses; c++) {
    if (c === backgroundClass) continue;
    const dets = byClass[c].slice().sort((a, b) => b.det.score - a.det.score); // Array.prototype.sort is stable
    const npos = numGroundTruth[c];
    const recall = new Float64Array(npos > 0 ? dets.length : 0);
    const precision = new Float64Array(dets.length);
    let tp = 0;
    let fp = 0;
    dets.forEach(({ image, det }, d) => {
      const t = truths[image].get(c);
      let best = -Infinity;
      let jBest = -1;
      if (t) {
        for (let j = 0; j < t.difficult.length; j++) {
          const iou = boxIou(det.box, t.boxes, pixelPlusOne, 0, j * 4);
          if (iou > best) {
            best = iou;
            jBest = j;
          }
        }
      }
      if (t && best >= iouThreshold) {
        if (!t.difficult[jBest]) {
          if (!t.matched[jBest]) {
            t.matched[jBest] = true;
            tp++;
          } else fp++;
        }
      } else fp++;
      if (npos > 0) recall[d] = tp / npos;
      precision[d] = tp / Math.max(tp + fp, Number.EPSILON);
    });
    const ap07 = npos > 0 ? voc07Ap(recall, precision) : NaN;
    const apAll = npos > 0 ? vocAllPointAp(recall, precision) : NaN;
    if (npos > 0) {
      sum07 += ap07;
      sumAll += apAll;
      counted++;
    }
    const result: ClassResult = {
      classId: c,
      ap07,
      apAll,
      numGroundTruth: npos,
      numDifficult: numDifficult[c],
      numDetections: dets.length,
      truePositives: tp,
      falsePositives: fp,
      recall,
      precision,
    };
    if (labels?.[c] !== undefined) result.label = labels[c];
    perClass.push(result);
  }
  return { perClass, map07: counted > 0 ? sum07 / counted : NaN, mapAll: counted > 0 ? sumAll / counted : NaN };
}

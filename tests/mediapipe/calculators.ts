/**
 * MediaPipe's TensorsToDetectionsCalculator (CPU path of a model without a post-processing op)
 * and NonMaxSuppressionCalculator, re-implemented in plain TypeScript from MediaPipe's C++
 * source (google-ai-edge/mediapipe, mediapipe/calculators/tensor/tensors_to_detections_calculator.cc:
 * ProcessCPU, DecodeBoxes, ConvertToDetections, ConvertToDetection;
 * mediapipe/calculators/util/non_max_suppression_calculator.cc: DoNonMaxSuppression,
 * NonMaxSuppression, WeightedNonMaxSuppression, OverlapSimilarity; Rectangle_f from
 * mediapipe/framework/deps/rectangle.h). An oracle for tests, independent of src/core: it
 * works on MediaPipe's own Detection shape (xmin, ymin, width, height, relative keypoints) and
 * rounds every float operation to f32 as the C++ does.
 *
 * The only choices that are not MediaPipe's code: std::sort (not stable) is a stable sort here,
 * so equal scores keep their anchor order; std::exp(float) is e^x rounded to f32.
 */

const f = Math.fround;

export interface TensorsToDetectionsOptions {
  numClasses: number;
  numBoxes: number;
  numCoords: number;
  boxCoordOffset: number;
  keypointCoordOffset: number;
  numKeypoints: number;
  numValuesPerKeypoint: number;
  sigmoidScore: boolean;
  scoreClippingThresh?: number;
  /** reverse_output_order: true → XYWH box format. */
  reverseOutputOrder: boolean;
  xScale: number;
  yScale: number;
  wScale: number;
  hScale: number;
  applyExponentialOnBoxSize: boolean;
  minScoreThresh?: number;
}

export interface NonMaxSuppressionOptions {
  minSuppressionThreshold: number;
  overlapType: 'INTERSECTION_OVER_UNION';
  algorithm: 'DEFAULT' | 'WEIGHTED';
  maxNumDetections: number;
  minScoreThreshold: number;
}

/** mediapipe::Anchor. */
export interface Anchor {
  xCenter: number;
  yCenter: number;
  w: number;
  h: number;
}

/** mediapipe::Detection with a RELATIVE_BOUNDING_BOX location. */
export interface MpDetection {
  score: number[];
  labelId: number[];
  xmin: number;
  ymin: number;
  width: number;
  height: number;
  keypoints: { x: number; y: number }[];
  /** Not MediaPipe's: the anchor the detection came from, for matching in tests. */
  anchor: number;
}

/** face_detection.pbtxt + face_detection_short_range.pbtxt, the options of BlazeFace short range. */
export const BLAZEFACE_TENSORS_TO_DETECTIONS: TensorsToDetectionsOptions = {
  numClasses: 1,
  numBoxes: 896,
  numCoords: 16,
  boxCoordOffset: 0,
  keypointCoordOffset: 4,
  numKeypoints: 6,
  numValuesPerKeypoint: 2,
  sigmoidScore: true,
  scoreClippingThresh: 100,
  reverseOutputOrder: true,
  xScale: 128,
  yScale: 128,
  wScale: 128,
  hScale: 128,
  applyExponentialOnBoxSize: false,
  minScoreThresh: 0.5,
};
export const BLAZEFACE_NMS: NonMaxSuppressionOptions = {
  minSuppressionThreshold: 0.3,
  overlapType: 'INTERSECTION_OVER_UNION',
  algorithm: 'WEIGHTED',
  maxNumDetections: -1,
  minScoreThreshold: -1,
};

/** TensorsToDetectionsCalculator::DecodeBoxes: [ymin, xmin, ymax, xmax, kx, ky, …] per box. */
function decodeBoxes(raw: Float32Array, anchors: Anchor[], o: TensorsToDetectionsOptions): Float32Array {
  const boxes = new Float32Array(o.numBoxes * o.numCoords);
  for (let i = 0; i < o.numBoxes; i++) {
    const at = i * o.numCoords + o.boxCoordOffset;
    let yCenter: number, xCenter: number, h: number, w: number;
    if (o.reverseOutputOrder) [xCenter, yCenter, w, h] = [raw[at], raw[at + 1], raw[at + 2], raw[at + 3]];
    else [yCenter, xCenter, h, w] = [raw[at], raw[at + 1], raw[at + 2], raw[at + 3]];
    const a = anchors[i];
    xCenter = f(f(f(xCenter / o.xScale) * a.w) + a.xCenter);
    yCenter = f(f(f(yCenter / o.yScale) * a.h) + a.yCenter);
    if (o.applyExponentialOnBoxSize) {
      h = f(f(Math.exp(f(h / o.hScale))) * a.h);
      w = f(f(Math.exp(f(w / o.wScale))) * a.w);
    } else {
      h = f(f(h / o.hScale) * a.h);
      w = f(f(w / o.wScale) * a.w);
    }
    boxes[i * o.numCoords + 0] = f(yCenter - f(h / 2));
    boxes[i * o.numCoords + 1] = f(xCenter - f(w / 2));
    boxes[i * o.numCoords + 2] = f(yCenter + f(h / 2));
    boxes[i * o.numCoords + 3] = f(xCenter + f(w / 2));
    for (let k = 0; k < o.numKeypoints; k++) {
      const offset = i * o.numCoords + o.keypointCoordOffset + k * o.numValuesPerKeypoint;
      const [kx, ky] = o.reverseOutputOrder ? [raw[offset], raw[offset + 1]] : [raw[offset + 1], raw[offset]];
      boxes[offset] = f(f(f(kx / o.xScale) * a.w) + a.xCenter);
      boxes[offset + 1] = f(f(f(ky / o.yScale) * a.h) + a.yCenter);
    }
  }
  return boxes;
}

/** TensorsToDetectionsCalculator::ProcessCPU for raw box and score tensors. */
export function tensorsToDetections(
  rawBoxes: Float32Array,
  rawScores: Float32Array,
  anchors: Anchor[],
  o: TensorsToDetectionsOptions,
): MpDetection[] {
  const boxes = decodeBoxes(rawBoxes, anchors, o);
  const out: MpDetection[] = [];
  for (let i = 0; i < o.numBoxes; i++) {
    let classId = -1;
    let maxScore = -3.4028234663852886e38;
    for (let c = 0; c < o.numClasses; c++) {
      let score = rawScores[i * o.numClasses + c];
      if (o.sigmoidScore) {
        if (o.scoreClippingThresh !== undefined) {
          score = score < -o.scoreClippingThresh ? -o.scoreClippingThresh : score;
          score = score > o.scoreClippingThresh ? o.scoreClippingThresh : score;
        }
        score = f(1 / f(1 + f(Math.exp(-score))));
      }
      if (maxScore < score) {
        maxScore = score;
        classId = c;
      }
    }
    // ConvertToDetections / ConvertToDetection
    const b = i * o.numCoords;
    const [ymin, xmin, ymax, xmax] = [boxes[b], boxes[b + 1], boxes[b + 2], boxes[b + 3]];
    const detection: MpDetection = {
      score: [],
      labelId: [],
      xmin,
      ymin,
      width: f(xmax - xmin),
      height: f(ymax - ymin),
      keypoints: [],
      anchor: i,
    };
    if (!(o.minScoreThresh !== undefined && maxScore < o.minScoreThresh)) {
      detection.score.push(maxScore);
      detection.labelId.push(classId);
    }
    if (detection.score.length === 0) continue;
    if (detection.width < 0 || detection.height < 0 || Number.isNaN(detection.width) || Number.isNaN(detection.height))
      continue;
    for (let k = 0; k < o.numKeypoints * o.numValuesPerKeypoint; k += o.numValuesPerKeypoint) {
      const at = b + o.keypointCoordOffset + k;
      detection.keypoints.push({ x: boxes[at], y: boxes[at + 1] });
    }
    out.push(detection);
  }
  return out;
}

/** Rectangle_f(xmin, ymin, width, height): min = (x, y), max = (x + width, y + height). */
interface Rect {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}
const rectOf = (d: MpDetection): Rect => ({
  xmin: d.xmin,
  ymin: d.ymin,
  xmax: f(d.xmin + d.width),
  ymax: f(d.ymin + d.height),
});
const isEmpty = (r: Rect) => r.xmin > r.xmax || r.ymin > r.ymax;
const area = (r: Rect) => f(f(r.xmax - r.xmin) * f(r.ymax - r.ymin));

/** OverlapSimilarity(INTERSECTION_OVER_UNION, rect1, rect2). */
function overlapSimilarity(r1: Rect, r2: Rect): number {
  const intersects = !(
    isEmpty(r1) ||
    isEmpty(r2) ||
    r2.xmax < r1.xmin ||
    r1.xmax < r2.xmin ||
    r2.ymax < r1.ymin ||
    r1.ymax < r2.ymin
  );
  if (!intersects) return 0;
  const pmin = [Math.max(r1.xmin, r2.xmin), Math.max(r1.ymin, r2.ymin)];
  const pmax = [Math.min(r1.xmax, r2.xmax), Math.min(r1.ymax, r2.ymax)];
  // Intersects() held, so the intersection is not empty
  const intersection = f(f(pmax[0] - pmin[0]) * f(pmax[1] - pmin[1]));
  const normalization = f(f(area(r1) + area(r2)) - intersection);
  return normalization > 0 ? f(intersection / normalization) : 0;
}

/** NonMaxSuppressionCalculator::Process with one detection stream and multiclass_nms false. */
export function nonMaxSuppression(detections: MpDetection[], o: NonMaxSuppressionOptions): MpDetection[] {
  // RetainMaxScoringLabelOnly: one score each here already
  const indexed = detections.map((d, i) => [i, d.score[0]] as const).sort((a, b) => b[1] - a[1]);
  const maxNum = o.maxNumDetections > -1 ? o.maxNumDetections : indexed.length;
  const out: MpDetection[] = [];
  if (o.algorithm === 'DEFAULT') {
    const retained: Rect[] = [];
    for (const [index] of indexed) {
      const d = detections[index];
      if (o.minScoreThreshold > 0 && d.score[0] < o.minScoreThreshold) break;
      const location = rectOf(d);
      if (!retained.some((r) => overlapSimilarity(r, location) > o.minSuppressionThreshold)) {
        out.push(d);
        retained.push(location);
      }
      if (out.length >= maxNum) break;
    }
    return out;
  }
  let remaining = indexed;
  while (remaining.length > 0) {
    const originalSize = remaining.length;
    const detection = detections[remaining[0][0]];
    if (o.minScoreThreshold > 0 && detection.score[0] < o.minScoreThreshold) break;
    const location = rectOf(detection);
    const candidates: (readonly [number, number])[] = [];
    const remained: (readonly [number, number])[] = [];
    for (const entry of remaining) {
      const rest = rectOf(detections[entry[0]]);
      (overlapSimilarity(rest, location) > o.minSuppressionThreshold ? candidates : remained).push(entry);
    }
    let weighted: MpDetection = { ...detection, keypoints: detection.keypoints.map((k) => ({ ...k })) };
    if (candidates.length > 0) {
      const numKeypoints = detection.keypoints.length;
      const keypoints = new Array<number>(numKeypoints * 2).fill(0);
      let wXmin = 0,
        wYmin = 0,
        wXmax = 0,
        wYmax = 0,
        totalScore = 0;
      for (const [index, score] of candidates) {
        totalScore = f(totalScore + score);
        const c = detections[index];
        wXmin = f(wXmin + f(c.xmin * score));
        wYmin = f(wYmin + f(c.ymin * score));
        wXmax = f(wXmax + f(f(c.xmin + c.width) * score));
        wYmax = f(wYmax + f(f(c.ymin + c.height) * score));
        for (let i = 0; i < numKeypoints; i++) {
          keypoints[2 * i] = f(keypoints[2 * i] + f(c.keypoints[i].x * score));
          keypoints[2 * i + 1] = f(keypoints[2 * i + 1] + f(c.keypoints[i].y * score));
        }
      }
      const xmin = f(wXmin / totalScore),
        ymin = f(wYmin / totalScore);
      weighted = {
        ...detection,
        xmin,
        ymin,
        width: f(f(wXmax / totalScore) - xmin),
        height: f(f(wYmax / totalScore) - ymin),
        keypoints: Array.from({ length: numKeypoints }, (_, i) => ({
          x: f(keypoints[2 * i] / totalScore),
          y: f(keypoints[2 * i + 1] / totalScore),
        })),
      };
    }
    out.push(weighted);
    if (originalSize === remained.length) break;
    remaining = remained;
  }
  return out;
}

/** SsdAnchorsCalculator rows (cx, cy, w, h) as mediapipe::Anchor. */
export function anchorsOf(priors: Float32Array): Anchor[] {
  return Array.from({ length: priors.length / 4 }, (_, i) => ({
    xCenter: priors[4 * i],
    yCenter: priors[4 * i + 1],
    w: priors[4 * i + 2],
    h: priors[4 * i + 3],
  }));
}

/**
 * What BlazeFace short range's graph makes of its raw heads: TensorsToDetections, then
 * NonMaxSuppression, with the graph's options; `priors` are SsdAnchorsCalculator rows.
 */
export function blazefaceDetections(
  regressors: Float32Array,
  classificators: Float32Array,
  priors: Float32Array,
): MpDetection[] {
  return nonMaxSuppression(
    tensorsToDetections(regressors, classificators, anchorsOf(priors), BLAZEFACE_TENSORS_TO_DETECTIONS),
    BLAZEFACE_NMS,
  );
}

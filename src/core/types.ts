/**
 * The documented configuration schema of ssd-edge's post-processing.
 * Field names are the public contract (see DESIGN.md); every field states its unit and default.
 * Box formats are named at every boundary: `cxcywh` for priors, `xyxy` for detections.
 */

/** A feature-map or image size: one number for a square, or `[width, height]`. */
export type Size2 = number | readonly [width: number, height: number];

/**
 * ssd.pytorch `PriorBox` / Caffe `PriorBox`: step-based centres, boxes in pixels.
 * Per location, in this order: (s_k), (sqrt(s_k·s'_k)) when a max size is given, then for each
 * ratio r: (s_k·√r, s_k/√r), (s_k/√r, s_k·√r). `clip` clamps all four cxcywh values to [0, 1].
 */
export interface SsdPriorConfig {
  family: 'ssd';
  /** Input image size in pixels. */
  imageSize: Size2;
  /** Feature-map sizes in cells, one per prediction layer. */
  featureMaps: readonly Size2[];
  /** Pixel distance between neighbouring centres, per layer. */
  steps: readonly Size2[];
  /** Box size s_k in pixels, per layer. */
  minSizes: readonly number[];
  /** Size s'_k in pixels for the extra square box sqrt(s_k·s'_k), per layer; omit for none. */
  maxSizes?: readonly number[];
  /** Aspect ratios r > 1 per layer; each adds two boxes (r and 1/r). */
  aspectRatios: readonly (readonly number[])[];
  /** Centre offset within a cell, in cells. Default 0.5. */
  offset?: number;
  /** Clamp (cx, cy, w, h) to [0, 1]. Default false. */
  clip?: boolean;
}

/**
 * torchvision `DefaultBoxGenerator`: relative scales, one more scale than layers
 * (s'_k = sqrt(scales[k]·scales[k+1])). Same per-location order as `ssd`.
 * `clip` clamps only w and h to [0, 1], as torchvision does.
 */
export interface TorchvisionPriorConfig {
  family: 'torchvision';
  /** Input image size in pixels (only used with `steps`). */
  imageSize: Size2;
  featureMaps: readonly Size2[];
  /** Relative box scales, `featureMaps.length + 1` values. */
  scales: readonly number[];
  /** Aspect ratios r per layer; each adds (s·√r, s/√r) and (s/√r, s·√r). */
  aspectRatios: readonly (readonly number[])[];
  /** Pixel steps per layer; when omitted the centres are (j + 0.5) / featureMap. */
  steps?: readonly number[];
  /** Clamp w and h to [0, 1]. Default true (torchvision's default). */
  clip?: boolean;
}

/**
 * TensorFlow Object Detection API `multiple_grid_anchor_generator.create_ssd_anchors`.
 * Anchors are generated y-first in TF; ssd-edge stores them as cxcywh like every prior.
 */
export interface TfGridPriorConfig {
  family: 'tfGrid';
  /** Feature-map sizes, `[height, width]` or one number for a square. */
  featureMaps: readonly (number | readonly [height: number, width: number])[];
  /** Smallest and largest scale, linearly interpolated over the layers. */
  minScale: number;
  maxScale: number;
  /** Explicit scales per layer, overriding minScale/maxScale. */
  scales?: readonly number[];
  /** Aspect ratios applied at every layer. Default [1, 2, 0.5, 3, 1/3]. */
  aspectRatios?: readonly number[];
  /** Ratio of the interpolated extra anchor (scale sqrt(s_i·s_{i+1})); 0 or less for none. Default 1. */
  interpolatedScaleAspectRatio?: number;
  /** Layer 0 uses the boxes (0.1, 1), (s, 2), (s, 0.5) only. Default true. */
  reduceBoxesInLowestLayer?: boolean;
  /** Base anchor size `[height, width]`. Default [1, 1]. */
  baseAnchorSize?: readonly [number, number];
  /** Image `[height, width]`, for non-square inputs (base size scaled by min side). Default square. */
  imageSize?: readonly [number, number];
  /** Clip anchor corners to [0, 1]. Default false. */
  clip?: boolean;
}

/** MediaPipe `SsdAnchorsCalculator` (BlazeFace, MediaPipe's TFLite SSDs). */
export interface MediapipePriorConfig {
  family: 'mediapipe';
  /** Input size in pixels, `[width, height]` or one number. */
  inputSize: Size2;
  numLayers: number;
  minScale: number;
  maxScale: number;
  /** Stride in pixels per layer; consecutive equal strides share one feature map. */
  strides: readonly number[];
  aspectRatios: readonly number[];
  /** Centre offset in cells. Default 0.5 for both. */
  anchorOffsetX?: number;
  anchorOffsetY?: number;
  /** Ratio of the interpolated extra anchor; 0 or less for none. Default 1. */
  interpolatedScaleAspectRatio?: number;
  reduceBoxesInLowestLayer?: boolean;
  /** Every anchor gets w = h = 1 (BlazeFace). Default false. */
  fixedAnchorSize?: boolean;
}

export type PriorConfig = SsdPriorConfig | TorchvisionPriorConfig | TfGridPriorConfig | MediapipePriorConfig;

/** ssd.pytorch / Caffe box coding: offsets x-first, (x·v0·pw, y·v0·ph, exp(w·v1), exp(h·v1)). */
export interface VarianceCoding {
  variances: readonly [number, number];
}
/** torchvision BoxCoder weights / TF OD API scale factors: offsets divided by the factors. */
export interface ScaleFactorCoding {
  scaleFactors: readonly [number, number, number, number];
  /** Order of the four offsets (and factors) in `loc`: torchvision 'xywh', TF 'yxhw'. */
  order: 'xywh' | 'yxhw';
}
/**
 * MediaPipe's linear box coding (TensorsToDetectionsCalculator with
 * `apply_exponential_on_box_size: false`, BlazeFace): offsets are divided by the scales, with no
 * exponential, e.g. in pixels of a 128 × 128 input with scales 128:
 *   cx = tx / sx · pw + pcx,  w = tw / sw · pw,  xmin = cx − w / 2   (same for y, h).
 * Keypoints (see `keypoints`) decode like the centre. Choosing this coding selects MediaPipe's
 * post-processing (see `PostprocessConfig.weightedNms`).
 */
export interface LinearCoding {
  /** x_scale, y_scale, w_scale, h_scale, in (x, y, w, h) order whatever `order` says: divisors. BlazeFace: [128, 128, 128, 128]. */
  linearScales: readonly [sx: number, sy: number, sw: number, sh: number];
  /**
   * Order of the four box values in a `loc` row, and of each keypoint's pair: 'xywh' (MediaPipe
   * `reverse_output_order: true`, BlazeFace; keypoints (x, y)) or 'yxhw' (keypoints (y, x)).
   */
  order: 'xywh' | 'yxhw';
}
export type BoxCoding = VarianceCoding | ScaleFactorCoding | LinearCoding;

/**
 * Keypoints regressed with each box (MediaPipe `num_keypoints`, `keypoint_coord_offset: 4`,
 * `num_values_per_keypoint: 2`): each `loc` row holds the 4 box values, then `count` pairs,
 * i.e. 4 + 2·count values. A keypoint decodes like a box centre, kx = rx / sx · pw + pcx, with
 * the coding's divisors (linearScales; scaleFactors; 1 / variances). Selects MediaPipe's
 * post-processing, in which every coding decodes as MediaPipe's TensorsToDetectionsCalculator:
 * offsets divided by those divisors, exp only for the non-linear codings
 * (`apply_exponential_on_box_size: true`: w = e^(tw / sw) · pw, no clamp).
 */
export interface KeypointConfig {
  /** Keypoints per box. BlazeFace: 6 (eyes, nose tip, mouth, ear tragions). */
  count: number;
}

export interface SoftNmsConfig {
  method: 'linear' | 'gaussian';
  /** Gaussian width: score *= exp(-iou² / sigma). Default 0.5. */
  sigma?: number;
}

/**
 * TensorFlow Lite `TFLite_Detection_PostProcess` NMS (the custom op at the end of TF Object
 * Detection API, Coral and MediaPipe TFLite SSDs), reproduced comparison for comparison.
 * With it, `scoreThreshold` is nms_score_threshold (a score passes when ≥ it, TFLite's rule),
 * `nmsThreshold` is nms_iou_threshold (in (0, 1]; IoU > it suppresses), `keepTopK` is
 * max_detections, and boxes decode as TFLite decodes them (f64 arithmetic rounded to f32, no
 * clamp before exp) with the scale factors of `boxCoding` (TF: `[10, 10, 5, 5]`, 'yxhw').
 * `backgroundClass` must be 0 (TFLite's label offset 1: TFLite class c is column c + 1 here,
 * and `Detection.classId` is the column) or −1 (offset 0). Not combinable with
 * `classAgnostic` or `softNms`.
 */
export interface TfliteNmsConfig {
  /** false: TFLite's fast NMS (one class-agnostic NMS over each anchor's best classes); true: regular per-class NMS. */
  useRegularNms: boolean;
  /**
   * Fast NMS: classes reported per kept anchor (max_classes_per_detection), best first; only the
   * anchor's best score is thresholded, as in TFLite. Default 1.
   */
  maxClassesPerDetection?: number;
  /** Regular NMS: detections kept per class before the final keepTopK (detections_per_class). Default 100. */
  detectionsPerClass?: number;
}

export interface PostprocessConfig {
  /** A generator config, or (cx, cy, w, h) rows normalised to [0, 1]. */
  priors: PriorConfig | Float32Array;
  /** Number of classes, including background. */
  numClasses: number;
  /** Background class index. Default 0; -1 = none. */
  backgroundClass?: number;
  /** Default `{ variances: [0.1, 0.2] }`. */
  boxCoding?: BoxCoding;
  /** Default 'softmax'. */
  scoreActivation?: 'softmax' | 'sigmoid' | 'none';
  /**
   * A score passes when strictly greater. One for all classes, or one per class.
   * With `tfliteNms`: one number, nms_score_threshold, and a score passes when ≥ it.
   */
  scoreThreshold: number | Float32Array | readonly number[];
  /** A candidate is suppressed when its IoU with a kept box is strictly greater. With `tfliteNms`: in (0, 1]. */
  nmsThreshold: number;
  /**
   * Candidates per class (per image in class-agnostic mode) before NMS. With `tfliteNms`, a cap
   * TFLite does not have: anchors per image entering the fast NMS, or per class entering the
   * regular NMS. A value ≥ the number of priors (a converter writes the anchor count) gives
   * TFLite's results exactly.
   */
  topK: number;
  /**
   * Detections per image after NMS. With `tfliteNms`: max_detections (fast NMS: kept anchors,
   * each reporting maxClassesPerDetection detections).
   */
  keepTopK: number;
  /** One NMS over all classes instead of one per class. Default false. */
  classAgnostic?: boolean;
  /** Soft-NMS instead of greedy NMS; scores decay, detections under the threshold drop out. */
  softNms?: SoftNmsConfig;
  /** Clip decoded boxes to [0, 1]. Default false (TFLite does not clip). */
  clip?: boolean;
  /** TensorFlow Lite `TFLite_Detection_PostProcess` NMS instead of ssd-edge's per-class NMS. */
  tfliteNms?: TfliteNmsConfig;
  /** Class names by class index (background included). */
  labels?: readonly string[];
  /**
   * Keypoints per box, decoded in the core and carried through NMS into `Detection.keypoints`
   * (selects MediaPipe's post-processing). Default none.
   */
  keypoints?: KeypointConfig;
  /**
   * MediaPipe NonMaxSuppressionCalculator `algorithm: WEIGHTED` (BlazeFace): the best remaining
   * candidate and every remaining one overlapping it by IoU > `nmsThreshold` (itself included)
   * leave the list together; the output is their average box and keypoints weighted by score,
   * with the best one's score. Default false (MediaPipe's DEFAULT: greedy).
   *
   * MediaPipe's post-processing (chosen by this, `keypoints` or a `LinearCoding`) is
   * TensorsToDetectionsCalculator + NonMaxSuppressionCalculator: each prior gives one candidate,
   * its best foreground class, when that score is ≥ `scoreThreshold` (of that class; MediaPipe's
   * `min_score_thresh`, which keeps scores equal to it); boxes whose decoded width or height is
   * negative (or NaN) are dropped; one NMS runs over all classes (`multiclass_nms: false`), and
   * its output is capped at `keepTopK` (MediaPipe: `max_num_detections`, unlimited by default).
   * Sigmoid scores are 1 / (1 + e^−x) with e^−x rounded to f32, as MediaPipe's float
   * arithmetic. Not combinable with `classAgnostic`, `softNms`, `tfliteNms`, 'softmax' or `clip`.
   */
  weightedNms?: boolean;
}

/** One detection, box in normalised `xyxy` corners. */
export interface Detection {
  classId: number;
  score: number;
  box: [xmin: number, ymin: number, xmax: number, ymax: number];
  /** Row of the prior the box was decoded from. */
  priorIndex: number;
  /** `labels[classId]` when the config has labels. */
  label?: string;
  /** With `keypoints` in the config: the box's keypoints, normalised (x, y), in the model's order. */
  keypoints?: [x: number, y: number][];
}

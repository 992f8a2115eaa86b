// Prior (default box / anchor) generators, one per model family. Output rows are
// (cx, cy, w, h) normalised to the image, in the family's own order. Each generator reads its
// configuration as an f64 parameter block (the …PriorsHead and …PriorsMap records of params.ts,
// then the lists its doc comment names; the host writes it from a PriorConfig, see
// src/core/priors.ts), computes in f64 like the Python references, and stores f32. With
// `outPtr` 0 it only counts. Returns the number of priors.

import {
  MediapipePriorsHead, SsdPriorsHead, SsdPriorsMap, TfGridPriorsHead, TorchvisionPriorsHead, TorchvisionPriorsMap
} from "./params";

// @ts-ignore: decorator
@inline
function param(ptr: usize, i: i32): f64 {
  return load<f64>(ptr + (<usize>i << 3));
}

/** The f64 values a record of type T takes: where the list after it starts. */
// @ts-ignore: decorator
@inline
function values<T>(): i32 {
  return <i32>(offsetof<T>() >> 3);
}

/** The record of type T at f64 index `i` of the block. */
// @ts-ignore: decorator
@inline
function recordAt<T>(ptr: usize, i: i32): T {
  return changetype<T>(ptr + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline
function clamp01(x: f64): f64 {
  return min<f64>(max<f64>(x, 0), 1);
}

// @ts-ignore: decorator
@inline
function emit(outPtr: usize, n: i32, cx: f64, cy: f64, w: f64, h: f64): void {
  if (outPtr == 0) return;
  const at = outPtr + (<usize>n << 4);
  store<f32>(at, <f32>cx, 0); store<f32>(at, <f32>cy, 4);
  store<f32>(at, <f32>w, 8); store<f32>(at, <f32>h, 12);
}

/**
 * ssd.pytorch / Caffe PriorBox (see: ssd.pytorch layers/functions/prior_box.py).
 * Block: SsdPriorsHead, then per map an SsdPriorsMap (maxSize ≤ 0: none) and its ratios.
 * Per location: (s, s), (√(s·s'), √(s·s')), then per ratio r: (s√r, s/√r), (s/√r, s√r).
 * Clip clamps all four values, in centre-size form, as ssd.pytorch does.
 */
export function priorsSsd(paramsPtr: usize, outPtr: usize): i32 {
  const head = changetype<SsdPriorsHead>(paramsPtr);
  const imageW = head.imageW, imageH = head.imageH;
  const numMaps = <i32>head.numMaps;
  const offset = head.offset;
  const clip = head.clip != 0;
  let at = values<SsdPriorsHead>();
  let n = 0;
  for (let k = 0; k < numMaps; k++) {
    const map = recordAt<SsdPriorsMap>(paramsPtr, at);
    const fmW = <i32>map.fmW, fmH = <i32>map.fmH;
    const fkW = imageW / map.stepW, fkH = imageH / map.stepH;
    const sW = map.minSize / imageW, sH = map.minSize / imageH;
    const maxSize = map.maxSize;
    const numRatios = <i32>map.numRatios;
    const ratiosAt = at + values<SsdPriorsMap>();
    at = ratiosAt + numRatios;
    for (let i = 0; i < fmH; i++) {
      for (let j = 0; j < fmW; j++) {
        let cx = (<f64>j + offset) / fkW, cy = (<f64>i + offset) / fkH;
        if (clip) { cx = clamp01(cx); cy = clamp01(cy); }
        emit(outPtr, n++, cx, cy, clip ? clamp01(sW) : sW, clip ? clamp01(sH) : sH);
        if (maxSize > 0) {
          const pW = Math.sqrt(sW * (maxSize / imageW)), pH = Math.sqrt(sH * (maxSize / imageH));
          emit(outPtr, n++, cx, cy, clip ? clamp01(pW) : pW, clip ? clamp01(pH) : pH);
        }
        for (let r = 0; r < numRatios; r++) {
          const root = Math.sqrt(param(paramsPtr, ratiosAt + r));
          let w1 = sW * root, h1 = sH / root, w2 = sW / root, h2 = sH * root;
          if (clip) { w1 = clamp01(w1); h1 = clamp01(h1); w2 = clamp01(w2); h2 = clamp01(h2); }
          emit(outPtr, n++, cx, cy, w1, h1);
          emit(outPtr, n++, cx, cy, w2, h2);
        }
      }
    }
  }
  return n;
}

/**
 * torchvision DefaultBoxGenerator (see: torchvision/models/detection/anchor_utils.py).
 * Block: TorchvisionPriorsHead, then numMaps + 1 scales, then per map a TorchvisionPriorsMap
 * (step ≤ 0: none, centres are (j + 0.5) / fm) and its ratios.
 * Same per-location order as ssd; clip clamps only w and h, as torchvision does.
 */
export function priorsTorchvision(paramsPtr: usize, outPtr: usize): i32 {
  const head = changetype<TorchvisionPriorsHead>(paramsPtr);
  const imageW = head.imageW, imageH = head.imageH;
  const numMaps = <i32>head.numMaps;
  const clip = head.clip != 0;
  const scalesAt = values<TorchvisionPriorsHead>();
  let at = scalesAt + numMaps + 1;
  let n = 0;
  for (let k = 0; k < numMaps; k++) {
    const map = recordAt<TorchvisionPriorsMap>(paramsPtr, at);
    const fmW = <i32>map.fmW, fmH = <i32>map.fmH;
    const step = map.step;
    const fkW = step > 0 ? imageW / step : <f64>fmW, fkH = step > 0 ? imageH / step : <f64>fmH;
    const numRatios = <i32>map.numRatios;
    const ratiosAt = at + values<TorchvisionPriorsMap>();
    at = ratiosAt + numRatios;
    const s = param(paramsPtr, scalesAt + k);
    const sPrime = Math.sqrt(s * param(paramsPtr, scalesAt + k + 1));
    for (let i = 0; i < fmH; i++) {
      for (let j = 0; j < fmW; j++) {
        const cx = (<f64>j + 0.5) / fkW, cy = (<f64>i + 0.5) / fkH;
        emit(outPtr, n++, cx, cy, clip ? clamp01(s) : s, clip ? clamp01(s) : s);
        emit(outPtr, n++, cx, cy, clip ? clamp01(sPrime) : sPrime, clip ? clamp01(sPrime) : sPrime);
        for (let r = 0; r < numRatios; r++) {
          const root = Math.sqrt(param(paramsPtr, ratiosAt + r));
          let w = s * root, h = s / root;
          if (clip) { w = clamp01(w); h = clamp01(h); }
          emit(outPtr, n++, cx, cy, w, h);
          emit(outPtr, n++, cx, cy, h, w);
        }
      }
    }
  }
  return n;
}

/**
 * TF Object Detection API create_ssd_anchors + tile_anchors (see: research/object_detection/
 * anchor_generators/multiple_grid_anchor_generator.py, grid_anchor_generator.py).
 * Block: TfGridPriorsHead, then its numRatios ratios, then numLayers + 1 scales (the last
 *   one 1.0, as TF appends it), then per layer fmH, fmW.
 * Order per location: layer 0 reduced: (0.1, 1), (s, 2), (s, 0.5); otherwise each ratio at s,
 * then the interpolated scale √(s_i·s_{i+1}). Stride 1/fm, offset half a stride.
 */
export function priorsTfGrid(paramsPtr: usize, outPtr: usize): i32 {
  const head = changetype<TfGridPriorsHead>(paramsPtr);
  const numLayers = <i32>head.numLayers;
  const baseH = head.baseH, baseW = head.baseW;
  const interpolated = head.interpolatedRatio;
  const reduceLowest = head.reduceLowest != 0;
  const clip = head.clip != 0;
  const numRatios = <i32>head.numRatios;
  const ratiosAt = values<TfGridPriorsHead>();
  const scalesAt = ratiosAt + numRatios;
  const mapsAt = scalesAt + numLayers + 1;
  let n = 0;
  for (let layer = 0; layer < numLayers; layer++) {
    const fmH = <i32>param(paramsPtr, mapsAt + 2 * layer), fmW = <i32>param(paramsPtr, mapsAt + 2 * layer + 1);
    const scale = param(paramsPtr, scalesAt + layer);
    const strideY = 1.0 / <f64>fmH, strideX = 1.0 / <f64>fmW;
    const reduced = layer == 0 && reduceLowest;
    const numBoxes = reduced ? 3 : numRatios + (interpolated > 0 ? 1 : 0);
    for (let i = 0; i < fmH; i++) {
      for (let j = 0; j < fmW; j++) {
        const cy = <f64>i * strideY + 0.5 * strideY, cx = <f64>j * strideX + 0.5 * strideX;
        for (let b = 0; b < numBoxes; b++) {
          let s: f64, ratio: f64;
          if (reduced) {
            s = b == 0 ? 0.1 : scale;
            ratio = b == 0 ? 1.0 : b == 1 ? 2.0 : 0.5;
          } else if (b < numRatios) {
            s = scale; ratio = param(paramsPtr, ratiosAt + b);
          } else {
            s = Math.sqrt(scale * param(paramsPtr, scalesAt + layer + 1)); ratio = interpolated;
          }
          const root = Math.sqrt(ratio);
          const h = s / root * baseH, w = s * root * baseW;
          if (clip) {
            const y1 = clamp01(cy - 0.5 * h), x1 = clamp01(cx - 0.5 * w);
            const y2 = clamp01(cy + 0.5 * h), x2 = clamp01(cx + 0.5 * w);
            emit(outPtr, n++, (x1 + x2) * 0.5, (y1 + y2) * 0.5, x2 - x1, y2 - y1);
          } else {
            emit(outPtr, n++, cx, cy, w, h);
          }
        }
      }
    }
  }
  return n;
}

/**
 * MediaPipe SsdAnchorsCalculator (see: mediapipe/calculators/tflite/ssd_anchors_calculator.cc).
 * Block: MediapipePriorsHead, then numLayers strides, then numRatios and the ratios.
 * Consecutive layers with the same stride share one feature map (ceil(input / stride)).
 */
export function priorsMediapipe(paramsPtr: usize, outPtr: usize): i32 {
  const head = changetype<MediapipePriorsHead>(paramsPtr);
  const inputW = head.inputW, inputH = head.inputH;
  const numLayers = <i32>head.numLayers;
  const minScale = head.minScale, maxScale = head.maxScale;
  const offsetX = head.offsetX, offsetY = head.offsetY;
  const interpolated = head.interpolatedRatio;
  const reduceLowest = head.reduceLowest != 0;
  const fixedSize = head.fixedSize != 0;
  const stridesAt = values<MediapipePriorsHead>();
  const numRatios = <i32>param(paramsPtr, stridesAt + numLayers);
  const ratiosAt = stridesAt + numLayers + 1;
  let n = 0;
  let layer = 0;
  while (layer < numLayers) {
    const stride = param(paramsPtr, stridesAt + layer);
    // the layers sharing this stride: [layer, last)
    let last = layer;
    while (last < numLayers && param(paramsPtr, stridesAt + last) == stride) last++;
    const fmH = <i32>Math.ceil(inputH / stride), fmW = <i32>Math.ceil(inputW / stride);
    for (let y = 0; y < fmH; y++) {
      for (let x = 0; x < fmW; x++) {
        const cx = (<f64>x + offsetX) / <f64>fmW, cy = (<f64>y + offsetY) / <f64>fmH;
        for (let l = layer; l < last; l++) {
          const scale = mediapipeScale(minScale, maxScale, l, numLayers);
          if (l == 0 && reduceLowest) {
            // see: ssd_anchors_calculator.cc — (0.1, 1), (scale, 2), (scale, 0.5)
            emitMediapipe(outPtr, n++, cx, cy, 0.1, 1.0, fixedSize);
            emitMediapipe(outPtr, n++, cx, cy, scale, 2.0, fixedSize);
            emitMediapipe(outPtr, n++, cx, cy, scale, 0.5, fixedSize);
            continue;
          }
          for (let r = 0; r < numRatios; r++) {
            emitMediapipe(outPtr, n++, cx, cy, scale, param(paramsPtr, ratiosAt + r), fixedSize);
          }
          if (interpolated > 0) {
            const next = l == numLayers - 1 ? 1.0 : mediapipeScale(minScale, maxScale, l + 1, numLayers);
            emitMediapipe(outPtr, n++, cx, cy, Math.sqrt(scale * next), interpolated, fixedSize);
          }
        }
      }
    }
    layer = last;
  }
  return n;
}

function mediapipeScale(minScale: f64, maxScale: f64, index: i32, count: i32): f64 {
  return count == 1 ? (minScale + maxScale) * 0.5 : minScale + (maxScale - minScale) * <f64>index / <f64>(count - 1);
}

// @ts-ignore: decorator
@inline
function emitMediapipe(outPtr: usize, n: i32, cx: f64, cy: f64, scale: f64, ratio: f64, fixedSize: bool): void {
  const root = Math.sqrt(ratio);
  if (fixedSize) emit(outPtr, n, cx, cy, 1.0, 1.0);
  else emit(outPtr, n, cx, cy, scale * root, scale / root);
}

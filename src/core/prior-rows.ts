/**
 * Prior generators in plain TypeScript, written to read like their upstream sources: the
 * synchronous generator the converters use (no wasm to load), and the tests' oracle for
 * assembly/priors.ts. Both are checked against golden files made by the upstream code or
 * faithful Python ports (tests/fixtures/priors). The config is assumed valid: check it with
 * encodePriorParams (priors.ts) first.
 */
import { tfBaseAnchorSize, tfGridScales, widthHeight } from './prior-config.js';
import type {
  MediapipePriorConfig,
  PriorConfig,
  SsdPriorConfig,
  TfGridPriorConfig,
  TorchvisionPriorConfig,
} from './types.js';

type Row = [cx: number, cy: number, w: number, h: number];

const clamp01 = (v: number) => Math.min(Math.max(v, 0), 1);

/** ssd.pytorch layers/functions/prior_box.py, PriorBox.forward. */
function ssdPriors(config: SsdPriorConfig): Row[] {
  const [imageW, imageH] = widthHeight(config.imageSize);
  const offset = config.offset ?? 0.5;
  const rows: Row[] = [];
  config.featureMaps.forEach((map, k) => {
    const [fmW, fmH] = widthHeight(map);
    const [stepW, stepH] = widthHeight(config.steps[k]);
    const fkW = imageW / stepW,
      fkH = imageH / stepH;
    const sW = config.minSizes[k] / imageW,
      sH = config.minSizes[k] / imageH;
    const maxSize = config.maxSizes?.[k] ?? 0;
    for (let i = 0; i < fmH; i++) {
      for (let j = 0; j < fmW; j++) {
        const cx = (j + offset) / fkW,
          cy = (i + offset) / fkH;
        rows.push([cx, cy, sW, sH]);
        if (maxSize > 0) rows.push([cx, cy, Math.sqrt(sW * (maxSize / imageW)), Math.sqrt(sH * (maxSize / imageH))]);
        for (const ratio of config.aspectRatios[k]) {
          const root = Math.sqrt(ratio);
          rows.push([cx, cy, sW * root, sH / root]);
          rows.push([cx, cy, sW / root, sH * root]);
        }
      }
    }
  });
  return config.clip ? rows.map((row) => row.map(clamp01) as Row) : rows;
}

/** torchvision models/detection/anchor_utils.py, DefaultBoxGenerator. */
function torchvisionPriors(config: TorchvisionPriorConfig): Row[] {
  const [imageW, imageH] = widthHeight(config.imageSize);
  const clip = config.clip ?? true;
  const rows: Row[] = [];
  config.featureMaps.forEach((map, k) => {
    const [fmW, fmH] = widthHeight(map);
    const s = config.scales[k];
    const sPrime = Math.sqrt(s * config.scales[k + 1]);
    const sizes: [number, number][] = [
      [s, s],
      [sPrime, sPrime],
    ];
    for (const ratio of config.aspectRatios[k]) {
      const root = Math.sqrt(ratio);
      sizes.push([s * root, s / root], [s / root, s * root]);
    }
    const step = config.steps?.[k];
    const fkW = step ? imageW / step : fmW,
      fkH = step ? imageH / step : fmH;
    for (let i = 0; i < fmH; i++) {
      for (let j = 0; j < fmW; j++) {
        for (const [w, h] of sizes) {
          rows.push([(j + 0.5) / fkW, (i + 0.5) / fkH, clip ? clamp01(w) : w, clip ? clamp01(h) : h]);
        }
      }
    }
  });
  return rows;
}

/** TF Object Detection API multiple_grid_anchor_generator.create_ssd_anchors + tile_anchors. */
function tfGridPriors(config: TfGridPriorConfig): Row[] {
  const ratios = config.aspectRatios ?? [1.0, 2.0, 0.5, 3.0, 1 / 3];
  const interpolated = config.interpolatedScaleAspectRatio ?? 1.0;
  const reduceLowest = config.reduceBoxesInLowestLayer ?? true;
  const [baseH, baseW] = tfBaseAnchorSize(config);
  const scales = tfGridScales(config);
  const rows: Row[] = [];
  config.featureMaps.forEach((map, layer) => {
    const [fmH, fmW] = typeof map === 'number' ? [map, map] : [map[0], map[1]];
    const boxes: [scale: number, ratio: number][] =
      layer === 0 && reduceLowest
        ? [
            [0.1, 1.0],
            [scales[0], 2.0],
            [scales[0], 0.5],
          ]
        : ratios.map((r): [number, number] => [scales[layer], r]);
    if (!(layer === 0 && reduceLowest) && interpolated > 0) {
      boxes.push([Math.sqrt(scales[layer] * scales[layer + 1]), interpolated]);
    }
    const strideY = 1 / fmH,
      strideX = 1 / fmW;
    for (let i = 0; i < fmH; i++) {
      for (let j = 0; j < fmW; j++) {
        const cy = i * strideY + 0.5 * strideY,
          cx = j * strideX + 0.5 * strideX;
        for (const [s, ratio] of boxes) {
          const h = (s / Math.sqrt(ratio)) * baseH,
            w = s * Math.sqrt(ratio) * baseW;
          if (config.clip) {
            const [x1, y1, x2, y2] = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2].map(clamp01);
            rows.push([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]);
          } else {
            rows.push([cx, cy, w, h]);
          }
        }
      }
    }
  });
  return rows;
}

/** MediaPipe calculators/tflite/ssd_anchors_calculator.cc. */
function mediapipePriors(config: MediapipePriorConfig): Row[] {
  const [inputW, inputH] = widthHeight(config.inputSize);
  const n = config.numLayers;
  const scaleAt = (i: number) =>
    n === 1
      ? (config.minScale + config.maxScale) / 2
      : config.minScale + ((config.maxScale - config.minScale) * i) / (n - 1);
  const interpolated = config.interpolatedScaleAspectRatio ?? 1.0;
  const rows: Row[] = [];
  let layer = 0;
  while (layer < n) {
    const stride = config.strides[layer];
    const anchors: [scale: number, ratio: number][] = [];
    let last = layer;
    for (; last < n && config.strides[last] === stride; last++) {
      const scale = scaleAt(last);
      if (last === 0 && config.reduceBoxesInLowestLayer) {
        anchors.push([0.1, 1.0], [scale, 2.0], [scale, 0.5]);
        continue;
      }
      for (const ratio of config.aspectRatios) anchors.push([scale, ratio]);
      if (interpolated > 0) {
        const next = last === n - 1 ? 1.0 : scaleAt(last + 1);
        anchors.push([Math.sqrt(scale * next), interpolated]);
      }
    }
    const fmH = Math.ceil(inputH / stride),
      fmW = Math.ceil(inputW / stride);
    for (let y = 0; y < fmH; y++) {
      for (let x = 0; x < fmW; x++) {
        const cx = (x + (config.anchorOffsetX ?? 0.5)) / fmW,
          cy = (y + (config.anchorOffsetY ?? 0.5)) / fmH;
        for (const [scale, ratio] of anchors) {
          rows.push(
            config.fixedAnchorSize ? [cx, cy, 1, 1] : [cx, cy, scale * Math.sqrt(ratio), scale / Math.sqrt(ratio)],
          );
        }
      }
    }
    layer = last;
  }
  return rows;
}

/** Priors of any family as (cx, cy, w, h) rows, the same values as the core's generatePriors. */
export function priorRows(config: PriorConfig): Float32Array {
  const rows =
    config.family === 'ssd'
      ? ssdPriors(config)
      : config.family === 'torchvision'
        ? torchvisionPriors(config)
        : config.family === 'tfGrid'
          ? tfGridPriors(config)
          : mediapipePriors(config);
  return Float32Array.from(rows.flat());
}

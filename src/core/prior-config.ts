/**
 * PriorConfig helpers shared by the wasm generator's host side (priors.ts), the converters and
 * the plain-TypeScript reference: the known keys of each family, and the small derivations
 * (sizes, TF's scales and base anchor) that are part of the config's meaning.
 */
import type {
  MediapipePriorConfig,
  PriorConfig,
  Size2,
  SsdPriorConfig,
  TfGridPriorConfig,
  TorchvisionPriorConfig,
} from './types.js';
import { rejectUnknownKeys } from '../util/strict-keys.js';

/** Every key of each family's config; the `satisfies` keeps the lists in step with the interfaces. */
export const PRIOR_CONFIG_KEYS = {
  ssd: Object.keys({
    family: 1,
    imageSize: 1,
    featureMaps: 1,
    steps: 1,
    minSizes: 1,
    maxSizes: 1,
    aspectRatios: 1,
    offset: 1,
    clip: 1,
  } satisfies Record<keyof SsdPriorConfig, 1>),
  torchvision: Object.keys({
    family: 1,
    imageSize: 1,
    featureMaps: 1,
    scales: 1,
    aspectRatios: 1,
    steps: 1,
    clip: 1,
  } satisfies Record<keyof TorchvisionPriorConfig, 1>),
  tfGrid: Object.keys({
    family: 1,
    featureMaps: 1,
    minScale: 1,
    maxScale: 1,
    scales: 1,
    aspectRatios: 1,
    interpolatedScaleAspectRatio: 1,
    reduceBoxesInLowestLayer: 1,
    baseAnchorSize: 1,
    imageSize: 1,
    clip: 1,
  } satisfies Record<keyof TfGridPriorConfig, 1>),
  mediapipe: Object.keys({
    family: 1,
    inputSize: 1,
    numLayers: 1,
    minScale: 1,
    maxScale: 1,
    strides: 1,
    aspectRatios: 1,
    anchorOffsetX: 1,
    anchorOffsetY: 1,
    interpolatedScaleAspectRatio: 1,
    reduceBoxesInLowestLayer: 1,
    fixedAnchorSize: 1,
  } satisfies Record<keyof MediapipePriorConfig, 1>),
} as const satisfies Record<PriorConfig['family'], readonly string[]>;

export const PRIOR_FAMILIES = Object.keys(PRIOR_CONFIG_KEYS) as readonly PriorConfig['family'][];

/**
 * Throws a TypeError for a key the config's family does not have:
 * `PriorConfig (family 'ssd') has an unknown key 'minSize'; did you mean 'minSizes'?`.
 * A config that is not an object, or of an unknown family, is left to the caller's checks.
 */
export function rejectUnknownPriorKeys(config: PriorConfig): void {
  if (config === null || typeof config !== 'object' || !Object.hasOwn(PRIOR_CONFIG_KEYS, config.family)) return;
  rejectUnknownKeys(config, PRIOR_CONFIG_KEYS[config.family], `PriorConfig (family '${config.family}')`);
}

/** A Size2 as [width, height]. */
export function widthHeight(size: Size2): [number, number] {
  return typeof size === 'number' ? [size, size] : [size[0], size[1]];
}

/** The per-layer scales of TF's create_ssd_anchors, with TF's trailing 1.0. */
export function tfGridScales(config: TfGridPriorConfig): number[] {
  const n = config.featureMaps.length;
  const scales = config.scales
    ? [...config.scales]
    : Array.from({ length: n }, (_, i) => config.minScale + ((config.maxScale - config.minScale) * i) / (n - 1));
  return [...scales, 1.0];
}

/** TF scales the base anchor by the shorter image side, for non-square inputs. */
export function tfBaseAnchorSize(config: TfGridPriorConfig): [number, number] {
  const [baseH, baseW] = config.baseAnchorSize ?? [1, 1];
  if (!config.imageSize) return [baseH, baseW];
  const [imageH, imageW] = config.imageSize;
  const shorter = Math.min(imageH, imageW);
  return [(shorter / imageH) * baseH, (shorter / imageW) * baseW];
}

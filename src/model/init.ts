/**
 * Seeded weight initialisation: the same seed gives the same weights on every machine and every
 * tfjs backend, because the values are drawn here, in plain JavaScript, not by a backend.
 */

/**
 * How a convolution's filter is drawn, uniform in (−limit, limit):
 * - `he`: limit √(6 / fanIn) (kaiming_uniform for ReLU), for the VGG base: ssd.pytorch starts it
 *   from ImageNet weights we do not have, and He keeps activations from shrinking through 15
 *   ReLU layers when training from scratch;
 * - `xavier`: limit √(6 / (fanIn + fanOut)) (xavier_uniform), for the extras and heads, as
 *   ssd.pytorch's train.py `weights_init` does;
 * - `small`: limit 0.01·√3 (σ = 0.01, uniform), RetinaNet's head initialisation: the heads start
 *   near 0 whatever the scale of their input (the L2Norm source starts at norm 20).
 */
export type FilterInit = 'he' | 'xavier' | 'small';

/** see: RetinaNet (arXiv:1708.02002 §4.1): the heads' final layers start with weights of σ = 0.01. */
export const SMALL_INIT_STD = 0.01;

/** A conv filter in tfjs HWIO order, `kernel × kernel × inChannels × outChannels` values. */
export function initFilter(
  rand: () => number,
  init: FilterInit,
  kernel: number,
  inChannels: number,
  outChannels: number,
): Float32Array {
  const fanIn = kernel * kernel * inChannels;
  const fanOut = kernel * kernel * outChannels;
  const limit =
    init === 'small' ? SMALL_INIT_STD * Math.sqrt(3) : Math.sqrt(6 / (init === 'he' ? fanIn : fanIn + fanOut));
  const values = new Float32Array(fanIn * outChannels);
  for (let i = 0; i < values.length; i++) values[i] = (2 * rand() - 1) * limit;
  return values;
}

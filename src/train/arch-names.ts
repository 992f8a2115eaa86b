/** The trainable architectures by name, apart from the networks (and tfjs) so the CLI can check them without loading those. */
export type TrainingArch = 'ssd300' | 'mini' | 'mobilenet-v2' | 'ssdlite-mobilenet-v2' | 'ssd-mobilenet-v1';
export const TRAINING_ARCHS: readonly TrainingArch[] = [
  'ssd300',
  'mini',
  'mobilenet-v2',
  'ssdlite-mobilenet-v2',
  'ssd-mobilenet-v1',
];
export type MobilenetArch = 'mobilenet-v2' | 'ssdlite-mobilenet-v2' | 'ssd-mobilenet-v1';
/** The MobileNet architectures (tfGrid anchors, TF box coding, [−1, 1] input; 300, or a multiple of 32 from 128 to 640). */
export const MOBILENET_ARCHS: readonly TrainingArch[] = ['mobilenet-v2', 'ssdlite-mobilenet-v2', 'ssd-mobilenet-v1'];
export const isMobilenetArch = (arch: string): arch is MobilenetArch =>
  (MOBILENET_ARCHS as readonly string[]).includes(arch);
/** createMobilenetSsd's `version` and `lite` for a MobileNet architecture. */
export function mobilenetVariant(arch: MobilenetArch): { version: 1 | 2; lite: boolean } {
  return { version: arch === 'ssd-mobilenet-v1' ? 1 : 2, lite: arch === 'ssdlite-mobilenet-v2' };
}

/**
 * The one pre-processing the TFLite fixtures use: an image file → the COCO detector's input,
 * [1, 300, 300, 3] uint8 RGB, NHWC, no normalisation (the model's input is quantised with
 * scale 1/128, zero point 128, so raw pixel bytes are what it expects).
 *
 * Resize: sharp `resize(300, 300, { fit: 'fill', kernel: 'linear' })`, i.e. the aspect ratio is
 * not kept (as the TF Object Detection API's fixed_shape_resizer does) and libvips' linear
 * (triangle) reduction filters the downscale. That is not TF's 4-tap resize_bilinear; it does
 * not need to be: the fixtures store the 300 × 300 bytes they used, so a test feeds those bytes
 * and never re-resizes.
 */
import sharp from 'sharp';

export const INPUT_SIZE = 300;

export async function tfliteInput(imagePath: string): Promise<Uint8Array> {
  const pixels = await sharp(imagePath)
    .removeAlpha()
    .toColourspace('srgb')
    .resize(INPUT_SIZE, INPUT_SIZE, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  if (pixels.length !== INPUT_SIZE * INPUT_SIZE * 3) {
    throw new RangeError(
      `${imagePath} gave ${pixels.length} bytes after resizing; expected ${INPUT_SIZE} × ${INPUT_SIZE} × 3 = ${INPUT_SIZE * INPUT_SIZE * 3}`,
    );
  }
  return new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length);
}

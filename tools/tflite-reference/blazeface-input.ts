/**
 * BlazeFace (MediaPipe face_detection_short_range.tflite) inputs for the fixtures: an image →
 * [1, 128, 128, 3] float32 NHWC RGB in [−1, 1] (MediaPipe's ImageToTensorCalculator with
 * output_tensor_float_range {min: −1, max: 1}: v / 127.5 − 1).
 *
 * The image is resized with sharp (`fit: 'fill'`, linear kernel); square photos keep their
 * aspect ratio, so this equals MediaPipe's keep_aspect_ratio letterbox for them. `mosaic`
 * builds a 2 × 2 tiling of a square crop of one photo at 64 × 64 per tile (four faces in one
 * input) from the same public-domain picture, for a multi-face case without another photo's
 * licence.
 */
export interface Crop {
  left: number;
  top: number;
  size: number;
}
import sharp from 'sharp';

export const BLAZEFACE_SIZE = 128;

/** Raw 8-bit RGB pixels → float32 in [−1, 1] (x / 127.5 − 1, rounded to f32). */
export function toBlazefaceTensor(pixels: Uint8Array): Float32Array {
  return Float32Array.from(pixels, (v) => v / 127.5 - 1);
}

async function rgb(imagePath: string, size: number, crop?: Crop): Promise<Buffer> {
  let image = sharp(imagePath).removeAlpha().toColourspace('srgb');
  if (crop) image = image.extract({ left: crop.left, top: crop.top, width: crop.size, height: crop.size });
  return image.resize(size, size, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
}

/** The 128 × 128 × 3 RGB bytes of `imagePath` (one tile), or a 2 × 2 mosaic of 64 × 64 tiles. */
export async function blazefacePixels(imagePath: string, mosaic?: Crop): Promise<Uint8Array> {
  if (!mosaic) return new Uint8Array(await rgb(imagePath, BLAZEFACE_SIZE));
  const half = BLAZEFACE_SIZE / 2;
  const tile = await rgb(imagePath, half, mosaic);
  const out = new Uint8Array(BLAZEFACE_SIZE * BLAZEFACE_SIZE * 3);
  for (let y = 0; y < BLAZEFACE_SIZE; y++) {
    for (let x = 0; x < BLAZEFACE_SIZE; x++) {
      const from = ((y % half) * half + (x % half)) * 3;
      out.set(tile.subarray(from, from + 3), (y * BLAZEFACE_SIZE + x) * 3);
    }
  }
  return out;
}

/**
 * `PreprocessSpec.fit`: keeping the image's aspect ratio. The image is padded with black to the
 * input's aspect ratio — centred ('letterbox', MediaPipe's keep_aspect_ratio) or at the top left
 * ('pad', face-api's padToSquare) — and then resized as usual; detections are mapped back from the
 * padded frame to the image's own, so pixel boxes and keypoints land on the image's pixels.
 */
import type { Detection } from '../core/types.js';
import { imageChannels } from './preprocess.js';
import type { PreprocessSpec, RawImage } from './types.js';

/** Where the image sits in the padded frame (pixels). */
export interface FitFrame {
  width: number;
  height: number;
  offsetX: number;
  offsetY: number;
}

/** The image padded to the input's aspect ratio, and where it sits; the image itself for 'stretch'. */
export function fitImage(image: RawImage, spec: PreprocessSpec): { image: RawImage; frame?: FitFrame } {
  const fit = spec.fit ?? 'stretch';
  if (fit === 'stretch') return { image };
  const { width, height } = image;
  const aspect = spec.size[0] / spec.size[1];
  // the smallest frame of the input's aspect ratio that holds the image
  const frameW = width / height >= aspect ? width : Math.round(height * aspect);
  const frameH = width / height >= aspect ? Math.round(width / aspect) : height;
  if (frameW === width && frameH === height) return { image };
  const offsetX = fit === 'letterbox' ? Math.floor((frameW - width) / 2) : 0;
  const offsetY = fit === 'letterbox' ? Math.floor((frameH - height) / 2) : 0;
  const channels = imageChannels(image);
  const data = new Uint8Array(frameW * frameH * channels); // black (alpha is ignored)
  const row = width * channels;
  for (let y = 0; y < height; y++) {
    data.set(image.data.subarray(y * row, (y + 1) * row), ((y + offsetY) * frameW + offsetX) * channels);
  }
  return {
    image: { data, width: frameW, height: frameH, channels },
    frame: { width: frameW, height: frameH, offsetX, offsetY },
  };
}

/** A detection in the padded frame's normalised coordinates → the image's (width × height). */
export function unfitDetection(detection: Detection, frame: FitFrame, width: number, height: number): Detection {
  const x = (v: number) => (v * frame.width - frame.offsetX) / width;
  const y = (v: number) => (v * frame.height - frame.offsetY) / height;
  const [xmin, ymin, xmax, ymax] = detection.box;
  const mapped: Detection = { ...detection, box: [x(xmin), y(ymin), x(xmax), y(ymax)] };
  if (detection.keypoints) mapped.keypoints = detection.keypoints.map(([kx, ky]) => [x(kx), y(ky)]);
  return mapped;
}

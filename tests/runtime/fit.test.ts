/**
 * PreprocessSpec.fit: 'letterbox' and 'pad' keep the image's aspect ratio (black borders,
 * centred or at the top left) and map detections back to the image's own coordinates.
 * Hand-computed geometry, then two models: face-api's detector with 'pad' gives exactly what it
 * gives on the image padded by hand, and MediaPipe's BlazeFace with 'letterbox' finds a face where
 * it is in a wide image, as it does in the square one.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { BLAZEFACE_ANCHORS, BLAZEFACE_POSTPROCESS, BLAZEFACE_PREPROCESS } from '../../src/convert/tflite/mediapipe.js';
import { padImageToSquare } from '../../src/convert/tfjs/faceapi.js';
import { createDetector } from '../../src/runtime/detector.js';
import { fitImage, unfitDetection } from '../../src/runtime/fit.js';
import { validatePreprocessSpec } from '../../src/runtime/preprocess.js';
import type { PreprocessSpec, RawImage } from '../../src/runtime/types.js';

const SQUARE: PreprocessSpec = { size: [4, 4], channels: 'rgb', mean: [0, 0, 0], std: [1, 1, 1], layout: 'nhwc' };
const BLAZEFACE_TFLITE = fileURLToPath(new URL('../../../models/face_detection_short_range.tflite', import.meta.url));
const faceApiDemo = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')),
  'demo',
);

async function decode(file: string): Promise<RawImage> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    channels: 3,
  };
}

describe('PreprocessSpec.fit', () => {
  it('pads a 4 × 2 image to a square: centred for letterbox, at the top for pad; stretch leaves it', () => {
    const image: RawImage = { data: Uint8Array.from({ length: 8 }, (_, i) => i + 1), width: 4, height: 2, channels: 1 };
    assert.equal(fitImage(image, SQUARE).image, image);
    const boxed = fitImage(image, { ...SQUARE, fit: 'letterbox' });
    assert.deepEqual(boxed.frame, { width: 4, height: 4, offsetX: 0, offsetY: 1 });
    assert.deepEqual([...boxed.image.data], [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0]);
    const padded = fitImage(image, { ...SQUARE, fit: 'pad' });
    assert.deepEqual(padded.frame, { width: 4, height: 4, offsetX: 0, offsetY: 0 });
    assert.deepEqual([...padded.image.data], [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
    // a tall RGB image into a 2:1 input: borders left and right
    const tall: RawImage = { data: new Uint8Array(2 * 3 * 3).fill(9), width: 2, height: 3, channels: 3 };
    const wide = fitImage(tall, { ...SQUARE, size: [8, 4], fit: 'letterbox' });
    assert.deepEqual(wide.frame, { width: 6, height: 3, offsetX: 2, offsetY: 0 });
    assert.deepEqual([...wide.image.data.subarray(0, 18)], [0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 0, 0, 0, 0, 0, 0]);
    // an image already of the input's aspect ratio is not copied
    const fits: RawImage = { data: new Uint8Array(4 * 4), width: 4, height: 4, channels: 1 };
    assert.equal(fitImage(fits, { ...SQUARE, fit: 'letterbox' }).image, fits);
  });

  it('maps a detection in the padded frame back to the image (hand-computed)', () => {
    const frame = { width: 4, height: 4, offsetX: 0, offsetY: 1 };
    const found = unfitDetection(
      { classId: 1, score: 0.9, box: [0.25, 0.5, 0.75, 0.75], priorIndex: 0, keypoints: [[0.5, 0.25]] },
      frame,
      4,
      2,
    );
    // y: (0.5·4 − 1) / 2 = 0.5, (0.75·4 − 1) / 2 = 1; keypoint y (0.25·4 − 1) / 2 = 0
    assert.deepEqual(found.box, [0.25, 0.5, 0.75, 1]);
    assert.deepEqual(found.keypoints, [[0.5, 0]]);
  });

  it('refuses an unknown fit', () => {
    assert.throws(
      () => validatePreprocessSpec({ ...SQUARE, fit: 'cover' as 'pad' }),
      /preprocess\.fit is "cover"; it must be 'stretch', 'letterbox' or 'pad'/,
    );
  });

  it("face-api's detector with fit 'pad' gives what it gives on the photo padded by hand, in the photo's pixels", async () => {
    const photo = await decode(path.join(faceApiDemo, 'sample1.jpg'));
    assert.notEqual(photo.width, photo.height);
    const padded = await createDetector({ model: 'face-ssd-mobilenet-v1', backend: 'node' }); // the model records fit 'pad'
    assert.equal(padded.inputSpec.fit, 'pad');
    const plain = await createDetector({
      model: 'face-ssd-mobilenet-v1',
      backend: 'node',
      preprocess: { ...padded.inputSpec, fit: 'stretch' },
    });
    try {
      const expected = await plain.detect(padImageToSquare(photo));
      const found = await padded.detect(photo);
      assert.ok(expected.length >= 3, `${expected.length} faces`);
      assert.equal(found.length, expected.length);
      found.forEach((d, i) => {
        assert.equal(d.score, expected[i].score);
        d.pixelBox.forEach((v, k) =>
          assert.ok(
            Math.abs(v - expected[i].pixelBox[k]) < 1e-9,
            `face ${i} pixelBox[${k}] ${v} vs ${expected[i].pixelBox[k]}`,
          ),
        );
      });
    } finally {
      await Promise.all([plain.dispose(), padded.dispose()]);
    }
  });

  it("BlazeFace with fit 'letterbox' finds the face of a wider image where it is, as in the square one", async () => {
    const square = await decode(fileURLToPath(new URL('../../../samples/astronaut.jpg', import.meta.url)));
    const left = 128; // black columns added on the left: the face moves 128 px right (more shrinks it below BlazeFace's range)
    const wide = fitImage(square, { ...SQUARE, size: [square.width + left, square.height], fit: 'pad' }).image;
    const shifted: RawImage = { ...wide, data: new Uint8Array(wide.data.length) };
    for (let y = 0; y < square.height; y++) {
      shifted.data.set(
        square.data.subarray(y * square.width * 3, (y + 1) * square.width * 3),
        (y * wide.width + left) * 3,
      );
    }
    const preset = { ...BLAZEFACE_POSTPROCESS, priors: BLAZEFACE_ANCHORS, numClasses: 1 };
    const detector = await createDetector({
      model: BLAZEFACE_TFLITE,
      preset,
      preprocess: { ...BLAZEFACE_PREPROCESS, fit: 'letterbox' },
    });
    try {
      const [inSquare] = await detector.detect(square);
      const inWide = (await detector.detect(shifted)).filter((d) => d.score > 0.5);
      assert.equal(inWide.length, 1, JSON.stringify(inWide));
      // within 12 px on a ~95 px face (the model sees it at 0.8× the size); a wrong offset or scale is off by 60+ px
      inWide[0].pixelBox.forEach((v, k) => {
        const expected = inSquare.pixelBox[k] + (k % 2 === 0 ? left : 0);
        assert.ok(Math.abs(v - expected) < 12, `pixelBox[${k}] ${v.toFixed(1)} vs ${expected.toFixed(1)}`);
      });
      inWide[0].pixelKeypoints!.forEach(([x, y], k) => {
        const [ex, ey] = inSquare.pixelKeypoints![k];
        assert.ok(
          Math.abs(x - ex - left) < 12 && Math.abs(y - ey) < 12,
          `keypoint ${k} (${x}, ${y}) vs (${ex + left}, ${ey})`,
        );
      });
    } finally {
      await detector.dispose();
    }
  });
});

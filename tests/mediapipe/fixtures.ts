/**
 * Reads tests/fixtures/tflite-blazeface/ (written by tools/tflite-reference/make-blazeface-fixtures.ts):
 * TensorFlow Lite's own raw outputs of MediaPipe's BlazeFace (models/face_detection_short_range.tflite)
 * on 128 × 128 inputs made from the public-domain photos in samples/. Every file is checked
 * against its SHA-256 here.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fixtureUrl, readPriorFixture } from '../fixtures.js';

export interface BlazefaceFixture {
  name: string;
  /** [1, 128, 128, 3] float32 NHWC RGB in [−1, 1]. */
  input: Float32Array;
  /** TFLite's `regressors` [1, 896, 16]: box x, y, w, h, then 6 keypoints (x, y), in input pixels. */
  regressors: Float32Array;
  /** TFLite's `classificators` [1, 896, 1]: face logits. */
  classificators: Float32Array;
}

interface Manifest {
  samples: {
    name: string;
    sha256: Record<'input' | 'regressors' | 'classificators', string>;
    files: Record<'input' | 'regressors' | 'classificators', string>;
  }[];
}

function floats(file: string, sha256: string): Float32Array {
  const bytes = readFileSync(fixtureUrl(`tflite-blazeface/${file}`));
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== sha256)
    throw new Error(
      `tests/fixtures/tflite-blazeface/${file} has SHA-256 ${digest}, the manifest says ${sha256}: re-run make-blazeface-fixtures`,
    );
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export function readBlazefaceFixtures(): BlazefaceFixture[] {
  const manifest = JSON.parse(readFileSync(fixtureUrl('tflite-blazeface/manifest.json'), 'utf8')) as Manifest;
  return manifest.samples.map((s) => ({
    name: s.name,
    input: floats(s.files.input, s.sha256.input),
    regressors: floats(s.files.regressors, s.sha256.regressors),
    classificators: floats(s.files.classificators, s.sha256.classificators),
  }));
}

/** MediaPipe's SsdAnchorsCalculator rows for BlazeFace short range, generated outside this project (tests/fixtures/priors). */
export function readBlazefaceAnchors(): Float32Array {
  return readPriorFixture({ file: 'mediapipeBlazeFace.f32' });
}

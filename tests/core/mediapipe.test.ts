/**
 * MediaPipe's post-processing in the core (assembly/mediapipe.ts): linear box coding, keypoints
 * carried through NMS, weighted NMS. Hand-computed cases; both wasm builds against the plain
 * TypeScript reference (src/core/reference/mediapipe.ts) on random inputs, bit for bit; and, on
 * BlazeFace's outputs for real photos, the core against an independent re-implementation of
 * MediaPipe's TensorsToDetectionsCalculator + NonMaxSuppressionCalculator (tests/mediapipe/calculators.ts).
 * Set SSD_EDGE_FACE_PHOTOS to a folder of .jpg files (e.g. @vladmandic/face-api's demo/) to run
 * the last check on those photos too.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPostprocessor, type Detection, type PostprocessConfig, type Postprocessor } from '../../src/index.js';
import { referenceDetect } from '../../src/core/reference/detect.js';
import { convertModel } from '../../src/convert/index.js';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { assertSameDetections, normal, random } from '../helpers.js';
import { openBlazefaceSession, type BlazefaceSession } from '../mediapipe/blazeface-session.js';
import { blazefaceDetections, type MpDetection } from '../mediapipe/calculators.js';
import { readBlazefaceFixtures } from '../mediapipe/fixtures.js';

const f = Math.fround;

function assertSameKeypoints(actual: Detection[], expected: Detection[], context: string): void {
  actual.forEach((a, i) =>
    assert.deepEqual(a.keypoints, expected[i].keypoints, `${context}: detection ${i} keypoints`),
  );
}

describe('MediaPipe post-processing: hand-computed cases', () => {
  // two priors of size 0.5 at (0.25, 0.25) and (0.75, 0.75); one class, no background
  const priors = new Float32Array([0.25, 0.25, 0.5, 0.5, 0.75, 0.75, 0.5, 0.5]);
  const base: PostprocessConfig = {
    priors,
    numClasses: 1,
    backgroundClass: -1,
    boxCoding: { linearScales: [128, 128, 128, 128], order: 'xywh' },
    keypoints: { count: 1 },
    scoreActivation: 'none',
    scoreThreshold: 0.5,
    nmsThreshold: 0.3,
    topK: 2,
    keepTopK: 10,
  };

  it('decodes linearly: centre and size divided by the scales, no exp; keypoints like the centre', async () => {
    const post = await createPostprocessor(base);
    // prior 0: tx = 32 → cx = 32/128·0.5 + 0.25 = 0.375; tw = 128 → w = 0.5; keypoint (−64, 64) → (0, 0.5)
    const loc = [32, 0, 128, 256, -64, 64, 0, 0, 0, 0, 0, 0];
    const [[d]] = post.run(loc, [0.9, 0.1]);
    assert.deepEqual(d.box, [0.125, -0.25, 0.625, 0.75]);
    assert.deepEqual(d.keypoints, [[0, 0.5]]);
    assert.equal(d.score, f(0.9));
    assert.equal(d.priorIndex, 0);
  });

  it("keeps a score equal to the threshold (MediaPipe's min_score_thresh) and drops boxes of negative size", async () => {
    const post = await createPostprocessor(base);
    const loc = [0, 0, 64, 64, 0, 0, 0, 0, -1, 64, 0, 0];
    const [found] = post.run(loc, [0.5, 0.9]);
    assert.deepEqual(
      found.map((d) => d.priorIndex),
      [0],
      'prior 1 has a negative width, prior 0 scores exactly 0.5',
    );
  });

  it('weighted NMS blends overlapping boxes and keypoints by score, keeping the best score', async () => {
    // both priors at the same place: prior 1 shifted by 0.125 in x; IoU = 0.375·0.5 / (0.25 + 0.25 − 0.1875) = 0.6
    const same = new Float32Array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    const post = await createPostprocessor({ ...base, priors: same, scoreThreshold: 0.2, weightedNms: true });
    const loc = [0, 0, 128, 128, 0, 0, 32, 0, 128, 128, 64, 0];
    const [[d, ...rest]] = post.run(loc, [0.75, 0.25]);
    assert.equal(rest.length, 0);
    assert.equal(d.score, 0.75);
    assert.equal(d.priorIndex, 0);
    // x: 0.75·0.25 + 0.25·0.375 = 0.28125 (xmin), 0.75·0.75 + 0.25·0.875 = 0.78125 (xmax)
    assert.deepEqual(d.box, [0.28125, 0.25, 0.78125, 0.75]);
    // keypoint x: 0.75·0.5 + 0.25·(0.5 + 0.25) = 0.5625
    assert.deepEqual(d.keypoints, [[0.5625, 0.5]]);
    const greedy = await createPostprocessor({ ...base, priors: same, scoreThreshold: 0.2, weightedNms: false });
    const [kept] = greedy.run(loc, [0.75, 0.25]);
    assert.deepEqual(
      kept.map((k) => k.box),
      [[0.25, 0.25, 0.75, 0.75]],
    );
  });

  it('refuses combinations MediaPipe does not have', async () => {
    await assert.rejects(
      createPostprocessor({ ...base, scoreActivation: 'softmax' }),
      /scoreActivation must be 'sigmoid' or 'none'/,
    );
    await assert.rejects(createPostprocessor({ ...base, softNms: { method: 'linear' } }), /softNms cannot be combined/);
    await assert.rejects(createPostprocessor({ ...base, clip: true }), /clip cannot be combined/);
    await assert.rejects(createPostprocessor({ ...base, keypoints: { count: 1.5 } }), /keypoints.count is 1.5/);
    await assert.rejects(
      createPostprocessor({ ...base, boxCoding: { linearScales: [128, 0, 128, 128], order: 'xywh' } }),
      /linearScales\[1\]/,
    );
    const post = await createPostprocessor(base);
    assert.throws(
      () => post.run(new Float32Array(8), new Float32Array(2), 1),
      /loc has 8 values; this config needs 1 × 2 priors × 6 = 12 \(4 box values and 1 keypoints per prior\)/,
    );
  });
});

describe('MediaPipe post-processing: both wasm builds equal the reference bit for bit', () => {
  const P = 300;
  const rand0 = random(77);
  const priors = Float32Array.from({ length: P * 4 }, (_, i) => ((i & 3) < 2 ? rand0() : 0.05 + 0.3 * rand0()));
  const variants: [string, Partial<PostprocessConfig>][] = [
    [
      'linear, weighted, 6 keypoints',
      { boxCoding: { linearScales: [128, 128, 128, 128], order: 'xywh' }, keypoints: { count: 6 }, weightedNms: true },
    ],
    [
      'linear, greedy, 3 keypoints, yxhw',
      { boxCoding: { linearScales: [96, 128, 64, 100], order: 'yxhw' }, keypoints: { count: 3 }, weightedNms: false },
    ],
    [
      'exp (scale factors), weighted, no keypoints',
      { boxCoding: { scaleFactors: [10, 10, 5, 5], order: 'yxhw' }, weightedNms: true },
    ],
    [
      'variances, weighted, 2 keypoints, 3 classes',
      {
        boxCoding: { variances: [0.1, 0.2] },
        keypoints: { count: 2 },
        weightedNms: true,
        numClasses: 4,
        backgroundClass: 0,
      },
    ],
  ];
  for (const [name, variant] of variants) {
    it(name, async () => {
      const config = {
        priors,
        numClasses: 1,
        backgroundClass: -1,
        scoreActivation: 'sigmoid',
        scoreThreshold: 0.4,
        nmsThreshold: 0.3,
        topK: 120,
        keepTopK: 40,
        ...variant,
      } as PostprocessConfig;
      const simd = await createPostprocessor(config, { build: 'simd' });
      const baseline = await createPostprocessor(config, { build: 'baseline' });
      assert.equal(simd.build, 'simd');
      const { locValues: V, numClasses: C } = simd.config;
      const linear = 'linearScales' in config.boxCoding!;
      for (let i = 0; i < 60; i++) {
        const rand = random(5000 + i);
        // clusters: many priors regress towards a few boxes, so that NMS has work to do
        const loc = Float32Array.from({ length: P * V }, () => (linear ? 12 : 0.6) * normal(rand));
        const conf = Float32Array.from({ length: P * C }, () => 2 * normal(rand) + (i % 3) - 1);
        const batch = i % 5 === 0 ? 2 : 1;
        const locs = batch === 2 ? Float32Array.from([...loc, ...loc.map((v) => -v)]) : loc;
        const confs = batch === 2 ? Float32Array.from([...conf, ...conf.map((v) => v * 0.5)]) : conf;
        const expected = referenceDetect(simd.config, locs, confs, batch);
        for (const [post, label] of [
          [simd, 'simd'],
          [baseline, 'baseline'],
        ] as [Postprocessor, string][]) {
          const found = post.run(locs, confs, batch);
          found.forEach((detections, image) => {
            assertSameDetections(detections, expected[image], `${label} ${name} #${i}/${image}`);
            assertSameKeypoints(detections, expected[image], `${label} ${name} #${i}/${image}`);
          });
        }
      }
    });
  }
});

/** MediaPipe's Detection as ssd-edge's (box xyxy with xmax = xmin + width). */
function fromMediapipe(d: MpDetection): Detection {
  return {
    classId: d.labelId[0],
    score: d.score[0],
    priorIndex: d.anchor,
    box: [d.xmin, d.ymin, f(d.xmin + d.width), f(d.ymin + d.height)],
    keypoints: d.keypoints.map((k) => [k.x, k.y]),
  };
}

describe("BlazeFace on real photos: the core equals MediaPipe's calculators", () => {
  let session: BlazefaceSession;
  let post: Postprocessor;
  before(async () => {
    const tflite = readFileSync(new URL('../../../models/face_detection_short_range.tflite', import.meta.url));
    const { onnx } = convertModel(tflite, { preset: 'mediapipe-blazeface' });
    session = await openBlazefaceSession(onnx);
    post = await createPostprocessor(readSsdEdgeMetadata(onnx)!.postprocess);
  });
  after(async () => {
    await session.release();
    post.dispose();
  });

  async function check(name: string, input: Float32Array): Promise<number> {
    const { regressors, classificators } = await session.run(input);
    const expected = blazefaceDetections(regressors, classificators, post.priors).map(fromMediapipe);
    const found = post.run(regressors, classificators)[0].map(({ label: _, ...d }) => d);
    assertSameDetections(found, expected, name);
    assertSameKeypoints(found, expected, name);
    return found.length;
  }

  it('on the committed inputs (astronaut: 1 face, a mosaic of it: 4, person.jpg: none)', async () => {
    const counts: Record<string, number> = {};
    for (const fixture of readBlazefaceFixtures()) counts[fixture.name] = await check(fixture.name, fixture.input);
    assert.deepEqual(counts, { astronaut: 1, 'astronaut-mosaic': 4, person: 0 });
  });

  it('on the photos in $SSD_EDGE_FACE_PHOTOS', async (t) => {
    const dir = process.env.SSD_EDGE_FACE_PHOTOS;
    if (!dir) {
      t.skip('set SSD_EDGE_FACE_PHOTOS to a folder of face photos (e.g. @vladmandic/face-api/demo)');
      return;
    }
    const { default: sharp } = await import('sharp');
    const files = readdirSync(dir).filter((file) => /\.jpe?g$/i.test(file));
    assert.ok(files.length > 0, `no .jpg in ${dir}`);
    for (const file of files) {
      const pixels = await sharp(path.join(dir, file))
        .removeAlpha()
        .toColourspace('srgb')
        .resize(128, 128, { fit: 'fill', kernel: 'linear' })
        .raw()
        .toBuffer();
      const faces = await check(
        file,
        Float32Array.from(pixels, (v) => v / 127.5 - 1),
      );
      t.diagnostic(`${file}: ${faces} faces`);
    }
  });
});

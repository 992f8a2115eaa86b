/**
 * PyTorch checkpoints end to end: each margin-searched checkpoint of
 * tools/golden/pytorch_detections.py, converted in memory and run by createDetector
 * (onnxruntime-node, the pre- and post-processing the conversion records) on the test image,
 * gives the detections of the original framework's own code for the same checkpoint and image:
 * torchvision's eval forward (GeneralizedRCNNTransform … postprocess_detections) and
 * ssd.pytorch's test phase (BaseTransform's mean, softmax, Detect). The image is already at the
 * network's size, so neither side resizes: the input rule is exactly ours.
 *
 * The checkpoints' scores are well separated (margins recorded in the JSON), so a match is
 * meaningful; a detector with a wrong box coding is checked to fail the same comparison.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { convertModel } from '../../src/convert/index.js';
import type { PostprocessConfig } from '../../src/core/types.js';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { createDetector } from '../../src/runtime/detector.js';
import type { ImageDetection, RawImage } from '../../src/runtime/types.js';
import { fixtureUrl } from '../fixtures.js';

interface MarginGolden {
  checkpoint: string;
  arch: string;
  image: { width: number; height: number; sha256OfRgbPixels: string };
  framework: { call: string };
  margins: { minRelativeScoreGapInOutput: number; minRelativeDistanceToScoreThreshold: number };
  boxUnits: 'pixels' | 'normalised';
  count: number;
  detections: { classId: number; priorIndex?: number; score: number; box: [number, number, number, number] }[];
}

/** Box tolerance as a fraction of the image size, and score tolerance (absolute). */
const BOX_TOLERANCE = 1e-4;
const SCORE_TOLERANCE = 1e-4;

/** The script's image: pixel[y, x, c] = (c·59 + y²·3 + x·17 + x·y) mod 255, RGB. */
function patternImage(size: number): RawImage {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = (c * 59 + y * y * 3 + x * 17 + x * y) % 255;
    }
  }
  return { data, width: size, height: size, channels: 3 };
}

interface Agreement {
  /** The first difference in count, class or prior, if any. */
  mismatch?: string;
  /** Largest box-coordinate difference, as a fraction of the image size. */
  box: number;
  /** Largest score difference. */
  score: number;
}

function compare(found: ImageDetection[], golden: MarginGolden): Agreement {
  const result: Agreement = { box: 0, score: 0 };
  if (found.length !== golden.count) {
    return { ...result, mismatch: `${found.length} detections, the framework has ${golden.count}` };
  }
  const size = golden.image.width;
  found.forEach((d, i) => {
    const g = golden.detections[i];
    if (result.mismatch) return;
    if (d.classId !== g.classId) result.mismatch = `detection ${i}: class ${d.classId}, the framework's ${g.classId}`;
    else if (g.priorIndex !== undefined && d.priorIndex !== g.priorIndex) {
      result.mismatch = `detection ${i}: prior ${d.priorIndex}, the framework's ${g.priorIndex}`;
    }
    const ours = golden.boxUnits === 'pixels' ? d.pixelBox.map((v) => v / size) : d.box;
    ours.forEach((v, j) => {
      const theirs = golden.boxUnits === 'pixels' ? g.box[j] / size : g.box[j];
      result.box = Math.max(result.box, Math.abs(v - theirs));
    });
    result.score = Math.max(result.score, Math.abs(d.score - g.score));
  });
  return result;
}

const agrees = (a: Agreement) => a.mismatch === undefined && a.box <= BOX_TOLERANCE && a.score <= SCORE_TOLERANCE;

/** The recorded box coding with its two halves swapped: variances (0.2, 0.1), weights (5, 5, 10, 10). */
function swappedBoxCoding(config: PostprocessConfig): PostprocessConfig {
  const coding = config.boxCoding;
  if (coding && 'scaleFactors' in coding) {
    const [a, b, c, d] = coding.scaleFactors;
    return { ...config, boxCoding: { ...coding, scaleFactors: [c, d, a, b] } };
  }
  assert.ok(coding && 'variances' in coding, `unexpected box coding ${JSON.stringify(coding)}`);
  const [v0, v1] = coding.variances;
  return { ...config, boxCoding: { ...coding, variances: [v1, v0] } };
}

describe("PyTorch checkpoints end to end: createDetector equals the framework's own detections", () => {
  for (const arch of ['torchvision-ssd300', 'ssd300-voc', 'ssd512-voc']) {
    it(`${arch}.margin.pth: same classes${arch === 'torchvision-ssd300' ? '' : ', priors'} and order, boxes within 1e-4 of the image, scores within 1e-4`, async (t) => {
      const golden = JSON.parse(readFileSync(fixtureUrl(`pytorch/${arch}.margin.json`), 'utf8')) as MarginGolden;
      const image = patternImage(golden.image.width);
      assert.equal(createHash('sha256').update(image.data).digest('hex'), golden.image.sha256OfRgbPixels);
      const { onnx, format, report } = convertModel(
        new Uint8Array(readFileSync(fixtureUrl(`pytorch/${golden.checkpoint}`))),
      );
      assert.equal(format === 'pytorch' && report.arch, golden.arch);
      // the comparison means something: a handful of detections, well apart
      assert.ok(golden.count >= 6 && golden.margins.minRelativeScoreGapInOutput >= 1e-3);

      const detector = await createDetector({ model: onnx, backend: 'node' });
      let found: ImageDetection[];
      try {
        found = await detector.detect(image);
      } finally {
        await detector.dispose();
      }
      const a = compare(found, golden);
      t.diagnostic(
        `${arch}: ${found.length} detections as ${golden.framework.call.split(':')[0]}; max |Δ box| ` +
          `${a.box.toExponential(1)} of the image (${(a.box * golden.image.width).toExponential(1)} px), ` +
          `max |Δ score| ${a.score.toExponential(1)}`,
      );
      assert.equal(a.mismatch, undefined, a.mismatch);
      assert.ok(agrees(a), `boxes differ by ${a.box} of the image, scores by ${a.score}`);

      // the same model with the box coding's halves swapped must not pass
      const recorded = readSsdEdgeMetadata(onnx)!.postprocess;
      const broken = await createDetector({ model: onnx, backend: 'node', preset: swappedBoxCoding(recorded) });
      try {
        const b = compare(await broken.detect(image), golden);
        assert.ok(!agrees(b), `a swapped box coding still agrees (${JSON.stringify(b)}): the comparison cannot fail`);
      } finally {
        await broken.dispose();
      }
    });
  }
});

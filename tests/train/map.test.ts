/**
 * PASCAL VOC mAP: every expected AP below is worked out by hand from the precision/recall table
 * in the comment next to it (no reference implementation is run).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  boxIou,
  evaluateDetections,
  voc07Ap,
  vocAllPointAp,
  type EvalDetection,
  type GroundTruthImage,
} from '../../src/train/map.js';

const close = (actual: number, expected: number, what = 'value'): void =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} ≠ ${expected}`);

/** A unit-width box in column `k` of a strip: [k, 0, k + 1, 1] scaled by 0.1, disjoint from the others. */
const cell = (k: number): [number, number, number, number] => [k / 10, 0, (k + 1) / 10, 0.1];
const det = (classId: number, score: number, box: ArrayLike<number>): EvalDetection => ({ classId, score, box });
/** Far from every `cell`: IoU 0 with all of them. */
const nowhere: [number, number, number, number] = [0.5, 0.5, 0.6, 0.6];

describe('evaluateDetections', () => {
  it('a perfect detector: AP 1 for every class, both metrics', () => {
    const gt: GroundTruthImage[] = [
      { boxes: [cell(0), cell(1)], labels: [1, 2] },
      { boxes: [cell(2), cell(3), cell(4)], labels: [1, 1, 2] },
    ];
    const dets = [
      [det(1, 0.9, cell(0)), det(2, 0.8, cell(1))],
      [det(1, 0.7, cell(2)), det(1, 0.6, cell(3)), det(2, 0.5, cell(4))],
    ];
    // class 1: TP TP TP over 3 truths → recall 1/3, 2/3, 1 at precision 1: both APs are 1.
    const r = evaluateDetections(gt, dets, { numClasses: 3, labels: ['background', 'cat', 'dog'] });
    assert.deepEqual(
      r.perClass.map((c) => [c.classId, c.label, c.ap07, c.apAll, c.numGroundTruth, c.numDetections]),
      [
        [1, 'cat', 1, 1, 3, 3],
        [2, 'dog', 1, 1, 2, 2],
      ],
    );
    assert.equal(r.map07, 1);
    assert.equal(r.mapAll, 1);
  });

  it('TP, FP, TP, FP, TP over 4 truths: AP07 = 6.2/11, all-point = 17/30', () => {
    const gt: GroundTruthImage[] = [{ boxes: [cell(0), cell(1), cell(2), cell(3)], labels: [1, 1, 1, 1] }];
    const dets = [
      [det(1, 0.9, cell(0)), det(1, 0.8, nowhere), det(1, 0.7, cell(1)), det(1, 0.6, nowhere), det(1, 0.5, cell(2))],
    ];
    // d  TP FP  recall  precision
    // 1  1  0   1/4     1
    // 2  1  1   1/4     1/2
    // 3  2  1   2/4     2/3
    // 4  2  2   2/4     1/2
    // 5  3  2   3/4     3/5
    // 11-point: t = 0, .1, .2 → max precision at recall ≥ t = 1; t = .3, .4, .5 → 2/3;
    //           t = .6, .7 → 3/5; t = .8, .9, 1 → 0.  (3 + 2 + 1.2) / 11 = 6.2 / 11.
    // all-point: envelope 1 on (0, 1/4], 2/3 on (1/4, 2/4], 3/5 on (2/4, 3/4], 0 beyond:
    //           1/4 · (1 + 2/3 + 3/5) = 17/30.
    const [c] = evaluateDetections(gt, dets, { numClasses: 2 }).perClass;
    close(c.ap07, 6.2 / 11, 'ap07');
    close(c.apAll, 17 / 30, 'apAll');
    assert.deepEqual([c.truePositives, c.falsePositives, c.numGroundTruth, c.numDetections], [3, 2, 4, 5]);
    assert.deepEqual([...c.recall], [0.25, 0.25, 0.5, 0.5, 0.75]);
    close(c.precision[2], 2 / 3);
    close(c.precision[4], 0.6);
  });

  it('sorts by score across images, whatever the input order', () => {
    // The same sequence as above, split over two images and given out of order.
    const gt: GroundTruthImage[] = [
      { boxes: [cell(0), cell(1)], labels: [1, 1] },
      { boxes: [cell(2), cell(3)], labels: [1, 1] },
    ];
    const dets = [
      [det(1, 0.5, cell(1)), det(1, 0.8, nowhere)],
      [det(1, 0.6, nowhere), det(1, 0.9, cell(2)), det(1, 0.7, cell(3))],
    ];
    const [c] = evaluateDetections(gt, dets, { numClasses: 2 }).perClass;
    close(c.ap07, 6.2 / 11, 'ap07');
    close(c.apAll, 17 / 30, 'apAll');
  });

  it('equal scores keep input order (image, then position): FP before TP gives 1/2, not 1', () => {
    const gt: GroundTruthImage[] = [
      { boxes: [], labels: [] },
      { boxes: [cell(0)], labels: [1] },
    ];
    const dets = [[det(1, 0.5, cell(0))], [det(1, 0.5, cell(0))]];
    // Order FP (image 0 has no truth), TP: recall 0, 1; precision 0, 1/2.
    // 11-point: every t has max precision 1/2 → 1/2.  all-point: 1 · 1/2 = 1/2.
    // (TP first would give precision 1 at recall 1: AP 1.)
    const [c] = evaluateDetections(gt, dets, { numClasses: 2 }).perClass;
    assert.equal(c.ap07, 0.5);
    assert.equal(c.apAll, 0.5);
  });

  it('difficult truths: matched detections are neither TP nor FP, and they do not count in recall', () => {
    const gt: GroundTruthImage[] = [{ boxes: [cell(0), cell(1)], labels: [1, 1], difficult: [true, false] }];
    const dets = [[det(1, 0.9, cell(0)), det(1, 0.8, cell(1)), det(1, 0.7, cell(0)), det(1, 0.6, nowhere)]];
    // d  on          TP FP  recall  precision
    // 1  difficult   0  0   0       0 (0 / ε)
    // 2  truth       1  0   1       1
    // 3  difficult   1  0   1       1    (a second hit on a difficult truth is ignored too)
    // 4  nothing     1  1   1       1/2
    // 11-point: max precision at recall ≥ t is 1 for every t → 1.  all-point: 1 · 1 = 1.
    const [c] = evaluateDetections(gt, dets, { numClasses: 2 }).perClass;
    assert.deepEqual([c.numGroundTruth, c.numDifficult, c.truePositives, c.falsePositives], [1, 1, 1, 1]);
    assert.deepEqual([...c.recall], [0, 1, 1, 1]);
    assert.deepEqual([...c.precision], [0, 1, 1, 0.5]);
    assert.equal(c.ap07, 1);
    assert.equal(c.apAll, 1);
  });

  it('a class with only difficult truths has no AP and leaves the mean', () => {
    const gt: GroundTruthImage[] = [{ boxes: [cell(0), cell(1)], labels: [1, 2], difficult: [false, true] }];
    const dets = [[det(1, 0.9, cell(0)), det(2, 0.9, cell(1))]];
    const r = evaluateDetections(gt, dets, { numClasses: 3 });
    assert.ok(Number.isNaN(r.perClass[1].ap07) && Number.isNaN(r.perClass[1].apAll));
    assert.equal(r.map07, 1);
    assert.equal(r.mapAll, 1);
  });

  it('a duplicate of a matched truth is a FP: AP07 = 28/33, all-point = 5/6', () => {
    const gt: GroundTruthImage[] = [{ boxes: [cell(0), cell(1)], labels: [1, 1] }];
    const dets = [[det(1, 0.9, cell(0)), det(1, 0.8, cell(0)), det(1, 0.7, cell(1))]];
    // d  TP FP  recall  precision
    // 1  1  0   1/2     1
    // 2  1  1   1/2     1/2   (duplicate)
    // 3  2  1   1       2/3
    // 11-point: t = 0 … .5 (6 points) → 1; t = .6 … 1 (5 points) → 2/3: (6 + 10/3) / 11 = 28/33.
    // all-point: 1/2 · 1 + 1/2 · 2/3 = 5/6.
    const [c] = evaluateDetections(gt, dets, { numClasses: 2 }).perClass;
    close(c.ap07, 28 / 33, 'ap07');
    close(c.apAll, 5 / 6, 'apAll');
    assert.deepEqual([c.truePositives, c.falsePositives], [2, 1]);
  });

  it('the best-IoU truth decides, even when matched (the devkit rule): no fall-back to the next truth', () => {
    // A = [0, 0, 1, 1], B = [0.5, 0, 1.5, 1]. The second detection [0.2, 0, 1.2, 1] overlaps A with
    // IoU 0.8 / 1.2 = 2/3 and B with 0.7 / 1.3 ≈ 0.54: A is taken (already matched) → FP, B stays missed.
    const gt: GroundTruthImage[] = [{ boxes: [0, 0, 1, 1, 0.5, 0, 1.5, 1], labels: [1, 1] }];
    const dets = [[det(1, 0.9, [0, 0, 1, 1]), det(1, 0.8, [0.2, 0, 1.2, 1])]];
    // recall 1/2, 1/2; precision 1, 1/2.  11-point: t = 0 … .5 → 1, t = .6 … 1 → 0: 6/11.
    // all-point: 1/2 · 1 = 1/2.
    const [c] = evaluateDetections(gt, dets, { numClasses: 2 }).perClass;
    assert.deepEqual([c.truePositives, c.falsePositives], [1, 1]);
    close(c.ap07, 6 / 11, 'ap07');
    assert.equal(c.apAll, 0.5);
  });

  it('IoU exactly 0.5 is a match; just below is not', () => {
    // Truth [0, 0, 1, 1]: [0, 0, 0.5, 1] has intersection 0.5, union 1 → IoU 0.5 exactly;
    // [0, 0, 1, 2] has intersection 1, union 2 → 0.5 exactly. [0, 0, 0.4375, 1] → 0.4375.
    assert.equal(boxIou([0, 0, 1, 1], [0, 0, 0.5, 1]), 0.5);
    assert.equal(boxIou([0, 0, 1, 1], [0, 0, 1, 2]), 0.5);
    const gt: GroundTruthImage[] = [{ boxes: [[0, 0, 1, 1]], labels: [1] }];
    for (const box of [
      [0, 0, 0.5, 1],
      [0, 0, 1, 2],
    ]) {
      const [c] = evaluateDetections(gt, [[det(1, 0.9, box)]], { numClasses: 2 }).perClass;
      assert.deepEqual([c.truePositives, c.ap07, c.apAll], [1, 1, 1], `box ${box}`);
    }
    const [miss] = evaluateDetections(gt, [[det(1, 0.9, [0, 0, 0.4375, 1])]], { numClasses: 2 }).perClass;
    assert.deepEqual([miss.truePositives, miss.falsePositives, miss.ap07, miss.apAll], [0, 1, 0, 0]);
    // iouThreshold is inclusive too.
    const [at] = evaluateDetections(gt, [[det(1, 0.9, [0, 0, 0.4375, 1])]], {
      numClasses: 2,
      iouThreshold: 0.4375,
    }).perClass;
    assert.equal(at.truePositives, 1);
  });

  it('pixelPlusOne: the devkit convention on integer pixel boxes', () => {
    // Truth [0, 0, 9, 9] is 10 × 10 = 100 pixels; [0, 0, 4, 9] is 5 × 10 = 50, inside it: IoU 50/100 = 0.5.
    // Without +1: areas 81 and 36 → IoU 36/81 = 0.444…, no match.
    assert.equal(boxIou([0, 0, 9, 9], [0, 0, 4, 9], true), 0.5);
    close(boxIou([0, 0, 9, 9], [0, 0, 4, 9]), 36 / 81);
    // Touching pixel boxes share a column with +1: [0,0,9,9] ∩ [9,0,18,9] is 1 × 10 → 10 / 190.
    close(boxIou([0, 0, 9, 9], [9, 0, 18, 9], true), 10 / 190);
    assert.equal(boxIou([0, 0, 9, 9], [9, 0, 18, 9]), 0);
    const gt: GroundTruthImage[] = [{ boxes: [[0, 0, 9, 9]], labels: [1] }];
    const dets = [[det(1, 0.9, [0, 0, 4, 9])]];
    assert.equal(evaluateDetections(gt, dets, { numClasses: 2, pixelPlusOne: true }).perClass[0].apAll, 1);
    assert.equal(evaluateDetections(gt, dets, { numClasses: 2 }).perClass[0].apAll, 0);
  });

  it('several images and classes; a class without detections (AP 0) counts, one without truth does not', () => {
    const gt: GroundTruthImage[] = [
      { boxes: new Float32Array([...cell(0), ...cell(5)]), labels: [1, 3] },
      { boxes: [cell(1), cell(2)], labels: [1, 2] },
    ];
    const dets = [
      [det(1, 0.8, nowhere), det(1, 0.6, cell(0)), det(2, 0.95, cell(2)), det(4, 0.9, cell(0))],
      [det(1, 0.9, cell(1)), det(2, 0.5, cell(2))],
    ];
    // class 1 (2 truths): TP (image 1, .9), FP (.8), TP (image 0, .6) → recall 1/2, 1/2, 1,
    //   precision 1, 1/2, 2/3 → AP07 28/33, all-point 5/6 (as in the duplicate case).
    // class 2 (1 truth, image 1): .95 in image 0 (no class-2 truth there: FP), .5 in image 1 TP →
    //   recall 0, 1; precision 0, 1/2 → AP07 1/2, all-point 1/2.
    // class 3 (1 truth): no detections → AP 0 both ways.
    // class 4: no truth, one detection → NaN, left out of the mean.
    // mAP07 = (28/33 + 1/2 + 0) / 3; mAPall = (5/6 + 1/2 + 0) / 3 = 4/9.
    const r = evaluateDetections(gt, dets, { numClasses: 5 });
    assert.deepEqual(
      r.perClass.map((c) => [c.classId, c.numGroundTruth, c.numDetections, c.truePositives, c.falsePositives]),
      [
        [1, 2, 3, 2, 1],
        [2, 1, 2, 1, 1],
        [3, 1, 0, 0, 0],
        [4, 0, 1, 0, 1],
      ],
    );
    const [c1, c2, c3, c4] = r.perClass;
    close(c1.ap07, 28 / 33);
    close(c1.apAll, 5 / 6);
    assert.deepEqual([c2.ap07, c2.apAll, c3.ap07, c3.apAll], [0.5, 0.5, 0, 0]);
    assert.ok(Number.isNaN(c4.ap07) && Number.isNaN(c4.apAll));
    close(r.map07, (28 / 33 + 0.5) / 3, 'map07');
    close(r.mapAll, 4 / 9, 'mapAll');
  });

  it('no ground truth at all: every AP and both means are NaN', () => {
    const r = evaluateDetections([{ boxes: [], labels: [] }], [[det(1, 0.9, cell(0))]], { numClasses: 3 });
    assert.equal(r.perClass.length, 2);
    assert.ok(r.perClass.every((c) => Number.isNaN(c.ap07) && Number.isNaN(c.apAll)));
    assert.ok(Number.isNaN(r.map07) && Number.isNaN(r.mapAll));
  });

  it('backgroundClass −1 evaluates class 0; another background id is skipped', () => {
    const gt: GroundTruthImage[] = [{ boxes: [cell(0)], labels: [0] }];
    const r = evaluateDetections(gt, [[det(0, 0.9, cell(0))]], { numClasses: 2, backgroundClass: -1 });
    assert.deepEqual(
      r.perClass.map((c) => [c.classId, c.apAll]),
      [
        [0, 1],
        [1, NaN],
      ],
    );
    assert.equal(r.mapAll, 1);
    const s = evaluateDetections([{ boxes: [cell(0)], labels: [0] }], [[]], { numClasses: 2, backgroundClass: 1 });
    assert.deepEqual(
      s.perClass.map((c) => c.classId),
      [0],
    );
  });

  it('rejects malformed input with errors that say where', () => {
    const ok: GroundTruthImage[] = [{ boxes: [cell(0)], labels: [1] }];
    assert.throws(() => evaluateDetections(ok, [], { numClasses: 2 }), /1 images but detections has 0/);
    assert.throws(
      () => evaluateDetections([{ boxes: [cell(0)], labels: [1, 1] }], [[]], { numClasses: 2 }),
      /1 boxes but 2 labels/,
    );
    assert.throws(
      () => evaluateDetections([{ boxes: [0, 0, 1], labels: [] }], [[]], { numClasses: 2 }),
      /multiple of 4/,
    );
    assert.throws(
      () => evaluateDetections([{ boxes: [cell(0)], labels: [0] }], [[]], { numClasses: 2 }),
      /labels\[0\] is the background/,
    );
    assert.throws(
      () => evaluateDetections(ok, [[det(2, 0.5, cell(0))]], { numClasses: 2 }),
      /detections\[0\]\[0\]\.classId = 2/,
    );
    assert.throws(() => evaluateDetections(ok, [[det(1, NaN, cell(0))]], { numClasses: 2 }), /score is NaN/);
    assert.throws(
      () => evaluateDetections([{ boxes: [cell(0)], labels: [1], difficult: [] }], [[]], { numClasses: 2 }),
      /0 difficult flags/,
    );
  });
});

describe('voc07Ap / vocAllPointAp', () => {
  it('11-point thresholds are k/10 exactly: recall 3/10 reaches t = 0.3', () => {
    // 3 TPs over 10 truths: recall .1, .2, .3 at precision 1. t = 0, .1, .2, .3 → 1, the rest 0: 4/11.
    // (numpy's arange(0, 1.1, 0.1) has t₃ = 0.30000000000000004 and would give 3/11.)
    const recall = [1 / 10, 2 / 10, 3 / 10];
    const precision = [1, 1, 1];
    assert.equal(voc07Ap(recall, precision), 4 / 11);
    close(vocAllPointAp(recall, precision), 0.3);
  });

  it('all-point uses the envelope: a later higher precision lifts earlier recall', () => {
    // A raw sequence: recall .5, .5, 1 / precision 1, 1/3, 2/3. Envelope 1 on (0, .5], 2/3 on (.5, 1]:
    // 1/2 · 1 + 1/2 · 2/3 (the dip to 1/3 is lifted to 2/3 and never counted).
    close(vocAllPointAp([0.5, 0.5, 1], [1, 1 / 3, 2 / 3]), 0.5 + 1 / 3);
    // Empty sequences: no recall → 0.
    assert.equal(vocAllPointAp([], []), 0);
    assert.equal(voc07Ap([], []), 0);
  });
});

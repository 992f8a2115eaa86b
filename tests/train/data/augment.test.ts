/**
 * The SSD augmentation (src/train/data/augment.ts): the geometry is checked against the pixels
 * themselves (a solid rectangle on a mean-coloured image must land inside its output box after
 * any zoom-out, crop and mirror), the min-IoU crop against its definition, the photometric
 * steps against their formulas, and determinism.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { augmentSsd, photometricDistort, sampleCrop } from '../../../src/train/data/augment.js';
import { mulberry32 } from '../../../src/util/random.js';

const MEAN = [123, 117, 104] as const;

/** A w × h image of the mean colour with one solid red rectangle [x0, x1) × [y0, y1). */
function imageWithRectangle(w: number, h: number, [x0, y0, x1, y1]: readonly number[]) {
  const data = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) {
    const x = p % w,
      y = Math.floor(p / w);
    const inside = x >= x0 && x < x1 && y >= y0 && y < y1;
    data.set(inside ? [250, 10, 10] : MEAN, 3 * p);
  }
  return { data, width: w, height: h, channels: 3 as const };
}

/** The bounding box (pixels, [x0, y0, x1, y1) ) of the clearly red pixels, or null. */
function redExtent(data: ArrayLike<number>, size: number): number[] | null {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (let p = 0; p < size * size; p++) {
    if (data[3 * p] > 200 && data[3 * p + 1] < 60) {
      const x = p % size,
        y = Math.floor(p / size);
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x + 1);
      y1 = Math.max(y1, y + 1);
    }
  }
  return x0 === Infinity ? null : [x0, y0, x1, y1];
}

describe('augmentSsd geometry', () => {
  it("the output box bounds the object's pixels after zoom-out, crop and mirror (200 seeds)", () => {
    const rect = [60, 90, 180, 150];
    const source = imageWithRectangle(240, 200, rect);
    const boxes = Float32Array.from([rect[0] / 240, rect[1] / 200, rect[2] / 240, rect[3] / 200]);
    let mirrored = 0,
      zoomed = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const size = 96;
      const out = augmentSsd(source, boxes, Int32Array.of(3), mulberry32(seed), {
        size,
        mean: MEAN,
        photometric: false,
      });
      assert.equal(out.image.data.length, size * size * 3);
      assert.equal(out.boxes.length, 4, `seed ${seed}: the only box is kept (every crop must keep a centre)`);
      assert.deepEqual([...out.labels], [3]);
      const [bx0, by0, bx1, by1] = [...out.boxes].map((v) => v * size);
      assert.ok(
        bx0 >= -1e-4 && by0 >= -1e-4 && bx1 <= size + 1e-3 && by1 <= size + 1e-3 && bx0 < bx1 && by0 < by1,
        `seed ${seed}: box [${bx0}, ${by0}, ${bx1}, ${by1}] inside the image`,
      );
      const red = redExtent(out.image.data, size);
      if (!red) continue; // a sub-pixel object can vanish in the resampling
      // Resampling blurs an edge by at most one output pixel.
      for (const [got, want, what] of [
        [red[0], bx0, 'xmin'],
        [red[1], by0, 'ymin'],
        [red[2], bx1, 'xmax'],
        [red[3], by1, 'ymax'],
      ] as const) {
        assert.ok(Math.abs(got - want) <= 1.5, `seed ${seed}: red pixels' ${what} ${got}, box ${want.toFixed(2)}`);
      }
      if (bx1 - bx0 < ((rect[2] - rect[0]) / 240) * size * 0.9) zoomed++;
      const centreX = (bx0 + bx1) / 2;
      if (centreX > size / 2) mirrored++;
    }
    assert.ok(zoomed > 20, `some runs zoom out (${zoomed})`);
    assert.ok(mirrored > 20, `some runs mirror the off-centre object (${mirrored})`);
  });

  it('with no zoom-out, flip 1 and the keep-the-image crop it is an exact mirror', () => {
    const source = imageWithRectangle(8, 8, [0, 2, 3, 5]);
    // Draws: expand? (no: 0.99 ≥ 0), crop mode 0 (keep), mirror (0 < 1).
    const script = [0.99, 0.0, 0.0];
    const out = augmentSsd(source, Float32Array.of(0, 0.25, 0.375, 0.625), Int32Array.of(1), () => script.shift()!, {
      size: 8,
      mean: MEAN,
      photometric: false,
      expand: 0,
      flip: 1,
    });
    assert.deepEqual([...out.boxes], [1 - 0.375, 0.25, 1, 0.625]);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        assert.deepEqual(
          [...out.image.data.subarray(3 * (y * 8 + x), 3 * (y * 8 + x) + 3)],
          [...source.data.subarray(3 * (y * 8 + 7 - x), 3 * (y * 8 + 7 - x) + 3)],
          `pixel ${x}, ${y}`,
        );
      }
    }
  });

  it('is a function of the random stream', () => {
    const source = imageWithRectangle(50, 40, [5, 5, 30, 20]);
    const boxes = Float32Array.of(0.1, 0.125, 0.6, 0.5);
    const a = augmentSsd(source, boxes, Int32Array.of(2), mulberry32(9), { size: 32, mean: MEAN });
    const b = augmentSsd(source, boxes, Int32Array.of(2), mulberry32(9), { size: 32, mean: MEAN });
    assert.deepEqual(a, b);
  });
});

describe('sampleCrop (min-IoU crop)', () => {
  it('every accepted patch has the allowed sides and aspect, and keeps exactly the boxes whose centres are inside', () => {
    const boxes = Float32Array.of(10, 10, 60, 50, 120, 80, 190, 170, 40, 120, 90, 190);
    const iou = (p: number[], k: number) => {
      const ix = Math.max(0, Math.min(p[2], boxes[4 * k + 2]) - Math.max(p[0], boxes[4 * k]));
      const iy = Math.max(0, Math.min(p[3], boxes[4 * k + 3]) - Math.max(p[1], boxes[4 * k + 1]));
      const a = (p[2] - p[0]) * (p[3] - p[1]),
        b = (boxes[4 * k + 2] - boxes[4 * k]) * (boxes[4 * k + 3] - boxes[4 * k + 1]);
      return (ix * iy) / (a + b - ix * iy);
    };
    let crops = 0,
      kept = 0,
      anyMode = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const random = mulberry32(seed);
      const result = sampleCrop(boxes, 200, 200, random);
      if (!result) {
        kept++;
        continue;
      }
      crops++;
      const { patch, keep } = result;
      const [w, h] = [patch[2] - patch[0], patch[3] - patch[1]];
      assert.ok(w >= 60 - 1e-9 && h >= 60 - 1e-9 && h / w >= 0.5 && h / w <= 2, `seed ${seed}: patch ${patch}`);
      assert.ok(patch[0] >= 0 && patch[1] >= 0 && patch[2] <= 200 && patch[3] <= 200);
      const inside = [0, 1, 2].filter((k) => {
        const cx = (boxes[4 * k] + boxes[4 * k + 2]) / 2,
          cy = (boxes[4 * k + 1] + boxes[4 * k + 3]) / 2;
        return cx > patch[0] && cx < patch[2] && cy > patch[1] && cy < patch[3];
      });
      assert.deepEqual(keep, inside, `seed ${seed}`);
      assert.ok(keep.length > 0);
      // Every mode but 'any' (−∞) needs some box at IoU ≥ 0.1 at least.
      if (Math.max(...[0, 1, 2].map((k) => iou(patch, k))) < 0.1) anyMode++;
    }
    assert.ok(crops > 200 && kept > 20, `${crops} crops, ${kept} kept images (mode 'keep' is 1 in 6)`);
    assert.ok(
      anyMode < crops / 4,
      `${anyMode} of ${crops} crops overlap no box by 0.1 (only the 'any' mode, 1 in 6, allows that)`,
    );
  });

  it('a scripted min-IoU 0.7 draw rejects a patch below 0.7 and accepts the whole-box patch', () => {
    const boxes = Float32Array.of(0, 0, 100, 100);
    // Mode floor(0.5·6) = 3: min IoU 0.7. Trial 1: w = h = 0.3·100 at (0, 0), IoU 0.09: rejected;
    // trial 2: w = h = 100 at (0, 0), IoU 1: accepted.
    const script = [0.5, 0, 0, 0, 0, 1, 1, 0, 0];
    const result = sampleCrop(boxes, 100, 100, () => script.shift()!);
    assert.ok(result, 'a patch is accepted');
    assert.deepEqual(result.patch, [0, 0, 100, 100]);
    assert.deepEqual(result.keep, [0]);
  });

  it("one box meeting the minimum is enough (Caffe's rule), and only boxes with their centre inside are kept", () => {
    const boxes = Float32Array.of(0, 0, 50, 50, 60, 60, 100, 100);
    // Mode 0.9 (index 4: 0.7·6 = 4.2); patch w = h = 0.3 + 0.7·(20/70) → 50, at (0, 0): IoU 1 with box 0, 0 with box 1.
    const side = (50 / 100 - 0.3) / 0.7;
    const script = [0.7, side, side, 0, 0];
    const result = sampleCrop(boxes, 100, 100, () => script.shift()!);
    assert.ok(result);
    result.patch.forEach((v, i) => assert.ok(Math.abs(v - [0, 0, 50, 50][i]) < 1e-9, `patch ${result.patch}`));
    assert.deepEqual(result.keep, [0]);
  });
});

describe('photometricDistort', () => {
  it('brightness adds one delta to every value, clamped to 0–255', () => {
    // Draws: brightness yes (0), delta U(−32, 32) at 0.75 → +16; contrast-first? no (0.9);
    // saturation no, hue no, contrast no, channel swap no.
    const script = [0, 0.75, 0.9, 0.9, 0.9, 0.9, 0.9];
    const px = Float32Array.of(0, 100, 250, 10, 20, 30);
    photometricDistort(px, () => script.shift()!);
    assert.deepEqual([...px], [16, 116, 255, 26, 36, 46]);
  });

  it('hue +18° turns pure red toward yellow; saturation ×0.5 halves the chroma (HSV formulas); grey stays grey', () => {
    // Draws: brightness no, contrast-first no, saturation no, hue yes at U(−18, 18) = 18, contrast no, swap no.
    let script = [0.9, 0.9, 0.9, 0, 1, 0.9, 0.9];
    const red = Float32Array.of(255, 0, 0, 100, 100, 100);
    photometricDistort(red, () => script.shift()!);
    // HSV (18°, 1, 255): C = 255, X = C·(1 − |18/60 mod 2 − 1|) = 76.5 → (255, 76.5, 0).
    [255, 76.5, 0, 100, 100, 100].forEach((v, i) =>
      assert.ok(Math.abs(red[i] - v) < 1e-3, `value ${i}: ${red[i]} vs ${v}`),
    );
    // Draws: brightness no, contrast-first no, saturation yes at U(0.5, 1.5) = 0.5, hue no, contrast no, swap no.
    script = [0.9, 0.9, 0, 0, 0.9, 0.9, 0.9];
    const orange = Float32Array.of(200, 100, 0);
    photometricDistort(orange, () => script.shift()!);
    // (200, 100, 0) is HSV (30°, 1, 200); S = 0.5: C = 100, X = 50, m = 100 → (200, 150, 100).
    [200, 150, 100].forEach((v, i) => assert.ok(Math.abs(orange[i] - v) < 1e-3, `value ${i}: ${orange[i]} vs ${v}`));
    assert.equal(script.length, 0, 'every scripted draw was used');
  });

  it('the channel swap applies one Fisher–Yates permutation to every pixel', () => {
    // Draws: brightness, contrast-first, saturation, hue, contrast all no; swap yes; j = 0 twice → perm [1, 2, 0].
    const script = [0.9, 0.9, 0.9, 0.9, 0.9, 0, 0, 0];
    const px = Float32Array.of(1, 2, 3, 4, 5, 6);
    photometricDistort(px, () => script.shift()!);
    assert.deepEqual([...px], [2, 3, 1, 5, 6, 4]);
  });
});

/** Overlay geometry: object-fit contain/cover/fill/none/scale-down, position, mirror, DPR, letterbox. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBoxMapper, fitTransform, letterbox, normalizedToSource } from '../../src/stream/geometry.js';

// a 640×480 frame (4:3) in an 800×400 element (2:1)
const base = { sourceWidth: 640, sourceHeight: 480, elementWidth: 800, elementHeight: 400 };

describe('fitTransform', () => {
  it('contain: scale min(800/640, 400/480) = 5/6, pillarboxed: 533.3 px wide, centred at x 133.3', () => {
    const t = fitTransform(640, 480, 800, 400, 'contain');
    assert.equal(t.scaleX, 400 / 480);
    assert.equal(t.scaleY, 400 / 480);
    assert.ok(Math.abs(t.offsetX - (800 - (640 * 5) / 6) / 2) < 1e-9);
    assert.equal(t.offsetY, 0);
  });

  it('cover: scale max = 1.25, 600 px tall, cropped 100 px above and below', () => {
    assert.deepEqual(fitTransform(640, 480, 800, 400, 'cover'), {
      scaleX: 1.25,
      scaleY: 1.25,
      offsetX: 0,
      offsetY: -100,
    });
  });

  it('fill: stretched, 1.25 across and 5/6 down', () => {
    assert.deepEqual(fitTransform(640, 480, 800, 400, 'fill'), {
      scaleX: 1.25,
      scaleY: 400 / 480,
      offsetX: 0,
      offsetY: 0,
    });
  });

  it('none and scale-down: natural size, scale-down only shrinks', () => {
    assert.deepEqual(fitTransform(640, 480, 800, 400, 'none'), { scaleX: 1, scaleY: 1, offsetX: 80, offsetY: -40 });
    assert.equal(fitTransform(640, 480, 800, 400, 'scale-down').scaleX, 400 / 480);
    assert.equal(fitTransform(320, 240, 800, 400, 'scale-down').scaleX, 1);
  });

  it('object-position moves the frame within the free space', () => {
    assert.equal(fitTransform(640, 480, 800, 400, 'contain', [0, 0]).offsetX, 0);
    assert.ok(Math.abs(fitTransform(640, 480, 800, 400, 'contain', [1, 0]).offsetX - (800 - 1600 / 3)) < 1e-9);
    assert.equal(fitTransform(640, 480, 800, 400, 'cover', [0.5, 0]).offsetY, 0);
  });

  it('rejects zero, negative and NaN sizes, unknown fits, bad positions', () => {
    assert.throws(() => fitTransform(0, 480, 800, 400), /sourceWidth is 0; it must be a positive finite number/);
    assert.throws(() => fitTransform(640, 480, -1, 400), /elementWidth is -1/);
    assert.throws(() => fitTransform(640, NaN, 800, 400), /sourceHeight is NaN/);
    assert.throws(
      () => fitTransform(640, 480, 800, 400, 'stretch' as never),
      /objectFit is 'stretch'; it must be one of 'contain'/,
    );
    assert.throws(() => fitTransform(640, 480, 800, 400, 'contain', [0.5] as never), /objectPosition/);
  });
});

describe('createBoxMapper', () => {
  const box = [64, 48, 320, 240]; // source pixels: the top-left quarter from (0.1, 0.1)

  it('contain: scales by 5/6 and shifts by the pillarbox', () => {
    const m = createBoxMapper(base);
    const ox = (800 - (640 * 5) / 6) / 2;
    m.toCss(box).forEach((v, i) =>
      assert.ok(Math.abs(v - [ox + (64 * 5) / 6, 40, ox + (320 * 5) / 6, 200][i]) < 1e-9, `corner ${i}: ${v}`),
    );
  });

  it('cover: boxes can leave the element; clip cuts them to it', () => {
    const m = createBoxMapper({ ...base, objectFit: 'cover' });
    assert.deepEqual(m.toCss([0, 0, 640, 80]), [0, -100, 800, 0]);
    assert.deepEqual(m.toCss([0, 0, 640, 120], { clip: true }), [0, 0, 800, 50]);
  });

  it('fill: independent scales', () => {
    assert.deepEqual(createBoxMapper({ ...base, objectFit: 'fill' }).toCss([64, 48, 320, 240]), [80, 40, 400, 200]);
  });

  it('mirrored: x flips across the element, xmin stays < xmax', () => {
    const m = createBoxMapper({ ...base, objectFit: 'fill', mirrored: true });
    assert.deepEqual(m.toCss([64, 48, 320, 240]), [400, 40, 720, 200]);
  });

  it('device pixels: CSS pixels × devicePixelRatio', () => {
    const m = createBoxMapper({ ...base, objectFit: 'fill', devicePixelRatio: 2 });
    assert.deepEqual(m.toDevice([64, 48, 320, 240]), [160, 80, 800, 400]);
  });

  it('normalised boxes go through source pixels', () => {
    assert.deepEqual(normalizedToSource([0.1, 0.1, 0.5, 0.5], 640, 480), [64, 48, 320, 240]);
    assert.deepEqual(
      createBoxMapper({ ...base, objectFit: 'fill' }).normalizedToCss([0.1, 0.1, 0.5, 0.5]),
      [80, 40, 400, 200],
    );
  });

  it('maps a click back to source pixels, mirrored too, and outside the frame to undefined', () => {
    const m = createBoxMapper({ ...base, objectFit: 'fill', mirrored: true });
    assert.deepEqual(m.cssPointToSource(720, 200), [64, 240]);
    const c = createBoxMapper(base);
    assert.equal(c.cssPointToSource(10, 200), undefined, 'in the pillarbox');
  });

  it('rejects bad boxes and options with the value', () => {
    const m = createBoxMapper(base);
    assert.throws(() => m.toCss([0, NaN, 1, 1]), /box is \[0, NaN, 1, 1\]; it must be 4 finite numbers/);
    assert.throws(() => m.toCss('box' as never), TypeError);
    assert.throws(() => createBoxMapper({ ...base, devicePixelRatio: 0 }), /devicePixelRatio is 0/);
    assert.throws(() => createBoxMapper({ ...base, mirrored: 'yes' as never }), TypeError);
    assert.throws(() => createBoxMapper(null as never), TypeError);
  });
});

describe('letterbox', () => {
  it('a 640×480 frame in a 300×300 input: scale 0.46875, 37.5 px bands above and below; boxes map back', () => {
    const lb = letterbox(640, 480, 300, 300);
    assert.equal(lb.scaleX, 300 / 640);
    assert.equal(lb.offsetY, 37.5);
    // the whole picture area of the input maps back to the whole frame
    const back = lb.toSource([0, 37.5 / 300, 1, 262.5 / 300]);
    [0, 0, 640, 480].forEach((v, i) => assert.ok(Math.abs(back[i] - v) < 1e-9, `corner ${i}: ${back[i]}`));
  });
});

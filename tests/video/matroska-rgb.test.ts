/**
 * src/video/matroska-rgb.ts byte for byte against hand-encoded EBML (Matroska specification:
 * element ID, size as a variable-length integer, data). That ffmpeg reads the stream, timestamps
 * included, is checked by the encoder tests in ffmpeg.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matroskaRgbFramePrefix, matroskaRgbHeader } from '../../src/video/matroska-rgb.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex').match(/../g)!.join(' ');

describe('Matroska RGB stream', () => {
  it('a frame 40 ms in: a Cluster with Timestamp 40000 µs and a keyframe SimpleBlock on track 1', () => {
    // Cluster 1F43B675, size 22 = Timestamp (E7, size 2, 0x9C40 = 40000) 4 + SimpleBlock head (A3, size 16, 81 0000 80) 6 + 12 frame bytes
    assert.equal(hex(matroskaRgbFramePrefix(40_000, 12)), '1f 43 b6 75 96 e7 82 9c 40 a3 90 81 00 00 80');
    // timestamp 0 is one byte 00: the Cluster holds 3 + 6 + 12 = 21 bytes (0x95)
    assert.equal(hex(matroskaRgbFramePrefix(0, 12)), '1f 43 b6 75 95 e7 81 00 a3 90 81 00 00 80');
  });

  it('a size of 127 takes two bytes (one byte of all ones means "unknown size")', () => {
    // block 4 + 123 = 127: 40 7f, not ff; the Cluster (3 + 3 + 127 = 133 bytes) takes two size bytes too: 40 85
    assert.equal(hex(matroskaRgbFramePrefix(0, 123).slice(0, 12)), '1f 43 b6 75 40 85 e7 81 00 a3 40 7f');
    // block 4 + 122 = 126: one byte, fe
    assert.equal(hex(matroskaRgbFramePrefix(0, 122).slice(0, 11)), '1f 43 b6 75 40 83 e7 81 00 a3 fe');
  });

  it('the header: EBML with DocType matroska, a Segment of unknown size, µs timestamps, one V_UNCOMPRESSED RGB24 track', () => {
    const header = Buffer.from(matroskaRgbHeader(640, 480));
    assert.equal(hex(header.subarray(0, 4)), '1a 45 df a3');
    assert.ok(header.includes(Buffer.from('matroska')) && header.includes(Buffer.from('V_UNCOMPRESSED')));
    assert.ok(
      header.includes(Buffer.from('18538067 01ffffffffffffff'.replace(' ', ''), 'hex')),
      'Segment of unknown size',
    );
    assert.ok(header.includes(Buffer.from('2ad7b1 82 03e8'.replace(/ /g, ''), 'hex')), 'TimestampScale 1000 ns');
    assert.ok(
      header.includes(Buffer.from('b0 82 0280 ba 82 01e0'.replace(/ /g, ''), 'hex')),
      'PixelWidth 640, PixelHeight 480',
    );
    assert.ok(header.includes(Buffer.from('2eb524 84 52474218'.replace(/ /g, ''), 'hex')), "ColourSpace 'RGB' 24");
  });

  it('refuses a time before 0', () => {
    assert.throws(() => matroskaRgbFramePrefix(-1000, 12), /-1000 is not an unsigned integer Matroska can store/);
  });
});

/**
 * The detector's strict options and its memory (issue 11): unknown option keys fail with a
 * suggestion; raw pixels obey maxImagePixels; a large image's pre-processing memory is not held
 * for the detector's life; pre- and post-processing share one core; a call keeps the thresholds in force when it was made; a file that
 * is not ONNX and an unreachable URL are named as such.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createDetector, PREPROCESS_KEEP_BYTES, type Detector } from '../../src/runtime/detector.js';
import type { WasmPreprocessor } from '../../src/runtime/preprocess-wasm.js';
import type { DetectorOptions, RawImage } from '../../src/runtime/types.js';
import { ssdModel, ssdOutputs } from './onnx-models.js';
import { countInstances } from './wasm-instances.js';

const P = 8732,
  C = 21;
const HITS = [100, 4000, 7000].flatMap((prior, i) => [{ prior, classId: 12, logit: 9 - 2 * i }]);
const { loc, conf } = ssdOutputs(P, C, HITS);
const MODEL = ssdModel({ numPriors: P, numClasses: C, loc, conf });
const IMAGE: RawImage = { data: new Uint8Array(64 * 48 * 3).fill(90), width: 64, height: 48 };

describe('createDetector options are strict', () => {
  for (const [typo, meant] of [
    ['nmsThresold', 'nmsThreshold'],
    ['scoreTreshold', 'scoreThreshold'],
    ['maxImagePixel', 'maxImagePixels'],
    ['bakend', 'backend'],
    ['onProgres', 'onProgress'],
  ] as const) {
    it(`rejects '${typo}' before loading the model, suggesting '${meant}'`, async () => {
      const options = { model: '/no/such/model.onnx', preset: 'ssd300Voc', [typo]: 0.5 } as unknown as DetectorOptions;
      await assert.rejects(
        createDetector(options),
        (error: Error) =>
          error instanceof TypeError &&
          new RegExp(`createDetector options has an unknown key '${typo}'; did you mean '${meant}'\\?`).test(
            error.message,
          ),
      );
    });
  }

  it('names a file that is not ONNX as such, not as a model without post-processing', async () => {
    // zeros (a download cut short, a sparse file) read as a valid protobuf message with no fields
    for (const bytes of [new Uint8Array(4096), new Uint8Array([0x08, 0x07, 0x12, 0x03, 0x61, 0x62, 0x63])]) {
      await assert.rejects(createDetector({ model: bytes }), (error: Error) => {
        assert.doesNotMatch(error.message, /records no post-processing/);
        assert.match(error.message, /it is not an ONNX model \(no graph in it; a non-ONNX file\?\)/);
        return true;
      });
    }
    const jpeg = new Uint8Array(await readFile(new URL('../../../samples/dog.jpg', import.meta.url)));
    await assert.rejects(createDetector({ model: jpeg }), /not a valid ONNX model/);
  });

  it('says why a model URL could not be fetched', async () => {
    // a port that was free a moment ago: nothing listens there
    const probe = net.createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise((done) => probe.close(done));
    const url = `http://127.0.0.1:${port}/m.onnx`;
    await assert.rejects(createDetector({ model: url, preset: 'ssd300Voc' }), (error: Error) => {
      assert.ok(error.message.includes(`fetch failed (${url}): connect ECONNREFUSED`), error.message);
      return true;
    });
  });
});

describe('a detector', () => {
  let detector: Detector;
  before(async () => {
    detector = await createDetector({
      model: MODEL,
      preset: 'ssd300Voc',
      backend: 'node',
      threads: 1,
      maxImagePixels: 40_000_000,
    });
  });
  after(() => detector.dispose());

  it('setThresholds rejects unknown keys, suggesting the nearest', async () => {
    await assert.rejects(
      detector.setThresholds({ nmsThresold: 0.3 } as never),
      (error: Error) =>
        error instanceof TypeError &&
        /setThresholds has an unknown key 'nmsThresold'; did you mean 'nmsThreshold'\?/.test(error.message),
    );
  });

  it('applies maxImagePixels to raw pixels too', async () => {
    const big: RawImage = { data: new Uint8Array(0), width: 8000, height: 6000, channels: 1 };
    await assert.rejects(
      detector.detect(big),
      /image \(raw pixels\) is 8000 × 6000 pixels \(48 megapixels\), over the limit of 40 megapixels/,
    );
  });

  it("does not keep a large image's pre-processing memory", async () => {
    const prep = () => (detector as unknown as { prep: WasmPreprocessor }).prep;
    const first = prep();
    const large: RawImage = { data: new Uint8Array(6000 * 6000 * 3).fill(90), width: 6000, height: 6000 };
    const found = await detector.detect(large);
    assert.equal(found.length, 3);
    assert.notEqual(prep(), first, 'the grown pre-processor was replaced');
    assert.equal(first.memoryBytes, 0, 'and released');
    assert.ok(prep().memoryBytes <= PREPROCESS_KEEP_BYTES, `the fresh one holds ${prep().memoryBytes} bytes`);
    assert.equal((await detector.detect(IMAGE)).length, 3, 'the fresh one works');
  });

  it('a detect() uses the thresholds in force when it was made, not a setThresholds() made after it', async () => {
    await detector.setThresholds({ scoreThreshold: 0.01 });
    const all = (await detector.detect(IMAGE)).length;
    const early = detector.detect(IMAGE);
    const change = detector.setThresholds({ scoreThreshold: 0.999 });
    assert.equal((await early).length, all, 'made before setThresholds: the old threshold');
    await change;
    const late = await detector.detect(IMAGE);
    assert.ok(late.length < all, `made after: the new threshold (${late.length} of ${all})`);
    await detector.setThresholds({ scoreThreshold: 0.01 });
  });

  it('pre- and post-processing share one core, replaced with its thresholds after a large image', async () => {
    const { result: other, instances } = await countInstances(() =>
      createDetector({ model: MODEL, preset: 'ssd300Voc', backend: 'node', threads: 1, maxImagePixels: 40_000_000 }),
    );
    try {
      assert.equal(instances, 1, 'one core instance for the pre- and the post-processing');
      // scores 0.9975, 0.982 and 0.881: 0.95 keeps two
      await other.setThresholds({ scoreThreshold: 0.95 });
      const prep = () => (other as unknown as { prep: WasmPreprocessor }).prep;
      const first = prep();
      const large: RawImage = { data: new Uint8Array(6000 * 6000 * 3).fill(90), width: 6000, height: 6000 };
      assert.equal((await other.detect(large)).length, 2);
      assert.notEqual(prep(), first, 'the grown core was replaced');
      assert.ok(prep().memoryBytes <= PREPROCESS_KEEP_BYTES, `the fresh one holds ${prep().memoryBytes} bytes`);
      assert.equal((await other.detect(IMAGE)).length, 2, 'the fresh core has the thresholds in force');
      await other.setThresholds({ scoreThreshold: 0.5 });
      assert.equal((await other.detect(IMAGE)).length, 3, 'and takes new ones');
    } finally {
      await other.dispose();
    }
  });

  it('dispose() releases the pre-processor', async () => {
    const other = await createDetector({ model: MODEL, preset: 'ssd300Voc', backend: 'node', threads: 1 });
    const prep = (other as unknown as { prep: WasmPreprocessor }).prep;
    assert.ok(prep.memoryBytes > 0);
    await other.dispose();
    assert.equal(prep.memoryBytes, 0);
  });
});

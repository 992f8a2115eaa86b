/** readModelMetadata against models written by onnx-proto, and against bytes that are not a model. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readModelMetadata } from '../../src/runtime/model-metadata.js';
import { ssdModel, ssdOutputs } from './onnx-models.js';

describe('readModelMetadata', () => {
  const { loc, conf } = ssdOutputs(10, 3, []);
  const model = (metadata?: Record<string, string>) => ssdModel({ numPriors: 10, numClasses: 3, loc, conf, metadata });

  it('reads every key/value pair, UTF-8 included, past the graph', () => {
    const metadata = {
      'ssd-edge.preprocess': '{"size":[300,300]}',
      'ssd-edge.postprocess': '"ssd300Voc"',
      note: 'Größe ✓',
    };
    assert.deepEqual(readModelMetadata(model(metadata)), metadata);
  });

  it('is empty for a model without metadata', () => {
    assert.deepEqual(readModelMetadata(model()), {});
  });

  it('rejects truncated bytes and text with a RangeError', () => {
    const bytes = model({ a: 'b' });
    assert.throws(
      () => readModelMetadata(bytes.subarray(0, bytes.length >> 1)),
      /RangeError: protobuf field \d+ runs past the end/,
    );
    assert.throws(() => readModelMetadata(new TextEncoder().encode('hello, world')), RangeError);
  });
});

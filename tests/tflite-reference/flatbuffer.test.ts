/**
 * The reference runner's minimal TFLite flatbuffer reader and its output patch, on the real COCO
 * detector (skipped with one line when the model is absent) and on broken input.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { COCO_MODEL_HINT, findCocoModel } from '../../tools/tflite-reference/coco-model.js';
import { readTfliteModel, tensorIndex, withSubgraphOutputs } from '../../tools/tflite-reference/flatbuffer.js';

const files = findCocoModel();

describe('TFLite flatbuffer reader', () => {
  it(
    'reads the COCO detector: graph, head tensors and their quantisation',
    { skip: files ? false : COCO_MODEL_HINT },
    async () => {
      const model = new Uint8Array(await readFile(files!.model));
      const m = readTfliteModel(model);
      assert.equal(m.tensors.length, 261);
      const counts: Record<string, number> = {};
      for (const op of m.operators) counts[op.opType] = (counts[op.opType] ?? 0) + 1;
      assert.deepEqual(counts, {
        CONV_2D: 55,
        DEPTHWISE_CONV_2D: 17,
        ADD: 10,
        RESHAPE: 13,
        CONCATENATION: 2,
        LOGISTIC: 1,
        TFLite_Detection_PostProcess: 1,
      });
      assert.deepEqual(m.inputs, [260]);
      assert.deepEqual(m.tensors[260].shape, [1, 300, 300, 3]);
      assert.deepEqual(m.tensors[260].quantization?.scale, [0.0078125]);
      assert.deepEqual(m.tensors[260].quantization?.zeroPoint, [128]);
      const post = m.operators.at(-1)!;
      assert.equal(post.opType, 'TFLite_Detection_PostProcess');
      assert.deepEqual(post.outputs, m.outputs);
      const [box, cls, anchors] = post.inputs.map((i) => m.tensors[i]);
      assert.deepEqual([box.name, box.shape, box.type, box.isConstant], ['Squeeze', [1, 1917, 4], 'uint8', false]);
      assert.deepEqual([cls.name, cls.shape, cls.type], ['convert_scores', [1, 1917, 91], 'uint8']);
      assert.deepEqual([anchors.name, anchors.shape, anchors.isConstant], ['anchors', [1917, 4], true]);
      assert.equal(tensorIndex(m, 'convert_scores'), cls.index);
      assert.throws(() => tensorIndex(m, 'no/such/tensor'), /no tensor named 'no\/such\/tensor'/);
    },
  );

  it(
    're-points the subgraph outputs, leaving the rest of the model as it was',
    { skip: files ? false : COCO_MODEL_HINT },
    async () => {
      const model = new Uint8Array(await readFile(files!.model));
      const before = readTfliteModel(model);
      const wanted = [250, 259, 61, 0, 252, 253, 254, 255];
      const patched = withSubgraphOutputs(model, wanted);
      assert.ok(
        patched.length >= model.length + 4 + 4 * wanted.length &&
          patched.length <= model.length + 3 + 4 + 4 * wanted.length,
      );
      const after = readTfliteModel(patched);
      assert.deepEqual(after.outputs, wanted);
      assert.deepEqual(after.tensors, before.tensors);
      assert.deepEqual(after.operators, before.operators);
      assert.deepEqual(readTfliteModel(model).outputs, before.outputs, 'the original bytes are untouched');
    },
  );

  it(
    'rejects indices outside the model, an empty list and truncated bytes',
    { skip: files ? false : COCO_MODEL_HINT },
    async () => {
      const model = new Uint8Array(await readFile(files!.model));
      assert.throws(
        () => withSubgraphOutputs(model, [261]),
        /output tensor index 261 is not a tensor of the model: it has tensors 0…260/,
      );
      assert.throws(() => withSubgraphOutputs(model, [-1]), RangeError);
      assert.throws(() => withSubgraphOutputs(model, []), /outputs is empty/);
      assert.throws(() => readTfliteModel(model.subarray(0, 1000)), /outside the 1000-byte model/);
    },
  );

  it('rejects bytes that are not a flatbuffer', () => {
    assert.throws(() => readTfliteModel(new Uint8Array([1, 2, 3])), /outside the 3-byte model/);
    assert.throws(() => readTfliteModel(new Uint8Array(16).fill(255)), RangeError);
  });
});

/**
 * The training module's parameter blocks have two descriptions, as the core's do
 * (plan-layout.test.ts): an @unmanaged class of assembly/train-params.ts, which the kernels read,
 * and a field list of src/train/kernels/params.ts, which the host writes. They must list the same
 * fields, in the same order, with the same types, or a kernel reads one field where the host wrote
 * another. This test reads the AssemblyScript source and compares, and holds both training builds
 * to the calling convention: no export takes more than three arguments, a kernel takes its block.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockBytes } from '../../src/core/params.js';
import { DWCONV_FILTER_FIELDS, DWCONV_GEOMETRY_FIELDS, DWCONV_INPUT_FIELDS } from '../../src/train/kernels/params.js';
import { instantiateTrainingCore } from '../../src/train/kernels/training-core.js';
import { classFields as readClassFields, declaredClasses } from './assembly-blocks.js';

const classFields = (name: string) => readClassFields(name, 'train-params.ts');

const BLOCKS = [
  ['DwconvInputParams', DWCONV_INPUT_FIELDS],
  ['DwconvFilterParams', DWCONV_FILTER_FIELDS],
] as const;

describe("the training module's parameter blocks agree between the kernels and the host", () => {
  for (const [className, fields] of BLOCKS) {
    it(`${className} of assembly/train-params.ts and its host field list agree`, () => {
      const declared = classFields(className);
      assert.deepEqual(Object.entries(fields), declared);
      assert.equal(blockBytes(fields), declared.length * 4, 'four bytes a field');
      assert.deepEqual(
        declared.slice(-Object.keys(DWCONV_GEOMETRY_FIELDS).length),
        Object.entries(DWCONV_GEOMETRY_FIELDS),
        'the block ends in the shared geometry',
      );
    });
  }

  it('every class of assembly/train-params.ts is compared here: none is left unchecked', () => {
    const declared = declaredClasses('train-params.ts');
    assert.deepEqual(declared.sort(), BLOCKS.map(([name]) => name).sort());
  });

  it('the parser sees a disagreement: swapped or renamed fields fail the comparison', () => {
    const fields = Object.entries(DWCONV_INPUT_FIELDS);
    const at = fields.findIndex(([name]) => name === 'kh');
    const swapped = [...fields];
    [swapped[at], swapped[at + 1]] = [swapped[at + 1], swapped[at]];
    assert.equal(swapped[at][0], 'kw', 'kh and kw swapped');
    assert.notDeepEqual(swapped, classFields('DwconvInputParams'));
    assert.notDeepEqual([['dyPtrr', 'ptr'], ...fields.slice(1)], classFields('DwconvInputParams'));
  });

  it('no export of either training build takes more than three arguments; a kernel takes its block alone', async () => {
    // an exported wasm function's length is its number of parameters
    const kernels = { dwconvBackpropInput: 1, dwconvBackpropFilter: 1 };
    for (const build of ['simd', 'baseline'] as const) {
      const { exports } = await instantiateTrainingCore(build);
      const arities = new Map(
        Object.entries(exports)
          .filter(([, value]) => typeof value === 'function')
          .map(([name, fn]) => [name, (fn as () => void).length]),
      );
      for (const [name, length] of Object.entries(kernels)) assert.equal(arities.get(name), length, `${build} ${name}`);
      const over = [...arities].filter(([, length]) => length > 3);
      assert.deepEqual(over, [], `ssd-train.${build}.wasm: exports taking more than three arguments`);
    }
  });
});

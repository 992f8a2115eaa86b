/**
 * Every parameter block has two descriptions: an @unmanaged class of assembly/plan.ts,
 * assembly/params.ts or assembly/qparams.ts, which the core reads, and a field list of
 * src/core/plan.ts, src/core/params.ts or src/int8/params.ts (PLAN_FIELDS, MATCH_FIELDS,
 * QCONV_FIELDS, …), which the host writes. They must list the
 * same fields, in the same order, with the same types (so the same sizes and offsets), or the
 * core reads one field where the host wrote another. This test reads the AssemblyScript source
 * and compares. It also holds every build to the calling convention: no export takes more than
 * three arguments.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { instantiateCore } from '../../src/core/loader.js';
import { PLAN_FIELDS, PLAN_WORDS, QUANT_FIELDS, QUANT_PLAN_OFFSET, SCAN_ROWS } from '../../src/core/plan.js';
import {
  blockBytes,
  MATCH_FIELDS,
  MEDIAPIPE_PRIORS_HEAD,
  RESIZE_FIELDS,
  SSD_PRIORS_HEAD,
  SSD_PRIORS_MAP,
  TF_GRID_PRIORS_HEAD,
  TORCHVISION_PRIORS_HEAD,
  TORCHVISION_PRIORS_MAP,
  TRACK_FRAME_FIELDS,
  TRACK_HEADER_BYTES,
  TRACK_HEADER_FIELDS,
} from '../../src/core/params.js';
import {
  QADD_FIELDS,
  QCONV_FIELDS,
  QDEPTHWISE_FIELDS,
  QDEPTHWISE_PACK_FIELDS,
  QGEMM_FIELDS,
  QGEMM_PACK_FIELDS,
  QLOOKUP_FIELDS,
} from '../../src/int8/params.js';
import { exportedArities } from '../wasm-binary.js';
import { assemblySource, classFields as readClassFields, declaredClasses } from './assembly-blocks.js';

/** `name: type` of each field of `export class <name>` in assembly/<file> (plan.ts unless named). */
const classFields = (name: string, file = 'plan.ts') => readClassFields(name, file);

/** The value of `export const <name>: <type> = <integer>;` in assembly/<file>. */
function constant(name: string, file = 'plan.ts'): number {
  const match = new RegExp(`export const ${name}: \\w+ = (\\d+);`).exec(assemblySource(file));
  assert.ok(match, `assembly/${file} declares ${name}`);
  return Number(match[1]);
}

describe('the plan layout agrees between the core and the host', () => {
  it('Plan and PLAN_FIELDS list the same fields, in order, with the same types', () => {
    assert.deepEqual(Object.entries(PLAN_FIELDS), classFields('Plan'));
  });

  it('QuantBlock and QUANT_FIELDS list the same fields, in order, with the same types', () => {
    assert.deepEqual(Object.entries(QUANT_FIELDS), classFields('QuantBlock'));
  });

  for (const [className, fields] of [
    ['MatchParams', MATCH_FIELDS],
    ['ResizeParams', RESIZE_FIELDS],
    ['TrackHeader', TRACK_HEADER_FIELDS],
    ['TrackFrame', TRACK_FRAME_FIELDS],
  ] as const) {
    it(`${className} of assembly/params.ts and its host field list agree`, () => {
      assert.deepEqual(Object.entries(fields), classFields(className, 'params.ts'));
      assert.equal(blockBytes(fields), classFields(className, 'params.ts').length * 4, 'four bytes a field');
    });
  }

  for (const [className, fields] of [
    ['SsdPriorsHead', SSD_PRIORS_HEAD],
    ['SsdPriorsMap', SSD_PRIORS_MAP],
    ['TorchvisionPriorsHead', TORCHVISION_PRIORS_HEAD],
    ['TorchvisionPriorsMap', TORCHVISION_PRIORS_MAP],
    ['TfGridPriorsHead', TF_GRID_PRIORS_HEAD],
    ['MediapipePriorsHead', MEDIAPIPE_PRIORS_HEAD],
  ] as const) {
    it(`${className} of assembly/params.ts and its host f64 record agree`, () => {
      assert.deepEqual(Object.entries(fields), classFields(className, 'params.ts'));
    });
  }

  it('the block-taking exports take a block pointer and at most two more arguments, in both builds', async () => {
    // an exported wasm function's length is its number of parameters
    const arity = {
      matchPriors: 2,
      resizeToTensor: 1,
      resizeToU8: 1,
      trackerUpdate: 3,
      priorsSsd: 2,
      priorsTorchvision: 2,
      priorsTfGrid: 2,
      priorsMediapipe: 2,
    };
    for (const build of ['simd', 'baseline'] as const) {
      const { exports } = await instantiateCore({ build });
      for (const [name, length] of Object.entries(arity)) {
        assert.equal((exports[name as keyof typeof exports] as () => void).length, length, `${build} ${name}`);
      }
    }
  });

  for (const [className, fields] of [
    ['QgemmPackParams', QGEMM_PACK_FIELDS],
    ['QgemmParams', QGEMM_FIELDS],
    ['QconvParams', QCONV_FIELDS],
    ['QdepthwisePackParams', QDEPTHWISE_PACK_FIELDS],
    ['QdepthwiseParams', QDEPTHWISE_FIELDS],
    ['QaddParams', QADD_FIELDS],
    ['QlookupParams', QLOOKUP_FIELDS],
  ] as const) {
    it(`${className} of assembly/qparams.ts and its host field list (src/int8/params.ts) agree`, () => {
      assert.deepEqual(Object.entries(fields), classFields(className, 'qparams.ts'));
      assert.equal(blockBytes(fields), classFields(className, 'qparams.ts').length * 4, 'four bytes a field');
    });
  }

  it('every qparams.ts block has its host list here: none is left unchecked', () => {
    const declared = declaredClasses('qparams.ts');
    assert.deepEqual(declared.sort(), [
      'QaddParams',
      'QconvParams',
      'QdepthwisePackParams',
      'QdepthwiseParams',
      'QgemmPackParams',
      'QgemmParams',
      'QlookupParams',
    ]);
  });

  const BUILDS = ['ssd-core.simd', 'ssd-core.baseline', 'ssd-int8.threads', 'ssd-int8.relaxed'];
  const arities = (build: string) =>
    exportedArities(new Uint8Array(readFileSync(new URL(`../../wasm/${build}.wasm`, import.meta.url))));

  it('the binary reader counts what the engine counts: every export of the SIMD build', async () => {
    const { exports } = await instantiateCore({ build: 'simd' });
    const functions = Object.entries(exports).filter(([, value]) => typeof value === 'function');
    assert.ok(functions.length >= 20, `${functions.length} exported functions`);
    assert.deepEqual(
      Object.fromEntries(arities('ssd-core.simd')),
      Object.fromEntries(functions.map(([name, fn]) => [name, (fn as () => void).length])),
    );
  });

  it('no export of the core or the int8 builds takes more than three arguments; a uint8 kernel takes its block alone', () => {
    const kernels = {
      qgemmPack: 1,
      qgemm: 1,
      qconv: 1,
      qdepthwisePack: 1,
      qdepthwise: 1,
      qadd: 1,
      qlookup: 1,
      qgemmPackedBytes: 2,
      qdepthwisePackedBytes: 2,
    };
    for (const build of BUILDS) {
      const found = arities(build);
      for (const [name, length] of Object.entries(kernels)) assert.equal(found.get(name), length, `${build} ${name}`);
      const over = [...found].filter(([, length]) => length > 3);
      assert.deepEqual(over, [], `${build}: exports taking more than three arguments`);
    }
  });

  it("the tracker's header fits the bytes both sides reserve before the records", () => {
    assert.equal(TRACK_HEADER_BYTES, constant('HEADER_BYTES', 'track.ts'));
    assert.ok(blockBytes(TRACK_HEADER_FIELDS) <= TRACK_HEADER_BYTES, 'TrackHeader fits HEADER_BYTES');
  });

  it('the reserved sizes agree and hold their blocks', () => {
    assert.equal(PLAN_WORDS, constant('PLAN_WORDS'));
    assert.equal(QUANT_PLAN_OFFSET, constant('QUANT_PLAN_OFFSET'));
    assert.equal(SCAN_ROWS, constant('SCAN_ROWS'), 'the row region is sized for the batch the score scan uses');
    assert.ok(
      Object.keys(PLAN_FIELDS).length <= PLAN_WORDS,
      `${Object.keys(PLAN_FIELDS).length} plan fields fit ${PLAN_WORDS} words`,
    );
    assert.ok(Object.keys(QUANT_FIELDS).length * 4 <= QUANT_PLAN_OFFSET, 'the quant block ends before the plan copy');
  });

  it('the parser sees a disagreement: a renamed or reordered field fails the comparison', () => {
    const fields = Object.entries(PLAN_FIELDS);
    const swapped = [fields[1], fields[0], ...fields.slice(2)];
    assert.notDeepEqual(swapped, classFields('Plan'));
    assert.notDeepEqual([['numPriorz', 'i32'], ...fields.slice(1)], classFields('Plan'));
  });
});

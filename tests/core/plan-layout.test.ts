/**
 * The plan block has two descriptions: the @unmanaged classes of assembly/plan.ts, which the
 * core reads, and PLAN_FIELDS / QUANT_FIELDS of src/core/plan.ts, which the host writes. They
 * must list the same fields, in the same order, with the same types, or the core reads one
 * field where the host wrote another. This test reads the AssemblyScript source and compares.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  PLAN_FIELDS,
  PLAN_WORDS,
  QUANT_FIELDS,
  QUANT_PLAN_OFFSET,
  SCAN_ROWS,
  type FieldType,
} from '../../src/core/plan.js';

const source = readFileSync(new URL('../../../assembly/plan.ts', import.meta.url), 'utf8');
const AS_TYPES: Record<string, FieldType> = { i32: 'i32', f32: 'f32', usize: 'ptr' };

/** `name: type` of each field of `export class <name>`, in declaration order. */
function classFields(name: string): [string, FieldType][] {
  const body = new RegExp(`export class ${name} \\{([^}]*)\\}`).exec(source);
  assert.ok(body, `assembly/plan.ts declares class ${name}`);
  return [...body[1].matchAll(/^\s*(\w+): (\w+);/gm)].map(([, field, type]) => {
    assert.ok(
      type in AS_TYPES,
      `${name}.${field} has type ${type}; the plan holds only 32-bit i32, f32 and usize fields`,
    );
    return [field, AS_TYPES[type]];
  });
}

/** The value of `export const <name>: <type> = <integer>;`. */
function constant(name: string): number {
  const match = new RegExp(`export const ${name}: \\w+ = (\\d+);`).exec(source);
  assert.ok(match, `assembly/plan.ts declares ${name}`);
  return Number(match[1]);
}

describe('the plan layout agrees between the core and the host', () => {
  it('Plan and PLAN_FIELDS list the same fields, in order, with the same types', () => {
    assert.deepEqual(Object.entries(PLAN_FIELDS), classFields('Plan'));
  });

  it('QuantBlock and QUANT_FIELDS list the same fields, in order, with the same types', () => {
    assert.deepEqual(Object.entries(QUANT_FIELDS), classFields('QuantBlock'));
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

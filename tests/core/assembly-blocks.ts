/**
 * Reads the parameter blocks declared in assembly/ sources, for the tests that compare them with
 * the host's field lists (plan-layout.test.ts, train-layout.test.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { FieldType } from '../../src/core/plan.js';

const AS_TYPES: Record<string, FieldType | 'f64'> = { i32: 'i32', f32: 'f32', usize: 'ptr', f64: 'f64' };
const sources = new Map<string, string>();

/** The text of assembly/<file> (read once). */
export function assemblySource(file: string): string {
  let text = sources.get(file);
  if (text === undefined) {
    text = readFileSync(new URL(`../../../assembly/${file}`, import.meta.url), 'utf8');
    sources.set(file, text);
  }
  return text;
}

/** `name: type` of each field of `export class <name>` in assembly/<file>, in declaration order. */
export function classFields(name: string, file: string): [string, FieldType | 'f64'][] {
  const body = new RegExp(`export class ${name} \\{([^}]*)\\}`).exec(assemblySource(file));
  assert.ok(body, `assembly/${file} declares class ${name}`);
  return [...body[1].matchAll(/^\s*(\w+): (\w+);/gm)].map(([, field, type]) => {
    assert.ok(
      type in AS_TYPES,
      `${name}.${field} has type ${type}; blocks hold only i32, f32, usize (32-bit) and f64 fields`,
    );
    return [field, AS_TYPES[type]];
  });
}

/** The names of every `export class` in assembly/<file>. */
export function declaredClasses(file: string): string[] {
  return [...assemblySource(file).matchAll(/export class (\w+)/g)].map(([, name]) => name);
}

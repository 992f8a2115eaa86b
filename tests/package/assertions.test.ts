/**
 * Every test case asserts something (issue 11): an `it`/`test` callback that never calls
 * `assert…`, `expect` or a helper that does (a function of its own file, or one imported from a
 * module under tests/) checks nothing but that it ran. A timing print belongs in bench/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const testsDir = fileURLToPath(new URL('../../../tests/', import.meta.url));
const ASSERTS = /\bassert\b|\bexpect\s*\(|\bt\.plan\(/;

const sources = new Map<string, ts.SourceFile>();
function source(file: string): ts.SourceFile {
  let sf = sources.get(file);
  if (!sf)
    sources.set(file, (sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)));
  return sf;
}

/** Named functions of a file (declarations, methods, `const f = () => …`) with their text. */
function functionsOf(sf: ts.SourceFile): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (node: ts.Node): void => {
    if (
      (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)) &&
      node.name &&
      ts.isIdentifier(node.name) &&
      node.body
    ) {
      out.set(node.name.text, node.body.getText(sf));
    } else if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.initializer &&
      (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))
    ) {
      out.set(node.name.text, node.initializer.getText(sf));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const calls = (text: string, names: Iterable<string>) =>
  [...names].some((name) => new RegExp(`\\b${name}\\s*[(<]`).test(text));

const asserting = new Map<string, Set<string>>();
/** The names, in `file`'s scope, of functions that assert (directly or through another). */
function assertingFunctions(file: string): Set<string> {
  const known = asserting.get(file);
  if (known) return known;
  const names = new Set<string>();
  asserting.set(file, names); // breaks import cycles
  const sf = source(file);
  for (const statement of sf.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const bindings = statement.importClause?.namedBindings;
    const target = path.resolve(path.dirname(file), statement.moduleSpecifier.text.replace(/\.js$/, '.ts'));
    if (
      !bindings ||
      !ts.isNamedImports(bindings) ||
      !target.startsWith(testsDir) ||
      !statement.moduleSpecifier.text.startsWith('.')
    )
      continue;
    const theirs = assertingFunctions(target);
    for (const element of bindings.elements)
      if (theirs.has((element.propertyName ?? element.name).text)) names.add(element.name.text);
  }
  const functions = functionsOf(sf);
  for (let changed = true; changed;) {
    changed = false;
    for (const [name, body] of functions) {
      if (!names.has(name) && (ASSERTS.test(body) || calls(body, names))) {
        names.add(name);
        changed = true;
      }
    }
  }
  return names;
}

describe('the test suite', () => {
  it('has no test case without an assertion', () => {
    const files = readdirSync(testsDir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.test.ts'));
    let cases = 0;
    const empty: string[] = [];
    for (const relative of files) {
      const file = path.join(testsDir, relative);
      const sf = source(file);
      const helpers = assertingFunctions(file);
      const visit = (node: ts.Node): void => {
        if (
          ts.isCallExpression(node) &&
          ts.isIdentifier(node.expression) &&
          (node.expression.text === 'it' || node.expression.text === 'test')
        ) {
          const callback = node.arguments.find((a) => ts.isArrowFunction(a) || ts.isFunctionExpression(a));
          if (callback) {
            cases++;
            const body = callback.getText(sf);
            if (!ASSERTS.test(body) && !calls(body, helpers)) {
              empty.push(
                `${relative}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${node.arguments[0].getText(sf)}`,
              );
            }
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(sf);
    }
    assert.ok(cases > 400, `found ${cases} test cases under ${testsDir}`);
    assert.deepEqual(empty, [], 'test cases that assert nothing');
  });
});

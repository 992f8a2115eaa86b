/** The CLI's options on top of util.parseArgs: our messages for unknown options, missing values and non-integers. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { integerOption, parseArgs, type OptionSpec } from '../../src/cli/args.js';

const SPEC: Record<string, OptionSpec> = {
  model: { type: 'string', description: 'the model' },
  'min-score': { type: 'string', description: 'lowest score' },
  json: { type: 'boolean', description: 'print JSON' },
};

describe('parseArgs', () => {
  it('reads --name value, --name=value, flags and positionals in any order', () => {
    assert.deepEqual(parseArgs(['a.jpg', '--model', 'm.onnx', '--min-score=0.3', '--json', 'b.jpg'], SPEC, 'detect'), {
      positionals: ['a.jpg', 'b.jpg'],
      options: { model: 'm.onnx', 'min-score': '0.3', json: true },
    });
  });

  it('an unknown option suggests the nearest known one and lists them all', () => {
    assert.throws(
      () => parseArgs(['--modle', 'm.onnx'], SPEC, 'detect'),
      /^Error: detect: unknown option --modle \(did you mean --model\?\); options: --model, --min-score, --json$/,
    );
    assert.throws(() => parseArgs(['--min-scroe', '1'], SPEC, 'detect'), /did you mean --min-score\?/);
    assert.throws(
      () => parseArgs(['--zzzzzzzz'], SPEC, 'detect'),
      /^Error: detect: unknown option --zzzzzzzz; options: --model/,
    );
  });

  it('a short option is unknown, not a file name', () => {
    assert.throws(() => parseArgs(['-h'], SPEC, 'detect'), /detect: unknown option -h; options:/);
  });

  it('a value option followed by another option, or by nothing, says its value is missing', () => {
    assert.throws(
      () => parseArgs(['--model', '--json'], SPEC, 'detect'),
      /detect: --model needs a value \(the model\)/,
    );
    assert.throws(() => parseArgs(['--model'], SPEC, 'detect'), /detect: --model needs a value/);
    assert.deepEqual(
      parseArgs(['--model=--odd-name.onnx'], SPEC, 'detect').options,
      { model: '--odd-name.onnx' },
      '= takes any value',
    );
    assert.deepEqual(
      parseArgs(['--min-score', '-1'], SPEC, 'detect').options,
      { 'min-score': '-1' },
      'a negative number is a value',
    );
  });

  it('a plain flag given a value is refused rather than read as true', () => {
    assert.throws(
      () => parseArgs(['--json=no'], SPEC, 'detect'),
      /detect: --json is a flag and takes no value \(got 'no'\)/,
    );
  });

  it('everything after -- is a positional', () => {
    assert.deepEqual(parseArgs(['--', '--json'], SPEC, 'detect'), { positionals: ['--json'], options: {} });
  });
});

describe('integerOption', () => {
  it('reads an integer in range, and names the option otherwise', () => {
    assert.equal(integerOption({ n: '12' }, 'n', 1, 100), 12);
    assert.equal(integerOption({}, 'n', 1), undefined);
    assert.throws(() => integerOption({ n: '1.5' }, 'n', 1), /^RangeError: --n is 1\.5; it must be an integer$/);
    assert.throws(() => integerOption({ n: '0' }, 'n', 1, 9), /--n is '0'; it must be a number in \[1, 9\]/);
    assert.throws(() => integerOption({ n: 'ten' }, 'n'), /--n is 'ten'/);
  });
});

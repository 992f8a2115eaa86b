import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median } from '../../src/util/median.js';

describe('median', () => {
  it('is the middle value of an odd count, the mean of the middle two of an even count, whatever the order', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
    const values = [9, 2, 7];
    median(values);
    assert.deepEqual(values, [9, 2, 7], 'the input is not sorted in place');
  });

  it('refuses no values', () => {
    assert.throws(() => median([]), /median of no values/);
  });
});

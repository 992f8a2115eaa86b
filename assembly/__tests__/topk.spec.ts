// Top-k over u64 keys: min-heap basics and selectTopKeys on small hand-made arrays.

import { candidateKey } from "../keys";
import {
  heapify, heapifyLargestFirst, popLargest, replaceRoot, selectTopKeys, siftDown,
  sortHeapDescending
} from "../topk";
import { Rng, ptr, u64s } from "./helpers";

/** Runs selectTopKeys on a copy of `values` and returns the array (front = result). */
function select(values: u64[], k: i32, count: StaticArray<i32>): StaticArray<u64> {
  const keys = u64s(values);
  count[0] = selectTopKeys(ptr(keys), values.length, k);
  return keys;
}

function expectFront(keys: StaticArray<u64>, expected: u64[], why: string): void {
  for (let i = 0; i < expected.length; i++) {
    expect<u64>(keys[i]).toBe(expected[i], why + " (position " + i.toString() + ")");
  }
}

/** The heap is 4-ary: the parent of node i is (i − 1) / 4. */
function isMinHeap(keys: StaticArray<u64>, size: i32): bool {
  for (let i = 1; i < size; i++) if (keys[(i - 1) >> 2] > keys[i]) return false;
  return true;
}

function contains(values: u64[], key: u64): bool {
  for (let i = 0; i < values.length; i++) if (values[i] == key) return true;
  return false;
}

describe("heapify", () => {
  it("makes a min-heap whose root is the smallest key", () => {
    const keys = u64s([9, 4, 7, 1, 8, 2, 6]);
    heapify(ptr(keys), 7);
    expect<bool>(isMinHeap(keys, 7)).toBe(true, "every parent ≤ its children");
    expect<u64>(keys[0]).toBe(1, "the root of a min-heap is the minimum");
  });

  it("leaves keys beyond `size` alone", () => {
    const keys = u64s([9, 4, 7, 1, 0]);
    heapify(ptr(keys), 4);
    expect<u64>(keys[4]).toBe(0, "a 0 at index 4 is outside the heap and must not be pulled in");
    expect<u64>(keys[0]).toBe(1, "the minimum of the first four is 1, not 0");
  });

  it("is idempotent on a heap", () => {
    const keys = u64s([1, 3, 2, 7, 4, 5]);
    heapify(ptr(keys), 6);
    const copy = u64s([keys[0], keys[1], keys[2], keys[3], keys[4], keys[5]]);
    heapify(ptr(keys), 6);
    for (let i = 0; i < 6; i++) expect<u64>(keys[i]).toBe(copy[i], "a heap is already heapified");
  });
});

describe("replaceRoot / siftDown", () => {
  it("puts a better key in place of the root and restores the heap", () => {
    const keys = u64s([2, 5, 3, 9, 6]);
    heapify(ptr(keys), 5);
    replaceRoot(ptr(keys), 8, 5); // evicts 2; heap now {3, 5, 6, 8, 9}
    expect<bool>(isMinHeap(keys, 5)).toBe(true, "siftDown restores the order");
    expect<u64>(keys[0]).toBe(3, "the new minimum is the old second smallest");
  });

  it("keeps a new root that is still the smallest at the root", () => {
    const keys = u64s([2, 5, 3, 9, 6]);
    heapify(ptr(keys), 5);
    replaceRoot(ptr(keys), 3, 5); // heap {3, 3, 5, 6, 9}
    expect<u64>(keys[0]).toBe(3, "a root no larger than its children stays");
    expect<bool>(isMinHeap(keys, 5)).toBe(true, "equal keys are fine in a heap");
  });

  it("siftDown on a leaf does nothing", () => {
    const keys = u64s([1, 2, 3]);
    siftDown(ptr(keys), 2, 3);
    expect<u64>(keys[2]).toBe(3, "a leaf has no children to swap with");
  });
});

describe("sortHeapDescending", () => {
  it("turns a min-heap into descending order", () => {
    const keys = u64s([6, 1, 9, 3, 3, 7, 2]);
    heapify(ptr(keys), 7);
    sortHeapDescending(ptr(keys), 7);
    expectFront(keys, [9, 7, 6, 3, 3, 2, 1], "repeatedly moving the minimum to the end");
  });

  it("handles heaps of one and zero keys", () => {
    const one = u64s([5]);
    sortHeapDescending(ptr(one), 1);
    expect<u64>(one[0]).toBe(5, "one key is sorted");
    const none = u64s([4, 2]);
    sortHeapDescending(ptr(none), 0);
    expect<u64>(none[0]).toBe(4, "size 0 touches nothing");
  });
});

describe("selectTopKeys", () => {
  it("returns all n sorted when n < k", () => {
    const count = new StaticArray<i32>(1);
    const keys = select([5, 1, 9], 5, count);
    expect<i32>(count[0]).toBe(3, "min(n, k) = 3");
    expectFront(keys, [9, 5, 1], "the front holds every key, descending");
  });

  it("returns exactly k when n == k", () => {
    const count = new StaticArray<i32>(1);
    const keys = select([3, 7, 2, 8], 4, count);
    expect<i32>(count[0]).toBe(4, "min(4, 4) = 4");
    expectFront(keys, [8, 7, 3, 2], "all four, descending");
  });

  it("returns the k largest when n > k and writes nothing foreign into the rest", () => {
    const values: u64[] = [4, 10, 1, 7, 3, 9, 2];
    const count = new StaticArray<i32>(1);
    const keys = select(values, 3, count);
    expect<i32>(count[0]).toBe(3, "min(7, 3) = 3");
    expectFront(keys, [10, 9, 7], "10, 9, 7 are the three largest");
    // The tail is scratch: evicted heap roots are overwritten, so it is not a permutation of
    // the input (keys that entered the heap stay behind as copies). Only the front is a result.
    for (let i = 3; i < 7; i++) {
      expect<bool>(contains(values, keys[i])).toBe(true, "the tail only ever holds input keys");
    }
  });

  it("keeps duplicates as separate entries", () => {
    const count = new StaticArray<i32>(1);
    expectFront(select([5, 5, 3, 5, 1], 2, count), [5, 5], "two of the three 5s");
    expectFront(select([5, 5, 3, 5, 1], 4, count), [5, 5, 5, 3], "all three 5s, then 3");
  });

  it("handles already sorted (ascending) input", () => {
    const count = new StaticArray<i32>(1);
    expectFront(select([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4, count), [10, 9, 8, 7], "every later key replaces the root");
  });

  it("handles reverse sorted (descending) input", () => {
    const count = new StaticArray<i32>(1);
    expectFront(select([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 4, count), [10, 9, 8, 7], "no later key enters");
  });

  it("returns 0 and touches nothing for k = 0 or n = 0", () => {
    const count = new StaticArray<i32>(1);
    const keys = select([3, 1, 2], 0, count);
    expect<i32>(count[0]).toBe(0, "k = 0 selects nothing");
    expectFront(keys, [3, 1, 2], "the array is untouched");
    select([], 5, count);
    expect<i32>(count[0]).toBe(0, "n = 0 selects nothing");
  });

  it("orders real candidate keys by score, then lower prior", () => {
    // equal scores 0.5 on priors 4 and 2; 0.7 on prior 9; 0.1 on prior 0
    const k9 = candidateKey(0.7, 9, 1, 3), k2 = candidateKey(0.5, 2, 1, 3);
    const k4 = candidateKey(0.5, 4, 1, 3), k0 = candidateKey(0.1, 0, 1, 3);
    const count = new StaticArray<i32>(1);
    expectFront(select([k4, k0, k9, k2], 3, count), [k9, k2, k4], "0.7, then 0.5 on prior 2 before prior 4");
  });

  it("agrees with a plain sort on 300 random arrays", () => {
    const rng = new Rng(777);
    let wrong = 0;
    for (let trial = 0; trial < 300; trial++) {
      const n = rng.below(41), k = rng.below(21);
      const keys = new StaticArray<u64>(n);
      for (let i = 0; i < n; i++) keys[i] = <u64>rng.below(25); // many duplicates
      const sorted = new StaticArray<u64>(n);
      for (let i = 0; i < n; i++) sorted[i] = keys[i];
      // insertion sort, descending
      for (let i = 1; i < n; i++) {
        const v = sorted[i];
        let j = i - 1;
        while (j >= 0 && sorted[j] < v) { sorted[j + 1] = sorted[j]; j--; }
        sorted[j + 1] = v;
      }
      const got = selectTopKeys(ptr(keys), n, k);
      if (got != min<i32>(n, k)) wrong++;
      for (let i = 0; i < got; i++) if (keys[i] != sorted[i]) wrong++;
    }
    expect<i32>(wrong).toBe(0, "the front is the k largest, descending");
  });
});

describe("heapifyLargestFirst / popLargest", () => {
  it("hands out 9, 8, 7, 6, 4, 2, 1 from an unordered array", () => {
    const keys = u64s([4, 9, 1, 7, 8, 2, 6]);
    heapifyLargestFirst(ptr(keys), 7);
    const expected: u64[] = [9, 8, 7, 6, 4, 2, 1];
    for (let size = 7; size > 0; size--) {
      expect<u64>(popLargest(ptr(keys), size)).toBe(expected[7 - size], "pop with " + size.toString() + " left");
    }
  });

  it("pops 500 random keys in descending order", () => {
    const rng = new Rng(31);
    const keys = new StaticArray<u64>(500);
    for (let i = 0; i < 500; i++) keys[i] = candidateKey(rng.uniform(0.01, 1), i, 0, 1);
    heapifyLargestFirst(ptr(keys), 500);
    let previous: u64 = u64.MAX_VALUE;
    for (let size = 500; size > 0; size--) {
      const key = popLargest(ptr(keys), size);
      expect<bool>(key < previous).toBe(true, "each key is below the one before (keys are distinct)");
      previous = key;
    }
  });
});

// Top-k selection over u64 candidate keys (keys.ts) with a binary min-heap, in place.
//
// A min-heap holds the k best keys seen so far; its root is the weakest of them, so a later
// key enters only when it beats the root. Sorting the heap by repeatedly moving its minimum
// to the end leaves the k keys in descending order at the front.

// @ts-ignore: decorator
@inline
function keyAt(base: usize, i: i32): u64 {
  return load<u64>(base + (<usize>i << 3));
}
// @ts-ignore: decorator
@inline
function setKey(base: usize, i: i32, key: u64): void {
  store<u64>(base + (<usize>i << 3), key);
}

/**
 * Restores the min-heap property below `i` in a heap of `size` keys. The child choice is a
 * select, not a branch: new keys land at random depths and a branch there mispredicts half
 * the time.
 */
export function siftDown(base: usize, i: i32, size: i32): void {
  const key = keyAt(base, i);
  while (true) {
    let child = 2 * i + 1;
    if (child >= size) break;
    let childKey = keyAt(base, child);
    if (child + 1 < size) {
      const right = keyAt(base, child + 1);
      const takeRight = right < childKey;
      child = select<i32>(child + 1, child, takeRight);
      childKey = select<u64>(right, childKey, takeRight);
    }
    if (childKey >= key) break;
    setKey(base, i, childKey);
    i = child;
  }
  setKey(base, i, key);
}

/** Turns `size` keys into a min-heap. */
export function heapify(base: usize, size: i32): void {
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(base, i, size);
}

/** Replaces the root of a full min-heap with a better key. */
// @ts-ignore: decorator
@inline
export function replaceRoot(base: usize, key: u64, size: i32): void {
  setKey(base, 0, key);
  siftDown(base, 0, size);
}

/** Sorts a min-heap of `size` keys into descending order. */
export function sortHeapDescending(base: usize, size: i32): void {
  for (let end = size - 1; end > 0; end--) {
    const smallest = keyAt(base, 0);
    setKey(base, 0, keyAt(base, end));
    setKey(base, end, smallest);
    siftDown(base, 0, end);
  }
}

/**
 * Moves the `k` largest of the `num` keys at `keysPtr` to the front, sorted descending.
 * Returns min(num, k). The rest of the array is scratch afterwards.
 */
export function selectTopKeys(keysPtr: usize, num: i32, k: i32): i32 {
  const size = min<i32>(num, k);
  if (size <= 0) return 0;
  heapify(keysPtr, size);
  for (let i = size; i < num; i++) {
    const key = keyAt(keysPtr, i);
    if (key > keyAt(keysPtr, 0)) replaceRoot(keysPtr, key, size);
  }
  sortHeapDescending(keysPtr, size);
  return size;
}

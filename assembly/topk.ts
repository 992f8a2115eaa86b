// Top-k selection over u64 candidate keys (keys.ts) with a 4-ary min-heap, in place.
//
// A min-heap holds the k best keys seen so far; its root is the weakest of them, so a later
// key enters only when it beats the root. Four children per node halve the depth of a binary
// heap; the four sit in one cache line and their minimum is found with selects, so a sift
// costs about half as much. Sorting the heap by repeatedly moving its minimum
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
 * Restores the min-heap property below `i` in a heap of `size` keys (children of node i are
 * 4i + 1 … 4i + 4). The smallest child is chosen with selects, not branches: new keys land at
 * random depths, and a branch there would mispredict half the time.
 */
export function siftDown(base: usize, i: i32, size: i32): void {
  const key = keyAt(base, i);
  while (true) {
    const first = 4 * i + 1;
    if (first >= size) break;
    let child = first;
    let childKey = keyAt(base, first);
    if (first + 3 < size) {
      const k1 = keyAt(base, first + 1), k2 = keyAt(base, first + 2), k3 = keyAt(base, first + 3);
      const take1 = k1 < childKey, take3 = k3 < k2;
      const low01 = select<u64>(k1, childKey, take1), low23 = select<u64>(k3, k2, take3);
      const at01 = select<i32>(first + 1, first, take1), at23 = select<i32>(first + 3, first + 2, take3);
      const takeHigh = low23 < low01;
      childKey = select<u64>(low23, low01, takeHigh);
      child = select<i32>(at23, at01, takeHigh);
    } else {
      for (let j = first + 1; j < size; j++) {
        const k = keyAt(base, j);
        if (k < childKey) { childKey = k; child = j; }
      }
    }
    if (childKey >= key) break;
    setKey(base, i, childKey);
    i = child;
  }
  setKey(base, i, key);
}

/** Turns `size` keys into a min-heap. */
export function heapify(base: usize, size: i32): void {
  for (let i = (size - 2) >> 2; i >= 0; i--) siftDown(base, i, size);
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
 * Turns `size` keys into a max-heap, stored as a min-heap of their complements (~key orders
 * the keys backwards), so that siftDown serves both and popLargest hands the keys out best
 * first: a consumer that stops early pays for the keys it took, not for a full sort.
 */
export function heapifyLargestFirst(base: usize, size: i32): void {
  for (let i = 0; i < size; i++) setKey(base, i, ~keyAt(base, i));
  heapify(base, size);
}

/** Removes and returns the largest key of a heapifyLargestFirst heap of `size` ≥ 1 keys. */
// @ts-ignore: decorator
@inline
export function popLargest(base: usize, size: i32): u64 {
  const largest = ~keyAt(base, 0);
  if (size > 1) {
    setKey(base, 0, keyAt(base, size - 1));
    siftDown(base, 0, size - 1);
  }
  return largest;
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

// A tournament (winner) tree over the best keys of n lists (keys.ts), so that merging the lists
// best key first costs about log2(n) steps per key instead of a scan of all n heads.
//
// Node i (1 ≤ i < 2n) is the u64 at `tree + 8·(i − 1)`: 2n − 1 words in all. Leaf n + list holds
// that list's best key, 0 when it is empty (a key is never 0); inner node i holds the larger of
// nodes 2i and 2i + 1, so node 1 is the best key of every list. Any n works, not only powers of
// two: every node i ≥ 2 has the one parent i >> 1, so each leaf counts exactly once below the
// root. Keys are unique, so the root names its list (for a per-class list, through its class).

// @ts-ignore: decorator
@inline
function nodeAt(tree: usize, i: i32): usize {
  return tree + (<usize>(i - 1) << 3);
}

/** Stores the best key of `list` (0: empty) as its leaf; call before buildTournament. */
// @ts-ignore: decorator
@inline
export function setLeaf(tree: usize, n: i32, list: i32, key: u64): void {
  store<u64>(nodeAt(tree, n + list), key);
}

/** Fills the inner nodes above the n leaves; returns the root: the best key of all (0: none). */
export function buildTournament(tree: usize, n: i32): u64 {
  for (let i = n - 1; i >= 1; i--) {
    const left = load<u64>(nodeAt(tree, 2 * i)), right = load<u64>(nodeAt(tree, 2 * i + 1));
    store<u64>(nodeAt(tree, i), select<u64>(left, right, left > right));
  }
  return load<u64>(tree);
}

/**
 * Sets the leaf of `list` to `key` (its new best, 0: now empty) and replays the matches on its
 * path to the root; returns the new root. Branch-free per level: which side wins is data.
 */
// @ts-ignore: decorator
@inline
export function replayTournament(tree: usize, n: i32, list: i32, key: u64): u64 {
  let i = n + list;
  store<u64>(nodeAt(tree, i), key);
  while (i > 1) {
    const other = load<u64>(nodeAt(tree, i ^ 1));
    key = select<u64>(key, other, key > other);
    i >>= 1;
    store<u64>(nodeAt(tree, i), key);
  }
  return key;
}

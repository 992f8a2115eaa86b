// The tournament of list heads: hand-made trees, then whole merges checked against a sort.

import { buildTournament, replayTournament, setLeaf } from "../tournament";
import { Rng, ptr } from "./helpers";

/** A tree of `n` lists: 2n − 1 nodes. */
function treeOf(leaves: u64[]): StaticArray<u64> {
  const n = leaves.length;
  const tree = new StaticArray<u64>(2 * n - 1);
  for (let list = 0; list < n; list++) setLeaf(ptr(tree), n, list, leaves[list]);
  return tree;
}

describe("buildTournament", () => {
  it("crowns the best leaf of three (node 1 = max(node 2 = max(leaf 1, leaf 2), leaf 0))", () => {
    const tree = treeOf([5, 9, 0]);
    expect<u64>(buildTournament(ptr(tree), 3)).toBe(9, "the best of 5, 9 and an empty list");
    expect<u64>(tree[1]).toBe(9, "node 2 holds the better of lists 1 and 2");
    expect<u64>(tree[0]).toBe(9, "node 1, the root, is stored first");
  });

  it("gives 0 when every list is empty, and the leaf itself for one list", () => {
    expect<u64>(buildTournament(ptr(treeOf([0, 0, 0, 0, 0])), 5)).toBe(0, "no list has a key");
    expect<u64>(buildTournament(ptr(treeOf([42])), 1)).toBe(42, "one list: its leaf is the root");
  });
});

describe("replayTournament", () => {
  it("lets the next best list win when the leader's head falls", () => {
    const tree = treeOf([5, 9, 0]);
    buildTournament(ptr(tree), 3);
    expect<u64>(replayTournament(ptr(tree), 3, 1, 4)).toBe(5, "list 1 now offers 4: list 0's 5 wins");
    expect<u64>(replayTournament(ptr(tree), 3, 0, 0)).toBe(4, "list 0 is empty: list 1's 4 wins");
    expect<u64>(replayTournament(ptr(tree), 3, 1, 0)).toBe(0, "every list is empty");
    expect<u64>(replayTournament(ptr(tree), 3, 2, 7)).toBe(7, "a list may come back");
  });

  it("merges n sorted lists into one descending sequence, for n = 1 … 21 and 81 (powers of two or not)", () => {
    const sizes: i32[] = [1, 2, 3, 4, 5, 7, 8, 13, 20, 21, 81];
    const rng = new Rng(20261203);
    for (let s = 0; s < sizes.length; s++) {
      const n = sizes[s];
      // list l holds keys (value << 8) | l with values descending: unique keys whose list is the low byte
      const lists = new Array<u64[]>(n);
      const all = new Array<u64>();
      for (let l = 0; l < n; l++) {
        const length = rng.below(12); // some lists are empty
        const keys = new Array<u64>(length);
        let value: u64 = 1000;
        for (let j = 0; j < length; j++) {
          value -= 1 + <u64>rng.below(60);
          keys[j] = (value << 8) | <u64>l;
          all.push(keys[j]);
        }
        lists[l] = keys;
      }
      all.sort((a: u64, b: u64): i32 => (a < b ? 1 : a > b ? -1 : 0));
      const tree = new StaticArray<u64>(2 * n - 1);
      for (let l = 0; l < n; l++) setLeaf(ptr(tree), n, l, lists[l].length > 0 ? lists[l][0] : 0);
      const next = new Array<i32>(n).fill(1);
      let key = buildTournament(ptr(tree), n);
      for (let i = 0; i < all.length; i++) {
        expect<u64>(key).toBe(all[i], "key " + i.toString() + " of the merge of " + n.toString() + " lists");
        const l = <i32>(key & 0xFF), at = next[l]++;
        key = replayTournament(ptr(tree), n, l, at < lists[l].length ? lists[l][at] : 0);
      }
      expect<u64>(key).toBe(0, "after the last key of " + n.toString() + " lists");
    }
  });
});

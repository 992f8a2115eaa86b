// Candidate keys: u64 order = detection rank (score, then lower prior, then lower class).

import { candidateKey, candidateKeyWithScore, keyCode, keyScore } from "../keys";
import { bits } from "./helpers";

const NUM_CLASSES = 21;

describe("candidateKey ordering", () => {
  it("ranks a higher score first, whatever the prior and class", () => {
    // 0.6 beats 0.5 although its prior (900) and class (20) would lose every tie
    const strong = candidateKey(0.6, 900, 20, NUM_CLASSES);
    const weak = candidateKey(0.5, 0, 1, NUM_CLASSES);
    expect<bool>(strong > weak).toBe(true, "the score sits in the high 32 bits");
  });

  it("ranks a lower score second even with the best possible tie-breakers", () => {
    const weak = candidateKey(0.5, 0, 1, NUM_CLASSES);
    const strong = candidateKey(0.6, 900, 20, NUM_CLASSES);
    expect<bool>(weak < strong).toBe(true, "tie-breakers never outweigh the score");
  });

  it("separates adjacent f32 scores", () => {
    const s: f32 = 0.3;
    const next = reinterpret<f32>(reinterpret<u32>(s) + 1);
    expect<bool>(candidateKey(next, 5, 1, NUM_CLASSES) > candidateKey(s, 0, 1, NUM_CLASSES)).toBe(
      true, "positive f32 bit patterns order like their values, down to one ulp"
    );
  });

  it("on equal scores ranks the lower prior index first", () => {
    // codes 3·21 + 7 = 70 and 4·21 + 2 = 86; ~70 > ~86
    expect<bool>(candidateKey(0.5, 3, 7, NUM_CLASSES) > candidateKey(0.5, 4, 2, NUM_CLASSES)).toBe(
      true, "the low bits hold ~code, so a smaller code is a larger key"
    );
  });

  it("on equal scores ranks the higher prior index second", () => {
    expect<bool>(candidateKey(0.5, 4, 2, NUM_CLASSES) < candidateKey(0.5, 3, 7, NUM_CLASSES)).toBe(
      true, "prior 4 loses to prior 3 at the same score"
    );
  });

  it("on equal scores and prior ranks the lower class first", () => {
    expect<bool>(candidateKey(0.5, 3, 2, NUM_CLASSES) > candidateKey(0.5, 3, 7, NUM_CLASSES)).toBe(
      true, "class 2 beats class 7 on the same prior"
    );
  });

  it("gives the same candidate the same key, and different candidates different keys", () => {
    expect<u64>(candidateKey(0.5, 3, 2, NUM_CLASSES)).toBe(candidateKey(0.5, 3, 2, NUM_CLASSES), "keys are pure");
    expect<u64>(candidateKey(0.5, 3, 2, NUM_CLASSES)).not.toBe(candidateKey(0.5, 2, 3, NUM_CLASSES), "3·21+2 ≠ 2·21+3");
  });

  it("is never 0 for a score > 0 (0 marks a removed entry)", () => {
    // the smallest positive f32 (denormal 2^-149) still sets a high bit
    expect<u64>(candidateKey(reinterpret<f32>(1), 0, 0, NUM_CLASSES)).toBeGreaterThan(0, "score bits ≠ 0");
    // and even a 0 score with code 0xFFFFFFFF would need priorIndex·C + c = 2^32 − 1
    expect<u64>(candidateKey(0, 0, 0, NUM_CLASSES)).toBeGreaterThan(0, "~0 fills the low bits");
  });
});

describe("keyScore / keyCode", () => {
  it("round-trip the score bits and priorIndex·numClasses + classId", () => {
    const key = candidateKey(0.734, 8731, 20, NUM_CLASSES);
    expect<u32>(bits(keyScore(key))).toBe(bits(<f32>0.734), "the score is stored bit for bit");
    expect<u32>(keyCode(key)).toBe(8731 * 21 + 20, "code = 183 371 for the last SSD300 prior, class 20");
    expect<u32>(keyCode(key) / NUM_CLASSES).toBe(8731, "code / C recovers the prior index");
    expect<u32>(keyCode(key) % NUM_CLASSES).toBe(20, "code % C recovers the class");
  });

  it("keep the code of prior 0, class 0 distinct from a removed (0) key", () => {
    const key = candidateKey(0.25, 0, 0, NUM_CLASSES);
    expect<u32>(keyCode(key)).toBe(0, "code 0 is a real candidate");
    expect<u64>(key).not.toBe(0, "but its key is not 0: the low word is ~0");
  });
});

describe("candidateKeyWithScore", () => {
  it("replaces the score and keeps the code", () => {
    const key = candidateKey(0.9, 12, 5, NUM_CLASSES);
    const decayed = candidateKeyWithScore(0.4, key);
    expect<u32>(keyCode(decayed)).toBe(12 * 21 + 5, "the candidate's identity is unchanged");
    expect<u32>(bits(keyScore(decayed))).toBe(bits(<f32>0.4), "the new score is in the high word");
    expect<u64>(decayed).toBe(candidateKey(0.4, 12, 5, NUM_CLASSES), "identical to a freshly made key");
  });

  it("makes a key that ranks by the new score, not the old one", () => {
    const a = candidateKeyWithScore(0.4, candidateKey(0.9, 0, 1, NUM_CLASSES));
    const b = candidateKey(0.5, 7, 1, NUM_CLASSES);
    expect<bool>(a < b).toBe(true, "a decayed 0.9 → 0.4 ranks below an untouched 0.5");
  });
});

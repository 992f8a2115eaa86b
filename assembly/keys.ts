// Candidate keys: one u64 per (prior, class, score) that sorts the way detections rank.
//
//   high 32 bits: the f32 bits of the score. Scores that pass a threshold ≥ 0 are > 0, and
//                 positive f32 bit patterns order like the numbers they encode.
//   low 32 bits:  ~(priorIndex · numClasses + classId): on equal scores the lower prior index,
//                 then the lower class, ranks first (the stated tie rule).
// A key is never 0 (its score is > 0), so 0 marks a removed entry.

// @ts-ignore: decorator
@inline
export function candidateKey(score: f32, priorIndex: i32, classId: i32, numClasses: i32): u64 {
  return (<u64>reinterpret<u32>(score) << 32) | <u64>(~(<u32>(priorIndex * numClasses + classId)));
}

/** The same candidate with another score. */
// @ts-ignore: decorator
@inline
export function candidateKeyWithScore(score: f32, key: u64): u64 {
  return (<u64>reinterpret<u32>(score) << 32) | (key & 0xFFFFFFFF);
}

// @ts-ignore: decorator
@inline
export function keyScore(key: u64): f32 {
  return reinterpret<f32>(<u32>(key >>> 32));
}

/** priorIndex · numClasses + classId. */
// @ts-ignore: decorator
@inline
export function keyCode(key: u64): u32 {
  return ~<u32>key;
}

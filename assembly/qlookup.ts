// A uint8 → uint8 table applied element by element: TFLite's uint8 LOGISTIC (and any other
// unary op TFLite evaluates through a 256-entry table). The host builds the table
// (logisticTable in src/convert/tflite/arithmetic.ts).
//
// Memory contract: x and out hold `num` bytes (out may alias x); tablePtr holds 256 bytes.
// One scalar loop in both builds: a table lookup has no plain-SIMD form cheaper than this.

/** out[i] = table[x[i]] for i < num. */
export function qlookup(xPtr: usize, num: i32, tablePtr: usize, outPtr: usize): void {
  for (let i = 0; i < num; i++) {
    store<u8>(outPtr + <usize>i, load<u8>(tablePtr + <usize>load<u8>(xPtr + <usize>i)));
  }
}

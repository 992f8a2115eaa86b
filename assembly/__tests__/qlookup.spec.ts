// qlookup: a 256-entry uint8 table (TFLite's LOGISTIC) applied byte by byte.

import { qlookup } from "../qlookup";
import { listU8, ptr, u8s } from "./helpers";

describe("qlookup", () => {
  it("maps each byte through the table (here 255 − q), in place as well", () => {
    const table = new Array<i32>(256);
    for (let q = 0; q < 256; q++) table[q] = 255 - q;
    const x = u8s([0, 1, 128, 254, 255]);
    const out = u8s([0, 0, 0, 0, 0]);
    qlookup(ptr(x), 5, ptr(u8s(table)), ptr(out));
    expect<string>(listU8(out, 5)).toBe("255,254,127,1,0", "255 − q");
    qlookup(ptr(x), 5, ptr(u8s(table)), ptr(x));
    expect<string>(listU8(x, 5)).toBe("255,254,127,1,0", "out may alias x");
  });
});

/**
 * A wasm binary's structure, read without compiling it (the relaxed-SIMD build does not compile
 * on an engine without relaxed SIMD): its sections, and how many parameters each exported
 * function takes. Binary format: https://webassembly.github.io/spec/core/binary/modules.html
 */

/** One section: its id and where its contents lie in the binary. */
export interface WasmSection {
  id: number;
  start: number;
  end: number;
}

/** An unsigned LEB128 at `at`: its value and the offset after it. */
function uleb(bytes: Uint8Array, at: number): [number, number] {
  let value = 0,
    shift = 0,
    byte: number;
  do {
    byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}

/** The sections of a wasm binary, in order. */
export function wasmSections(bytes: Uint8Array): WasmSection[] {
  const sections: WasmSection[] = [];
  for (let at = 8; at < bytes.length;) {
    const id = bytes[at];
    const [size, start] = uleb(bytes, at + 1);
    sections.push({ id, start, end: start + size });
    at = start + size;
  }
  return sections;
}

/** The number of parameters of every exported function, by export name. */
export function exportedArities(bytes: Uint8Array): Map<string, number> {
  const text = new TextDecoder();
  const typeParams: number[] = []; // by type index
  const funcTypes: number[] = []; // by function index: imported functions first
  const arities = new Map<string, number>();
  for (const { id, start } of wasmSections(bytes)) {
    const [count, first] = uleb(bytes, start);
    let at = first;
    const name = (): string => {
      const [length, from] = uleb(bytes, at);
      at = from + length;
      return text.decode(bytes.subarray(from, at));
    };
    const limits = (): void => {
      const flags = bytes[at++];
      [, at] = uleb(bytes, at); // minimum
      if (flags & 1) [, at] = uleb(bytes, at); // maximum
    };
    for (let i = 0; i < count; i++) {
      if (id === 1) {
        if (bytes[at++] !== 0x60) throw new Error(`type ${i} is not a function type`);
        let params: number, results: number;
        [params, at] = uleb(bytes, at);
        at += params; // one byte a number or vector type
        [results, at] = uleb(bytes, at);
        at += results;
        typeParams.push(params);
      } else if (id === 2) {
        name();
        name();
        const kind = bytes[at++];
        if (kind === 0) {
          let type: number;
          [type, at] = uleb(bytes, at);
          funcTypes.push(type);
        } else if (kind === 1) {
          at++; // reference type
          limits();
        } else if (kind === 2) limits();
        else if (kind === 3)
          at += 2; // value type, mutability
        else throw new Error(`import ${i} has kind ${kind}`);
      } else if (id === 3) {
        let type: number;
        [type, at] = uleb(bytes, at);
        funcTypes.push(type);
      } else if (id === 7) {
        const exported = name();
        const kind = bytes[at++];
        let index: number;
        [index, at] = uleb(bytes, at);
        if (kind === 0) arities.set(exported, typeParams[funcTypes[index]]);
      } else break;
    }
  }
  return arities;
}

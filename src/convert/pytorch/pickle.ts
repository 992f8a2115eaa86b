/**
 * A pickle reader (protocols 2–5) that understands PyTorch state dicts and nothing more. It
 * never executes anything: the handful of globals a state dict needs are re-implemented here
 * (an OrderedDict is a Map, `_rebuild_tensor_v2` makes a TorchTensor), every other global and
 * every opcode a state dict never uses is refused with its name, before anything is built.
 *
 * Values: None → null; bool; int → number (bigint beyond 2^53); float → number; str → string;
 * bytes → Uint8Array; list and tuple → array; dict and OrderedDict → Map; tensors → TorchTensor.
 * see: CPython Lib/pickletools.py (opcode table), Lib/pickle.py (_Unpickler);
 *      torch/_utils.py (_rebuild_tensor_v2), torch/serialization.py (persistent ids)
 */
import { PthFormatError, UnsafePickleError } from './errors.js';
import { STORAGE_DTYPES, TorchTensor, type TorchDtype, type TorchStorage } from './tensor.js';

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | Map<PickleValue, PickleValue>
  | TorchTensor
  | TorchStorage
  | TorchStorageType
  | AllowedGlobal;

/** A `torch.FloatStorage`-like global: only ever an argument of a persistent id. */
export class TorchStorageType {
  constructor(
    readonly name: string,
    readonly dtype: TorchDtype,
  ) {}
}

/** One of the callables of ALLOWED_GLOBALS, re-implemented; REDUCE applies it. */
export class AllowedGlobal {
  constructor(
    readonly qualifiedName: string,
    readonly apply: (args: PickleValue[]) => PickleValue,
  ) {}
}

/** Resolves a persistent id (BINPERSID), e.g. ('storage', torch.FloatStorage, '0', 'cpu', 4). */
export type PersistentLoad = (pid: PickleValue) => PickleValue;

function ordinal(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new PthFormatError(`pickle: ${what} is ${String(value)}; a non-negative integer is needed`);
  }
  return value;
}

function ordinals(value: unknown, what: string): number[] {
  if (!Array.isArray(value)) throw new PthFormatError(`pickle: ${what} is not a tuple`);
  return value.map((v, i) => ordinal(v, `${what}[${i}]`));
}

function rebuildTensor(name: string, args: PickleValue[], min: number, max: number): TorchTensor {
  if (args.length < min || args.length > max)
    throw new PthFormatError(`pickle: ${name} takes ${min}–${max} arguments, got ${args.length}`);
  const [storage, offset, size, stride] = args;
  if (!(storage && typeof storage === 'object' && 'kind' in storage && storage.kind === 'storage')) {
    throw new PthFormatError(`pickle: ${name}'s first argument is not a storage`);
  }
  return new TorchTensor(
    storage,
    ordinal(offset, `${name} storage offset`),
    ordinals(size, `${name} size`),
    ordinals(stride, `${name} stride`),
  );
}

/** The only globals a state dict may name, by 'module.name'. */
const ALLOWED = new Map<string, AllowedGlobal | TorchStorageType>([
  [
    'collections.OrderedDict',
    new AllowedGlobal('collections.OrderedDict', (args) => {
      const map = new Map<PickleValue, PickleValue>();
      // OrderedDict() or OrderedDict([(key, value), ...])
      if (args.length > 1)
        throw new PthFormatError(`pickle: collections.OrderedDict takes at most 1 argument, got ${args.length}`);
      for (const pair of (args[0] as PickleValue[] | undefined) ?? []) {
        if (!Array.isArray(pair) || pair.length !== 2)
          throw new PthFormatError('pickle: collections.OrderedDict items must be (key, value) pairs');
        map.set(pair[0], pair[1]);
      }
      return map;
    }),
  ],
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  [
    'torch._utils._rebuild_tensor_v2',
    new AllowedGlobal('torch._utils._rebuild_tensor_v2', (args) => rebuildTensor('_rebuild_tensor_v2', args, 6, 7)),
  ],
  // PyTorch before 1.0: (storage, storage_offset, size, stride)
  [
    'torch._utils._rebuild_tensor',
    new AllowedGlobal('torch._utils._rebuild_tensor', (args) => rebuildTensor('_rebuild_tensor', args, 4, 4)),
  ],
  // (data, requires_grad, backward_hooks): an nn.Parameter is its tensor here.
  [
    'torch._utils._rebuild_parameter',
    new AllowedGlobal('torch._utils._rebuild_parameter', (args) => {
      if (!(args[0] instanceof TorchTensor))
        throw new PthFormatError("pickle: _rebuild_parameter's first argument is not a tensor");
      return args[0];
    }),
  ],
  ...Object.entries(STORAGE_DTYPES).map(
    ([name, dtype]) => [`torch.${name}`, new TorchStorageType(name, dtype)] as const,
  ),
]);

export const ALLOWED_GLOBALS: readonly string[] = [...ALLOWED.keys()];

/** Every opcode of protocols 0–5 by byte, for the refusal messages. see: Lib/pickletools.py */
const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK',
  0x2e: 'STOP',
  0x30: 'POP',
  0x31: 'POP_MARK',
  0x32: 'DUP',
  0x46: 'FLOAT',
  0x49: 'INT',
  0x4a: 'BININT',
  0x4b: 'BININT1',
  0x4c: 'LONG',
  0x4d: 'BININT2',
  0x4e: 'NONE',
  0x50: 'PERSID',
  0x51: 'BINPERSID',
  0x52: 'REDUCE',
  0x53: 'STRING',
  0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE',
  0x58: 'BINUNICODE',
  0x61: 'APPEND',
  0x62: 'BUILD',
  0x63: 'GLOBAL',
  0x64: 'DICT',
  0x7d: 'EMPTY_DICT',
  0x65: 'APPENDS',
  0x67: 'GET',
  0x68: 'BINGET',
  0x69: 'INST',
  0x6a: 'LONG_BINGET',
  0x6c: 'LIST',
  0x5d: 'EMPTY_LIST',
  0x6f: 'OBJ',
  0x70: 'PUT',
  0x71: 'BINPUT',
  0x72: 'LONG_BINPUT',
  0x73: 'SETITEM',
  0x74: 'TUPLE',
  0x29: 'EMPTY_TUPLE',
  0x75: 'SETITEMS',
  0x47: 'BINFLOAT',
  0x80: 'PROTO',
  0x81: 'NEWOBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x85: 'TUPLE1',
  0x86: 'TUPLE2',
  0x87: 'TUPLE3',
  0x88: 'NEWTRUE',
  0x89: 'NEWFALSE',
  0x8a: 'LONG1',
  0x8b: 'LONG4',
  0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE',
  0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL',
  0x94: 'MEMOIZE',
  0x95: 'FRAME',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

export interface UnpickleResult {
  value: PickleValue;
  /** Offset just past the STOP opcode: the next pickle of a legacy stream starts here. */
  end: number;
}

/**
 * Reads one pickle from `bytes` at `offset`. `persistentLoad` resolves BINPERSID ids (storages);
 * without it a persistent id is refused.
 */
export function unpickle(bytes: Uint8Array, offset = 0, persistentLoad?: PersistentLoad): UnpickleResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue>();
  let at = offset;

  const need = (n: number, what: string) => {
    if (at + n > bytes.length)
      throw new PthFormatError(`pickle: truncated: ${what} at byte ${at} needs ${n} bytes, ${bytes.length - at} left`);
  };
  const take = (n: number, what: string) => {
    need(n, what);
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  const u8 = () => {
    need(1, 'an argument');
    return bytes[at++];
  };
  const u16 = () => {
    need(2, 'an argument');
    const v = view.getUint16(at, true);
    at += 2;
    return v;
  };
  const u32 = () => {
    need(4, 'an argument');
    const v = view.getUint32(at, true);
    at += 4;
    return v;
  };
  const i32 = () => {
    need(4, 'an argument');
    const v = view.getInt32(at, true);
    at += 4;
    return v;
  };
  const u64 = () => {
    need(8, 'an argument');
    const v = view.getBigUint64(at, true);
    at += 8;
    if (v > BigInt(bytes.length))
      throw new PthFormatError(`pickle: truncated: a length of ${v} bytes at byte ${at - 8} runs past the end`);
    return Number(v);
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) throw new PthFormatError(`pickle: truncated: a line at byte ${at} has no end`);
    const text = latin1.decode(bytes.subarray(at, end));
    at = end + 1;
    return text;
  };
  const text = (n: number) => {
    try {
      return utf8.decode(take(n, 'a string'));
    } catch (e) {
      if (e instanceof PthFormatError) throw e;
      throw new PthFormatError(`pickle: a string at byte ${at - n} is not valid UTF-8`);
    }
  };
  const pop = (): PickleValue => {
    const value = stack.pop();
    if (value === undefined || value === MARK) throw new PthFormatError(`pickle: stack underflow at byte ${at - 1}`);
    return value;
  };
  const top = (): PickleValue => {
    const value = stack[stack.length - 1];
    if (value === undefined || value === MARK) throw new PthFormatError(`pickle: stack underflow at byte ${at - 1}`);
    return value;
  };
  const popMark = (): PickleValue[] => {
    const mark = stack.lastIndexOf(MARK);
    if (mark < 0) throw new PthFormatError(`pickle: no MARK for the opcode at byte ${at - 1}`);
    const items = stack.splice(mark) as PickleValue[];
    items.shift();
    return items;
  };
  const asMap = (value: PickleValue, opcode: string): Map<PickleValue, PickleValue> => {
    if (!(value instanceof Map))
      throw new PthFormatError(`pickle: ${opcode} at byte ${at - 1} on something that is not a dict`);
    return value;
  };
  const asList = (value: PickleValue, opcode: string): PickleValue[] => {
    if (!Array.isArray(value))
      throw new PthFormatError(`pickle: ${opcode} at byte ${at - 1} on something that is not a list`);
    return value;
  };
  const global = (module: string, name: string): PickleValue => {
    const qualified = `${module}.${name}`;
    const allowed = ALLOWED.get(qualified);
    if (!allowed) {
      throw new UnsafePickleError(
        `pickle: global '${qualified}' (at byte ${at}) is refused: a state dict only needs ` +
          `collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_tensor / _rebuild_parameter and torch.*Storage; ` +
          `nothing in a checkpoint is ever executed`,
      );
    }
    return allowed;
  };
  const long = (raw: Uint8Array): number | bigint => {
    if (raw.length === 0) return 0;
    let value = 0n;
    for (let i = raw.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]);
    if (raw[raw.length - 1] & 0x80) value -= 1n << BigInt(raw.length * 8);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  };

  for (;;) {
    const start = at;
    const op = u8();
    switch (op) {
      case 0x80: {
        // PROTO
        const protocol = u8();
        if (protocol < 2 || protocol > 5)
          throw new PthFormatError(`pickle: protocol ${protocol} at byte ${start}; this reader reads protocols 2–5`);
        break;
      }
      case 0x95:
        u64();
        break; // FRAME: a length hint only
      case 0x2e: {
        // STOP
        const value = pop();
        if (stack.length)
          throw new PthFormatError(`pickle: ${stack.length} values left on the stack at STOP (byte ${start})`);
        return { value, end: at };
      }
      case 0x28:
        stack.push(MARK);
        break;
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE
      case 0x74:
        stack.push(popMark());
        break; // TUPLE
      case 0x6c:
        stack.push(popMark());
        break; // LIST
      case 0x64: {
        // DICT
        const items = popMark();
        const map = new Map<PickleValue, PickleValue>();
        for (let i = 0; i + 1 < items.length; i += 2) map.set(items[i], items[i + 1]);
        stack.push(map);
        break;
      }
      case 0x85:
        stack.push([pop()]);
        break; // TUPLE1
      case 0x86: {
        const b = pop(),
          a = pop();
        stack.push([a, b]);
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop(),
          b = pop(),
          a = pop();
        stack.push([a, b, c]);
        break;
      } // TUPLE3
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68:
      case 0x6a: {
        // BINGET, LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key))
          throw new PthFormatError(`pickle: memo entry ${key} read before it was written (byte ${start})`);
        stack.push(memo.get(key)!);
        break;
      }
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4a:
        stack.push(i32());
        break; // BININT
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(u16());
        break; // BININT2
      case 0x8a:
        stack.push(long(take(u8(), 'a LONG1')));
        break;
      case 0x8b: {
        const n = i32();
        if (n < 0) throw new PthFormatError(`pickle: LONG4 of negative length at byte ${start}`);
        stack.push(long(take(n, 'a LONG4')));
        break;
      }
      case 0x47: {
        need(8, 'a float');
        stack.push(view.getFloat64(at, false));
        at += 8;
        break;
      } // BINFLOAT, big-endian
      case 0x8c:
        stack.push(text(u8()));
        break; // SHORT_BINUNICODE
      case 0x58:
        stack.push(text(u32()));
        break; // BINUNICODE
      case 0x8d:
        stack.push(text(u64()));
        break; // BINUNICODE8
      case 0x55:
        stack.push(latin1.decode(take(u8(), 'a string')));
        break; // SHORT_BINSTRING (Python 2 str)
      case 0x54: {
        const n = i32();
        if (n < 0) throw new PthFormatError(`pickle: BINSTRING of negative length at byte ${start}`);
        stack.push(latin1.decode(take(n, 'a string')));
        break;
      }
      case 0x43:
        stack.push(take(u8(), 'bytes').slice());
        break; // SHORT_BINBYTES
      case 0x42:
        stack.push(take(u32(), 'bytes').slice());
        break; // BINBYTES
      case 0x8e:
        stack.push(take(u64(), 'bytes').slice());
        break; // BINBYTES8
      case 0x63: {
        const module = line();
        stack.push(global(module, line()));
        break;
      } // GLOBAL
      case 0x93: {
        // STACK_GLOBAL
        const name = pop(),
          module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          throw new PthFormatError(`pickle: STACK_GLOBAL at byte ${start} without two strings`);
        stack.push(global(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop(),
          callable = pop();
        if (!(callable instanceof AllowedGlobal)) {
          const what = callable instanceof TorchStorageType ? `torch.${callable.name}` : describe(callable);
          throw new UnsafePickleError(
            `pickle: REDUCE (at byte ${start}) calls ${what}, which is not a callable this reader allows ` +
              `(${[...ALLOWED.values()]
                .filter((g) => g instanceof AllowedGlobal)
                .map((g) => (g as AllowedGlobal).qualifiedName)
                .join(', ')})`,
          );
        }
        if (!Array.isArray(args))
          throw new PthFormatError(`pickle: REDUCE at byte ${start}: the arguments are not a tuple`);
        stack.push(callable.apply(args));
        break;
      }
      case 0x62: {
        // BUILD: only an OrderedDict's state ({'_metadata': ...}) is accepted, and ignored
        const state = pop(),
          target = top();
        if (!(target instanceof Map) || !(state instanceof Map || state === null)) {
          throw new UnsafePickleError(
            `pickle: BUILD (at byte ${start}) sets the state of ${describe(target)}; only a dict's attributes are accepted`,
          );
        }
        break;
      }
      case 0x73: {
        const value = pop(),
          key = pop();
        asMap(top(), 'SETITEM').set(key, value);
        break;
      } // SETITEM
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const map = asMap(top(), 'SETITEMS');
        for (let i = 0; i + 1 < items.length; i += 2) map.set(items[i], items[i + 1]);
        break;
      }
      case 0x61: {
        const value = pop();
        asList(top(), 'APPEND').push(value);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        asList(top(), 'APPENDS').push(...items);
        break;
      } // APPENDS
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!persistentLoad)
          throw new UnsafePickleError(`pickle: a persistent id (BINPERSID at byte ${start}) where none is expected`);
        stack.push(persistentLoad(pid));
        break;
      }
      default: {
        const name = OPCODE_NAMES[op];
        if (name === undefined)
          throw new PthFormatError(
            `pickle: byte 0x${op.toString(16).padStart(2, '0')} at ${start} is not a pickle opcode`,
          );
        throw new UnsafePickleError(
          `pickle: opcode ${name} (at byte ${start}) is refused: a state dict never needs it`,
        );
      }
    }
  }
}

function describe(value: PickleValue | undefined): string {
  if (value === null) return 'None';
  if (value instanceof Map) return 'a dict';
  if (Array.isArray(value)) return 'a tuple or list';
  if (value instanceof TorchTensor) return 'a tensor';
  if (value instanceof Uint8Array) return 'bytes';
  return typeof value === 'object' ? 'an object' : `a ${typeof value} (${String(value)})`;
}

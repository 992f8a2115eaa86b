/**
 * PyTorch checkpoints (`.pth`, `.pt`) in both of torch.save's formats, read without PyTorch:
 *
 * - zip (PyTorch ≥ 1.6): `<prefix>/data.pkl` is the pickled object; each storage is the record
 *   `<prefix>/data/<key>`, raw little-endian elements; persistent ids are
 *   ('storage', torch.FloatStorage, key, location, numel).
 * - legacy (`_use_new_zipfile_serialization=False`, and every file before 1.6): five things in a
 *   row: the pickled magic number 0x1950a86a20f9469cfc6c, the protocol version 1001, a sys-info
 *   dict, the pickled object (persistent ids ('storage', type, root key, location, numel,
 *   view metadata)), the pickled list of storage keys; then for each key an int64 element count
 *   and the storage's raw bytes.
 *
 * Storages saved on a GPU ('cuda:0') are plain bytes here: everything loads on the CPU.
 * see: torch/serialization.py (_save, _legacy_save, _load, _legacy_load)
 */
import { PthFormatError } from './errors.js';
import { unpickle, TorchStorageType, type PickleValue } from './pickle.js';
import { ELEMENT_SIZE, TorchTensor, type TorchStorage } from './tensor.js';
import { isZip, ZipArchive } from './zip.js';

export type PthFormat = 'zip' | 'legacy';

/** The magic number of the legacy format, as its pickle (PROTO 2, LONG1 of 10 bytes) starts. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL_VERSION = 1001;
const LEGACY_HEAD = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/** Whether the bytes start like a legacy torch.save stream. */
export function isLegacyPth(bytes: Uint8Array): boolean {
  return bytes.length >= LEGACY_HEAD.length && LEGACY_HEAD.every((b, i) => bytes[i] === b);
}

/** Whether the bytes look like a PyTorch checkpoint (a zip archive, or the legacy stream). */
export function isPth(bytes: Uint8Array): boolean {
  return isZip(bytes) || isLegacyPth(bytes);
}

export interface PthCheckpoint {
  format: PthFormat;
  /** The pickled object as saved (a state dict, or a dict holding one). */
  root: PickleValue;
  /** Where storages were saved ('cpu', 'cuda:0', ...), each once. */
  locations: string[];
}

function storageFromPid(
  pid: PickleValue,
  legacy: boolean,
): { storage: TorchStorage; view?: { key: string; offset: number; numel: number } } {
  const shape = legacy ? "('storage', type, key, location, numel, view)" : "('storage', type, key, location, numel)";
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length !== (legacy ? 6 : 5)) {
    throw new PthFormatError(`pickle: a persistent id is not ${shape}`);
  }
  const [, type, key, location, numel] = pid;
  if (!(type instanceof TorchStorageType)) throw new PthFormatError(`pickle: a storage's type is not a torch.*Storage`);
  if (
    typeof key !== 'string' ||
    typeof location !== 'string' ||
    typeof numel !== 'number' ||
    !Number.isSafeInteger(numel) ||
    numel < 0
  ) {
    throw new PthFormatError(`pickle: a persistent id is not ${shape}`);
  }
  const storage: TorchStorage = { kind: 'storage', key, dtype: type.dtype, numel, location };
  const view = legacy ? pid[5] : null;
  if (view === null) return { storage };
  if (
    !Array.isArray(view) ||
    view.length !== 3 ||
    typeof view[0] !== 'string' ||
    typeof view[1] !== 'number' ||
    typeof view[2] !== 'number'
  ) {
    throw new PthFormatError(`pickle: storage '${key}' has view metadata that is not (key, offset, size)`);
  }
  return { storage, view: { key: view[0], offset: view[1], numel: view[2] } };
}

function readZip(bytes: Uint8Array): PthCheckpoint {
  const zip = new ZipArchive(bytes);
  const pickleName = [...zip.entries.keys()].find((name) => name === 'data.pkl' || name.endsWith('/data.pkl'));
  if (pickleName === undefined) {
    const names = [...zip.entries.keys()];
    throw new PthFormatError(
      `a zip archive without data.pkl is not a PyTorch checkpoint (entries: ${names.slice(0, 8).join(', ')}` +
        `${names.length > 8 ? ', …' : ''}); TorchScript and other archives are not read`,
    );
  }
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  if (zip.entries.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
    if (order !== 'little')
      throw new PthFormatError(`the checkpoint's storages are ${order}-endian; only little-endian is read`);
  }
  const storages = new Map<string, TorchStorage>();
  const locations = new Set<string>();
  const { value } = unpickle(zip.read(pickleName), 0, (pid) => {
    const { storage } = storageFromPid(pid, false);
    const known = storages.get(storage.key);
    if (known) return known;
    const record = `${prefix}data/${storage.key}`;
    if (!zip.entries.has(record))
      throw new PthFormatError(`storage '${storage.key}' has no record '${record}' in the archive (a truncated file?)`);
    const data = zip.read(record);
    const needed = storage.numel * ELEMENT_SIZE[storage.dtype];
    if (data.length < needed)
      throw new PthFormatError(
        `storage '${storage.key}' has ${data.length} bytes; ${storage.numel} ${storage.dtype} elements need ${needed}`,
      );
    storage.bytes = data;
    storages.set(storage.key, storage);
    locations.add(storage.location);
    return storage;
  });
  return { format: 'zip', root: value, locations: [...locations] };
}

function readLegacy(bytes: Uint8Array): PthCheckpoint {
  const magic = unpickle(bytes, 0);
  if (magic.value !== LEGACY_MAGIC) throw new PthFormatError('not a legacy PyTorch checkpoint: wrong magic number');
  const protocol = unpickle(bytes, magic.end);
  if (protocol.value !== LEGACY_PROTOCOL_VERSION)
    throw new PthFormatError(
      `legacy checkpoint protocol version ${String(protocol.value)}; ${LEGACY_PROTOCOL_VERSION} is read`,
    );
  const sysInfo = unpickle(bytes, protocol.end);
  if (sysInfo.value instanceof Map && sysInfo.value.get('little_endian') === false) {
    throw new PthFormatError('the checkpoint was saved on a big-endian machine; only little-endian is read');
  }
  const roots = new Map<string, TorchStorage>();
  const views: { storage: TorchStorage; root: string; offset: number }[] = [];
  const locations = new Set<string>();
  const object = unpickle(bytes, sysInfo.end, (pid) => {
    const { storage, view } = storageFromPid(pid, true);
    locations.add(storage.location);
    let root = roots.get(storage.key);
    if (!root) roots.set(storage.key, (root = storage));
    if (!view) return root;
    const viewed: TorchStorage = {
      kind: 'storage',
      key: view.key,
      dtype: root.dtype,
      numel: view.numel,
      location: root.location,
    };
    views.push({ storage: viewed, root: root.key, offset: view.offset });
    return viewed;
  });
  const keys = unpickle(bytes, object.end);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string'))
    throw new PthFormatError('legacy checkpoint: the storage key list is not a list of strings');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = keys.end;
  for (const key of keys.value as string[]) {
    const storage = roots.get(key);
    if (!storage) throw new PthFormatError(`legacy checkpoint: storage record '${key}' belongs to no tensor`);
    if (at + 8 > bytes.length)
      throw new PthFormatError(`legacy checkpoint: truncated before storage '${key}' (byte ${at} of ${bytes.length})`);
    const numel = Number(view.getBigInt64(at, true));
    if (numel !== storage.numel)
      throw new PthFormatError(
        `legacy checkpoint: storage '${key}' records ${numel} elements; its tensors say ${storage.numel}`,
      );
    const length = numel * ELEMENT_SIZE[storage.dtype];
    at += 8;
    if (at + length > bytes.length) {
      throw new PthFormatError(
        `legacy checkpoint: truncated inside storage '${key}' (${length} bytes at ${at}; the file has ${bytes.length})`,
      );
    }
    storage.bytes = bytes.subarray(at, at + length);
    at += length;
  }
  const missing = [...roots.keys()].filter((key) => !roots.get(key)!.bytes);
  if (missing.length)
    throw new PthFormatError(`legacy checkpoint: no data for storages ${missing.join(', ')} (a truncated file?)`);
  for (const { storage, root, offset } of views) {
    const size = ELEMENT_SIZE[storage.dtype];
    storage.bytes = roots.get(root)!.bytes!.subarray(offset * size, (offset + storage.numel) * size);
  }
  return { format: 'legacy', root: object.value, locations: [...locations] };
}

/** Reads a checkpoint's pickled object; tensors are TorchTensor (values read on demand). */
export function readPth(bytes: Uint8Array): PthCheckpoint {
  if (isZip(bytes)) return readZip(bytes);
  if (isLegacyPth(bytes)) return readLegacy(bytes);
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new PthFormatError(
    `not a PyTorch checkpoint: ${bytes.length} bytes starting ${head || '(empty)'}; ` +
      `torch.save writes a zip archive ('PK') or, in the legacy format, a pickle starting 80 02 8a 0a`,
  );
}

/** Keys under which training scripts nest the model's state dict. */
const NESTING_KEYS = ['state_dict', 'model_state_dict', 'model', 'net', 'network', 'module', 'weights'];

/** A state dict: string keys → tensors (its other entries are ignored). */
export type StateDict = ReadonlyMap<string, TorchTensor>;

/**
 * The state dict inside a checkpoint's object: the object itself when its values are tensors,
 * else the first of NESTING_KEYS that holds one ({'state_dict': ...}, {'model': ...}). A
 * 'module.' prefix on every key (nn.DataParallel) is removed.
 */
export function findStateDict(root: PickleValue): { stateDict: StateDict; path: string[] } {
  const visit = (value: PickleValue, path: string[]): { stateDict: StateDict; path: string[] } | undefined => {
    if (!(value instanceof Map)) return undefined;
    const tensors = [...value].filter(([k, v]) => typeof k === 'string' && v instanceof TorchTensor) as [
      string,
      TorchTensor,
    ][];
    if (tensors.length > 0 && tensors.length >= value.size / 2) {
      const prefixed = tensors.every(([k]) => k.startsWith('module.'));
      return { stateDict: new Map(tensors.map(([k, v]) => [prefixed ? k.slice('module.'.length) : k, v])), path };
    }
    for (const key of NESTING_KEYS) {
      const found = visit(value.get(key) ?? null, [...path, key]);
      if (found) return found;
    }
    return undefined;
  };
  const found = visit(root, []);
  if (found) return found;
  const keys =
    root instanceof Map
      ? [...root.keys()]
          .slice(0, 12)
          .map((k) => JSON.stringify(k))
          .join(', ')
      : 'none (not a dict)';
  throw new PthFormatError(
    `no state dict in the checkpoint: it is not a dict of tensors, nor holds one under ` +
      `${NESTING_KEYS.map((k) => `'${k}'`).join(', ')}; its keys: ${keys}`,
  );
}

/**
 * Where the CLI writes, checked before any work starts: an output never replaces an input, two
 * inputs never share an output, and an output folder that cannot be made or written is an error
 * at once (never a recursive mkdir spinning on a path such as /proc/x).
 */
import { constants } from 'node:fs';
import { access, mkdir, open, realpath, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

type Stats = Awaited<ReturnType<typeof stat>>;

async function statOrUndefined(target: string): Promise<Stats | undefined> {
  try {
    return await stat(target);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

const sameFile = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino;

/**
 * Makes `dir` (and its missing parents, one level at a time, so a path that cannot exist fails
 * on the first level) and checks that a file can be created in it. `what` names the folder in
 * messages (`detect: --out '/proc/x'`).
 */
export async function ensureWritableDir(dir: string, what: string): Promise<void> {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    let info: Stats | undefined;
    try {
      info = await statOrUndefined(current);
    } catch (error) {
      throw new Error(`${what}: cannot use '${current}': ${(error as Error).message}`, { cause: error });
    }
    if (info) {
      if (!info.isDirectory()) throw new Error(`${what}: '${current}' is a file, not a folder`);
      break;
    }
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const level of missing) {
    try {
      await mkdir(level);
    } catch (error) {
      if ((error as { code?: string }).code === 'EEXIST' && (await statOrUndefined(level))?.isDirectory()) continue;
      throw new Error(`${what}: cannot create the folder '${level}': ${(error as Error).message}`, { cause: error });
    }
  }
  await probeWritable(path.resolve(dir), what);
}

/** Creates and removes a file in `dir`: the one check that answers "can we write here" everywhere. */
async function probeWritable(dir: string, what: string): Promise<void> {
  const probe = path.join(dir, `.ssd-edge-write-check-${process.pid}`);
  try {
    await access(dir, constants.W_OK);
    await (await open(probe, 'wx')).close();
  } catch (error) {
    throw new Error(`${what}: cannot write in the folder '${dir}': ${(error as Error).message}`, { cause: error });
  }
  await unlink(probe).catch(() => {});
}

/**
 * The annotated PNG each input image goes to, checked before detecting anything.
 *
 * - One image: `out` is the PNG (or, when `out` is an existing folder, `<out>/<name>.png`); it may
 *   not be the input itself, and its folder must exist and be writable.
 * - A folder of images: `out` is a folder (created if missing) that may not be the input folder;
 *   each image writes `<name>.png`, or `<name>.<ext>.png` where two inputs share a name
 *   (`x.jpg` and `x.png` give `x.jpg.png` and `x.png.png`), so no output replaces another.
 */
export async function planAnnotatedOutputs(
  input: string,
  files: readonly string[],
  isDirectory: boolean,
  out: string,
): Promise<Map<string, string>> {
  const what = `detect: --out '${out}'`;
  const targets = new Map<string, string>();
  if (!isDirectory) {
    const outInfo = await statOrUndefined(out).catch(() => undefined);
    const target = outInfo?.isDirectory() ? path.join(out, `${path.parse(input).name}.png`) : out;
    const targetInfo = target === out ? outInfo : await statOrUndefined(target).catch(() => undefined);
    if (targetInfo && sameFile(targetInfo, await stat(input))) {
      throw new Error(`${what} is the input image '${input}'; the annotated PNG would replace it: give another file`);
    }
    if (targetInfo?.isDirectory()) throw new Error(`${what}: '${target}' is a folder`);
    const folder = path.dirname(path.resolve(target));
    const folderInfo = await statOrUndefined(folder).catch(() => undefined);
    if (!folderInfo?.isDirectory()) throw new Error(`${what}: the folder '${folder}' does not exist`);
    await probeWritable(folder, what);
    targets.set(input, target);
    return targets;
  }

  const outInfo = await statOrUndefined(out).catch(() => undefined);
  if (outInfo?.isDirectory() && (await realpath(out)) === (await realpath(input))) {
    throw new Error(
      `${what} is the input folder; the annotated PNGs would be written over its images: give another folder`,
    );
  }
  await ensureWritableDir(out, what);
  const stems = new Map<string, number>();
  for (const file of files) {
    const stem = path.parse(file).name;
    stems.set(stem, (stems.get(stem) ?? 0) + 1);
  }
  const inputs = await Promise.all(files.map((file) => stat(file)));
  const used = new Map<string, string>();
  for (const [i, file] of files.entries()) {
    const { name, base } = path.parse(file);
    const target = path.join(out, `${stems.get(name)! > 1 ? base : name}.png`);
    const earlier = used.get(target);
    if (earlier !== undefined) throw new Error(`${what}: '${earlier}' and '${file}' would both write '${target}'`);
    used.set(target, file);
    const existing = await statOrUndefined(target).catch(() => undefined);
    const replaced = existing && files.find((_, k) => sameFile(existing, inputs[k]));
    if (replaced) throw new Error(`${what}: the annotated PNG of '${files[i]}' would replace the input '${replaced}'`);
    targets.set(file, target);
  }
  return targets;
}

/**
 * One output file of one input file (detect's annotated video, its JSON lines): `out`, or
 * `<out>/<name><ext>` when `out` is an existing folder. It may not be the input (nor any of
 * `others`, outputs already planned), its folder must exist and be writable; an existing file
 * there is replaced, as detect's PNGs are. `what` names it in messages (`detect: --out 'x.mp4'`).
 */
export async function planOutputFile(
  input: string,
  out: string,
  ext: string,
  what: string,
  others: readonly string[] = [],
): Promise<string> {
  const outInfo = await statOrUndefined(out).catch(() => undefined);
  const target = outInfo?.isDirectory() ? path.join(out, `${path.parse(input).name}${ext}`) : out;
  const targetInfo = target === out ? outInfo : await statOrUndefined(target).catch(() => undefined);
  if (targetInfo && sameFile(targetInfo, await stat(input))) {
    throw new Error(`${what} is the input '${input}'; writing it would replace the input: give another file`);
  }
  if (targetInfo?.isDirectory()) throw new Error(`${what}: '${target}' is a folder`);
  for (const other of others) {
    if (path.resolve(other) === path.resolve(target))
      throw new Error(`${what}: '${target}' is already another output of this run`);
  }
  const folder = path.dirname(path.resolve(target));
  const folderInfo = await statOrUndefined(folder).catch(() => undefined);
  if (!folderInfo?.isDirectory()) throw new Error(`${what}: the folder '${folder}' does not exist`);
  await probeWritable(folder, what);
  return target;
}

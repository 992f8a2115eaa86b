/**
 * Procedural detection dataset in the PASCAL VOC layout, the data the project trains on with
 * nothing downloaded:
 *
 *   <root>/JPEGImages/<id>.jpg            RGB, JPEG quality 90 (sharp, 4:4:4 chroma)
 *   <root>/Annotations/<id>.xml           VOC XML, 1-based inclusive pixel boxes
 *   <root>/ImageSets/Main/trainval.txt    ids train_000001 ...
 *   <root>/ImageSets/Main/test.txt        ids test_000001 ... (held out: different image seeds)
 *   <root>/classes.txt                    class names, one a line (readVocDataset picks it up)
 *   <root>/generator.json                 the options and version that produced the set
 *
 * What the images and annotations hold: render.ts.
 *
 * Deterministic: every image has its own mulberry32 stream seeded from (seed, split, index), so
 * an image does not depend on the counts or on the other images, and the same options give
 * byte-identical files.
 */
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GENERATOR_VERSION, renderSample, SHAPE_CLASSES, type Sample, type ShapeClass } from './render.js';
import { CLASSES_FILE, escapeXml } from './voc.js';

export {
  GENERATOR_VERSION,
  renderSample,
  SHAPE_CLASSES,
  type RenderOptions,
  type Sample,
  type SampleObject,
  type ShapeClass,
} from './render.js';

export interface GenerateOptions {
  trainCount: number;
  testCount: number;
  seed: number;
  /** Image size in pixels: a number for square images. Default 300. */
  size?: number | { width: number; height: number };
  /** A subset of SHAPE_CLASSES (in this order in the label map). Default: all. */
  classes?: readonly ShapeClass[];
  /** JPEG quality, default 90. */
  quality?: number;
  /**
   * Replace the dataset in a non-empty `root` (refused without it). Default false. Either way the
   * new dataset is written apart and moved in only when complete, so `root` never mixes two.
   */
  force?: boolean;
}

/** What a generated dataset consists of under its root: what `force` replaces, and nothing else. */
export const DATASET_ENTRIES: readonly string[] = [
  'Annotations',
  'JPEGImages',
  'ImageSets',
  CLASSES_FILE,
  'generator.json',
];

export interface GenerateProgress {
  split: 'trainval' | 'test';
  /** Images written so far over both splits, and the total. */
  done: number;
  total: number;
  elapsedMs: number;
}

export interface GenerateResult {
  classes: string[];
  trainCount: number;
  testCount: number;
  objects: number;
  difficult: number;
  seconds: number;
}

/**
 * Writes a generated dataset under `root` (created if needed). A non-empty `root` is refused
 * unless `options.force`; then its dataset entries (DATASET_ENTRIES) are replaced and anything
 * else there is left alone. The dataset is written into a staging folder inside `root` and moved
 * into place only once complete: a failed or interrupted run leaves the old dataset as it was.
 */
export async function generateVocDataset(
  root: string,
  options: GenerateOptions,
  onProgress?: (p: GenerateProgress) => void,
): Promise<GenerateResult> {
  const check = checkOptions(options);
  let existing: string[] = [];
  try {
    existing = await readdir(root);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
  }
  if (existing.length > 0 && !options.force) {
    const shown = existing.slice(0, 5).join(', ') + (existing.length > 5 ? ', …' : '');
    throw new Error(
      `generateVocDataset: '${root}' is not empty (${shown}); pass --force (force: true) to replace ` +
        'the dataset there, or give an empty or new folder',
    );
  }
  await mkdir(root, { recursive: true });
  const staging = await mkdtemp(join(root, '.generating-'));
  try {
    const result = await writeDataset(staging, options, check, onProgress);
    const replaced = await mkdtemp(join(root, '.replaced-'));
    for (const name of DATASET_ENTRIES) {
      await rename(join(root, name), join(replaced, name)).catch((error: { code?: string }) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
    for (const name of DATASET_ENTRIES) await rename(join(staging, name), join(root, name));
    await rm(replaced, { recursive: true, force: true });
    return result;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function checkOptions(options: GenerateOptions) {
  const { width, height } = sizeOf(options.size);
  const classes = checkClasses(options.classes);
  const quality = options.quality ?? 90;
  for (const [k, v] of [
    ['trainCount', options.trainCount],
    ['testCount', options.testCount],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new Error(`generateVocDataset: ${k} must be a non-negative integer, got ${v}`);
  }
  if (!Number.isInteger(options.seed))
    throw new Error(`generateVocDataset: seed must be an integer, got ${options.seed}`);
  return { width, height, classes, quality };
}

/**
 * Awaits `wait`; when it rejects, lets the other image jobs finish first, so that none writes into
 * the staging folder after the caller has removed it (which would leave a folder behind).
 */
async function settleOnFailure(inFlight: Set<Promise<void>>, wait: Promise<unknown>): Promise<void> {
  try {
    await wait;
  } catch (error) {
    await Promise.allSettled([...inFlight]);
    throw error;
  }
}

async function writeDataset(
  root: string,
  options: GenerateOptions,
  { width, height, classes, quality }: ReturnType<typeof checkOptions>,
  onProgress?: (p: GenerateProgress) => void,
): Promise<GenerateResult> {
  const sharp = await loadSharp();
  await Promise.all(
    ['Annotations', 'JPEGImages', join('ImageSets', 'Main')].map((d) => mkdir(join(root, d), { recursive: true })),
  );

  const start = performance.now();
  const total = options.trainCount + options.testCount;
  let done = 0,
    objects = 0,
    difficult = 0;
  for (const [split, count, tag] of [
    ['trainval', options.trainCount, 1],
    ['test', options.testCount, 2],
  ] as const) {
    const prefix = split === 'trainval' ? 'train' : 'test';
    const ids: string[] = [];
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; i < count; i++) {
      const id = `${prefix}_${String(i + 1).padStart(6, '0')}`;
      ids.push(id);
      const sample = renderSample(width, height, imageSeed(options.seed, tag, i), classes);
      objects += sample.objects.length;
      difficult += sample.objects.filter((o) => o.difficult).length;
      const job = (async () => {
        const jpeg = await sharp(sample.rgb, { raw: { width, height, channels: 3 } })
          .jpeg({ quality, chromaSubsampling: '4:4:4' })
          .toBuffer();
        await Promise.all([
          writeFile(join(root, 'JPEGImages', `${id}.jpg`), jpeg),
          writeFile(join(root, 'Annotations', `${id}.xml`), annotationXml(id, sample)),
        ]);
        done++;
        onProgress?.({ split, done, total, elapsedMs: performance.now() - start });
      })();
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job)).catch(() => {});
      if (inFlight.size >= 4) await settleOnFailure(inFlight, Promise.race(inFlight));
    }
    await settleOnFailure(inFlight, Promise.all(inFlight));
    await writeFile(join(root, 'ImageSets', 'Main', `${split}.txt`), ids.map((id) => `${id}\n`).join(''));
  }
  await writeFile(join(root, CLASSES_FILE), classes.map((c) => `${c}\n`).join(''));
  await writeFile(
    join(root, 'generator.json'),
    JSON.stringify(
      {
        generator: 'ssd-edge shapes',
        version: GENERATOR_VERSION,
        seed: options.seed,
        width,
        height,
        classes,
        trainCount: options.trainCount,
        testCount: options.testCount,
        quality,
      },
      null,
      2,
    ) + '\n',
  );
  return {
    classes: [...classes],
    trainCount: options.trainCount,
    testCount: options.testCount,
    objects,
    difficult,
    seconds: (performance.now() - start) / 1000,
  };
}

async function loadSharp(): Promise<typeof import('sharp').default> {
  try {
    return (await import('sharp')).default;
  } catch (error) {
    throw new Error(
      `generating the dataset needs the optional package 'sharp' (npm install sharp): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function sizeOf(size: GenerateOptions['size']): { width: number; height: number } {
  const s = typeof size === 'number' ? { width: size, height: size } : (size ?? { width: 300, height: 300 });
  if (
    !Number.isInteger(s.width) ||
    !Number.isInteger(s.height) ||
    s.width < 32 ||
    s.height < 32 ||
    s.width * s.height > 1 << 24
  ) {
    throw new Error(
      `generateVocDataset: image size ${s.width}×${s.height} must be integers, at least 32 and at most 16 Mpixel`,
    );
  }
  return s;
}

function checkClasses(classes: readonly ShapeClass[] | undefined): ShapeClass[] {
  const list = classes ? [...classes] : [...SHAPE_CLASSES];
  if (list.length === 0) throw new Error('generateVocDataset: classes is empty');
  for (const c of list) {
    if (!SHAPE_CLASSES.includes(c))
      throw new Error(`generateVocDataset: unknown shape class '${c}' (known: ${SHAPE_CLASSES.join(', ')})`);
  }
  if (new Set(list).size !== list.length)
    throw new Error(`generateVocDataset: duplicate classes in ${list.join(', ')}`);
  return list;
}

/** A 32-bit seed for image `index` of split `tag` (1 = trainval, 2 = test). */
export function imageSeed(seed: number, tag: number, index: number): number {
  let h = 0x811c9dc5;
  for (const k of [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0, tag, index]) {
    h = Math.imul(h ^ k, 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    h = Math.imul(h, 0x297a2d39);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

function annotationXml(id: string, s: Sample): string {
  const objects = s.objects
    .map(
      (o) => `  <object>
    <name>${escapeXml(o.name)}</name>
    <pose>Unspecified</pose>
    <truncated>${o.truncated}</truncated>
    <difficult>${o.difficult}</difficult>
    <bndbox>
      <xmin>${o.xmin + 1}</xmin>
      <ymin>${o.ymin + 1}</ymin>
      <xmax>${o.xmax + 1}</xmax>
      <ymax>${o.ymax + 1}</ymax>
    </bndbox>
  </object>
`,
    )
    .join('');
  return `<annotation>
  <folder>ssd-edge-shapes</folder>
  <filename>${escapeXml(id)}.jpg</filename>
  <source><database>ssd-edge procedural shapes v${GENERATOR_VERSION}</database></source>
  <size>
    <width>${s.width}</width>
    <height>${s.height}</height>
    <depth>3</depth>
  </size>
  <segmented>0</segmented>
${objects}</annotation>
`;
}

/**
 * PASCAL VOC reader: `ImageSets/Main/<split>.txt`, `Annotations/<id>.xml`, `JPEGImages/<id>.jpg`.
 *
 * Coordinates follow ssd.pytorch (`data/voc0712.py`, `VOCAnnotationTransform`): VOC pixel
 * coordinates are 1-based and inclusive, and ssd.pytorch subtracts 1 from each of the four
 * (xmin, ymin, xmax, ymax), then divides x by the image width and y by the image height:
 *
 *   box = [(xmin − 1) / W, (ymin − 1) / H, (xmax − 1) / W, (ymax − 1) / H]
 *
 * So a box covering pixels 1..W in VOC terms reads as [0, (W − 1) / W]. We do exactly that, so
 * targets and mAP match models trained with ssd.pytorch. Two differences, both deliberate:
 * W and H come from the annotation's `<size>` (the image is not decoded; ssd.pytorch takes
 * them from the decoded image, which in VOC agrees), and coordinates are parsed as numbers, so
 * fractional values some converters write (`"48.5"`) are kept rather than rejected.
 *
 * Class names are lower-cased and trimmed (as ssd.pytorch does). Difficult objects are all
 * returned, flagged in `difficult`; training usually drops them and evaluation ignores them.
 *
 * What would break training later is refused here, naming the file: a box of zero width or height
 * (xmin = xmax: zero after the conversion above) or outside `<size>`, a `<size>` that disagrees
 * with the image's own (read from its JPEG or PNG header, not decoded), an image that is neither,
 * and an id listed twice in a split. With `skipInvalid` such a box, image or repeat is left out
 * instead, and counted in `skipped`.
 */
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** The 20 PASCAL VOC classes, in the usual (alphabetical) order, background not included. */
export const VOC_CLASSES: readonly string[] = [
  'aeroplane',
  'bicycle',
  'bird',
  'boat',
  'bottle',
  'bus',
  'car',
  'cat',
  'chair',
  'cow',
  'diningtable',
  'dog',
  'horse',
  'motorbike',
  'person',
  'pottedplant',
  'sheep',
  'sofa',
  'train',
  'tvmonitor',
];

/** Name of the optional class list at the dataset root (one name a line, no background). */
export const CLASSES_FILE = 'classes.txt';

export interface VocItem {
  id: string;
  /** `<root>/JPEGImages/<id>.jpg` (checked to exist). */
  imagePath: string;
  /** From the annotation's `<size>`. */
  width: number;
  height: number;
  /** n × 4 normalised xyxy boxes (see the module comment for the convention). */
  boxes: Float32Array;
  /** n class indices into `classes`, 1..C−1 (0 is background). */
  labels: Int32Array;
  /** n flags, 1 for `<difficult>1</difficult>`. */
  difficult: Uint8Array;
  /** n flags, 1 for `<truncated>1</truncated>`. */
  truncated: Uint8Array;
}

export interface VocDataset {
  /** Class names, `'background'` first. */
  classes: string[];
  items: VocItem[];
  /** With `skipInvalid`: what was left out (boxes, images, repeated ids) and why, one line each. */
  skipped: { boxes: number; images: number; messages: string[] };
}

export interface ReadVocOptions {
  /** Image set name: `ImageSets/Main/<split>.txt`. */
  split: 'trainval' | 'test' | 'train' | 'val' | (string & {});
  /**
   * Object class names, without background. Default: `<root>/classes.txt` when present (the
   * generator writes one), otherwise the 20 VOC classes.
   */
  classes?: readonly string[];
  /**
   * Leave out (and count in `skipped`) degenerate or out-of-size boxes, images whose size
   * disagrees with `<size>` or that are neither JPEG nor PNG, and repeated ids, instead of
   * throwing. Missing files and malformed XML still throw. Default false.
   */
  skipInvalid?: boolean;
}

/** Reads one VOC image set. Throws an error naming the file on any missing, malformed or invalid input. */
export async function readVocDataset(root: string, options: ReadVocOptions): Promise<VocDataset> {
  const names = options.classes ? [...options.classes] : await defaultClasses(root);
  const classes = ['background', ...names.map((n) => n.toLowerCase().trim())];
  const index = new Map(classes.map((name, i) => [name, i] as const));
  if (index.size !== classes.length) throw new Error(`VOC classes contain duplicates: ${names.join(', ')}`);

  const listPath = join(root, 'ImageSets', 'Main', `${options.split}.txt`);
  const list = await readText(listPath, `image list of split '${options.split}'`);
  // Lines may carry a second column (per-class lists: "<id> 1"); the id is the first field.
  const listed = list
    .split(/\r?\n/)
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((id) => id.length > 0);
  const skipped: VocDataset['skipped'] = { boxes: 0, images: 0, messages: [] };
  const invalid = (message: string) => {
    if (!options.skipInvalid)
      throw new Error(`${message} (readVocDataset's skipInvalid, train's and eval's --skip-invalid, leaves it out)`);
    skipped.messages.push(message);
  };
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const id of listed) {
    if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
      continue;
    }
    invalid(`${listPath}: id '${id}' is listed twice`);
    skipped.images++;
  }

  const items = await mapLimit(ids, 16, async (id): Promise<VocItem | undefined> => {
    const xmlPath = join(root, 'Annotations', `${id}.xml`);
    const imagePath = join(root, 'JPEGImages', `${id}.jpg`);
    const xml = await readText(xmlPath, `annotation of '${id}'`);
    const actual = await imageSize(imagePath, listPath);
    const annotation = parseVocAnnotation(
      xml,
      index,
      xmlPath,
      options.skipInvalid
        ? (message) => {
            skipped.messages.push(message);
            skipped.boxes++;
          }
        : undefined,
    );
    const problem =
      typeof actual === 'string'
        ? `${imagePath}: ${actual}`
        : actual.width !== annotation.width || actual.height !== annotation.height
          ? `${xmlPath}: <size> ${annotation.width}×${annotation.height} disagrees with the image ${imagePath}, ${actual.width}×${actual.height}`
          : undefined;
    if (problem) {
      invalid(problem);
      skipped.images++;
      return undefined;
    }
    return { id, imagePath, ...annotation };
  });
  return { classes, items: items.filter((item): item is VocItem => item !== undefined), skipped };
}

/** Bytes read from the start of an image to find its size (a JPEG's EXIF block may come first). */
const HEADER_BYTES = 256 * 1024;

/**
 * The pixel size in a JPEG's frame header (SOFn) or a PNG's IHDR, or what is wrong with the file
 * when it is neither. Throws when the file is missing.
 */
export async function imageSize(path: string, listPath = ''): Promise<{ width: number; height: number } | string> {
  let bytes: Uint8Array;
  try {
    const handle = await open(path, 'r');
    try {
      const buffer = new Uint8Array(HEADER_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, HEADER_BYTES, 0);
      bytes = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    throw new Error(
      code === 'ENOENT'
        ? `VOC image missing: ${path}${listPath ? ` (listed in ${listPath})` : ''}`
        : `VOC image unreadable: ${path}: ${message}`,
      { cause: error },
    );
  }
  const be16 = (i: number) => (bytes[i] << 8) | bytes[i + 1];
  const be32 = (i: number) => be16(i) * 65536 + be16(i + 2);
  if (bytes.length >= 24 && be32(0) === 0x89504e47 && be32(4) === 0x0d0a1a0a && be32(12) === 0x49484452) {
    return { width: be32(16), height: be32(20) }; // PNG: signature, then IHDR's width and height
  }
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return 'neither a JPEG nor a PNG';
  // JPEG: walk the marker segments to the first frame header (SOF0..SOF15 but DHT C4, JPG C8, DAC CC)
  for (let i = 2; i + 9 < bytes.length;) {
    if (bytes[i] !== 0xff) return `a JPEG with a broken marker at byte ${i}`;
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { width: be16(i + 7), height: be16(i + 5) };
    }
    if (marker === 0xd9 || marker === 0xda) break;
    i += 2 + be16(i + 2);
  }
  return `a JPEG without a frame header in its first ${HEADER_BYTES / 1024} KiB`;
}

async function defaultClasses(root: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(join(root, CLASSES_FILE), 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [...VOC_CLASSES];
    throw error;
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === 'ENOENT') throw new Error(`VOC ${what} missing: ${path}`, { cause: error });
    throw new Error(`VOC ${what} unreadable: ${path}: ${message}`, { cause: error });
  }
}

async function mapLimit<T, R>(inputs: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(inputs.length);
  let next = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const i = next++;
      out[i] = await fn(inputs[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, inputs.length) }, worker));
  return out;
}

/** The annotation fields the reader uses; exported for tests and tools. */
export interface VocAnnotation {
  filename: string | undefined;
  width: number;
  height: number;
  depth: number | undefined;
  boxes: Float32Array;
  labels: Int32Array;
  difficult: Uint8Array;
  truncated: Uint8Array;
}

/**
 * Parses one VOC annotation and converts its boxes (see the module comment). `classIndex` maps
 * lower-case names to label indices; `file` names the source in error messages. A degenerate or
 * out-of-size box throws, or, given `skipBox`, is left out and reported to it.
 */
export function parseVocAnnotation(
  xml: string,
  classIndex: ReadonlyMap<string, number>,
  file: string,
  skipBox?: (message: string) => void,
): VocAnnotation {
  const rootEl = parseXml(xml, file);
  if (rootEl.name !== 'annotation') throw new Error(`${file}: root element is <${rootEl.name}>, expected <annotation>`);
  const size = child(rootEl, 'size', file, 'annotation');
  const width = number(size, 'width', file, 'size');
  const height = number(size, 'height', file, 'size');
  if (!(width > 0 && height > 0)) throw new Error(`${file}: image size ${width}×${height} is not positive`);
  const depthEl = findChild(size, 'depth');
  const depth = depthEl ? numberOf(depthEl, file, 'size/depth') : undefined;
  const filenameEl = findChild(rootEl, 'filename');

  const objects = rootEl.children.filter((c) => c.name === 'object');
  const boxes: number[] = [],
    labels: number[] = [],
    difficult: number[] = [],
    truncated: number[] = [];
  objects.forEach((obj, i) => {
    const where = `object ${i + 1}`;
    const name = text(child(obj, 'name', file, where))
      .toLowerCase()
      .trim();
    const label = classIndex.get(name);
    if (label === undefined || label === 0) {
      const known = [...classIndex.keys()].filter((k) => classIndex.get(k) !== 0);
      throw new Error(`${file}: ${where} has unknown class '${name}' (known: ${known.join(', ')})`);
    }
    const difficultFlag = flag(obj, 'difficult', file, where);
    const truncatedFlag = flag(obj, 'truncated', file, where);
    const bb = child(obj, 'bndbox', file, where);
    const [xmin, ymin, xmax, ymax] = (['xmin', 'ymin', 'xmax', 'ymax'] as const).map((k) =>
      number(bb, k, file, `${where} bndbox`),
    );
    const box = `${where} ('${name}') box [${xmin}, ${ymin}, ${xmax}, ${ymax}]`;
    const problem =
      xmin < 1 || ymin < 1 || xmax > width || ymax > height || xmin > xmax || ymin > ymax
        ? `${file}: ${box} is outside the ${width}×${height} image or inverted (VOC boxes are 1-based: 1 ≤ xmin ≤ xmax ≤ width)`
        : xmin === xmax || ymin === ymax
          ? `${file}: ${box} has zero ${xmin === xmax ? 'width (xmin = xmax)' : 'height (ymin = ymax)'}`
          : undefined;
    if (problem) {
      if (!skipBox)
        throw new Error(`${problem} (readVocDataset's skipInvalid, train's and eval's --skip-invalid, leaves it out)`);
      skipBox(problem);
      return;
    }
    labels.push(label);
    difficult.push(difficultFlag);
    truncated.push(truncatedFlag);
    boxes.push((xmin - 1) / width, (ymin - 1) / height, (xmax - 1) / width, (ymax - 1) / height);
  });
  return {
    filename: filenameEl ? text(filenameEl).trim() : undefined,
    width,
    height,
    depth,
    boxes: new Float32Array(boxes),
    labels: new Int32Array(labels),
    difficult: new Uint8Array(difficult),
    truncated: new Uint8Array(truncated),
  };
}

function findChild(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

function child(el: XmlElement, name: string, file: string, where: string): XmlElement {
  const c = findChild(el, name);
  if (!c) throw new Error(`${file}: ${where} has no <${name}>`);
  return c;
}

function text(el: XmlElement): string {
  return el.text;
}

function numberOf(el: XmlElement, file: string, where: string): number {
  const s = el.text.trim();
  const v = s.length > 0 ? Number(s) : NaN;
  if (!Number.isFinite(v)) throw new Error(`${file}: ${where} is '${s}', not a number`);
  return v;
}

function number(el: XmlElement, name: string, file: string, where: string): number {
  return numberOf(child(el, name, file, where), file, `${where}/${name}`);
}

/** A missing flag reads as 0 (some VOC-style exports leave `<truncated>` out). */
function flag(el: XmlElement, name: string, file: string, where: string): number {
  const c = findChild(el, name);
  if (!c) return 0;
  const v = numberOf(c, file, `${where}/${name}`);
  if (v !== 0 && v !== 1) throw new Error(`${file}: ${where}/${name} is ${v}, expected 0 or 1`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// XML: fast-xml-parser checks the document (its validator names the line and what is wrong) and
// reads it into elements in order; attributes, comments, processing instructions and DOCTYPE are
// left out, entities and character references decoded, CDATA read as text.

export interface XmlElement {
  name: string;
  /** Concatenated direct text content (entities decoded). */
  text: string;
  children: XmlElement[];
}

/** fast-xml-parser's preserveOrder output: one single-key object per node, `:@` for attributes. */
type OrderedNode = Record<string, OrderedNode[] | string>;

const ORDERED_PARSER = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  processEntities: true,
  htmlEntities: true,
  trimValues: false,
  parseTagValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

function toElement(name: string, nodes: readonly OrderedNode[]): XmlElement {
  const el: XmlElement = { name, text: '', children: [] };
  for (const node of nodes) {
    const [key] = Object.keys(node).filter((k) => k !== ':@');
    const value = node[key];
    if (key === '#text') el.text += String(value);
    else el.children.push(toElement(key, value as OrderedNode[]));
  }
  return el;
}

/** Parses an XML document into its root element. `file` names the source in errors. */
export function parseXml(xml: string, file: string): XmlElement {
  const fail = (msg: string, line?: number): never => {
    throw new Error(`${file}: malformed XML${line === undefined ? '' : ` at line ${line}`}: ${msg}`);
  };
  if (xml.trim().replace(/^\ufeff/, '').length === 0) fail('no root element', 1);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) fail(valid.err.msg, valid.err.line);
  // the validator accepts a second root element; a document has one
  const [root, second] = toElement('', ORDERED_PARSER.parse(xml) as OrderedNode[]).children;
  if (!root) fail('no root element');
  if (second) fail(`a second root element <${second.name}> after <${root.name}>`);
  return root;
}

/** Escapes text for XML content. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

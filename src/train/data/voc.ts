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
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The 20 PASCAL VOC classes, in the usual (alphabetical) order, background not included. */
export const VOC_CLASSES: readonly string[] = [
  'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
  'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor',
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
}

export interface ReadVocOptions {
  /** Image set name: `ImageSets/Main/<split>.txt`. */
  split: 'trainval' | 'test' | 'train' | 'val' | (string & {});
  /**
   * Object class names, without background. Default: `<root>/classes.txt` when present (the
   * generator writes one), otherwise the 20 VOC classes.
   */
  classes?: readonly string[];
}

/** Reads one VOC image set. Throws an error naming the file on any missing or malformed input. */
export async function readVocDataset(root: string, options: ReadVocOptions): Promise<VocDataset> {
  const names = options.classes ? [...options.classes] : await defaultClasses(root);
  const classes = ['background', ...names.map((n) => n.toLowerCase().trim())];
  const index = new Map(classes.map((name, i) => [name, i] as const));
  if (index.size !== classes.length) throw new Error(`VOC classes contain duplicates: ${names.join(', ')}`);

  const listPath = join(root, 'ImageSets', 'Main', `${options.split}.txt`);
  const list = await readText(listPath, `image list of split '${options.split}'`);
  // Lines may carry a second column (per-class lists: "<id> 1"); the id is the first field.
  const ids = list.split(/\r?\n/).map((l) => l.trim().split(/\s+/)[0]).filter((id) => id.length > 0);

  const items = await mapLimit(ids, 16, async (id) => {
    const xmlPath = join(root, 'Annotations', `${id}.xml`);
    const imagePath = join(root, 'JPEGImages', `${id}.jpg`);
    const xml = await readText(xmlPath, `annotation of '${id}'`);
    try {
      await access(imagePath);
    } catch {
      throw new Error(`VOC image missing: ${imagePath} (listed in ${listPath})`);
    }
    return { id, imagePath, ...parseVocAnnotation(xml, index, xmlPath) };
  });
  return { classes, items };
}

async function defaultClasses(root: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(join(root, CLASSES_FILE), 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [...VOC_CLASSES];
    throw error;
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === 'ENOENT') throw new Error(`VOC ${what} missing: ${path}`);
    throw new Error(`VOC ${what} unreadable: ${path}: ${message}`);
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
 * lower-case names to label indices; `file` names the source in error messages.
 */
export function parseVocAnnotation(xml: string, classIndex: ReadonlyMap<string, number>, file: string): VocAnnotation {
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
  const n = objects.length;
  const boxes = new Float32Array(n * 4);
  const labels = new Int32Array(n);
  const difficult = new Uint8Array(n);
  const truncated = new Uint8Array(n);
  objects.forEach((obj, i) => {
    const where = `object ${i + 1}`;
    const name = text(child(obj, 'name', file, where)).toLowerCase().trim();
    const label = classIndex.get(name);
    if (label === undefined || label === 0) {
      const known = [...classIndex.keys()].filter((k) => classIndex.get(k) !== 0);
      throw new Error(`${file}: ${where} has unknown class '${name}' (known: ${known.join(', ')})`);
    }
    labels[i] = label;
    difficult[i] = flag(obj, 'difficult', file, where);
    truncated[i] = flag(obj, 'truncated', file, where);
    const bb = child(obj, 'bndbox', file, where);
    const [xmin, ymin, xmax, ymax] = (['xmin', 'ymin', 'xmax', 'ymax'] as const)
      .map((k) => number(bb, k, file, `${where} bndbox`));
    if (xmin < 1 || ymin < 1 || xmax > width || ymax > height || xmin > xmax || ymin > ymax) {
      throw new Error(`${file}: ${where} ('${name}') box [${xmin}, ${ymin}, ${xmax}, ${ymax}] is outside the ` +
        `${width}×${height} image or inverted (VOC boxes are 1-based: 1 ≤ xmin ≤ xmax ≤ width)`);
    }
    boxes[i * 4] = (xmin - 1) / width;
    boxes[i * 4 + 1] = (ymin - 1) / height;
    boxes[i * 4 + 2] = (xmax - 1) / width;
    boxes[i * 4 + 3] = (ymax - 1) / height;
  });
  return { filename: filenameEl ? text(filenameEl).trim() : undefined, width, height, depth,
    boxes, labels, difficult, truncated };
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
// A small XML parser: elements, attributes (parsed and discarded), text, the five named entities
// and numeric character references, comments, CDATA, processing instructions and DOCTYPE
// (skipped). Enough for VOC annotations and strict about structure: mismatched or unclosed tags
// and text outside the root element are errors naming the file and line.

export interface XmlElement {
  name: string;
  /** Concatenated direct text content (entities decoded). */
  text: string;
  children: XmlElement[];
}

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Parses an XML document into its root element. `file` names the source in errors. */
export function parseXml(xml: string, file: string): XmlElement {
  let pos = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const fail = (msg: string, at = pos): never => {
    const line = xml.slice(0, at).split('\n').length;
    throw new Error(`${file}: malformed XML at line ${line}: ${msg}`);
  };
  const decode = (s: string, at: number): string => s.replace(/&([^;&<\s]*);?/g, (m, ent: string) => {
    if (!m.endsWith(';')) fail(`bare '&' (write &amp;)`, at);
    if (ent in NAMED_ENTITIES) return NAMED_ENTITIES[ent];
    const code = /^#x[0-9a-f]+$/i.test(ent) ? parseInt(ent.slice(2), 16) : /^#[0-9]+$/.test(ent) ? parseInt(ent.slice(1), 10) : NaN;
    if (!Number.isFinite(code) || code > 0x10ffff) fail(`unknown entity '&${ent};'`, at);
    return String.fromCodePoint(code);
  });
  if (xml.charCodeAt(0) === 0xfeff) pos = 1;
  while (pos < xml.length) {
    const lt = xml.indexOf('<', pos);
    const textEnd = lt < 0 ? xml.length : lt;
    if (textEnd > pos) {
      const raw = xml.slice(pos, textEnd);
      if (stack.length > 0) stack[stack.length - 1].text += decode(raw, pos);
      else if (raw.trim().length > 0) fail(`text outside the root element: '${raw.trim().slice(0, 20)}'`);
    }
    if (lt < 0) break;
    pos = lt;
    if (xml.startsWith('<!--', pos)) {
      const end = xml.indexOf('-->', pos + 4);
      if (end < 0) fail('unclosed comment');
      pos = end + 3;
    } else if (xml.startsWith('<![CDATA[', pos)) {
      const end = xml.indexOf(']]>', pos + 9);
      if (end < 0) fail('unclosed CDATA section');
      if (stack.length === 0) fail('CDATA outside the root element');
      stack[stack.length - 1].text += xml.slice(pos + 9, end);
      pos = end + 3;
    } else if (xml.startsWith('<?', pos)) {
      const end = xml.indexOf('?>', pos + 2);
      if (end < 0) fail('unclosed processing instruction');
      pos = end + 2;
    } else if (xml.startsWith('<!', pos)) {
      // DOCTYPE (an internal subset in brackets is skipped as a whole).
      const bracket = xml.indexOf('[', pos);
      const close = xml.indexOf('>', pos);
      if (close < 0) fail('unclosed declaration');
      if (bracket >= 0 && bracket < close) {
        const end = xml.indexOf(']>', bracket);
        if (end < 0) fail('unclosed DOCTYPE');
        pos = end + 2;
      } else pos = close + 1;
    } else if (xml.startsWith('</', pos)) {
      const m = /^<\/([A-Za-z_:][-\w.:]*)\s*>/.exec(xml.slice(pos, pos + 256));
      if (!m) fail('bad closing tag');
      const open = stack.pop();
      if (!open) fail(`closing tag </${m![1]}> with nothing open`);
      if (open!.name !== m![1]) fail(`</${m![1]}> closes <${open!.name}>`);
      pos += m![0].length;
    } else {
      const m = /^<([A-Za-z_:][-\w.:]*)((?:\s+[A-Za-z_:][-\w.:]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(
        xml.slice(pos, pos + 4096));
      if (!m) fail(`bad tag '${xml.slice(pos, pos + 30).split('\n')[0]}'`);
      const el: XmlElement = { name: m![1], text: '', children: [] };
      if (stack.length > 0) stack[stack.length - 1].children.push(el);
      else if (root) fail(`a second root element <${el.name}>`);
      else root = el;
      if (m![3] !== '/') stack.push(el);
      pos += m![0].length;
    }
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1].name}> is never closed`, xml.length);
  if (!root) fail('no root element', 0);
  return root!;
}

/** Escapes text for XML content. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

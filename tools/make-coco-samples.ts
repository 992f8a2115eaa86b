/**
 * Writes the real photos under samples/ (the list: tools/tflite-reference/samples.ts) from
 * Debian packages, re-encoded: longest side ≤ 640 px (never enlarged), JPEG quality 90 (sharp/libvips defaults otherwise: 4:2:0 chroma, no metadata). Sources and
 * licences: samples/README.md.
 *
 * Run (the packages are only unpacked, not installed):
 *   cd /tmp && apt-get download darknet python3-skimage && for d in darknet_*.deb python3-skimage_*.deb; do dpkg-deb -x $d /tmp/x; done
 *   npx tsc -p tsconfig.json && node dist/tools/make-coco-samples.js /tmp/x
 */
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { repoRoot } from '../tests/browser/chromium.js';
import { COCO_SAMPLES } from './tflite-reference/samples.js';

const MAX_SIDE = 640;
const QUALITY = 90;

const root = process.argv[2];
if (!root) {
  console.error('usage: node dist/tools/make-coco-samples.js <folder the .deb files were unpacked into, e.g. /tmp/x>');
  process.exit(2);
}
await mkdir(path.join(repoRoot, 'samples'), { recursive: true });
for (const { file, source } of COCO_SAMPLES) {
  const out = path.join(repoRoot, 'samples', file);
  const info = await sharp(path.join(root, source))
    .removeAlpha()
    .resize(MAX_SIDE, MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: QUALITY })
    .toFile(out);
  console.log(`${file}: ${info.width}×${info.height}, ${((await stat(out)).size / 1024).toFixed(1)} KiB  ← /${source}`);
}

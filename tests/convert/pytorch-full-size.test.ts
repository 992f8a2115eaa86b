/**
 * Opt-in (SSD_EDGE_TORCH_FULL=1, with Debian's python3-torch and python3-torchvision): full-size
 * checkpoints made at test time by tools/golden/pytorch_full_size.py in a temporary folder (the
 * real torchvision ssd300_vgg16, 35.6 M parameters, 91 classes; ssd.pytorch's SSD300, 21 VOC
 * classes, legacy format), converted, and every head value compared with PyTorch's. About two
 * minutes and 1.5 GB of memory here, so not part of the default run.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { convertModel } from '../../src/convert/index.js';
import { COCO91_LABELS, VOC_LABELS } from '../../src/core/labels.js';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';

const SCRIPT = new URL('../../../tools/golden/pytorch_full_size.py', import.meta.url).pathname;

function torchAvailable(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skip =
  process.env.SSD_EDGE_TORCH_FULL !== '1'
    ? 'set SSD_EDGE_TORCH_FULL=1 to run (about two minutes)'
    : !torchAvailable()
      ? '/usr/bin/python3 has no torch and torchvision (apt-get install python3-torch python3-torchvision)'
      : false;

describe('full-size PyTorch checkpoints (opt-in)', { skip }, () => {
  const dir = skip ? '' : mkdtempSync(path.join(tmpdir(), 'ssd-edge-torch-full-'));
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("torchvision ssd300_vgg16 and ssd.pytorch SSD300: every head value within 1e-4 relative of PyTorch's", async () => {
    execFileSync('/usr/bin/python3', [SCRIPT, dir], { stdio: 'inherit' });
    const ort = await import('onnxruntime-node');
    const x = new Float32Array(3 * 300 * 300);
    for (let c = 0; c < 3; c++)
      for (let h = 0; h < 300; h++)
        for (let w = 0; w < 300; w++) {
          x[(c * 300 + h) * 300 + w] = ((c * 59 + h * h * 3 + w * 17 + h * w) % 255) - 127;
        }
    for (const [name, classes, labels] of [
      ['ssd300-voc.legacy.pth', 21, VOC_LABELS],
      ['torchvision-ssd300.zip.pth', 91, COCO91_LABELS],
    ] as const) {
      const { onnx, report } = convertModel(new Uint8Array(readFileSync(path.join(dir, name))), { format: 'pytorch' });
      assert.equal(report.numClasses, classes);
      assert.equal(report.width, 1);
      assert.deepEqual(readSsdEdgeMetadata(onnx)!.postprocess.labels, labels);
      const stem = name.split('.')[0];
      const bytes = readFileSync(path.join(dir, `${stem}.heads.f32`));
      const expected = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 2 });
      const out = await session.run({ image: new ort.Tensor('float32', x, [1, 3, 300, 300]) });
      await session.release();
      const locLength = 8732 * 4;
      for (const [what, actual, golden] of [
        ['loc', out.loc.data as Float32Array, expected.subarray(0, locLength)],
        ['conf', out.conf.data as Float32Array, expected.subarray(locLength)],
      ] as const) {
        assert.equal(actual.length, golden.length);
        const maxAbs = golden.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        let scale = 0,
          element = 0;
        golden.forEach((e, i) => {
          const d = Math.abs(actual[i] - e);
          scale = Math.max(scale, d / maxAbs);
          if (Math.abs(e) >= 0.01 * maxAbs) element = Math.max(element, d / Math.abs(e));
        });
        console.log(
          `# ${name} ${what}: ${scale.toExponential(1)} of max|${what}| ${maxAbs.toPrecision(3)}, ${element.toExponential(1)} per element`,
        );
        assert.ok(scale <= 1e-4 && element <= 1e-4, `${name} ${what}: ${scale} / ${element}`);
      }
    }
  });
});

/**
 * PyTorch checkpoints → ONNX: the small checkpoints of tools/golden/pytorch_checkpoints.py (made
 * by Debian's python3-torch 1.13, both torch.save formats) convert, and onnxruntime-node on the
 * converted model gives PyTorch's own head outputs; the pickle reader refuses what a state dict
 * never needs, by name; truncated and mismatched files are errors that say what is wrong.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as Ort from 'onnxruntime-node';
import { runConvert } from '../../src/cli/convert.js';
import {
  CheckpointMismatchError,
  convertModel,
  convertPytorchStateDict,
  detectFormat,
  findStateDict,
  PthFormatError,
  readPth,
  TorchTensor,
  unpickle,
  UnsafePickleError,
  type PytorchArch,
} from '../../src/convert/index.js';
import { presets } from '../../src/core/presets.js';
import { createDetector } from '../../src/runtime/detector.js';
import { readSsdEdgeMetadata } from '../../src/model/onnx/read.js';
import { inputPresets } from '../../src/runtime/input-presets.js';

const FIXTURES = new URL('../../../tests/fixtures/pytorch/', import.meta.url);
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(name, FIXTURES)));

interface Golden {
  arch: PytorchArch;
  imageSize: number;
  locShape: number[];
  confShape: number[];
  sampleStride: number;
  locSamples: number;
  confSamples: number;
  locMaxAbs: number;
  confMaxAbs: number;
}

/** The golden input: exact integers, as the Python script computes them. */
function fixedInput(size: number): Float32Array {
  const x = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let h = 0; h < size; h++) {
      for (let w = 0; w < size; w++) x[(c * size + h) * size + w] = ((c * 59 + h * h * 3 + w * 17 + h * w) % 255) - 127;
    }
  }
  return x;
}

/** Scale-relative error max|a − b| / max|b|, and element-relative over |b| ≥ 1 % of max|b|. */
function agreement(actual: Float32Array, stride: number, expected: Float32Array) {
  const maxAbs = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let scale = 0,
    element = 0;
  expected.forEach((e, i) => {
    const d = Math.abs(actual[i * stride] - e);
    scale = Math.max(scale, d / maxAbs);
    if (Math.abs(e) >= 0.01 * maxAbs) element = Math.max(element, d / Math.abs(e));
  });
  return { scale, element };
}

const measured: string[] = [];

describe("PyTorch checkpoints: converted ONNX equals PyTorch's heads", () => {
  let ort: typeof Ort;
  before(async () => {
    ort = await import('onnxruntime-node');
  });
  after(() => {
    if (measured.length) console.log(`# agreement with PyTorch 1.13 (max relative error):\n${measured.join('\n')}`);
  });

  const cases: [file: string, golden: string][] = [
    ['ssd300-voc.zip.pth', 'ssd300-voc'],
    ['ssd300-voc.legacy.pth', 'ssd300-voc'],
    ['ssd300-voc.v1.pth', 'ssd300-voc'],
    ['ssd512-voc.zip.pth', 'ssd512-voc'],
    ['torchvision-ssd300.zip.pth', 'torchvision-ssd300'],
    ['torchvision-ssd300.legacy.pth', 'torchvision-ssd300'],
  ];
  for (const [file, name] of cases) {
    it(`${file}: loc and conf within 1e-4 relative of PyTorch's`, async () => {
      const golden = JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')) as Golden;
      const heads = fixture(`${name}.heads.f32`);
      const samples = new Float32Array(heads.buffer, heads.byteOffset, heads.byteLength / 4);
      const bytes = fixture(file);
      assert.equal(detectFormat(bytes), 'pytorch');
      const { onnx, format, report } = convertModel(bytes);
      assert.equal(format, 'pytorch');
      assert.equal(report.arch, golden.arch);
      assert.equal(report.archSource, 'detected');
      assert.equal(report.numPriors, golden.locShape[1]);
      assert.equal(report.numClasses, golden.confShape[2]);
      const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
      const size = golden.imageSize;
      const out = await session.run({ image: new ort.Tensor('float32', fixedInput(size), [1, 3, size, size]) });
      assert.deepEqual(out.loc.dims, golden.locShape);
      assert.deepEqual(out.conf.dims, golden.confShape);
      const loc = agreement(out.loc.data as Float32Array, golden.sampleStride, samples.subarray(0, golden.locSamples));
      const conf = agreement(out.conf.data as Float32Array, golden.sampleStride, samples.subarray(golden.locSamples));
      measured.push(
        `#   ${file}: loc ${loc.scale.toExponential(1)} of max|loc| (${loc.element.toExponential(1)} per element), ` +
          `conf ${conf.scale.toExponential(1)} (${conf.element.toExponential(1)})`,
      );
      for (const [what, e] of [
        ['loc', loc],
        ['conf', conf],
      ] as const) {
        assert.ok(
          e.scale <= 1e-4 && e.element <= 1e-4,
          `${file} ${what}: relative error ${e.scale} / ${e.element} exceeds 1e-4`,
        );
      }
      await session.release();
    });
  }

  it('the three ssd300-voc files (zip; legacy saved on a GPU; pre-1.0 nested with module. keys) give the same ONNX bytes', () => {
    const zip = convertModel(fixture('ssd300-voc.zip.pth'));
    const legacy = convertModel(fixture('ssd300-voc.legacy.pth'));
    const v1 = convertModel(fixture('ssd300-voc.v1.pth'));
    assert.ok(Buffer.from(zip.onnx).equals(Buffer.from(legacy.onnx)));
    assert.ok(Buffer.from(zip.onnx).equals(Buffer.from(v1.onnx)));
    assert.equal(zip.format === 'pytorch' && zip.report.format, 'zip');
    assert.deepEqual(legacy.format === 'pytorch' && [legacy.report.format, legacy.report.locations], [
      'legacy',
      ['cuda:0'],
    ]);
    assert.deepEqual(v1.format === 'pytorch' && v1.report.stateDictPath, ['state_dict']);
  });

  it("records the preset of each family, with the checkpoint's class count", () => {
    const ssd = readSsdEdgeMetadata(convertModel(fixture('ssd300-voc.zip.pth')).onnx)!;
    assert.deepEqual(ssd.preprocess, inputPresets.ssd300Voc);
    assert.deepEqual(ssd.postprocess.priors, presets.ssd300Voc.priors);
    assert.equal(ssd.postprocess.numClasses, 4);
    assert.equal(ssd.postprocess.labels, undefined, 'VOC labels only name 21 classes');
    assert.equal(ssd.width, 1 / 32);
    const big = readSsdEdgeMetadata(convertModel(fixture('ssd512-voc.zip.pth')).onnx)!;
    assert.deepEqual(big.preprocess, inputPresets.ssd512Voc);
    assert.deepEqual(big.postprocess.priors, presets.ssd512Voc.priors);
    const labels = ['background', 'a', 'b', 'c', 'd'];
    const tv = readSsdEdgeMetadata(convertModel(fixture('torchvision-ssd300.zip.pth'), { labels }).onnx)!;
    assert.deepEqual(tv.preprocess, inputPresets.torchvisionSsd300Coco);
    assert.deepEqual(tv.postprocess.priors, presets.torchvisionSsd300Coco.priors);
    assert.deepEqual(tv.postprocess.boxCoding, presets.torchvisionSsd300Coco.boxCoding);
    assert.deepEqual(tv.postprocess.labels, labels);
    assert.throws(
      () => convertModel(fixture('torchvision-ssd300.zip.pth'), { labels: ['x'] }),
      /labels has 1 names; the checkpoint has 5 classes/,
    );
  });

  it('createDetector runs a converted checkpoint with no preset: the metadata brings it', async () => {
    const { onnx } = convertModel(fixture('torchvision-ssd300.zip.pth'));
    const detector = await createDetector({ model: onnx, backend: 'node' });
    try {
      const found = await detector.detect(new URL('../../../samples/dog.jpg', import.meta.url).pathname);
      assert.ok(Array.isArray(found) && found.length <= presets.torchvisionSsd300Coco.keepTopK);
      for (const d of found) assert.ok(d.classId >= 1 && d.classId < 5 && d.score > 0.01);
    } finally {
      await detector.dispose();
    }
  });

  it('the CLI writes the model: ssd-edge convert ckpt.pth --arch ssd300-voc --out m.onnx', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ssd-edge-pth-'));
    try {
      const out = path.join(dir, 'm.onnx');
      const log = console.log;
      const lines: string[] = [];
      console.log = (...args: unknown[]) => {
        lines.push(args.join(' '));
      };
      try {
        await runConvert([new URL('ssd300-voc.legacy.pth', FIXTURES).pathname, '--arch', 'ssd300-voc', '--out', out]);
      } finally {
        console.log = log;
      }
      assert.ok(existsSync(out));
      assert.match(
        lines.join('\n'),
        /legacy format.*\n.*arch ssd300-voc \(given\).*saved on cuda:0, loaded on the CPU/,
      );
      await assert.rejects(
        runConvert([new URL('ssd300-voc.zip.pth', FIXTURES).pathname, '--arch', 'ssd301', '--out', out + '2']),
        /unknown --arch 'ssd301'; valid: ssd300-voc, ssd512-voc, torchvision-ssd300/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-made files

/** A zip archive of stored entries (method 0), or with `method` claimed for every entry. */
function makeZip(entries: Record<string, Uint8Array>, method = 0): Uint8Array {
  const parts: Uint8Array[] = [],
    central: Uint8Array[] = [];
  let offset = 0;
  const enc = new TextEncoder();
  for (const [name, data] of Object.entries(entries)) {
    const n = enc.encode(name);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(8, method, true);
    local.setUint32(18, data.length, true);
    local.setUint32(22, data.length, true);
    local.setUint16(26, n.length, true);
    const dir = new DataView(new ArrayBuffer(46));
    dir.setUint32(0, 0x02014b50, true);
    dir.setUint16(10, method, true);
    dir.setUint32(20, data.length, true);
    dir.setUint32(24, data.length, true);
    dir.setUint16(28, n.length, true);
    dir.setUint32(42, offset, true);
    parts.push(new Uint8Array(local.buffer), n, data);
    central.push(new Uint8Array(dir.buffer), n);
    offset += 30 + n.length + data.length;
  }
  const size = central.reduce((s, p) => s + p.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, Object.keys(entries).length, true);
  end.setUint16(10, Object.keys(entries).length, true);
  end.setUint32(12, size, true);
  end.setUint32(16, offset, true);
  return Buffer.concat([...parts, ...central, new Uint8Array(end.buffer)]);
}

/** Pickle bytes from a mix of opcodes (numbers) and ASCII text. */
function pickle(...parts: (number | string)[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : [...p].map((c) => c.charCodeAt(0)))));
}

describe("pickle reader: refuses everything but a state dict's needs, by name", () => {
  it('refuses os.system / posix.system / builtins.eval globals before anything runs', () => {
    // cposix\nsystem\n (S'echo hi') R .
    assert.throws(
      () => unpickle(pickle(0x80, 2, 'cposix\nsystem\n', 0x58, 7, 0, 0, 0, 'echo hi', 0x85, 'R.')),
      (e: Error) => e instanceof UnsafePickleError && /global 'posix.system'.*is refused/.test(e.message),
    );
    // protocol 4: STACK_GLOBAL on 'builtins' 'eval'
    assert.throws(
      () => unpickle(pickle(0x80, 4, 0x8c, 8, 'builtins', 0x8c, 4, 'eval', 0x93, '.')),
      /global 'builtins.eval'.*is refused/,
    );
    assert.throws(() => unpickle(pickle(0x80, 2, 'cos\nsystem\n', '.')), /global 'os.system'/);
  });

  it('refuses REDUCE on anything but an allowed callable, and opcodes a state dict never uses', () => {
    assert.throws(
      () => unpickle(pickle(0x80, 2, 'ctorch\nFloatStorage\n', ')R.')),
      (e: Error) => e instanceof UnsafePickleError && /REDUCE .* calls torch.FloatStorage/.test(e.message),
    );
    assert.throws(() => unpickle(pickle(0x80, 2, '(iposix\nsystem\n.')), /opcode INST .* is refused/);
    assert.throws(
      () => unpickle(pickle(0x80, 2, 'ccollections\nOrderedDict\n)', 0x81, '.')),
      /opcode NEWOBJ .* is refused/,
    );
    assert.throws(() => unpickle(pickle(0x80, 2, 0x82, 1, '.')), /opcode EXT1 .* is refused/);
    assert.throws(() => unpickle(pickle(0x80, 5, 0x97, '.')), /opcode NEXT_BUFFER .* is refused/);
    assert.throws(() => unpickle(pickle(0x80, 2, 'N', 0x51, '.')), /persistent id .* where none is expected/);
    // BUILD may only set a dict's attributes (an OrderedDict's _metadata)
    assert.throws(
      () => unpickle(pickle(0x80, 2, 'ctorch._utils\n_rebuild_tensor_v2\n}b.')),
      /BUILD .* sets the state of an object/,
    );
  });

  it('a tensor larger than its storage, or absurdly large through zero strides, is refused', () => {
    const storage = {
      kind: 'storage' as const,
      key: '0',
      dtype: 'float32' as const,
      numel: 4,
      location: 'cpu',
      bytes: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer),
    };
    assert.throws(() => new TorchTensor(storage, 1, [2, 2], [2, 1]), /reads element 4 of storage '0', which has 4/);
    assert.throws(
      () => new TorchTensor(storage, 0, [1e6, 1e6], [0, 0]),
      /has 1000000000000 elements; at most 268435456/,
    );
    assert.deepEqual([...new TorchTensor(storage, 0, [2, 2], [1, 2]).float32()], [1, 3, 2, 4]); // a transposed view, read row-major
  });

  it('refuses a malicious data.pkl inside a zip checkpoint by name, and through convertModel', () => {
    const evil = makeZip({
      'archive/data.pkl': pickle(0x80, 2, 'csubprocess\ncheck_output\n', 0x58, 2, 0, 0, 0, 'id', 0x85, 'R.'),
    });
    assert.equal(detectFormat(evil), 'pytorch');
    assert.throws(
      () => convertModel(evil),
      (e: Error) => e instanceof UnsafePickleError && /'subprocess.check_output'/.test(e.message),
    );
  });

  it('reads what a state dict is made of: OrderedDict with _metadata, _rebuild_tensor_v2, torch.*Storage', () => {
    const sd = readPth(fixture('ssd300-voc.zip.pth'));
    const { stateDict, path: where } = findStateDict(sd.root);
    assert.deepEqual(where, []);
    assert.equal(stateDict.size, 71); // 35 convs (15 VGG, 8 extras, 12 heads) × weight and bias, and the L2Norm scale
    const w = stateDict.get('vgg.0.weight')!;
    assert.ok(w instanceof TorchTensor);
    assert.deepEqual(w.shape, [2, 3, 3, 3]);
    assert.equal(w.dtype, 'float32');
    const half = findStateDict(readPth(fixture('ssd512-voc.zip.pth')).root).stateDict.get('L2Norm.weight')!;
    assert.equal(half.dtype, 'float16');
    assert.deepEqual([...half.float32()], new Array(16).fill(20));
  });
});

describe('damaged and mismatched checkpoints: errors that say what is wrong', () => {
  it('a zip without data.pkl, a compressed entry, a non-checkpoint', () => {
    assert.throws(
      () => readPth(makeZip({ 'model/weights.bin': new Uint8Array(8) })),
      /zip archive without data.pkl.*model\/weights.bin/,
    );
    assert.throws(
      () => readPth(makeZip({ 'archive/data.pkl': pickle(0x80, 2, 'N.') }, 8)),
      /'archive\/data.pkl' is compressed \(method 8, deflate\)/,
    );
    assert.throws(
      () => readPth(new TextEncoder().encode('not a checkpoint')),
      (e: Error) => e instanceof PthFormatError && /not a PyTorch checkpoint/.test(e.message),
    );
    assert.throws(
      () => convertModel(new TextEncoder().encode('hello world, not a model')),
      /supported: TensorFlow Lite.*PyTorch checkpoints/,
    );
  });

  for (const file of ['ssd300-voc.zip.pth', 'ssd300-voc.legacy.pth', 'ssd300-voc.v1.pth']) {
    it(`${file} truncated anywhere: a PthFormatError, never a crash or a model`, () => {
      const bytes = fixture(file);
      for (const fraction of [0.001, 0.01, 0.05, 0.3, 0.6, 0.9, 0.999]) {
        const cut = bytes.subarray(0, Math.floor(bytes.length * fraction));
        assert.throws(
          () => convertModel(cut, { format: 'pytorch' }),
          (e: Error) => e instanceof PthFormatError,
          `${file} cut at ${cut.length} of ${bytes.length} bytes`,
        );
      }
      assert.throws(
        () => convertModel(bytes.subarray(0, bytes.length - 5)),
        /truncated|end-of-central-directory|runs past/,
      );
    });
  }

  it('unknown, missing and misshapen keys: one error listing them all', () => {
    const { stateDict } = findStateDict(readPth(fixture('ssd300-voc.zip.pth')).root);
    const edited = new Map(stateDict);
    edited.delete('conf.2.bias');
    edited.set('extras.99.weight', stateDict.get('extras.0.weight')!);
    edited.set('loc.1.weight', stateDict.get('loc.0.weight')!);
    assert.throws(
      () => convertPytorchStateDict(edited, { arch: 'ssd300-voc' }),
      (e: Error) => {
        assert.ok(e instanceof CheckpointMismatchError);
        assert.deepEqual(e.missing, ['conf.2.bias']);
        assert.deepEqual(e.unexpected, ['extras.99.weight']);
        assert.equal(e.wrongShapes.length, 1);
        assert.match(
          e.message,
          /--arch ssd300-voc: 1 missing: conf\.2\.bias; 1 unexpected: extras\.99\.weight; 1 with the wrong shape: loc\.1\.weight is \[16, 16, 3, 3\], expected \[24, 32, 3, 3\] \(loc1: out, in, 3×3\)/,
        );
        return true;
      },
    );
    // the wrong family: every key is listed, in the checkpoint's terms
    assert.throws(
      () => convertPytorchStateDict(stateDict, { arch: 'torchvision-ssd300' }),
      /does not fit --arch torchvision-ssd300: 71 missing: backbone\.features\.0\.weight, .*; 71 unexpected: vgg\.0\.weight/,
    );
    assert.throws(
      () => convertPytorchStateDict(new Map([['fc.weight', stateDict.get('vgg.0.weight')!]])),
      /cannot tell the architecture.*fc\.weight.*pass arch: one of ssd300-voc, ssd512-voc, torchvision-ssd300/,
    );
  });
});

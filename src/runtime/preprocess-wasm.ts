/**
 * Pre-processing in the wasm core (assembly/resize.ts): the same resize (either sampling rule), channel order,
 * mean/std and layout as preprocess.ts, in f32 with SIMD, several times faster than the
 * TypeScript twin, which stays the readable reference it is tested against. A core instance of
 * its own, or one it is given; the image is copied in once and the tensor copied out once.
 */
import { instantiateCore, type Core, type LoadCoreOptions } from '../core/loader.js';
import { blockBytes, RESIZE_FIELDS } from '../core/params.js';
import { writeBlock } from '../core/plan.js';
import { imageChannels } from './preprocess.js';
import type { PreprocessSpec, RawImage } from './types.js';

const align = (n: number) => (n + 15) & ~15;
/** The core's `tfLegacy` flag: 1 for TF's legacy sampling rule, 0 for half-pixel centres (the default). */
const tfLegacy = (spec: PreprocessSpec) => (spec.resize === 'tf-legacy' ? 1 : 0);

export interface WasmPreprocessor {
  /** Which core build runs it. */
  readonly build: Core['build'];
  /** Same contract as preprocess(): writes image slot `index` of `out` and returns `out`. */
  run(image: RawImage, spec: PreprocessSpec, out?: Float32Array, index?: number): Float32Array;
  /**
   * The uint8 input of a quantised model (`inputType: 'uint8'`; mean must be 0 and std 1):
   * writes image slot `index` (3·W·H bytes) of `out` and returns `out`. Bit for bit
   * `toUint8Tensor(run(image, spec))`, resized and rounded in one pass of the core.
   */
  runUint8(image: RawImage, spec: PreprocessSpec, out?: Uint8Array, index?: number): Uint8Array;
  /**
   * The whole input tensor of `images` (one slot each, in order): a Uint8Array when
   * `spec.inputType` is 'uint8', else a Float32Array.
   */
  tensor(images: readonly RawImage[], spec: PreprocessSpec): Float32Array | Uint8Array;
  /** Bytes of WebAssembly memory the instance holds: it grows to the largest image and never shrinks. */
  readonly memoryBytes: number;
  /** Drops the instance and its memory; later runs throw. */
  dispose(): void;
}

export interface WasmPreprocessorOptions extends LoadCoreOptions {
  /**
   * A core to work in instead of an instance of its own (the detector passes its post-processor's,
   * whose scratch() hands out the memory after its arena). dispose() then only lets go of it.
   */
  core?: Core;
}

export async function createWasmPreprocessor(options: WasmPreprocessorOptions = {}): Promise<WasmPreprocessor> {
  let core: Core | null = options.core ?? (await instantiateCore(options));

  /**
   * Copies the image into the arena, writes the resize block (assembly/params.ts ResizeParams) and
   * runs `kernel` on it; returns the target pointer.
   */
  function resizeIn(
    image: RawImage,
    spec: PreprocessSpec,
    out: ArrayLike<number>,
    index: number,
    bytesPerValue: number,
    kernel: 'resizeToTensor' | 'resizeToU8',
  ): [Core, number] {
    if (!core) throw new Error('this pre-processor was disposed; create a new one');
    const channels = imageChannels(image);
    const [outW, outH] = spec.size;
    const plane = outW * outH;
    if (out.length < (index + 1) * 3 * plane) {
      throw new RangeError(`out has ${out.length} values; image ${index} needs ${(index + 1) * 3 * plane}`);
    }
    // arena: params | tables | source pixels (+ 4 bytes the SIMD loads may touch) | tensor
    const paramsBytes = align(blockBytes(RESIZE_FIELDS));
    const tablesBytes = align(12 * (outW + outH));
    const sourceBytes = align(image.data.length + 4);
    const base = core.scratch(
      paramsBytes + tablesBytes + sourceBytes + 3 * bytesPerValue * plane,
      `pre-processing a ${image.width} × ${image.height} image (${channels} channels) into ${outW} × ${outH}`,
    );
    const tables = base + paramsBytes,
      source = tables + tablesBytes,
      target = source + sourceBytes;
    new Uint8Array(core.memory.buffer, source, image.data.length).set(image.data);
    const [mean0, mean1, mean2] = spec.mean,
      [std0, std1, std2] = spec.std;
    writeBlock(core.memory.buffer, base, RESIZE_FIELDS, {
      srcPtr: source,
      width: image.width,
      height: image.height,
      channels,
      outPtr: target,
      outW,
      outH,
      nchw: spec.layout === 'nchw' ? 1 : 0,
      bgr: spec.channels === 'bgr' ? 1 : 0,
      tfLegacy: tfLegacy(spec),
      mean0,
      mean1,
      mean2,
      invStd0: 1 / std0,
      invStd1: 1 / std1,
      invStd2: 1 / std2,
      tablesPtr: tables,
    });
    core.exports[kernel](base);
    return [core, target];
  }

  const preprocessor: WasmPreprocessor = {
    build: core.build,
    get memoryBytes() {
      return core?.memory.buffer.byteLength ?? 0;
    },
    dispose() {
      core = null;
    },
    run(image: RawImage, spec: PreprocessSpec, out?: Float32Array, index = 0): Float32Array {
      const [outW, outH] = spec.size;
      const values = 3 * outW * outH;
      const tensor = out ?? new Float32Array(values);
      const [at, target] = resizeIn(image, spec, tensor, index, 4, 'resizeToTensor');
      tensor.set(new Float32Array(at.memory.buffer, target, values), index * values);
      return tensor;
    },
    runUint8(image: RawImage, spec: PreprocessSpec, out?: Uint8Array, index = 0): Uint8Array {
      if (spec.mean.some((m) => m !== 0) || spec.std.some((s) => s !== 1)) {
        throw new RangeError(
          `a uint8 input takes raw 0–255 pixels: mean must be [0, 0, 0] and std [1, 1, 1], got ${JSON.stringify(spec.mean)} and ${JSON.stringify(spec.std)}`,
        );
      }
      const [outW, outH] = spec.size;
      const values = 3 * outW * outH;
      const tensor = out ?? new Uint8Array(values);
      const [at, target] = resizeIn(image, spec, tensor, index, 1, 'resizeToU8');
      tensor.set(new Uint8Array(at.memory.buffer, target, values), index * values);
      return tensor;
    },
    tensor(images: readonly RawImage[], spec: PreprocessSpec): Float32Array | Uint8Array {
      const values = 3 * spec.size[0] * spec.size[1];
      if (spec.inputType === 'uint8') {
        const out = new Uint8Array(images.length * values);
        images.forEach((image, index) => preprocessor.runUint8(image, spec, out, index));
        return out;
      }
      const out = new Float32Array(images.length * values);
      images.forEach((image, index) => preprocessor.run(image, spec, out, index));
      return out;
    },
  };
  return preprocessor;
}

/**
 * Pre-processing in the wasm core (assembly/resize.ts): the same resize, channel order,
 * mean/std and layout as preprocess.ts, in f32 with SIMD, several times faster than the
 * TypeScript twin, which stays the readable reference it is tested against. One core instance
 * of its own; the image is copied in once and the tensor copied out once.
 */
import { instantiateCore, type Core, type LoadCoreOptions } from '../core/loader.js';
import { imageChannels } from './preprocess.js';
import type { PreprocessSpec, RawImage } from './types.js';

const align = (n: number) => (n + 15) & ~15;

export interface WasmPreprocessor {
  /** Which core build runs it. */
  readonly build: Core['build'];
  /** Same contract as preprocess(): writes image slot `index` of `out` and returns `out`. */
  run(image: RawImage, spec: PreprocessSpec, out?: Float32Array, index?: number): Float32Array;
  /** Bytes of WebAssembly memory the instance holds: it grows to the largest image and never shrinks. */
  readonly memoryBytes: number;
  /** Drops the instance and its memory; later runs throw. */
  dispose(): void;
}

export async function createWasmPreprocessor(options: LoadCoreOptions = {}): Promise<WasmPreprocessor> {
  let core: Core | null = await instantiateCore(options);
  return {
    build: core.build,
    get memoryBytes() {
      return core?.memory.buffer.byteLength ?? 0;
    },
    dispose() {
      core = null;
    },
    run(image: RawImage, spec: PreprocessSpec, out?: Float32Array, index = 0): Float32Array {
      if (!core) throw new Error('this pre-processor was disposed; create a new one');
      const channels = imageChannels(image);
      const [outW, outH] = spec.size;
      const plane = outW * outH;
      const tensor = out ?? new Float32Array(3 * plane);
      if (tensor.length < (index + 1) * 3 * plane) {
        throw new RangeError(`out has ${tensor.length} values; image ${index} needs ${(index + 1) * 3 * plane}`);
      }
      // arena: tables | source pixels (+ 4 bytes the SIMD loads may touch) | tensor
      const tablesBytes = align(12 * (outW + outH));
      const sourceBytes = align(image.data.length + 4);
      const base = core.scratch(tablesBytes + sourceBytes + 12 * plane,
        `pre-processing a ${image.width} × ${image.height} image (${channels} channels) into ${outW} × ${outH}`);
      const source = base + tablesBytes, target = source + sourceBytes;
      new Uint8Array(core.memory.buffer, source, image.data.length).set(image.data);
      const [m0, m1, m2] = spec.mean, [s0, s1, s2] = spec.std;
      core.exports.resizeToTensor(source, image.width, image.height, channels, target, outW, outH,
        spec.layout === 'nchw' ? 1 : 0, spec.channels === 'bgr' ? 1 : 0, m0, m1, m2, 1 / s0, 1 / s1, 1 / s2, base);
      tensor.set(new Float32Array(core.memory.buffer, target, 3 * plane), index * 3 * plane);
      return tensor;
    },
  };
}

/**
 * Runs a uint8 TensorFlow Lite SSD network (Coral's SSD MobileNet V2 COCO and its kind) on the
 * core's uint8 kernels, in TensorFlow Lite's exact arithmetic: the graph is read once from the
 * .tflite file (src/convert/tflite/read.ts), every weight is packed into one arena, activations
 * share one pool there by lifetime, and a run is a fixed list of kernel calls — no allocation.
 *
 * ```ts
 * const net = await createTfliteInt8Network(tfliteBytes);          // { build: 'auto' | 'relaxed' | 'simd' | 'baseline' }
 * net.build; net.buildReason;                                       // the kernels that run ('simd'), and why
 * const { boxEncodings, classPredictions } = net.runHeads(input);   // input: [1, H, W, 3] uint8 NHWC
 * // boxEncodings [1, anchors, 4] and classPredictions [1, anchors, classes] uint8: the inputs of
 * // TFLite_Detection_PostProcess, views into the arena valid until the next run
 * const tensors = net.run(input);                                   // every tensor of `options.outputs`, in order
 * const net2 = await createTfliteInt8Network(tfliteBytes, { threads: 2 }); // + one worker (threads.ts); same bytes out
 * net2.threads; net2.threadsReason;                                 // 1 where the engine cannot (no isolation, no SIMD)
 * await net2.dispose();                                             // terminates the worker
 * ```
 *
 * Operators: CONV_2D (qgemm for 1×1 stride 1, else qconv), DEPTHWISE_CONV_2D (qdepthwise,
 * multiplier 1), ADD (qadd, same shapes), RESHAPE (an alias: NHWC bytes do not move),
 * CONCATENATION (copies; an input quantised differently from the output goes through TFLite's
 * rescaling as a 256-entry table), LOGISTIC (qlookup with TFLite's table). Anything else, or a
 * tensor that is not per-tensor uint8, is refused with its operator index.
 */
import {
  activationRange,
  concatRequantParams,
  logisticTable,
  roundHalfAway,
  xnnpackAddParams,
  type QuantParams,
} from '../convert/tflite/arithmetic.js';
import {
  neededOperators,
  readTflite,
  TfliteFormatError,
  type TfliteModel,
  type TfliteTensor,
} from '../convert/tflite/read.js';
import {
  ActivationFunction,
  ConcatenationOptionsField,
  Conv2DOptionsField,
  DepthwiseOptionsField,
  ElementwiseOptionsField,
  Padding,
} from '../convert/tflite/schema.js';
import { instantiateCore } from '../core/loader.js';
import { Arena, REGION_SLACK } from './arena.js';
import { packDepthwise, packGemm } from './pack.js';
import { putCallBlocks, type KernelCall } from './params.js';
import { convScale, samePadding } from './reference.js';
import { chooseInt8Build, type Int8Build } from './kernels.js';
import { instantiateRelaxedCore } from './relaxed.js';
import {
  CONTROL_BYTES,
  instantiateThreadedCore,
  KERNELS,
  MAX_SPLIT_STEPS,
  threadsSupported,
  WorkerPair,
} from './threads.js';

export interface Int8NetworkOptions {
  /**
   * The kernels: 'auto' (default) picks as kernels.ts says (SIMD where the engine has it, else the
   * scalar baseline); 'relaxed' the relaxed-SIMD build (one thread), 'simd', 'baseline'.
   */
  build?: 'auto' | Int8Build;
  /** Where the core's .wasm files are served from (see LoadCoreOptions). */
  wasmBaseUrl?: string | URL;
  /** Tensor indices to return instead of TFLite_Detection_PostProcess's inputs 0 and 1. */
  outputs?: number[];
  /**
   * 1 (default), or 2: the caller and one worker each run half of every kernel call (threads.ts),
   * on the SIMD build, with identical results. Where the engine cannot (no shared memory, a page
   * that is not cross-origin isolated, `build: 'baseline'`), the network runs on one thread and
   * says why in `threadsReason`.
   */
  threads?: 1 | 2;
}

export interface Int8Network {
  /** The kernels that run. */
  readonly build: Int8Build;
  /** Why these kernels ("wasm SIMD kernels (the two-thread build is SIMD)"): part of the detector's backendReason. */
  readonly buildReason: string;
  /** The input tensor's shape ([1, H, W, 3]) and quantisation. */
  readonly inputShape: number[];
  readonly inputQuant: QuantParams;
  /** The output tensors: index, name, shape, quantisation. */
  readonly outputs: { index: number; name: string; shape: number[]; quant: QuantParams }[];
  /** Bytes of linear memory the network reserved (packed weights + activations + scratch). */
  readonly arenaBytes: number;
  /** Threads a run uses (1 or 2), and why. */
  readonly threads: number;
  readonly threadsReason: string;
  /** With two threads: the share of split work (chunks) the worker has run so far, 0–1 (0 with one thread). */
  readonly workerShare: number;
  /** Runs the network on one [1, H, W, 3] uint8 input; returns the output tensors as views (valid until the next run). */
  run(input: Uint8Array): Uint8Array[];
  /** Runs once, timing each TFLite operator (ms, in graph order). */
  profile(input: Uint8Array): { op: string; ms: number }[];
  /** The SSD heads by name, when the outputs are TFLite_Detection_PostProcess's inputs. */
  runHeads(input: Uint8Array): { boxEncodings: Uint8Array; classPredictions: Uint8Array };
  /** Stops the worker (threads: 2); the network cannot run afterwards. */
  dispose(): Promise<void>;
}

/**
 * A kernel step that can run as several calls on disjoint parts of its output: `units` output
 * rows (or channel blocks, or 16-byte chunks), `part(lo, hi, scratch)` the call computing units
 * [lo, hi) (with its own im2col scratch; part(0, units) is the whole step), `align` the unit
 * granularity a split point keeps.
 */
interface Splittable {
  units: number;
  align: number;
  /** Multiply-adds (or bytes, for elementwise steps): a step below MIN_SPLIT_WORK runs whole, the handshake would cost more. */
  work: number;
  part(lo: number, hi: number, scratch: number): KernelCall;
}

/**
 * A step of a run, planned before the activations have addresses: one kernel call that may be
 * split (`split`), kernel calls to make in order (`calls`), or a copy the host makes (`run`).
 * The calls' values are read once every address is known, and written as parameter blocks.
 */
type PlannedStep = { split: Splittable } | { calls: () => KernelCall[] } | { run: () => void };

const DETECTION_POSTPROCESS = 'TFLite_Detection_PostProcess';
/** About 20 µs of one thread's work: smaller steps are not split (a handshake costs 10–200 µs). */
const MIN_SPLIT_WORK = 200_000;
/** A split step is cut into at most this many chunks, each of at least MIN_SPLIT_WORK / 2. */
const MAX_STEP_CHUNKS = 8;

/**
 * An elementwise step over `bytes` bytes, split in 16-byte units (one SIMD vector each): `call`
 * gets a unit range's first byte and its length.
 */
function byteChunks(bytes: number, call: (offset: number, num: number) => KernelCall): Splittable {
  return {
    units: Math.ceil(bytes / 16),
    align: 1,
    work: 4 * bytes,
    part: (c0, c1) => call(16 * c0, Math.min(bytes, 16 * c1) - 16 * c0),
  };
}

/** Where a step is cut for two threads (count + 1 bounds, in units), or undefined: it runs whole. */
function chunkBounds(split: Splittable): number[] | undefined {
  const groups = Math.floor(split.units / split.align);
  const count = Math.min(MAX_STEP_CHUNKS, groups, Math.floor(split.work / (MIN_SPLIT_WORK / 2)));
  if (split.work < MIN_SPLIT_WORK || count < 2) return undefined;
  return Array.from({ length: count + 1 }, (_, i) =>
    i === count ? split.units : Math.round((i * groups) / count) * split.align,
  );
}

/**
 * Where an activation lives. `ptr` is set once every operator is planned: activations share one
 * pool, a tensor taking the place of tensors no later operator reads (first fit, by op order).
 * A RESHAPE output is an alias of its input's bytes (`base`).
 */
interface Place {
  ptr: number;
  bytes: number;
  shape: number[];
  quant: QuantParams;
  base: Place | undefined;
  /** The step (operator order, 0 = the input) that writes it, and the last that reads it. */
  born: number;
  lastUse: number;
}

/** First-fit offsets for tensors with lifetimes [born, lastUse]; returns the pool size. */
function assignOffsets(tensors: Place[], offsets: Map<Place, number>): number {
  const live: { offset: number; end: number; place: Place }[] = [];
  let poolBytes = 0;
  const byBirth = [...tensors].sort((a, b) => a.born - b.born);
  const lastStep = Math.max(0, ...tensors.map((t) => t.born));
  let next = 0;
  for (let step = 0; step <= lastStep; step++) {
    // outputs of this step are placed while its inputs are still live: no kernel reads what it writes
    for (; next < byBirth.length && byBirth[next].born === step; next++) {
      const t = byBirth[next];
      const size = (t.bytes + REGION_SLACK + 15) & ~15;
      live.sort((a, b) => a.offset - b.offset);
      let offset = 0;
      for (const l of live) {
        if (l.offset - offset >= size) break;
        offset = Math.max(offset, l.end);
      }
      live.push({ offset, end: offset + size, place: t });
      offsets.set(t, offset);
      poolBytes = Math.max(poolBytes, offset + size);
    }
    for (let i = live.length - 1; i >= 0; i--) if (live[i].place.lastUse <= step) live.splice(i, 1);
  }
  return poolBytes;
}

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function perTensorU8(tensor: TfliteTensor, where: string): QuantParams {
  const q = tensor.quantization;
  if (tensor.type !== 'uint8' || !q || q.scale.length !== 1) {
    throw new TfliteFormatError(
      `${where}: tensor ${tensor.index} '${tensor.name}' is ${tensor.type}${q && q.scale.length > 1 ? ' per-channel' : ''}; the int8 path runs per-tensor uint8 tensors only`,
    );
  }
  return { scale: q.scale[0], zeroPoint: q.zeroPoint[0] };
}

function int32s(tensor: TfliteTensor): Int32Array {
  const data = tensor.data!;
  const out = new Int32Array(data.length >> 2);
  new Uint8Array(out.buffer).set(data);
  return out;
}

/** Builds the network from a .tflite file's bytes (or the file already read). */
export async function createTfliteInt8Network(
  file: Uint8Array | TfliteModel,
  options: Int8NetworkOptions = {},
): Promise<Int8Network> {
  const model = file instanceof Uint8Array ? readTflite(file) : file;
  if (options.threads !== undefined && options.threads !== 1 && options.threads !== 2)
    throw new RangeError(`threads is ${String(options.threads)}; it must be 1 or 2`);
  let threads = options.threads ?? 1;
  let threadsReason = 'one thread requested';
  let kernels = chooseInt8Build(options.build ?? 'auto', threads);
  if (threads === 2) {
    const support = threadsSupported();
    threadsReason = support.reason;
    if (!support.ok) threads = 1;
    else if (kernels.build !== 'simd') {
      threads = 1;
      threadsReason = `the threaded build has wasm SIMD kernels, not ${kernels.build === 'relaxed' ? 'relaxed SIMD' : 'the scalar baseline'}`;
    }
    if (threads === 1) kernels = chooseInt8Build(options.build ?? 'auto', 1); // one thread may run other kernels
  }
  const threaded = threads === 2 ? await instantiateThreadedCore(options.wasmBaseUrl) : undefined;
  const core =
    threaded?.core ??
    (kernels.build === 'relaxed'
      ? await instantiateRelaxedCore(options.wasmBaseUrl)
      : await instantiateCore({ build: kernels.build, wasmBaseUrl: options.wasmBaseUrl }));
  const arena = new Arena(core);
  const e = arena.exports;
  // the control block first: fresh, zeroed memory that no staging copy has used
  const control = threaded ? (arena.alloc(CONTROL_BYTES + 64) + 63) & ~63 : 0;

  let targets = options.outputs;
  if (!targets) {
    const post = model.operators.find((op) => op.custom && op.name === DETECTION_POSTPROCESS);
    targets = post ? post.inputs.slice(0, 2) : model.outputs;
  }
  if (model.inputs.length !== 1)
    throw new TfliteFormatError(`the model has ${model.inputs.length} inputs; one image input expected`);
  const inputTensor = model.tensors[model.inputs[0]];
  const places = new Map<number, Place>();
  const allPlaces: Place[] = [];
  let clock = 0; // the step being planned
  const place = (index: number, where: string): Place => {
    let p = places.get(index);
    if (!p) {
      const t = model.tensors[index];
      if (t.data) throw new TfliteFormatError(`${where}: constant tensor ${index} '${t.name}' used as an activation`);
      const quant = perTensorU8(t, where);
      const size = product(t.shape);
      p = { ptr: 0, bytes: size, shape: t.shape, quant, base: undefined, born: clock, lastUse: clock };
      places.set(index, p);
      allPlaces.push(p);
    }
    const owner = p.base ?? p;
    owner.lastUse = Math.max(owner.lastUse, clock);
    return p;
  };
  const input = place(inputTensor.index, 'the model input');

  const planned: PlannedStep[] = [];
  /** The TFLite operator each step belongs to ('CONV_2D #3'), for profile(). */
  const stepOps: string[] = [];
  let scratchBytes = 0;
  const needed = neededOperators(model, targets);

  for (const op of model.operators) {
    if (!needed.has(op.index)) continue;
    clock++;
    const where = `operator ${op.index} (${op.name})`;
    const stepsBefore = planned.length;
    const activation = (field: number) => {
      const name = ActivationFunction[op.options?.int8(field) ?? 0];
      if (name === undefined) throw new TfliteFormatError(`${where}: unknown fused activation`);
      return name;
    };
    switch (op.name) {
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D': {
        const depthwise = op.name === 'DEPTHWISE_CONV_2D';
        const F = depthwise ? DepthwiseOptionsField : Conv2DOptionsField;
        const o = op.options;
        const padding = Padding[o?.int8(F.padding) ?? 0];
        const strideH = o?.int32(F.strideH, 1) ?? 1,
          strideW = o?.int32(F.strideW, 1) ?? 1;
        if ((o?.int32(F.dilationH, 1) ?? 1) !== 1 || (o?.int32(F.dilationW, 1) ?? 1) !== 1)
          throw new TfliteFormatError(`${where}: dilation is not supported`);
        const x = place(op.inputs[0], where),
          y = place(op.outputs[0], where);
        const filter = model.tensors[op.inputs[1]];
        const wq = perTensorU8(filter, where);
        const [, kh, kw] = filter.shape;
        const [, inH, inW, inC] = x.shape;
        const [, outH, outW, outC] = y.shape;
        const py =
          padding === 'SAME' ? samePadding(inH, kh, strideH) : { out: Math.floor((inH - kh) / strideH) + 1, before: 0 };
        const px =
          padding === 'SAME' ? samePadding(inW, kw, strideW) : { out: Math.floor((inW - kw) / strideW) + 1, before: 0 };
        if (py.out !== outH || px.out !== outW)
          throw new TfliteFormatError(
            `${where}: output [${y.shape}] does not match ${padding} padding of [${x.shape}]`,
          );
        const biasIndex = op.inputs[2] ?? -1;
        const bias = biasIndex >= 0 ? int32s(model.tensors[biasIndex]) : undefined;
        const scale = new Float32Array(outC).fill(convScale(x.quant.scale, wq.scale, y.quant.scale));
        const [lo, hi] = activationRange(activation(F.activation), y.quant);
        const zx = x.quant.zeroPoint,
          zy = y.quant.zeroPoint;
        // output rows [r0, r1) of a window kernel (qdepthwise, qconv): the same geometry with the
        // padding moved up by r0 rows
        const outputRows = (r0: number, r1: number, packedPtr: number) => ({
          xPtr: x.ptr,
          inH,
          inW,
          kh,
          kw,
          strideH,
          strideW,
          padTop: py.before - r0 * strideH,
          padLeft: px.before,
          outH: r1 - r0,
          outW,
          inputZero: zx,
          packedPtr,
          outPtr: y.ptr + r0 * outW * outC,
          zeroPoint: zy,
          lo,
          hi,
        });
        if (depthwise) {
          if (filter.shape[3] !== inC || outC !== inC)
            throw new TfliteFormatError(`${where}: depth multiplier ≠ 1 is not supported`);
          const packed = packDepthwise(arena, filter.data!, inC, kh * kw, wq.zeroPoint, bias, scale);
          planned.push({
            split: {
              units: outH,
              align: 1,
              work: outH * outW * outC * kh * kw,
              part: (r0, r1) => ['qdepthwise', { ...outputRows(r0, r1, packed.ptr), channels: inC }],
            },
          });
        } else {
          if (filter.shape[3] !== inC || filter.shape[0] !== outC)
            throw new TfliteFormatError(
              `${where}: filter [${filter.shape}] does not match [${x.shape}] → [${y.shape}]`,
            );
          const packed = packGemm(arena, filter.data!, outC, kh * kw * inC, wq.zeroPoint, zx, bias, scale);
          if (kh === 1 && kw === 1 && strideH === 1 && strideW === 1) {
            const rows = inH * inW,
              blockBytes = e.qgemmPackedBytes(4, inC); // one packed block of 4 channels (its layout depends on the build)
            const gemm = { xStride: inC, numK8: packed.numK8, outStride: outC, zeroPoint: zy, lo, hi };
            planned.push({
              split:
                rows >= 16
                  ? {
                      units: rows,
                      align: 2,
                      work: rows * outC * inC,
                      part: (r0, r1) => [
                        'qgemm',
                        {
                          ...gemm,
                          xPtr: x.ptr + r0 * inC,
                          numRows: r1 - r0,
                          packedPtr: packed.ptr,
                          numOut: outC,
                          outPtr: y.ptr + r0 * outC,
                        },
                      ],
                    }
                  : {
                      units: (outC + 3) >> 2,
                      align: 1,
                      work: rows * outC * inC,
                      part: (b0, b1) => [
                        'qgemm',
                        {
                          ...gemm,
                          xPtr: x.ptr,
                          numRows: rows,
                          packedPtr: packed.ptr + b0 * blockBytes,
                          numOut: Math.min(outC, 4 * b1) - 4 * b0,
                          outPtr: y.ptr + 4 * b0,
                        },
                      ],
                    },
            });
          } else {
            scratchBytes = Math.max(scratchBytes, outW * packed.numK8 * 8);
            planned.push({
              split: {
                units: outH,
                align: 1,
                work: outH * outW * outC * kh * kw * inC,
                part: (r0, r1, rowScratch) => [
                  'qconv',
                  { ...outputRows(r0, r1, packed.ptr), inC, numOut: outC, scratchPtr: rowScratch },
                ],
              },
            });
          }
        }
        break;
      }
      case 'ADD': {
        const a = place(op.inputs[0], where),
          b = place(op.inputs[1], where),
          y = place(op.outputs[0], where);
        if (a.bytes !== y.bytes || b.bytes !== y.bytes)
          throw new TfliteFormatError(`${where}: broadcasting ADD ([${a.shape}] + [${b.shape}]) is not supported`);
        const p = xnnpackAddParams(a.quant, b.quant, y.quant);
        const [lo, hi] = activationRange(activation(ElementwiseOptionsField.activation), y.quant);
        planned.push({
          split: byteChunks(y.bytes, (offset, num) => [
            'qadd',
            {
              aPtr: a.ptr + offset,
              bPtr: b.ptr + offset,
              outPtr: y.ptr + offset,
              num,
              aMultiplier: p.aMultiplier,
              bMultiplier: p.bMultiplier,
              bias: p.bias + p.rounding,
              shift: p.shift,
              zeroPoint: y.quant.zeroPoint,
              lo,
              hi,
            },
          ]),
        });
        break;
      }
      case 'RESHAPE':
      case 'SQUEEZE': {
        const x = place(op.inputs[0], where);
        const t = model.tensors[op.outputs[0]];
        const quant = perTensorU8(t, where);
        if (product(t.shape) !== x.bytes || quant.scale !== x.quant.scale || quant.zeroPoint !== x.quant.zeroPoint) {
          throw new TfliteFormatError(`${where}: [${x.shape}] → [${t.shape}] changes size or quantisation`);
        }
        const alias: Place = { ...x, shape: t.shape, quant, base: x.base ?? x }; // same bytes, new shape
        places.set(op.outputs[0], alias);
        allPlaces.push(alias);
        break;
      }
      case 'CONCATENATION': {
        const y = place(op.outputs[0], where);
        let axis = op.options?.int32(ConcatenationOptionsField.axis) ?? 0;
        if (axis < 0) axis += y.shape.length;
        if (activation(ConcatenationOptionsField.activation) !== 'NONE')
          throw new TfliteFormatError(`${where}: fused activation is not supported`);
        const outer = product(y.shape.slice(0, axis));
        const outInner = product(y.shape.slice(axis));
        let offset = 0;
        for (const index of op.inputs) {
          const x = place(index, where);
          const inner = product(x.shape.slice(axis));
          const start = offset;
          offset += inner;
          const same = x.quant.scale === y.quant.scale && x.quant.zeroPoint === y.quant.zeroPoint;
          if (same) {
            planned.push({
              run: () => {
                for (let k = 0; k < outer; k++) {
                  const from = x.ptr + k * inner;
                  heap.copyWithin(y.ptr + k * outInner + start, from, from + inner);
                }
              },
            });
            continue;
          }
          // TFLite's ConcatenationWithScaling: round(q·scale + bias) in f32, std::round
          const { scale, bias } = concatRequantParams(x.quant, y.quant);
          const table = Uint8Array.from({ length: 256 }, (_, q) =>
            Math.min(255, Math.max(0, roundHalfAway(Math.fround(Math.fround(q * scale) + bias)) + y.quant.zeroPoint)),
          );
          const tablePtr = arena.put(table);
          planned.push({
            calls: () =>
              Array.from({ length: outer }, (_, k): KernelCall => [
                'qlookup',
                { xPtr: x.ptr + k * inner, num: inner, tablePtr, outPtr: y.ptr + k * outInner + start },
              ]),
          });
        }
        if (offset !== outInner)
          throw new TfliteFormatError(
            `${where}: inputs add up to ${offset} values per row, the output has ${outInner}`,
          );
        break;
      }
      case 'LOGISTIC': {
        const x = place(op.inputs[0], where),
          y = place(op.outputs[0], where);
        const tablePtr = arena.put(logisticTable(x.quant, y.quant));
        planned.push({
          split: byteChunks(x.bytes, (offset, num) => [
            'qlookup',
            { xPtr: x.ptr + offset, num, tablePtr, outPtr: y.ptr + offset },
          ]),
        });
        break;
      }
      default:
        throw new TfliteFormatError(
          `${where}: the int8 path runs CONV_2D, DEPTHWISE_CONV_2D, ADD, RESHAPE, CONCATENATION and LOGISTIC only`,
        );
    }
    for (let k = stepsBefore; k < planned.length; k++) stepOps.push(`${op.name} #${op.index}`);
  }
  for (const index of targets) {
    const p = places.get(index);
    if (p) (p.base ?? p).lastUse = Infinity; // outputs stay readable after the run
  }
  const offsets = new Map<Place, number>();
  const pool = arena.alloc(
    assignOffsets(
      allPlaces.filter((p) => !p.base),
      offsets,
    ),
  );
  for (const p of allPlaces) p.ptr = pool + offsets.get(p.base ?? p)!;
  const scratch = arena.alloc(scratchBytes);

  // Every kernel call's parameter block is written now, once, into one region: a run passes one
  // address per call. With two threads, every large splittable step becomes chunks that the
  // caller and the worker claim, each chunk with a block per thread (naming that thread's scratch).
  const workerScratch = threaded ? arena.alloc(scratchBytes) : 0;
  const calls: KernelCall[] = [];
  /** Queues `list` for putCallBlocks; returns where their addresses will be. */
  const queue = (list: KernelCall[]) => list.map((call) => calls.push(call) - 1);
  let numSplit = 0;
  /** A step with its calls queued: whole, or as chunks for each thread (split step `index`). */
  type Queued = { run: () => void } | { whole: number[] } | { index: number; caller: number[]; worker: number[] };
  const queued = planned.map((step): Queued => {
    if ('run' in step) return step;
    if ('calls' in step) return { whole: queue(step.calls()) };
    const { units, part } = step.split;
    const bounds = threaded && numSplit < MAX_SPLIT_STEPS ? chunkBounds(step.split) : undefined;
    if (!bounds) return { whole: queue([part(0, units, scratch)]) };
    const chunks = (rowScratch: number) => bounds.slice(0, -1).map((lo, i) => part(lo, bounds[i + 1], rowScratch));
    return { index: numSplit++, caller: queue(chunks(scratch)), worker: queue(chunks(workerScratch)) };
  });
  const blocks = putCallBlocks(arena, calls);
  /** Queued call `i`, ready to run. */
  const bound = (i: number): (() => void) => {
    const fn = e[calls[i][0]],
      paramsPtr = blocks[i];
    return () => fn(paramsPtr);
  };
  let pair: WorkerPair | undefined;
  const workerSteps: [number, number][][] = [];
  const runSteps = queued.map((step): (() => void) => {
    if ('run' in step) return step.run;
    if ('whole' in step) {
      const list = step.whole.map(bound);
      return list.length === 1 ? list[0] : () => list.forEach((call) => call());
    }
    workerSteps[step.index] = step.worker.map((i): [number, number] => [KERNELS.indexOf(calls[i][0]), blocks[i]]);
    const chunks = step.caller.map(bound);
    return () => pair!.run(step.index, chunks);
  });
  if (threaded)
    pair = await WorkerPair.start({ module: threaded.module, memory: core.memory, control, steps: workerSteps });
  const heap = new Uint8Array(core.memory.buffer); // memory no longer grows: one view serves every run

  const outputs = targets.map((index) => {
    const p = places.get(index);
    if (!p) throw new TfliteFormatError(`output tensor ${index} is not computed by the network`);
    return { index, name: model.tensors[index].name, shape: p.shape, quant: p.quant, place: p };
  });
  const feed = (image: Uint8Array): void => {
    if (!(image instanceof Uint8Array))
      throw new TypeError('the int8 network takes a Uint8Array input ([1, H, W, 3] NHWC)');
    if (image.length !== input.bytes)
      throw new RangeError(`input has ${image.length} bytes; [${input.shape}] needs ${input.bytes}`);
    heap.set(image, input.ptr);
  };
  const views = outputs.map((o) => arena.u8(o.place.ptr, o.place.bytes));
  let disposed = false;
  const run = (image: Uint8Array): Uint8Array[] => {
    if (disposed) throw new Error('the int8 network was disposed');
    feed(image);
    for (const step of runSteps) step();
    return views;
  };
  return {
    build: kernels.build,
    buildReason: kernels.reason,
    inputShape: input.shape,
    inputQuant: input.quant,
    outputs: outputs.map(({ index, name, shape, quant }) => ({ index, name, shape, quant })),
    arenaBytes: arena.used,
    threads,
    threadsReason,
    get workerShare() {
      const chunks = pair?.chunks;
      return chunks && chunks.total ? chunks.worker / chunks.total : 0;
    },
    run,
    profile(image) {
      feed(image);
      const times = new Map<string, number>();
      if (disposed) throw new Error('the int8 network was disposed');
      for (let k = 0; k < runSteps.length; k++) {
        const t0 = performance.now();
        runSteps[k]();
        times.set(stepOps[k], (times.get(stepOps[k]) ?? 0) + performance.now() - t0);
      }
      return [...times].map(([op, ms]) => ({ op, ms }));
    },
    runHeads(image) {
      if (outputs.length !== 2)
        throw new Error(`the network has ${outputs.length} outputs; runHeads needs the two SSD heads`);
      const [boxEncodings, classPredictions] = run(image);
      return { boxEncodings, classPredictions };
    },
    async dispose() {
      disposed = true;
      await pair?.close();
    },
  };
}

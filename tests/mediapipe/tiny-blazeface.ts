/**
 * A tiny model with BlazeFace short range's interface, written as a .tflite file in the test
 * (tests/convert/tflite-writer.ts): float32 input [1, 128, 128, 3], outputs `regressors`
 * [1, 896, 16] and `classificators` [1, 896, 1] over BlazeFace's two feature maps, 16 × 16 with
 * 2 anchors a cell and 8 × 8 with 6 (512 + 384 = 896 anchors, in BlazeFace's anchor order).
 *
 *   f16            = AVERAGE_POOL_2D 8×8, stride 8 (input)                     [1, 16, 16, 3]
 *   f8             = DEPTHWISE_CONV_2D 2×2, stride 2 (f16)                     [1, 8, 8, 3]
 *   regressors     = CONCATENATION, axis 1, of RESHAPE(CONV_2D 1×1 (f16))      [1, 512, 16]
 *                                          and RESHAPE(CONV_2D 3×3 SAME (f8))  [1, 384, 16]
 *   classificators = the same with 2 and 6 output channels (not 32 and 96)     [1, 896, 1]
 *
 * The weights make a white square a "face" on the 16 × 16 map and a red one a face on the 8 × 8
 * map (see tinyFaceImage), with boxes of about their size and six keypoints laid out like
 * BlazeFace's (eyes, nose, mouth, ears). Every weight is a small dyadic number, so on an image of
 * black, white and red pixels (inputs exactly −1 and 1) every sum is exact in float32: the ONNX
 * model's outputs then equal evaluateTinyBlazeface's bit for bit, in any summation order (TensorFlow
 * Lite's too: tools/tflite-reference/check-tiny-blazeface.ts).
 *
 * evaluateTinyBlazeface is a plain-TypeScript evaluation of the same graph (NHWC, float64), for
 * checking the converted model against.
 */
import type { RawImage } from '../../src/runtime/types.js';
import type { WrittenModel, WrittenTensor } from '../convert/tflite-writer.js';

export const INPUT_SIZE = 128;
/** The two feature maps: 16 × 16 (stride 8), 8 × 8 (stride 16, BlazeFace's three stride-16 layers merged). */
const GRID_16 = 16;
const GRID_8 = 8;
const ANCHORS_8 = 6;
/** Values per anchor: box x, y, w, h (pixels of the 128 × 128 input), then 6 keypoints x, y. */
const COORDS = 16;

/** Keypoint offsets from the box centre in pixels: right eye, left eye, nose tip, mouth, right ear, left ear. */
const KEYPOINT_OFFSETS: readonly (readonly [number, number])[] = [
  [-4, -3],
  [4, -3],
  [0, 1],
  [0, 4],
  [-7, -1],
  [7, -1],
];

/** Depthwise 2×2 filter taps (row-major) per channel: each sums to 1, so a uniform region keeps its value. */
const DEPTHWISE_TAPS = [
  [0.125, 0.375, 0.25, 0.25], // R
  [0.5, 0.25, 0.125, 0.125], // G
  [0.25, 0.25, 0.25, 0.25], // B
];

/** Feature-map head of the 16 × 16 map (1×1 conv): weights [R, G, B] and bias per output channel. */
function head16(anchorsPerCell: number): { regressor: number[][]; score: number[][] } {
  const regressor: number[][] = [];
  const score: number[][] = [];
  for (let a = 0; a < anchorsPerCell; a++) {
    // [wR, wG, wB, bias]; on a cell of white fraction n/64 each channel is f = n/32 − 1
    regressor.push([4, -2, 0, a]); // x offset: 2f + a
    regressor.push([0, 0, 2, 1 - a]); // y offset: 2f + 1 − a
    regressor.push([2, 2, 2, 26 + 2 * a]); // width: 6f + 26 + 2a
    regressor.push([0, 2, 2, 26 + a]); // height: 4f + 26 + a
    KEYPOINT_OFFSETS.forEach(([x, y], k) => {
      regressor.push([0.5, 0, 0, x]);
      regressor.push([0, 0.25 * (k + 1), 0, y + a]);
    });
    // white: logit 6f (anchor 0), 4f − 0.5 (anchor 1); red and black cells stay below −1.5
    score.push(a === 0 ? [2, 2, 2, 0] : [0, 2, 2, -0.5]);
  }
  return { regressor, score };
}

/**
 * Feature-map head of the 8 × 8 map (3×3 conv, SAME): per output channel, the centre tap's
 * [R, G, B], the other taps' [R, G, B] as a function of the tap (row-major 0..8, centre 4), and a bias.
 */
interface Head8Channel {
  centre: [number, number, number];
  around: (tap: number) => [number, number, number];
  bias: number;
}
function head8(): { regressor: Head8Channel[]; score: Head8Channel[] } {
  const regressor: Head8Channel[] = [];
  const score: Head8Channel[] = [];
  // distinct weights per tap: a filter laid out wrongly (rows, columns or channels swapped) changes the outputs
  const around = (tap: number): [number, number, number] => [(tap - 4) / 32, 0, 0];
  for (let a = 0; a < ANCHORS_8; a++) {
    regressor.push({ centre: [2, 0, 0], around, bias: 0.5 * a });
    regressor.push({ centre: [0, 0, -2], around, bias: 0 });
    regressor.push({ centre: [8, 0, 0], around, bias: 24 + a });
    regressor.push({ centre: [8, 0, 0], around, bias: 24 - a });
    KEYPOINT_OFFSETS.forEach(([x, y], k) => {
      regressor.push({ centre: [0.25 * (a + 1), 0, 0], around, bias: 2 * x });
      regressor.push({ centre: [0, 0.125 * (k + 1), 0], around, bias: 2 * y });
    });
    // red (1, −1, −1) at the centre: 8 − 4.25 − 0.5a > 0; white, black and their mixes have r − g ≤ 0.75
    // and stay below 0 on tinyFaceImage() (the test checks that no other anchor passes)
    score.push({ centre: [4, -4, 0], around: () => [0.25, -0.25, 0], bias: -4.25 - 0.5 * a });
  }
  return { regressor, score };
}

interface ConvWeights {
  /** TFLite layout [out, kh, kw, in]. */
  filter: Float32Array;
  bias: Float32Array;
  out: number;
  kernel: number;
}

function conv1x1(rows: number[][]): ConvWeights {
  return {
    filter: Float32Array.from(rows.flatMap((r) => r.slice(0, 3))),
    bias: Float32Array.from(rows, (r) => r[3]),
    out: rows.length,
    kernel: 1,
  };
}

function conv3x3(channels: Head8Channel[]): ConvWeights {
  const filter = new Float32Array(channels.length * 9 * 3);
  channels.forEach((ch, o) => {
    for (let tap = 0; tap < 9; tap++) filter.set(tap === 4 ? ch.centre : ch.around(tap), (o * 9 + tap) * 3);
  });
  return { filter, bias: Float32Array.from(channels, (ch) => ch.bias), out: channels.length, kernel: 3 };
}

export interface TinyBlazefaceOptions {
  /** Anchors per cell of the 16 × 16 map: BlazeFace's is 2; another count gives outputs of the wrong shape. */
  anchorsPerCell16?: number;
}

interface TinyWeights {
  depthwise: Float32Array;
  reg16: ConvWeights;
  cls16: ConvWeights;
  reg8: ConvWeights;
  cls8: ConvWeights;
  anchorsPerCell16: number;
}

function weights(options: TinyBlazefaceOptions): TinyWeights {
  const anchorsPerCell16 = options.anchorsPerCell16 ?? 2;
  const h16 = head16(anchorsPerCell16);
  const h8 = head8();
  // TFLite depthwise filter [1, kh, kw, channels]
  const depthwise = new Float32Array(4 * 3);
  for (let tap = 0; tap < 4; tap++) for (let c = 0; c < 3; c++) depthwise[tap * 3 + c] = DEPTHWISE_TAPS[c][tap];
  return {
    depthwise,
    reg16: conv1x1(h16.regressor),
    cls16: conv1x1(h16.score),
    reg8: conv3x3(h8.regressor),
    cls8: conv3x3(h8.score),
    anchorsPerCell16,
  };
}

/** The tiny model as the tflite-writer's description. */
export function tinyBlazefaceModel(options: TinyBlazefaceOptions = {}): WrittenModel {
  const w = weights(options);
  const tensors: WrittenTensor[] = [];
  const add = (t: WrittenTensor) => tensors.push(t) - 1;
  const anchors16 = GRID_16 * GRID_16 * w.anchorsPerCell16;
  const anchors8 = GRID_8 * GRID_8 * ANCHORS_8;

  const input = add({ name: 'input', shape: [1, INPUT_SIZE, INPUT_SIZE, 3], type: 'float32' });
  const f16 = add({ name: 'f16', shape: [1, GRID_16, GRID_16, 3], type: 'float32' });
  const dwFilter = add({ name: 'dw/filter', shape: [1, 2, 2, 3], type: 'float32', data: w.depthwise });
  const dwBias = add({ name: 'dw/bias', shape: [3], type: 'float32', data: new Float32Array(3) });
  const f8 = add({ name: 'f8', shape: [1, GRID_8, GRID_8, 3], type: 'float32' });
  const conv = (name: string, c: ConvWeights, grid: number) => ({
    filter: add({ name: `${name}/filter`, shape: [c.out, c.kernel, c.kernel, 3], type: 'float32', data: c.filter }),
    bias: add({ name: `${name}/bias`, shape: [c.out], type: 'float32', data: c.bias }),
    out: add({ name, shape: [1, grid, grid, c.out], type: 'float32' }),
  });
  const reg16 = conv('reg16', w.reg16, GRID_16);
  const cls16 = conv('cls16', w.cls16, GRID_16);
  const reg8 = conv('reg8', w.reg8, GRID_8);
  const cls8 = conv('cls8', w.cls8, GRID_8);
  const reshape = (name: string, shape: number[]) => ({
    shape: add({ name: `${name}/shape`, shape: [3], type: 'int32', data: Int32Array.from(shape) }),
    out: add({ name, shape, type: 'float32' }),
  });
  const reg16r = reshape('reg16/reshaped', [1, anchors16, COORDS]);
  const reg8r = reshape('reg8/reshaped', [1, anchors8, COORDS]);
  const cls16r = reshape('cls16/reshaped', [1, anchors16, 1]);
  const cls8r = reshape('cls8/reshaped', [1, anchors8, 1]);
  const regressors = add({ name: 'regressors', shape: [1, anchors16 + anchors8, COORDS], type: 'float32' });
  const classificators = add({ name: 'classificators', shape: [1, anchors16 + anchors8, 1], type: 'float32' });

  const conv2d = (x: number, c: { filter: number; bias: number; out: number }, kernel: number) => ({
    op: 'CONV_2D' as const,
    inputs: [x, c.filter, c.bias],
    outputs: [c.out],
    options: {
      type: 'Conv2DOptions' as const,
      padding: kernel === 1 ? ('VALID' as const) : ('SAME' as const),
      strideW: 1,
      strideH: 1,
    },
  });
  const reshapeOp = (x: number, r: { shape: number; out: number }, shape: number[]) => ({
    op: 'RESHAPE' as const,
    inputs: [x, r.shape],
    outputs: [r.out],
    options: { type: 'ReshapeOptions' as const, newShape: shape },
  });
  return {
    description: 'a tiny BlazeFace-shaped model (tests/mediapipe/tiny-blazeface.ts)',
    tensors,
    inputs: [input],
    outputs: [regressors, classificators],
    operators: [
      {
        op: 'AVERAGE_POOL_2D',
        inputs: [input],
        outputs: [f16],
        options: { type: 'Pool2DOptions', padding: 'VALID', strideW: 8, strideH: 8, filterWidth: 8, filterHeight: 8 },
      },
      {
        op: 'DEPTHWISE_CONV_2D',
        inputs: [f16, dwFilter, dwBias],
        outputs: [f8],
        options: { type: 'DepthwiseConv2DOptions', padding: 'VALID', strideW: 2, strideH: 2, depthMultiplier: 1 },
      },
      conv2d(f16, reg16, 1),
      conv2d(f16, cls16, 1),
      conv2d(f8, reg8, 3),
      conv2d(f8, cls8, 3),
      reshapeOp(reg16.out, reg16r, [1, anchors16, COORDS]),
      reshapeOp(reg8.out, reg8r, [1, anchors8, COORDS]),
      reshapeOp(cls16.out, cls16r, [1, anchors16, 1]),
      reshapeOp(cls8.out, cls8r, [1, anchors8, 1]),
      {
        op: 'CONCATENATION',
        inputs: [reg16r.out, reg8r.out],
        outputs: [regressors],
        options: { type: 'ConcatenationOptions', axis: 1 },
      },
      {
        op: 'CONCATENATION',
        inputs: [cls16r.out, cls8r.out],
        outputs: [classificators],
        options: { type: 'ConcatenationOptions', axis: 1 },
      },
    ],
  };
}

/** An NHWC feature map (batch 1) in float64. */
interface Map3 {
  data: Float64Array;
  size: number;
  channels: number;
}

/** VALID average pooling, k × k windows, stride k. */
function averagePool(x: Map3, k: number): Map3 {
  const size = x.size / k;
  const data = new Float64Array(size * size * x.channels);
  for (let y = 0; y < size; y++)
    for (let xx = 0; xx < size; xx++)
      for (let c = 0; c < x.channels; c++) {
        let sum = 0;
        for (let dy = 0; dy < k; dy++)
          for (let dx = 0; dx < k; dx++) sum += x.data[((y * k + dy) * x.size + xx * k + dx) * x.channels + c];
        data[(y * size + xx) * x.channels + c] = sum / (k * k);
      }
  return { data, size, channels: x.channels };
}

/** VALID depthwise 2 × 2, stride 2, multiplier 1; filter [1, 2, 2, C]. */
function depthwise2x2(x: Map3, filter: Float32Array): Map3 {
  const size = x.size / 2;
  const data = new Float64Array(size * size * x.channels);
  for (let y = 0; y < size; y++)
    for (let xx = 0; xx < size; xx++)
      for (let c = 0; c < x.channels; c++) {
        let sum = 0;
        for (let tap = 0; tap < 4; tap++) {
          const [dy, dx] = [tap >> 1, tap & 1];
          sum += x.data[((2 * y + dy) * x.size + 2 * xx + dx) * x.channels + c] * filter[tap * x.channels + c];
        }
        data[(y * size + xx) * x.channels + c] = sum;
      }
  return { data, size, channels: x.channels };
}

/** Stride-1 convolution, SAME (zero padding (k − 1) / 2 on each side) for odd k; filter [out, k, k, in]. */
function convSame(x: Map3, w: ConvWeights): Map3 {
  const { kernel: k, out } = w;
  const pad = (k - 1) / 2;
  const data = new Float64Array(x.size * x.size * out);
  for (let y = 0; y < x.size; y++)
    for (let xx = 0; xx < x.size; xx++)
      for (let o = 0; o < out; o++) {
        let sum = w.bias[o];
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++) {
            const [sy, sx] = [y + ky - pad, xx + kx - pad];
            if (sy < 0 || sx < 0 || sy >= x.size || sx >= x.size) continue;
            for (let c = 0; c < x.channels; c++)
              sum += x.data[(sy * x.size + sx) * x.channels + c] * w.filter[((o * k + ky) * k + kx) * x.channels + c];
          }
        data[(y * x.size + xx) * out + o] = sum;
      }
  return { data, size: x.size, channels: out };
}

/**
 * The tiny model's outputs for an NHWC input [1, 128, 128, 3], evaluated in plain TypeScript:
 * the RESHAPEs of NHWC maps are their data as it lies, the CONCATENATIONs on the anchor axis put
 * the 16 × 16 map's rows before the 8 × 8 map's.
 */
export function evaluateTinyBlazeface(
  input: Float32Array,
  options: TinyBlazefaceOptions = {},
): { regressors: Float32Array; classificators: Float32Array } {
  const w = weights(options);
  const x: Map3 = { data: Float64Array.from(input), size: INPUT_SIZE, channels: 3 };
  const f16 = averagePool(x, INPUT_SIZE / GRID_16);
  const f8 = depthwise2x2(f16, w.depthwise);
  const join = (a: Map3, b: Map3) => {
    const out = new Float32Array(a.data.length + b.data.length);
    out.set(a.data);
    out.set(b.data, a.data.length);
    return out;
  };
  return {
    regressors: join(convSame(f16, w.reg16), convSame(f8, w.reg8)),
    classificators: join(convSame(f16, w.cls16), convSame(f8, w.cls8)),
  };
}

/** The face regions of tinyFaceImage(), in pixels [x0, y0, x1, y1) of the 128 × 128 image. */
export const WHITE_FACE = [34, 57, 50, 75] as const;
export const RED_FACE = [96, 16, 112, 32] as const;

/**
 * Black, with a white square that covers 16 × 16-map cells (4..6, 7..9) in distinct fractions
 * (42, 56, 14 / 48, 64, 16 / 18, 24, 6 of 64 pixels, so no two scores tie) and a red square that
 * fills the 8 × 8 map's cell (6, 1).
 */
export function tinyFaceImage(): RawImage {
  const data = new Uint8Array(INPUT_SIZE * INPUT_SIZE * 3);
  const fill = ([x0, y0, x1, y1]: readonly number[], rgb: [number, number, number]) => {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data.set(rgb, (y * INPUT_SIZE + x) * 3);
  };
  fill(WHITE_FACE, [255, 255, 255]);
  fill(RED_FACE, [255, 0, 0]);
  return { data, width: INPUT_SIZE, height: INPUT_SIZE, channels: 3 };
}

/** The image as the model's input: RGB to [−1, 1] (BlazeFace's (p − 127.5) / 127.5), NHWC. */
export function tinyFaceInput(image: RawImage): Float32Array {
  return Float32Array.from(image.data, (p) => (p - 127.5) / 127.5);
}

/**
 * The anchors whose score passes 0.5 on tinyFaceImage(), worked out by hand: on the 16 × 16 map
 * the cells with white fractions 42, 56, 48, 64 of 64 (logits 6f and 4f − 0.5 with f = n/32 − 1
 * positive for n > 32, ≥ 0.75 here; 24 and below give −1.5 and less), anchor (y·16 + x)·2 + a; on
 * the 8 × 8 map the red cell (6, 1), all six anchors (logits 3.75 … 1.25), 512 + (y·8 + x)·6 + a.
 */
export const TINY_FACE_ANCHORS = [
  ...[
    [4, 7],
    [5, 7],
    [4, 8],
    [5, 8],
  ].flatMap(([x, y]) => [(y * 16 + x) * 2, (y * 16 + x) * 2 + 1]),
  ...Array.from({ length: ANCHORS_8 }, (_, a) => 512 + (1 * 8 + 6) * ANCHORS_8 + a),
].sort((a, b) => a - b);

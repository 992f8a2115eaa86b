/**
 * Tiny SSD-shaped ONNX models for plumbing tests, built with onnx-proto. The outputs are
 * constants (known loc/conf tensors), so detections are known without a trained network:
 *
 *   image [N, …] ─ Reshape [N, 1, K] ─ ReduceMean ─► m [N, 1, 1]
 *   loc  = m · 0 + LOC             [N, P, 4]
 *   conf = m · PROBE + CONF        [N, P, C]   (PROBE: one-hot at probe (prior, class), else 0)
 *
 * The probe makes one logit equal the mean of the input tensor, so a test can see that the
 * pre-processed image reaches the model (a white image lifts it, a black one sinks it).
 */
import onnxProto from 'onnx-proto';
import { random } from '../helpers.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

export interface SsdModelOptions {
  numPriors: number;
  numClasses: number;
  /** Input shape; a string is a symbolic dimension. Default ['N', 3, 300, 300]. */
  input?: (number | string)[];
  loc: Float32Array;
  conf: Float32Array;
  /** Where conf gets the input mean added. */
  probe?: { prior: number; classId: number };
  /** Default ['loc', 'conf']. */
  outputNames?: [string, string];
  metadata?: Record<string, string>;
}

function valueInfo(name: string, dims: (number | string)[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function floats(name: string, dims: number[], values: Float32Array) {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

/** The serialised model. */
export function ssdModel(options: SsdModelOptions): Uint8Array {
  const { numPriors: P, numClasses: C, loc, conf } = options;
  const input = options.input ?? ['N', 3, 300, 300];
  const [locName, confName] = options.outputNames ?? ['loc', 'conf'];
  const perImage = input.slice(1).reduce<number>((a, b) => a * Number(b), 1);
  const probe = new Float32Array(P * C);
  if (options.probe) probe[options.probe.prior * C + options.probe.classId] = 1;
  const graph = {
    name: 'ssd-plumbing',
    node: [
      { opType: 'Reshape', input: ['image', 'flat_shape'], output: ['flat'] },
      {
        opType: 'ReduceMean',
        input: ['flat'],
        output: ['mean'],
        attribute: [{ name: 'axes', ints: [2], type: onnx.AttributeProto.AttributeType.INTS }],
      },
      { opType: 'Mul', input: ['mean', 'zero'], output: ['zeros'] },
      { opType: 'Add', input: ['zeros', 'loc_const'], output: [locName] },
      { opType: 'Mul', input: ['mean', 'probe'], output: ['probed'] },
      { opType: 'Add', input: ['probed', 'conf_const'], output: [confName] },
    ],
    initializer: [
      { name: 'flat_shape', dims: [3], dataType: INT64, int64Data: [-1, 1, perImage] },
      floats('zero', [], new Float32Array([0])),
      floats('loc_const', [1, P, 4], loc),
      floats('probe', [1, P, C], probe),
      floats('conf_const', [1, P, C], conf),
    ],
    input: [valueInfo('image', input)],
    output: [valueInfo(locName, [input[0], P, 4]), valueInfo(confName, [input[0], P, C])],
  };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'ssd-edge-tests',
    graph,
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  return new Uint8Array(onnx.ModelProto.encode(model).finish()); // a plain Uint8Array, not a Buffer
}

/**
 * SSD-shaped constants: small random offsets, and a background logit of 10 on every prior
 * except the given hits (background 0, the class at `logit`), so only those pass a 0.01 threshold.
 */
export function ssdOutputs(
  numPriors: number,
  numClasses: number,
  hits: { prior: number; classId: number; logit: number }[],
  seed = 3,
): { loc: Float32Array; conf: Float32Array } {
  const rand = random(seed);
  const loc = new Float32Array(numPriors * 4).map(() => (rand() - 0.5) * 0.5);
  const conf = new Float32Array(numPriors * numClasses);
  for (let p = 0; p < numPriors; p++) conf[p * numClasses] = 10;
  for (const { prior, classId, logit } of hits) {
    conf[prior * numClasses] = 0;
    conf[prior * numClasses + classId] = logit;
  }
  return { loc, conf };
}

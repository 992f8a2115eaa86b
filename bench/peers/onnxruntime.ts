/**
 * Peer: the same post-processing as an ONNX graph run by onnxruntime — the wasm EP of
 * onnxruntime-web (in plain Node) or the native CPU EP of onnxruntime-node.
 *
 * The graph (built in memory with onnx-proto, opset 13): decode loc against the priors
 * (an initializer) to xyxy corners, Softmax over classes, Transpose to [C, P], drop the
 * background row, TopK k = topK per class, Gather the boxes of those k priors, and run
 * NonMaxSuppression with each class as its own batch (boxes [C−1, k, 4], scores [C−1, 1, k]).
 * ONNX NMS takes every candidate above the score threshold and stops after
 * max_output_boxes_per_class survivors, while ssd.pytorch cuts to the top-k before NMS: the
 * TopK in front reproduces that. The keep-top-k over classes is done in JS.
 *
 * Threshold semantics of the CPU kernel (read in onnxruntime main:
 * core/providers/cpu/object_detection/non_max_suppression.cc and non_max_suppression_helper.h;
 * the wasm EP compiles the same kernel):
 * - score: a box enters when `score > score_threshold` (strict, same as ours);
 * - IoU: a box is suppressed when `intersection / union > iou_threshold` (strict, same as
 *   ours), computed in float32; zero or negative intersection never suppresses;
 * - ties: current versions order candidates by score, then lower index first (older ones used
 *   a score-only priority queue, which left ties in heap order). Here the index is the position
 *   within the TopK output, and ONNX TopK puts equal values at the lower index first, so ties
 *   resolve to the lower prior index as ours do;
 * - corners are min/max-normalised per axis, so xyxy boxes can go in as they are
 *   (center_point_box = 0 documents [y1, x1, y2, x2]; IoU is symmetric in x and y).
 *
 * onnxruntime-web and onnxruntime-node share the `onnxruntime-common` package: web registers
 * backends 'wasm' and 'cpu' at priority 10, node registers 'cpu' at 100. So the EP name picks the
 * runtime: 'wasm' → onnxruntime-web, 'cpu' → onnxruntime-node (once it has been imported).
 */
import onnxProto, { type onnx as Onnx } from 'onnx-proto';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-web';
import type { Detection } from '../../src/core/types.js';
import { keepBest, type Peer, type PeerConfig } from './peer.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

export type OrtKind = 'web' | 'node';

type Attr = number | number[];

function node(opType: string, input: string[], output: string[], attrs: Record<string, Attr> = {}): Onnx.INodeProto {
  const attribute = Object.entries(attrs).map(([name, v]) =>
    Array.isArray(v)
      ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v }
      : { name, type: onnx.AttributeProto.AttributeType.INT, i: v },
  );
  return { opType, input, output, name: output[0], attribute };
}

function floats(name: string, dims: number[], data: ArrayLike<number>): Onnx.ITensorProto {
  const bytes = new Uint8Array(Float32Array.from(data).buffer);
  return { name, dims, dataType: FLOAT, rawData: bytes };
}

function int64s(name: string, data: number[]): Onnx.ITensorProto {
  const bytes = new Uint8Array(BigInt64Array.from(data, BigInt).buffer);
  return { name, dims: [data.length], dataType: INT64, rawData: bytes };
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): Onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

/** The serialised model; see the file comment for its structure. */
export function buildPostprocessModel(cfg: PeerConfig): Uint8Array {
  const P = cfg.priors.length / 4;
  const C = cfg.numClasses;
  const K = cfg.topK;
  const priorXy: number[] = [];
  const priorWh: number[] = [];
  for (let p = 0; p < P; p++) {
    priorXy.push(cfg.priors[p * 4], cfg.priors[p * 4 + 1]);
    priorWh.push(cfg.priors[p * 4 + 2], cfg.priors[p * 4 + 3]);
  }
  const graph: Onnx.IGraphProto = {
    name: 'ssd_detect',
    input: [valueInfo('loc', FLOAT, [1, P, 4]), valueInfo('conf', FLOAT, [1, P, C])],
    output: [
      valueInfo('selected', INT64, ['selected', 3]),
      valueInfo('top_scores', FLOAT, [C - 1, K]),
      valueInfo('top_priors', INT64, [C - 1, K]),
      valueInfo('top_boxes', FLOAT, [C - 1, K, 4]),
    ],
    initializer: [
      floats('prior_xy', [P, 2], priorXy),
      floats('prior_wh', [P, 2], priorWh),
      floats('v0', [], [cfg.variances[0]]),
      floats('v1', [], [cfg.variances[1]]),
      floats('half', [], [0.5]),
      int64s('i0', [0]),
      int64s('i1', [1]),
      int64s('i2', [2]),
      int64s('i4', [4]),
      int64s('iC', [C]),
      int64s('shape_p4', [P, 4]),
      int64s('shape_cp', [C - 1, P]),
      int64s('shape_c1k', [C - 1, 1, K]),
      int64s('k', [K]),
      floats('iou_threshold', [1], [cfg.nmsThreshold]),
      floats('score_threshold', [1], [cfg.scoreThreshold]),
    ],
    node: [
      // Decode: centre = prior_xy + t_xy·v0·prior_wh, size = prior_wh·exp(t_wh·v1).
      node('Slice', ['loc', 'i0', 'i2', 'i2'], ['loc_xy']),
      node('Slice', ['loc', 'i2', 'i4', 'i2'], ['loc_wh']),
      node('Mul', ['loc_xy', 'v0'], ['loc_xy_v']),
      node('Mul', ['loc_xy_v', 'prior_wh'], ['shift']),
      node('Add', ['prior_xy', 'shift'], ['centre']),
      node('Mul', ['loc_wh', 'v1'], ['loc_wh_v']),
      node('Exp', ['loc_wh_v'], ['scale']),
      node('Mul', ['prior_wh', 'scale'], ['size']),
      node('Mul', ['size', 'half'], ['half_size']),
      node('Sub', ['centre', 'half_size'], ['mins']),
      node('Add', ['centre', 'half_size'], ['maxs']),
      node('Concat', ['mins', 'maxs'], ['boxes'], { axis: 2 }),
      node('Reshape', ['boxes', 'shape_p4'], ['boxes_p4']),
      // Scores: softmax over classes, per-class rows without the background.
      node('Softmax', ['conf'], ['scores'], { axis: 2 }),
      node('Transpose', ['scores'], ['scores_t'], { perm: [0, 2, 1] }),
      node('Slice', ['scores_t', 'i1', 'iC', 'i1'], ['fg']),
      node('Reshape', ['fg', 'shape_cp'], ['fg_cp']),
      node('TopK', ['fg_cp', 'k'], ['top_scores', 'top_priors'], { axis: -1, largest: 1, sorted: 1 }),
      node('Gather', ['boxes_p4', 'top_priors'], ['top_boxes'], { axis: 0 }),
      node('Reshape', ['top_scores', 'shape_c1k'], ['nms_scores']),
      node('NonMaxSuppression', ['top_boxes', 'nms_scores', 'k', 'iou_threshold', 'score_threshold'], ['selected']),
    ],
  };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'ssd-edge-bench',
    opsetImport: [{ domain: '', version: 13 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** onnxruntime-web's wasm thread pool is process-wide and fixed at its first session. */
let webThreads: number | undefined;

async function createSession(kind: OrtKind, model: Uint8Array, threads: number): Promise<InferenceSession> {
  const options: InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  };
  if (kind === 'node') {
    const ort = await import('onnxruntime-node');
    return ort.InferenceSession.create(model, {
      ...options,
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
    });
  }
  const ort = await import('onnxruntime-web');
  if (webThreads === undefined) {
    ort.env.wasm.numThreads = threads;
    webThreads = threads;
  } else if (webThreads !== threads) {
    throw new Error(`onnxruntime-web already runs ${webThreads} thread(s); it cannot change per session`);
  }
  return ort.InferenceSession.create(model, { ...options, executionProviders: ['wasm'] });
}

export async function createOrtPeer(kind: OrtKind, cfg: PeerConfig, threads = 1): Promise<Peer> {
  const numPriors = cfg.priors.length / 4;
  const K = cfg.topK;
  const session = await createSession(kind, buildPostprocessModel(cfg), threads);
  const { Tensor } = kind === 'node' ? await import('onnxruntime-node') : await import('onnxruntime-web');
  return {
    name: `ort-${kind}`,
    threads,
    async run(loc: Float32Array, conf: Float32Array): Promise<Detection[]> {
      const out = await session.run({
        loc: new Tensor('float32', loc, [1, numPriors, 4]),
        conf: new Tensor('float32', conf, [1, numPriors, cfg.numClasses]),
      });
      const selected = out.selected.data as BigInt64Array; // rows of (class − 1, 0, position in top-k)
      const scores = out.top_scores.data as Float32Array;
      const priors = out.top_priors.data as BigInt64Array;
      const boxes = out.top_boxes.data as Float32Array;
      const dets: Detection[] = [];
      for (let r = 0; r < selected.length; r += 3) {
        const row = Number(selected[r]);
        const at = row * K + Number(selected[r + 2]);
        const [x0, y0, x1, y1] = boxes.subarray(at * 4, at * 4 + 4);
        dets.push({ classId: row + 1, score: scores[at], box: [x0, y0, x1, y1], priorIndex: Number(priors[at]) });
      }
      Object.values(out).forEach((t: OrtTensor) => t.dispose());
      return keepBest(dets, cfg.keepTopK);
    },
    dispose() {
      void session.release();
    },
  };
}

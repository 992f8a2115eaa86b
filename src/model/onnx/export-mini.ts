/**
 * Mini SSD → ONNX, as SSD outputs the runtime and the post-processing core already take:
 *
 *   image [N,3,96,128] ─► 5 × (Conv stride 2 + Relu, batch normalisation folded) ─► [N, C, 3, 4]
 *     ├► objectness Conv ─► rows [N, 12, 1] ─► conf = Concat(0, logit) [N, 12, 2]
 *     └► offsets Conv    ─► rows [N, 12, 2] ─► loc  = Concat(offset − 0.5, 0, 0) [N, 12, 4]
 *
 * With one prior per cell (miniPriors: the cell's centre and size), box coding variances (1, 1)
 * and sigmoid scores, the core decodes cell (i, j) to a cell-sized box centred at
 * (j + dx, i + dy) / (4, 3), scored sigmoid(logit) for class 1 (class 0, the constant 0 logit, is
 * the background the core skips). The same ops as the SSD300 export, plus Sub.
 */
import type { PostprocessConfig } from '../../core/types.js';
import type { PreprocessSpec } from '../../runtime/types.js';
import { MINI_GRID, MINI_INPUT_SIZE, miniPriors, type MiniSsd } from '../mini.js';
import { emitConv, emitRows } from './emit.js';
import { BATCH, EXPORT_IR_VERSION, EXPORT_OPSET } from './export.js';
import { GraphBuilder } from './graph.js';
import { checkExtraMetadata, encodeSsdEdgeMetadata, PRODUCER_NAME } from './metadata.js';

const NUM_CELLS = MINI_GRID.columns * MINI_GRID.rows;

/** The input the mini SSD trains on: RGB minus (123, 117, 104), divided by (58, 57, 57), 128 × 96. */
export const MINI_PREPROCESS: PreprocessSpec = {
  size: [MINI_INPUT_SIZE[0], MINI_INPUT_SIZE[1]],
  channels: 'rgb',
  mean: [123, 117, 104],
  std: [58, 57, 57],
  layout: 'nchw',
};

/** The post-processing of an exported mini SSD; `label` names its one class. */
export function miniPostprocess(label = 'object'): PostprocessConfig {
  return {
    priors: miniPriors(),
    numClasses: 2,
    backgroundClass: 0,
    boxCoding: { variances: [1, 1] },
    scoreActivation: 'sigmoid',
    scoreThreshold: 0.05,
    nmsThreshold: 0.45,
    topK: NUM_CELLS,
    keepTopK: NUM_CELLS,
    clip: true,
    labels: ['background', label],
  };
}

export interface ExportMiniOptions {
  /** The class the model detects. Default 'object'. */
  label?: string;
  preprocess?: PreprocessSpec;
  metadata?: Readonly<Record<string, string>>;
}

/** The mini SSD as ONNX bytes (opset 13), with ssd-edge's metadata. */
export function exportMiniSsd(model: MiniSsd, options: ExportMiniOptions = {}): Uint8Array {
  if ([...model.variables.values()].some((v) => v.isDisposed))
    throw new Error('this MiniSsd was disposed; export it before dispose()');
  const extra = checkExtraMetadata(options.metadata);
  const g = new GraphBuilder('mini-ssd');
  let x = g.input('image', [BATCH, 3, MINI_INPUT_SIZE[1], MINI_INPUT_SIZE[0]]);
  for (const layer of model.trunk) x = emitConv(g, x, layer);

  const logits = emitRows(
    g,
    emitConv(g, x, model.objectnessHead),
    'objectness',
    g.int64s('objectness.shape', [0, -1, 1]),
  );
  const offsets = emitRows(g, emitConv(g, x, model.offsetHead), 'offsets', g.int64s('offsets.shape', [0, -1, 2]));
  // Zeros shaped like the rows (batch included) without a shape op: x · 0.
  const zero = g.floats('zero', new Float32Array([0]), []);
  const zeros1 = g.node('Mul', [logits, zero], 'zeros1');
  g.node('Concat', [zeros1, logits], 'conf', { axis: 2 });
  // Offsets from the cell's top-left corner, in cells, are (cx − pcx)/pw + 0.5.
  const centred = g.node('Sub', [offsets, g.floats('half', new Float32Array([0.5]), [])], 'offsets.centred');
  const zeros2 = g.node('Mul', [offsets, zero], 'zeros2');
  g.node('Concat', [centred, zeros2], 'loc', { axis: 2 });
  g.output('loc', [BATCH, NUM_CELLS, 4]);
  g.output('conf', [BATCH, NUM_CELLS, 2]);

  const postprocess = miniPostprocess(options.label);
  const metadata = encodeSsdEdgeMetadata({
    opset: EXPORT_OPSET,
    preprocess: options.preprocess ?? MINI_PREPROCESS,
    postprocess,
    width: model.width,
    numClasses: 2,
  });
  return g.encode({
    opset: EXPORT_OPSET,
    irVersion: EXPORT_IR_VERSION,
    producerName: PRODUCER_NAME,
    metadata: { ...metadata, ...extra },
  });
}

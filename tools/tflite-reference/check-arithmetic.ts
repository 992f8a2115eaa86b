/**
 * Which integer arithmetic does the TFLite reference use? Recomputes every CONV_2D,
 * DEPTHWISE_CONV_2D, ADD and LOGISTIC of the COCO detector from TFLite's own input tensors to
 * each op (all intermediate tensors requested from the runner at once) with the formulas of
 * quantized-arithmetic.ts, and counts the outputs where each formula differs from TFLite.
 *
 * Run: npx tsc -p tsconfig.json && node dist/tools/tflite-reference/check-arithmetic.js [model.tflite] [fixture names…]
 * (default: the dog fixture's input; about 30 s per photo on 2 cores).
 */
import { readFile } from 'node:fs/promises';
import { readTfliteCocoFixtures } from '../../tests/tflite-reference/fixtures.js';
import { COCO_MODEL_HINT, findCocoModel } from './coco-model.js';
import { readTfliteModel, tensorData, type TfliteOperatorInfo } from './flatbuffer.js';
import {
  logisticTable,
  quantizeMultiplier,
  tfliteBuiltinAdd,
  tfliteBuiltinAddParams,
  tfliteBuiltinRequantize,
  xnnpackAdd,
  xnnpackAddParams,
  xnnpackConvScale,
  xnnpackRequantize,
} from './quantized-arithmetic.js';
import { openTfliteReference, type TfliteData } from './runner.js';

const [modelArg, ...names] = process.argv.slice(2);
const modelPath = modelArg && modelArg.endsWith('.tflite') ? modelArg : findCocoModel()?.model;
if (!modelPath) {
  console.error(COCO_MODEL_HINT);
  process.exit(2);
}
const wantedFixtures =
  modelArg && !modelArg.endsWith('.tflite') ? [modelArg, ...names] : names.length ? names : ['dog'];
const model = new Uint8Array(await readFile(modelPath));
const summary = readTfliteModel(model);
const fixtures = (await readTfliteCocoFixtures()).filter((f) => wantedFixtures.includes(f.name));
const checked = summary.operators.filter((op) =>
  ['CONV_2D', 'DEPTHWISE_CONV_2D', 'ADD', 'LOGISTIC'].includes(op.opType),
);
const postprocess = summary.operators.find((op) => op.opType === 'TFLite_Detection_PostProcess');
const heads = postprocess ? postprocess.inputs.slice(0, 2) : [];
const requested = [...new Set([...heads, ...checked.flatMap((op) => [...op.inputs, ...op.outputs])])].filter(
  (i) => !summary.tensors[i].isConstant && !summary.inputs.includes(i),
);

const reference = await openTfliteReference();
let runs;
try {
  runs = await (await reference.load(model, { outputs: requested, threads: 1 })).run(fixtures.map((f) => f.input));
} finally {
  await reference.close();
}

const q = (i: number) => {
  const quantization = summary.tensors[i].quantization;
  if (!quantization || quantization.scale.length !== 1) throw new Error(`tensor ${i} is not per-tensor quantised`);
  return { scale: quantization.scale[0], zeroPoint: quantization.zeroPoint[0] };
};
const ACTIVATION_RANGE = (activation: string, scale: number, zeroPoint: number): [number, number] => {
  const toQ = (real: number) => Math.min(255, Math.max(0, zeroPoint + Math.round(real / scale)));
  if (activation === 'RELU') return [toQ(0), 255];
  if (activation === 'RELU6') return [toQ(0), toQ(6)];
  if (activation === 'NONE') return [0, 255];
  throw new Error(`fused activation ${activation} not handled`);
};

interface Tally {
  values: number;
  xnnpack: number;
  builtin: number;
}
function checkOp(op: TfliteOperatorInfo, tensors: Map<number, TfliteData>): Tally {
  const out = tensors.get(op.outputs[0])!;
  const tally: Tally = { values: out.length, xnnpack: 0, builtin: 0 };
  if (op.opType === 'ADD') {
    const [ai, bi] = op.inputs,
      a = tensors.get(ai)!,
      b = tensors.get(bi)!;
    const A = q(ai),
      B = q(bi),
      Y = q(op.outputs[0]);
    const xp = xnnpackAddParams(A.scale, B.scale, Y.scale),
      tp = tfliteBuiltinAddParams(A.scale, B.scale, Y.scale);
    for (let i = 0; i < out.length; i++) {
      tally.xnnpack += Number(xnnpackAdd(a[i], A.zeroPoint, b[i], B.zeroPoint, xp, Y.zeroPoint) !== out[i]);
      tally.builtin += Number(tfliteBuiltinAdd(a[i], A.zeroPoint, b[i], B.zeroPoint, tp, Y.zeroPoint) !== out[i]);
    }
    return tally;
  }
  if (op.opType === 'LOGISTIC') {
    const x = tensors.get(op.inputs[0])!,
      X = q(op.inputs[0]),
      Y = q(op.outputs[0]);
    const table = logisticTable(X.scale, X.zeroPoint, Y.scale, Y.zeroPoint);
    for (let i = 0; i < out.length; i++) tally.xnnpack += Number(table[x[i]] !== out[i]);
    tally.builtin = tally.xnnpack;
    return tally;
  }
  // CONV_2D / DEPTHWISE_CONV_2D, NHWC input, OHWI filter (depthwise: 1HWO), int32 bias
  const [xi, wi, bi] = op.inputs,
    yi = op.outputs[0],
    c = op.conv!;
  const x = tensors.get(xi)!,
    w = tensorData(model, wi)!,
    biasBytes = tensorData(model, bi)!;
  const bias = new Int32Array(biasBytes.slice().buffer);
  const X = q(xi),
    W = q(wi),
    Y = q(yi);
  const [, H, Wd, C] = summary.tensors[xi].shape,
    [, OH, OW, OC] = summary.tensors[yi].shape,
    [, KH, KW] = summary.tensors[wi].shape;
  const padTop =
    c.padding === 'SAME' ? Math.floor(Math.max((OH - 1) * c.strideH + (KH - 1) * c.dilationH + 1 - H, 0) / 2) : 0;
  const padLeft =
    c.padding === 'SAME' ? Math.floor(Math.max((OW - 1) * c.strideW + (KW - 1) * c.dilationW + 1 - Wd, 0) / 2) : 0;
  const [min, max] = ACTIVATION_RANGE(c.fusedActivation, Y.scale, Y.zeroPoint);
  const scale = xnnpackConvScale(X.scale, W.scale, Y.scale),
    multiplier = quantizeMultiplier((X.scale * W.scale) / Y.scale);
  const depthwise = op.opType === 'DEPTHWISE_CONV_2D';
  if (depthwise && c.depthMultiplier !== 1)
    throw new Error(`op ${op.index}: depth multiplier ${c.depthMultiplier} not handled`);
  for (let oy = 0; oy < OH; oy++)
    for (let ox = 0; ox < OW; ox++)
      for (let oc = 0; oc < OC; oc++) {
        let acc = bias[oc];
        for (let ky = 0; ky < KH; ky++) {
          const iy = oy * c.strideH - padTop + ky * c.dilationH;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < KW; kx++) {
            const ix = ox * c.strideW - padLeft + kx * c.dilationW;
            if (ix < 0 || ix >= Wd) continue;
            const xBase = (iy * Wd + ix) * C;
            if (depthwise) acc += (x[xBase + oc] - X.zeroPoint) * (w[(ky * KW + kx) * OC + oc] - W.zeroPoint);
            else {
              const wBase = ((oc * KH + ky) * KW + kx) * C;
              for (let ic = 0; ic < C; ic++) acc += (x[xBase + ic] - X.zeroPoint) * (w[wBase + ic] - W.zeroPoint);
            }
          }
        }
        const got = out[(oy * OW + ox) * OC + oc];
        tally.xnnpack += Number(xnnpackRequantize(acc, scale, Y.zeroPoint, min, max) !== got);
        tally.builtin += Number(tfliteBuiltinRequantize(acc, multiplier, Y.zeroPoint, min, max) !== got);
      }
  return tally;
}

for (const [n, fixture] of fixtures.entries()) {
  const tensors = new Map<number, TfliteData>(runs[n].outputs.map((o) => [o.index, o.data]));
  summary.inputs.forEach((i) => tensors.set(i, fixture.input));
  // the patch must not change what TFLite computes: the heads equal the fixture's, read with only 6 outputs
  const sameHeads =
    heads.length === 2 &&
    [fixture.boxEncodings, fixture.classPredictions].every(
      (bytes, k) => Buffer.compare(Buffer.from(bytes), Buffer.from(tensors.get(heads[k]) as Uint8Array)) === 0,
    );
  console.log(
    `${fixture.name}: ${requested.length} tensors requested at once; head tensors ${sameHeads ? 'equal' : 'DIFFER FROM'} the fixture's`,
  );
  const totals: Record<string, Tally & { ops: number; opsDifferingBuiltin: number }> = {};
  for (const op of checked) {
    const t = checkOp(op, tensors);
    const total = (totals[op.opType] ??= { ops: 0, values: 0, xnnpack: 0, builtin: 0, opsDifferingBuiltin: 0 });
    total.ops++;
    total.values += t.values;
    total.xnnpack += t.xnnpack;
    total.builtin += t.builtin;
    total.opsDifferingBuiltin += Number(t.builtin > 0);
    if (t.xnnpack > 0)
      console.log(
        `${fixture.name}: op ${op.index} ${op.opType} → ${summary.tensors[op.outputs[0]].name}: ${t.xnnpack} of ${t.values} differ from the XNNPACK formula`,
      );
  }
  for (const [type, t] of Object.entries(totals)) {
    console.log(
      `${fixture.name}: ${type} × ${t.ops}, ${t.values} values: XNNPACK formula ${t.xnnpack} differ; TFLite built-in formula ${t.builtin} differ (in ${t.opsDifferingBuiltin} ops)`,
    );
  }
}

import { readFileSync } from 'node:fs';
import { readTflite } from '../src/convert/tflite/read.js';
import { readFlexbuffer } from '../src/convert/flexbuffer.js';
const m = readTflite(new Uint8Array(readFileSync(process.argv[2])));
console.log(m.version, m.description, m.subgraphCount, m.tensors.length, m.operators.length, m.inputs, m.outputs);
const q = (i: number) => {
  const t = m.tensors[i];
  const qq = t.quantization;
  return `${i}:${t.name}[${t.shape}]${t.type}${t.data ? ' const' : ''}${qq ? ` s=${qq.scale.length > 1 ? qq.scale.length + 'ch' : qq.scale[0]} z=${qq.zeroPoint.length > 1 ? '..' : qq.zeroPoint[0]}` : ''}`;
};
for (const op of m.operators) {
  console.log(op.index, op.name, op.inputs.map(q).join(' | '), '->', op.outputs.map(q).join(' | '));
  if (op.custom) console.log(readFlexbuffer(op.customOptions));
}
console.log('inputs', m.inputs.map(q), 'outputs', m.outputs.map(q));

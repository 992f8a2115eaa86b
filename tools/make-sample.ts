/**
 * Writes samples/ssd300-voc-output.f32: one SSD300-VOC-shaped model output (loc then conf,
 * float32 little-endian) from the benchmark's realistic scene generator, seed 2024.
 * Run: npx tsc -p tsconfig.json && node dist/tools/make-sample.js
 */
import { writeFileSync } from 'node:fs';
import { generatePriors, presets, type PriorConfig } from '../src/index.js';
import { makeScenario } from '../bench/scenarios.js';

const priors = await generatePriors(presets.ssd300Voc.priors as PriorConfig);
const { loc, conf } = makeScenario('realistic', priors, 21, 2024);
const out = new Float32Array(loc.length + conf.length);
out.set(loc);
out.set(conf, loc.length);
writeFileSync(new URL('../../samples/ssd300-voc-output.f32', import.meta.url), new Uint8Array(out.buffer));
console.log(`wrote ${out.length} floats`);

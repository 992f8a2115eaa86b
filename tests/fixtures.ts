/** Access to the committed test fixtures (tests/fixtures), from source or compiled tests. */
import { readFileSync } from 'node:fs';
import type { PriorConfig } from '../src/core/types.js';

// compiled tests live in dist/tests/, sources in tests/: both resolve to the repository root
const ROOT = new URL(import.meta.url.includes('/dist/tests/') ? '../../' : '../', import.meta.url);

export function fixtureUrl(path: string): URL {
  return new URL(`tests/fixtures/${path}`, ROOT);
}

export interface PriorFixture {
  name: string;
  file: string;
  count: number;
  source: string;
  config: PriorConfig;
}

export function priorFixtures(): PriorFixture[] {
  return JSON.parse(readFileSync(fixtureUrl('priors/manifest.json'), 'utf8')) as PriorFixture[];
}

export function readPriorFixture(fixture: Pick<PriorFixture, 'file'>): Float32Array {
  const bytes = readFileSync(fixtureUrl(`priors/${fixture.file}`));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

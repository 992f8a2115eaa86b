/**
 * The uint8 kernels of the core (assembly/qgemm.ts, qconv.ts, qdepthwise.ts, qadd.ts,
 * qlookup.ts), SIMD and baseline builds, against the plain-TypeScript reference on random shapes,
 * strides, zero points and scales (kernel-suite.ts). The relaxed-SIMD build: relaxed.test.ts.
 */
import { instantiateCore, type CoreBuild } from '../../src/core/loader.js';
import { kernelSuite } from './kernel-suite.js';

const BUILDS: CoreBuild[] = ['simd', 'baseline'];

for (const build of BUILDS) kernelSuite(build, () => instantiateCore({ build }));

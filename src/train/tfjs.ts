/**
 * tfjs set-up for training in Node: tfjs-core's gradient functions, and the backend that trains.
 *
 * Gradients: tfjs-core's Node entry (`dist/tf-core.node.js`, CommonJS) registers no gradient
 * functions; `@tensorflow/tfjs` registers them by importing tfjs-core's ES module
 * `dist/register_all_gradients.js`, which bundlers resolve but plain Node refuses (relative
 * imports without extensions, in a package without `"type": "module"`). We import that same
 * module through a narrow resolve hook (./tfjs-core-esm-hook.ts). It evaluates a second copy of
 * tfjs-core's ops, which tfjs-core supports by design: the engine, the kernel and gradient
 * registries and the Tensor class are process-wide singletons (`getGlobal`), so the gradients it
 * registers are the ones the Node entry's engine uses.
 */
import * as nodeModule from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { HookData } from './tfjs-core-esm-hook.js';
import { setPaddingRule } from '../model/layers.js';
import { registerWasmTrainingKernels } from './kernels/index.js';
import { loadTrainingCore } from './kernels/training-core.js';

import { TRAINING_BACKENDS, type TrainingBackendName } from './backend-names.js';

export { TRAINING_BACKENDS, type TrainingBackendName } from './backend-names.js';

/**
 * The kernels whose gradient functions an SSD training step (`Ssd300.apply`, `multiBoxLoss`)
 * differentiates. tests/train runs a step with every other gradient unregistered.
 */
export const GRADIENT_KERNELS: readonly string[] = [
  'Abs',
  'Add',
  'BatchToSpaceND',
  'Concat',
  'Conv2D',
  'MaxPool',
  'Minimum',
  'Multiply',
  'Neg',
  'RealDiv',
  'Relu',
  'Reshape',
  'SpaceToBatchND',
  'Sqrt',
  'Square',
  'Sub',
  'Sum',
];

/**
 * Every kernel an SSD training step runs, forward and backward: the backend must have them all.
 * tests/train checks this against the kernels a step runs (tf.profile).
 */
export const TRAINING_KERNELS: readonly string[] = [
  'Abs',
  'Add',
  'BatchToSpaceND',
  'Cast',
  'Concat',
  'Conv2D',
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'Exp',
  'FusedConv2D',
  'Identity',
  'LessEqual',
  'Log',
  'Max',
  'MaxPool',
  'MaxPoolGrad',
  'Minimum',
  'Multiply',
  'Neg',
  'OneHot',
  'RealDiv',
  'Relu',
  'Reshape',
  'Slice',
  'SpaceToBatchND',
  'SplitV',
  'Sqrt',
  'Square',
  'Step',
  'Sub',
  'Sum',
];

export interface InitTrainingOptions {
  /** Default 'auto': the first of TRAINING_BACKENDS that loads and has every kernel. */
  backend?: TrainingBackendName | 'auto';
  /** Receives the line that names the chosen backend. Default console.log. */
  log?: (line: string) => void;
}

export interface TrainingBackend {
  name: TrainingBackendName;
  /** The tfjs backend it set: 'tensorflow' (tfjs-node, tfjs-node-gpu), 'wasm' or 'cpu'. */
  tfjsBackend: string;
  /** Why 'auto' passed over the backends before it, one line each. */
  skipped: string[];
}

const require = nodeModule.createRequire(import.meta.url);

let gradientsLoaded: Promise<void> | undefined;

/** Registers tfjs-core's gradient functions once per process (a no-op when another tfjs copy already did). */
function registerAllGradients(): Promise<void> {
  gradientsLoaded ??= (async () => {
    if (GRADIENT_KERNELS.every((kernel) => tf.getGradient(kernel) !== undefined)) return;
    // A namespace import: a named import of `register` would fail to link on Node < 20.6.
    if (typeof nodeModule.register !== 'function') {
      throw new Error(
        `Node ${process.versions.node} has no module.register (Node ≥ 20.6): ` +
          "it is needed to load tfjs-core's gradient functions for training",
      );
    }
    const distUrl = pathToFileURL(
      path.join(path.dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist') + path.sep,
    ).href;
    nodeModule.register<HookData>(new URL('./tfjs-core-esm-hook.js', import.meta.url), { data: { distUrl } });
    // The same package (and so the same version) as the Node entry imported above.
    try {
      await import(`${distUrl}register_all_gradients.js`);
    } catch (error) {
      throw new Error(
        `loading tfjs-core's gradient functions (${distUrl}register_all_gradients.js) failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const missing = GRADIENT_KERNELS.filter((kernel) => tf.getGradient(kernel) === undefined);
    if (missing.length > 0) {
      throw new Error(
        `tfjs-core ${tf.version_core} registered no gradient for ${missing.join(', ')}; SSD training needs them`,
      );
    }
  })();
  return gradientsLoaded;
}

const TFJS_BACKEND: Record<TrainingBackendName, string> = {
  'node-gpu': 'tensorflow',
  node: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};
const PACKAGE: Record<TrainingBackendName, string> = {
  'node-gpu': '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

let wasmPathsSet = false;

/** Loads and sets one backend; throws a one-line reason when it cannot train. */
async function trySetBackend(name: TrainingBackendName): Promise<void> {
  const pkg = PACKAGE[name];
  if (name === 'node-gpu' || name === 'node') {
    try {
      require.resolve(pkg);
    } catch {
      throw new Error(`${pkg} is not installed`);
    }
    try {
      await import(pkg);
    } catch (error) {
      throw new Error(`${pkg} failed to load: ${(error as Error).message}`, { cause: error });
    }
  } else if (name === 'wasm' && !wasmPathsSet) {
    // In Node the wasm binaries are read from the package's own dist/.
    setWasmPaths(path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'dist') + path.sep);
    wasmPathsSet = true;
  }
  // ssd-edge's own gradient kernels for wasm (./kernels): tfjs-backend-wasm ships without Conv2DBackpropFilter.
  if (name === 'wasm') {
    await loadTrainingCore(); // the depthwise gradients run in ssd-edge's own wasm module
    registerWasmTrainingKernels();
  }
  const backend = TFJS_BACKEND[name];
  // A backend's kernels are registered when its package loads: check before initialising it.
  const missing = TRAINING_KERNELS.filter((kernel) => tf.getKernel(kernel, backend) === undefined);
  if (missing.length > 0)
    throw new Error(`tfjs backend '${backend}' has no ${missing.join(', ')} kernel${missing.length > 1 ? 's' : ''}`);
  // Production mode also silences tfjs's "install tfjs-node" banner: initTraining says which backend runs and why.
  tf.enableProdMode();
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend '${backend}' (${pkg}) failed to initialise`);
}

/**
 * Makes tfjs ready to train: registers the gradient functions, then sets the backend (the one
 * asked for, or with 'auto' the first of node-gpu, node, wasm, cpu that loads and has every kernel
 * of TRAINING_KERNELS) and logs which one trains. Throws, naming the missing kernels or package,
 * when the asked-for backend cannot train, or with 'auto' when none can.
 */
export async function initTraining({
  backend = 'auto',
  log = console.log,
}: InitTrainingOptions = {}): Promise<TrainingBackend> {
  if (backend !== 'auto' && !TRAINING_BACKENDS.includes(backend)) {
    throw new RangeError(`backend '${backend}' is not one of auto, ${TRAINING_BACKENDS.join(', ')}`);
  }
  await registerAllGradients();
  const skipped: string[] = [];
  for (const name of backend === 'auto' ? TRAINING_BACKENDS : [backend]) {
    try {
      await trySetBackend(name);
    } catch (error) {
      const reason = `${name}: ${(error as Error).message}`;
      if (backend !== 'auto') throw new Error(`cannot train on ${reason}`, { cause: error });
      skipped.push(reason);
      continue;
    }
    // tfjs-node's kernels take only 'same' and 'valid' padding (layers.ts PaddingRule)
    setPaddingRule(TFJS_BACKEND[name] === 'tensorflow' ? 'sameOrValid' : 'any');
    log(`tfjs training backend: ${name}${skipped.length > 0 ? ` (skipped ${skipped.join('; ')})` : ''}`);
    return { name, tfjsBackend: TFJS_BACKEND[name], skipped };
  }
  throw new Error(`no tfjs backend can train here: ${skipped.join('; ')}`);
}

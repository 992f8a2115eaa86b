/**
 * The SSD training loop: SGD with momentum and weight decay, linear warm-up then a step schedule,
 * batches from a PASCAL VOC dataset, targets from the core's matcher, MultiBoxLoss, checkpoints
 * and an exact resume.
 *
 * - Optimiser: torch.optim.SGD's semantics (what ssd.pytorch trains with), weight decay on every
 *   variable: d = g + wd·w;  v = μ·v + d;  w −= lr·v. The momentum buffers are tf.Variables.
 * - Learning rate at step s (0-based): lr · min(1, (s + 1) / warmupSteps) · 0.1^(milestones ≤ s),
 *   milestones being `steps` (global step numbers, as ssd.pytorch's `lr_steps`).
 * - Data: split `trainval` (by default), difficult objects dropped (ssd.pytorch's
 *   keep_difficult=False). Each epoch visits the images in an order shuffled by
 *   mulberry32(seed, epoch), in floor(images / batch) batches (the remainder is left out, as
 *   drop_last). Augmentation (`augment`): 'flip', a horizontal flip at p = `flip`, drawn from the
 *   same per-epoch stream; or 'ssd', the SSD augmentation (data/augment.ts: photometric distortion,
 *   zoom-out, min-IoU crop, flip at p = `flip`), each image with its own stream seeded from it.
 * - Cores: with `workers` > 1 each batch is split between this thread and worker threads
 *   (gradient-workers.ts), and their losses and gradients combined exactly (gradients.ts).
 * - Resume: everything random is a function of (seed, epoch), so a run resumed from a checkpoint
 *   (weights, momentum, step) draws the same batches and computes the same losses as one that
 *   was never interrupted.
 *
 * Its parts: train-options.ts (the options, their checks, what a resume checks), sgd.ts (the
 * optimiser step and schedule), batches.ts (the epoch plan and a batch's images); this file runs
 * the loop, the workers and the checkpoints.
 */
import { access, readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Ssd300 } from '../model/ssd300.js';
import { createWasmPreprocessor } from '../runtime/preprocess-wasm.js';
import type { PreprocessSpec } from '../runtime/types.js';
import { epochPlan, loadBatch, type Batch } from './batches.js';
import { hasCheckpoint, saveCheckpoint, type CheckpointMeta } from './checkpoint.js';
import { readVocDataset } from './data/index.js';
import { startGradientWorkers, type GradientWorkers } from './gradient-workers.js';
import { combineParts, computePartGradients, type PartGradients } from './gradients.js';
import { initFromPytorch } from './init-from.js';
import { createTrainingNetwork, isMobilenetArch, type NetworkOptions } from './networks.js';
import { applyBatchNorm, learningRate, nonFiniteGradients, sgdStep } from './sgd.js';
import { initTraining, type TrainingBackendName } from './tfjs.js';
import { loadResumeCheckpoint, recordedOptions, resolveTrainOptions, type TrainOptions } from './train-options.js';

export { epochPlan } from './batches.js';
export { learningRate } from './sgd.js';
export { resolveTrainOptions, type TrainOptions, type TrainProgress } from './train-options.js';

export interface TrainResult {
  backend: TrainingBackendName;
  /** The final checkpoint's checkpoint.json. */
  checkpoint: string;
  /** Completed steps (including those before a resume). */
  steps: number;
  /** The step this run started from (0, or the resumed checkpoint's). */
  startStep: number;
  /** Losses of the steps this run made, in order. */
  losses: number[];
  /** Mean images/s over this run's steps. */
  imagesPerSecond: number;
  seconds: number;
}

/**
 * Trains SSD300 on a VOC dataset. Initialises tfjs for training (initTraining: gradients and the
 * backend), then runs the steps, calling `onProgress` after each, saving a checkpoint every
 * `checkpointEvery` steps and at the end. See the module comment for the optimiser, schedule,
 * data order and augmentation.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const o = resolveTrainOptions(options);
  const log = options.log ?? (() => {});
  try {
    await access(o.data);
  } catch {
    throw new Error(`train: data directory '${o.data}' does not exist`);
  }
  if (!o.resume && !o.force && (await hasCheckpoint(o.checkpointDir))) {
    throw new Error(
      `train: '${o.checkpointDir}' already holds a checkpoint; pass --resume to continue it, --force to replace it, ` +
        'or give another --checkpoints folder',
    );
  }
  const dataset = await readVocDataset(o.data, { split: o.split, skipInvalid: o.skipInvalid });
  const { skipped } = dataset;
  if (skipped.messages.length > 0) {
    log(
      `left out of '${o.data}' (${o.split}): ${skipped.boxes} box${skipped.boxes === 1 ? '' : 'es'}, ${skipped.images} image${skipped.images === 1 ? '' : 's'}; ` +
        `first: ${skipped.messages[0]}`,
    );
  }
  const items = o.limit === undefined ? dataset.items : dataset.items.slice(0, o.limit);
  if (items.length < o.batch) {
    throw new RangeError(
      `train: batch ${o.batch} is larger than the ${items.length} images of split '${o.split}' in '${o.data}'`,
    );
  }
  const stepsPerEpoch = Math.floor(items.length / o.batch);
  const totalSteps = Math.min(o.epochs * stepsPerEpoch, o.maxSteps ?? Infinity);

  const resumed = o.resume ? await loadResumeCheckpoint(o, log) : undefined;

  const backend = await initTraining({ backend: o.backend, log });
  const pre = await createWasmPreprocessor();
  const networkOptions: NetworkOptions = {
    arch: o.arch,
    width: o.width,
    seed: o.seed,
    batchNorm: o.batchNorm,
    backgroundPrior: o.backgroundPrior,
    inputStd: o.inputStd,
    ...(isMobilenetArch(o.arch) ? { inputSize: o.inputSize } : {}),
    datasetClasses: dataset.classes,
    className: o.className,
    ...(o.initFrom !== undefined && !resumed && isMobilenetArch(o.arch) ? { initFrom: resolvePath(o.initFrom) } : {}),
  };
  const network = await createTrainingNetwork(networkOptions);
  const { model, input } = network;
  const numClasses = network.classes.length;
  if (resumed && resumed.meta.numClasses !== numClasses) {
    network.dispose();
    throw new Error(
      `train: cannot resume: the checkpoint in '${o.checkpointDir}' has numClasses ${resumed.meta.numClasses}, this run ${numClasses}`,
    );
  }
  const spec: PreprocessSpec = { ...input, layout: 'nhwc' };
  const [inputWidth, inputHeight] = spec.size;
  const names = [...model.trainableVariables.keys()];
  const variables = [...model.trainableVariables.values()];
  const momentum = variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  let step = 0;
  let workers: GradientWorkers | undefined;
  try {
    if (resumed) {
      model.loadWeights(resumed.weights);
      names.forEach((name, i) => {
        const buffer = resumed!.momentum[name];
        if (!buffer || buffer.length !== variables[i].size)
          throw new Error(`train: the checkpoint in '${o.checkpointDir}' has no momentum buffer for ${name}`);
        tf.tidy(() => momentum[i].assign(tf.tensor(buffer, variables[i].shape)));
      });
      step = resumed.meta.step;
      log(`resumed from ${o.checkpointDir} at step ${step} (epoch ${resumed.meta.epoch})`);
      if (o.initFrom !== undefined) log(`--init-from ${o.initFrom} ignored: resumed weights`);
    } else if (o.initFrom !== undefined && o.arch === 'ssd300') {
      const loaded = initFromPytorch(model as Ssd300, new Uint8Array(await readFile(o.initFrom)));
      log(
        `initialised ${loaded.layers[0]} … ${loaded.layers.at(-1)} (${loaded.layers.length} layers, ${(loaded.parameters / 1e6).toFixed(2)} M parameters) ` +
          `from ${o.initFrom}${loaded.ignored ? ` (${loaded.ignored} other tensors of the checkpoint left unused)` : ''}`,
      );
    }
    const startStep = step;
    const shapes = Object.fromEntries(names.map((name, i) => [name, variables[i].shape]));
    let lastLoss: CheckpointMeta['lastLoss'];
    const save = async () => {
      const momentumValues = Object.fromEntries(
        await Promise.all(names.map(async (name, i) => [name, (await momentum[i].data()) as Float32Array] as const)),
      );
      return saveCheckpoint(
        o.checkpointDir,
        {
          arch: o.arch,
          numClasses,
          width: o.width,
          batchNorm: o.batchNorm,
          preprocess: input,
          classes: network.classes,
          step,
          epoch: Math.floor(step / stepsPerEpoch),
          options: recordedOptions(o),
          lastLoss,
        },
        await model.saveWeights(),
        momentumValues,
        shapes,
      );
    };

    /** Saves the current (last good) weights and stops with what went wrong and where they are. */
    const stopNonFinite = async (what: string): Promise<never> => {
      const saved = await save();
      throw new Error(
        `train: ${what}: stopped. The last good weights (step ${step}) are saved in ${saved}; ` +
          'try a lower --lr, a warm-up (--warmup) or --clip-grad-norm',
      );
    };

    // Parts of each batch: the first on this thread, one more per worker (o.workers − 1 of them).
    workers =
      o.workers > 1
        ? await startGradientWorkers(o.workers - 1, { backend: backend.name, network: networkOptions })
        : undefined;
    if (workers)
      log(
        `data-parallel: ${o.workers} parts per batch (this thread and ${workers.size} worker${workers.size > 1 ? 's' : ''})`,
      );
    // --freeze-backbone-steps: the MobileNet base's variables (by index) and batch-norm layers
    const backboneIndex = names.map((name) => network.backboneVariables.has(name));
    const backboneNorms = new Set(
      'backbone' in model ? model.backbone.flatMap((l) => (l.batchNorm ? [l.batchNorm] : [])) : [],
    );
    if (o.freezeBackboneSteps > 0 && step < o.freezeBackboneSteps) {
      log(
        `backbone frozen for steps 1 … ${o.freezeBackboneSteps}: ${backboneIndex.filter(Boolean).length} of ${names.length} variables held`,
      );
    }
    const batchGradients = async (batch: Batch, n: number, frozen?: readonly boolean[]): Promise<PartGradients> => {
      const pixels = inputHeight * inputWidth * 3;
      const count = workers ? Math.min(o.workers, n) : 1;
      const parts = Array.from({ length: count }, (_, k) => {
        const from = Math.floor((k * n) / count),
          to = Math.floor(((k + 1) * n) / count);
        return {
          images: batch.images.subarray(from * pixels, to * pixels),
          shape: [to - from, inputHeight, inputWidth, 3] as [number, number, number, number],
          annotations: batch.annotations.slice(from, to),
        };
      });
      const remote =
        workers && count > 1
          ? workers.run(
              variables.map((v) => v.dataSync() as Float32Array),
              parts.slice(1),
              frozen,
            )
          : Promise.resolve([]);
      const local = computePartGradients(network, parts[0].images, parts[0].shape, parts[0].annotations, frozen);
      return combineParts([local, ...(await remote)]);
    };
    const losses: number[] = [];
    const started = performance.now();
    let plan: { epoch: number; order: number[]; flipped: boolean[]; seeds: number[] } | undefined;
    while (step < totalSteps) {
      const stepStart = performance.now();
      const epoch = Math.floor(step / stepsPerEpoch);
      if (plan?.epoch !== epoch) plan = { epoch, ...epochPlan(o.seed, epoch, items.length, o.flip) };
      const first = (step % stepsPerEpoch) * o.batch;
      const picks = plan.order.slice(first, first + o.batch);
      const batch = await loadBatch(
        picks.map((i) => items[i]),
        {
          flips: plan.flipped.slice(first, first + o.batch),
          seeds: plan.seeds.slice(first, first + o.batch),
          augment: o.augment,
          flip: o.flip,
        },
        pre,
        spec,
        network.annotation,
      );
      const lr = learningRate(step, o);
      const frozen = step < o.freezeBackboneSteps ? backboneIndex : undefined;
      const result = await batchGradients(batch, picks.length, frozen);
      const {
        loss: { total, loc, conf },
        numPositive,
      } = result;
      const at = `at step ${step + 1} (lr ${lr})`;
      const bad = !Number.isFinite(total) ? `the loss is ${total}` : nonFiniteGradients(names, result);
      if (bad) await stopNonFinite(`${bad} ${at}`);
      // frozen variables (no gradient) keep their weights and momentum
      const live = variables.map((_, i) => i).filter((i) => !frozen?.[i]);
      const { updated, gradNorm } = sgdStep({
        variables,
        momentum,
        grads: result.grads,
        live,
        lr,
        momentumFactor: o.momentum,
        weightDecay: o.weightDecay,
        clipGradNorm: o.clipGradNorm,
      });
      if (!updated) await stopNonFinite(`the update makes the weights non-finite ${at}`);
      // a frozen base's batch normalisation keeps its moving statistics too
      const keep = network.batchNormLayers.map((layer) => !(frozen && backboneNorms.has(layer)));
      applyBatchNorm(
        network.batchNormLayers.filter((_, k) => keep[k]),
        result.stats.filter((_, k) => keep[k]),
      );
      step++;
      losses.push(total);
      lastLoss = { total, loc, conf };
      const seconds = (performance.now() - stepStart) / 1000;
      options.onProgress?.({
        epoch,
        step,
        totalSteps,
        stepsPerEpoch,
        loss: { total, loc, conf },
        numPositive,
        lr,
        gradNorm,
        imagesPerSecond: picks.length / seconds,
      });
      if (o.checkpointEvery > 0 && step % o.checkpointEvery === 0 && step < totalSteps) {
        log(`checkpoint at step ${step}: ${await save()}`);
      }
    }
    const checkpoint = await save();
    const seconds = (performance.now() - started) / 1000;
    return {
      backend: backend.name,
      checkpoint,
      steps: step,
      startStep,
      losses,
      imagesPerSecond: seconds > 0 ? ((step - startStep) * o.batch) / seconds : 0,
      seconds,
    };
  } finally {
    await workers?.close();
    network.dispose();
    momentum.forEach((v) => v.dispose());
  }
}

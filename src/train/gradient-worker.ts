/**
 * A gradient worker thread (see gradient-workers.ts): builds the network once, then answers each
 * step with the loss and gradients of the part of the batch it is sent, at the weights it is sent.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { computePartGradients } from './gradients.js';
import type { WorkerInit, WorkerReply, WorkerStep } from './gradient-workers.js';
import { createTrainingNetwork, type TrainingNetwork } from './networks.js';
import { initTraining } from './tfjs.js';

let network: TrainingNetwork | undefined;

async function handle(message: { init?: WorkerInit; step?: WorkerStep }): Promise<WorkerReply> {
  if (message.init) {
    await initTraining({ backend: message.init.backend, log: () => {} });
    network = await createTrainingNetwork(message.init.network);
    return { ok: true, part: { grads: [], loss: { total: 0, loc: 0, conf: 0 }, numPositive: 0, stats: [] } };
  }
  const step = message.step!;
  if (!network) throw new Error('the worker got a step before its init');
  const variables = [...network.model.trainableVariables.values()];
  variables.forEach((v, i) => tf.tidy(() => v.assign(tf.tensor(step.weights[i], v.shape))));
  const annotations = step.annotations.map((a) => ({
    boxes: Float32Array.from(a.boxes),
    labels: Int32Array.from(a.labels),
  }));
  return { ok: true, part: computePartGradients(network, step.images, step.shape, annotations, step.frozen) };
}

parentPort!.on('message', (message: { init?: WorkerInit; step?: WorkerStep }) => {
  handle(message).then(
    (reply) => parentPort!.postMessage(reply, reply.ok ? reply.part.grads.map((g) => g.buffer as ArrayBuffer) : []),
    (error: unknown) =>
      parentPort!.postMessage({ ok: false, error: (error as Error).stack ?? String(error) } satisfies WorkerReply),
  );
});

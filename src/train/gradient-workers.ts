/**
 * Data-parallel training on several cores: tfjs-wasm runs single-threaded in Node, so each extra
 * core gets a worker thread holding its own copy of the network. Every step the main thread
 * sends each worker the current trainable weights and its part of the batch (pre-processed
 * images and annotations); the worker returns that part's loss, gradients and batch-norm
 * statistics (gradients.ts), which the main thread combines with its own part and applies.
 * The weights stay on the main thread: workers are stateless between steps, so checkpoints and
 * resumes are unchanged.
 */
import { Worker } from 'node:worker_threads';
import type { NetworkOptions } from './networks.js';
import type { PartGradients } from './gradients.js';
import type { BoxAnnotation } from './targets.js';
import type { TrainingBackendName } from './tfjs.js';

export interface WorkerInit {
  network: NetworkOptions;
  backend: TrainingBackendName;
}
export interface WorkerStep {
  weights: Float32Array[];
  images: Float32Array;
  shape: [number, number, number, number];
  annotations: { boxes: number[]; labels: number[] }[];
  /** Trainable variables (by index) that get no gradient this step. */
  frozen?: boolean[];
}
export type WorkerReply = { ok: true; part: PartGradients } | { ok: false; error: string };

export interface GradientWorkers {
  readonly size: number;
  /** Computes one part per worker (parts[i] on worker i), in parallel. */
  run(
    weights: Float32Array[],
    parts: { images: Float32Array; shape: [number, number, number, number]; annotations: readonly BoxAnnotation[] }[],
    frozen?: readonly boolean[],
  ): Promise<PartGradients[]>;
  close(): Promise<void>;
}

const WORKER_URL = new URL('./gradient-worker.js', import.meta.url);

function request(worker: Worker, message: unknown, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: WorkerReply) => {
      cleanUp();
      resolve(reply);
    };
    const onError = (error: Error) => {
      cleanUp();
      reject(new Error(`train: a gradient worker crashed: ${error.message}`, { cause: error }));
    };
    const onExit = (code: number) => {
      cleanUp();
      reject(new Error(`train: a gradient worker exited (code ${code})`));
    };
    const cleanUp = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.postMessage(message, transfer);
  });
}

function unwrap(reply: WorkerReply): PartGradients {
  if (!reply.ok) throw new Error(`train: a gradient worker failed: ${reply.error}`);
  return reply.part;
}

/** Starts `count` workers, each building the network of `init` on the given tfjs backend. */
export async function startGradientWorkers(count: number, init: WorkerInit): Promise<GradientWorkers> {
  const workers = Array.from({ length: count }, () => new Worker(WORKER_URL));
  try {
    await Promise.all(workers.map(async (w) => unwrap(await request(w, { init }))));
  } catch (error) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw error;
  }
  return {
    size: count,
    async run(weights, parts, frozen) {
      return Promise.all(
        parts.map(async (part, i) => {
          const images = part.images.slice();
          const step: WorkerStep = {
            weights,
            images,
            shape: part.shape,
            ...(frozen ? { frozen: [...frozen] } : {}),
            annotations: part.annotations.map((a) => ({ boxes: Array.from(a.boxes), labels: Array.from(a.labels) })),
          };
          return unwrap(await request(workers[i], { step }, [images.buffer as ArrayBuffer]));
        }),
      );
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

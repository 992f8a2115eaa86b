/**
 * The worker of the two-thread uint8 network (threads.ts): a Node worker_threads worker (init in
 * workerData) or a module Web Worker (init as its first message). It instantiates the kernels-only
 * build on the shared memory and serves its half of each split kernel call until told to exit.
 */
import { serve, type WorkerInit } from './threads.js';

const node = !!(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;

if (node) {
  const { parentPort, workerData } = await import('node:worker_threads');
  await serve(workerData as WorkerInit, (message) => parentPort!.postMessage(message));
} else {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent<WorkerInit>) => void) | null;
    postMessage(message: unknown): void;
  };
  scope.onmessage = (event) => {
    scope.onmessage = null;
    void serve(event.data, (message) => scope.postMessage(message));
  };
}

/**
 * The demo's detection worker: one Detector, created on 'init', run on each 'detect' (an
 * ImageBitmap), re-thresholded on 'thresholds'. Off the main thread so the page stays responsive
 * while onnxruntime runs.
 */
import { createDetector, type Detector } from '../src/index.js';
import type { Reply, Request } from './protocol.js';

interface WorkerScope {
  onmessage: ((event: MessageEvent<Request>) => void) | null;
  postMessage(message: Reply): void;
  crossOriginIsolated: boolean;
}
const scope = globalThis as unknown as WorkerScope;

let detector: Promise<Detector> | undefined;

async function handle(request: Request): Promise<Reply> {
  switch (request.type) {
    case 'init': {
      const start = performance.now();
      detector = createDetector({
        model: request.model, backend: request.backend, profile: request.profile, ...request.thresholds,
      });
      const d = await detector;
      return {
        type: 'ready',
        info: {
          backend: d.backend, backendReason: d.backendReason, adapter: d.adapter, threads: d.threads, profile: d.profile,
          coreBuild: d.coreBuild, crossOriginIsolated: scope.crossOriginIsolated, model: request.model,
          loadMs: performance.now() - start,
        },
      };
    }
    case 'detect': {
      if (!detector) throw new Error('no model loaded yet');
      const d = await detector;
      try {
        const detections = await d.detect(request.image);
        return { type: 'result', id: request.id, rerun: 'full', detections, timings: d.lastTimings! };
      } finally {
        request.image.close();
      }
    }
    case 'thresholds': {
      if (!detector) throw new Error('no model loaded yet');
      const d = await detector;
      const results = await d.setThresholds(request.thresholds);
      return { type: 'result', id: request.id, rerun: 'post', detections: results?.[0] ?? [], timings: d.lastTimings! };
    }
  }
}

scope.onmessage = (event) => {
  const request = event.data;
  handle(request).then(
    (reply) => scope.postMessage(reply),
    (error: Error) => scope.postMessage({
      type: 'error', stage: request.type === 'init' ? 'init' : request.type, message: error.message,
      id: request.type === 'init' ? undefined : request.id,
    }));
};

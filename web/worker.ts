/**
 * The demo's detection worker: one Detector, created on 'init', run on each 'detect' (an
 * ImageBitmap), re-thresholded on 'thresholds'. Off the main thread so the page stays responsive
 * while onnxruntime runs.
 */
import { createDetector, type Detector } from '../src/index.js';
import type { OrtWeb } from '../src/runtime/ort-web.js';
import type { Reply, Request } from './protocol.js';

/**
 * onnxruntime-web's wasm-only build (served at /ort/ beside the demo), for the low-power profile:
 * 14 MB of wasm to fetch and compile instead of the WebGPU build's 28 MB.
 */
const ORT_WASM_ONLY = new URL('ort/ort.wasm.min.mjs', import.meta.url).href;

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
      const wasmOnly = request.profile === 'low-power' && request.backend !== 'webgpu';
      const ort = wasmOnly ? ((await import(ORT_WASM_ONLY)) as OrtWeb) : undefined;
      detector = createDetector({
        model: request.model,
        backend: request.backend,
        profile: request.profile,
        ort,
        ...request.thresholds,
        ...(request.labels ? { labels: request.labels } : {}),
        onProgress: (progress) => scope.postMessage({ type: 'progress', progress }),
      });
      const d = await detector;
      return {
        type: 'ready',
        info: {
          backend: d.backend,
          backendReason: d.backendReason,
          adapter: d.adapter,
          threads: d.threads,
          profile: d.profile,
          coreBuild: d.coreBuild,
          crossOriginIsolated: scope.crossOriginIsolated,
          model: request.model,
          ortBuild:
            d.backend === 'int8'
              ? 'none (ssd-edge int8 kernels)'
              : wasmOnly || d.backend === 'wasm'
                ? 'ort.wasm.min.mjs (wasm only)'
                : 'ort.min.mjs (WebGPU and wasm)',
          loadMs: performance.now() - start,
          config: d.config,
          preprocess: d.inputSpec,
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
    (error: Error) =>
      scope.postMessage({
        type: 'error',
        stage: request.type === 'init' ? 'init' : request.type,
        message: error.message,
        id: request.type === 'init' ? undefined : request.id,
      }),
  );
};

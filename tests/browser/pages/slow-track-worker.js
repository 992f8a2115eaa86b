// The bundle's tracking worker, made slow for track.test.ts: once a frame's pixels are read, the
// worker thread is blocked for 5 s (as inference on a loaded machine can be), longer than
// stop()'s 2 s wait before it terminates the worker. Whatever the worker still holds then is lost.
import '/bundle/ssd-edge-track-worker.mjs';

const BLOCK_MS = 5000;
const getImageData = OffscreenCanvasRenderingContext2D.prototype.getImageData;
OffscreenCanvasRenderingContext2D.prototype.getImageData = function (...args) {
  const pixels = getImageData.apply(this, args);
  // a microtask: it runs right after the code that read the pixels, before detection goes on
  queueMicrotask(() => {
    const until = performance.now() + BLOCK_MS;
    while (performance.now() < until);
  });
  return pixels;
};

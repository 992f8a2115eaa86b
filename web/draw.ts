/** Draws an image and its detections (boxes, labels, scores) on a canvas. */
import type { ImageDetection } from '../src/runtime/types.js';

/** A colour per class, spread around the hue circle. */
export function classColour(classId: number): string {
  return `hsl(${(classId * 137.508) % 360} 85% 50%)`;
}

/**
 * Draws `frame` scaled to the canvas, then each detection's pixel box (in the frame's pixels)
 * with "label score" above it.
 */
export function drawDetections(
  canvas: HTMLCanvasElement,
  frame: CanvasImageSource & { width: number; height: number },
  detections: readonly ImageDetection[],
): void {
  canvas.width = frame.width;
  canvas.height = frame.height;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('this browser gives no 2D canvas context');
  context.drawImage(frame, 0, 0);
  const line = Math.max(2, Math.round(frame.width / 300));
  const fontSize = Math.max(12, Math.round(frame.width / 40));
  context.font = `${fontSize}px system-ui, sans-serif`;
  context.lineWidth = line;
  context.textBaseline = 'bottom';
  // weakest first, so that the best box is drawn on top
  for (const d of [...detections].reverse()) {
    const [x0, y0, x1, y1] = d.pixelBox;
    const colour = classColour(d.classId);
    context.strokeStyle = colour;
    context.strokeRect(x0, y0, x1 - x0, y1 - y0);
    const text = `${d.label ?? `class ${d.classId}`} ${d.score.toFixed(2)}`;
    const width = context.measureText(text).width + 6;
    const top = Math.max(fontSize + 4, y0);
    context.fillStyle = colour;
    context.fillRect(x0, top - fontSize - 4, width, fontSize + 4);
    context.fillStyle = '#fff';
    context.fillText(text, x0 + 3, top - 2);
  }
}

/** Box, "#id label score" and the trail of recent centres of each tracked object, in CSS pixels. */
export interface OverlayObject {
  trackId?: number;
  classId: number;
  label?: string;
  score: number;
  cssBox?: readonly number[];
}

/**
 * Draws the objects of one stream result on a canvas laid over the video (same CSS size),
 * at the device pixel ratio; `trails` holds each track's recent centres (CSS pixels).
 */
export function drawOverlay(
  canvas: HTMLCanvasElement,
  objects: readonly OverlayObject[],
  trails: ReadonlyMap<number, [number, number][]>,
): void {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth,
    height = canvas.clientHeight;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('this browser gives no 2D canvas context');
  context.setTransform(dpr, 0, 0, dpr, 0, 0);
  context.lineWidth = 2;
  context.font = '13px system-ui, sans-serif';
  context.textBaseline = 'bottom';
  for (const [id, points] of trails) {
    const owner = objects.find((o) => o.trackId === id);
    if (!owner || points.length < 2) continue;
    context.strokeStyle = classColour(owner.classId);
    context.globalAlpha = 0.6;
    context.beginPath();
    points.forEach(([x, y], i) => (i === 0 ? context.moveTo(x, y) : context.lineTo(x, y)));
    context.stroke();
    context.globalAlpha = 1;
  }
  for (const o of objects) {
    if (!o.cssBox) continue;
    const [x0, y0, x1, y1] = o.cssBox;
    const colour = classColour(o.classId);
    context.strokeStyle = colour;
    context.strokeRect(x0, y0, x1 - x0, y1 - y0);
    const text = `${o.trackId ? `#${o.trackId} ` : ''}${o.label ?? `class ${o.classId}`} ${o.score.toFixed(2)}`;
    const top = Math.max(17, y0);
    context.fillStyle = colour;
    context.fillRect(x0, top - 17, context.measureText(text).width + 6, 17);
    context.fillStyle = '#fff';
    context.fillText(text, x0 + 3, top - 2);
  }
}

/**
 * A small anti-aliased polygon rasteriser for the dataset generator: even-odd fill, exact
 * horizontal coverage and 4 sub-scanlines per pixel row. Coverage is returned over the
 * polygon's bounding rectangle clipped to the image.
 */

/** Coverage in [0, 1] over the rectangle [x0, x1) × [y0, y1) of the image, row-major. */
export interface Coverage {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** (x1 − x0) × (y1 − y0) values. */
  cov: Float32Array;
}

const SUB = 4;

/** A polygon as a flat [x0, y0, x1, y1, ...] list of vertices in pixel units (pixel centres at +0.5). */
export type Polygon = ArrayLike<number>;

/** Rasterises polygons (even-odd rule across all of them, so an inner ring is a hole). Null when off-image. */
export function rasterise(polys: readonly Polygon[], width: number, height: number): Coverage | null {
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  let edgeCount = 0;
  for (const p of polys) {
    for (let i = 0; i < p.length; i += 2) {
      minX = Math.min(minX, p[i]);
      maxX = Math.max(maxX, p[i]);
      minY = Math.min(minY, p[i + 1]);
      maxY = Math.max(maxY, p[i + 1]);
    }
    edgeCount += p.length / 2;
  }
  const x0 = Math.max(0, Math.floor(minX)),
    x1 = Math.min(width, Math.ceil(maxX));
  const y0 = Math.max(0, Math.floor(minY)),
    y1 = Math.min(height, Math.ceil(maxY));
  if (x1 <= x0 || y1 <= y0) return null;
  const w = x1 - x0;
  const cov = new Float32Array(w * (y1 - y0));

  // Edges as (ax, ay, bx, by) with ay < by (horizontal edges never cross a scanline).
  const edges = new Float64Array(edgeCount * 4);
  let e = 0;
  for (const p of polys) {
    const n = p.length / 2;
    for (let i = 0; i < n; i++) {
      const j = (i + 1) % n;
      let ax = p[2 * i],
        ay = p[2 * i + 1],
        bx = p[2 * j],
        by = p[2 * j + 1];
      if (ay === by) continue;
      if (ay > by) {
        [ax, bx] = [bx, ax];
        [ay, by] = [by, ay];
      }
      edges[e++] = ax;
      edges[e++] = ay;
      edges[e++] = bx;
      edges[e++] = by;
    }
  }
  const xs = new Float64Array(edgeCount);
  const weight = 1 / SUB;
  for (let sy = y0 * SUB; sy < y1 * SUB; sy++) {
    const y = (sy + 0.5) / SUB;
    let n = 0;
    for (let k = 0; k < e; k += 4) {
      const ay = edges[k + 1],
        by = edges[k + 3];
      if (y >= ay && y < by) xs[n++] = edges[k] + ((y - ay) * (edges[k + 2] - edges[k])) / (by - ay);
    }
    if (n < 2) continue;
    const sorted = xs.subarray(0, n).sort();
    const row = (Math.floor(sy / SUB) - y0) * w;
    for (let k = 0; k + 1 < n; k += 2) {
      const a = Math.max(sorted[k], x0) - x0,
        b = Math.min(sorted[k + 1], x1) - x0;
      if (b <= a) continue;
      const ia = Math.floor(a),
        ib = Math.floor(b);
      if (ia === ib) {
        cov[row + ia] += (b - a) * weight;
      } else {
        cov[row + ia] += (ia + 1 - a) * weight;
        for (let i = ia + 1; i < ib; i++) cov[row + i] += weight;
        if (ib < w) cov[row + ib] += (b - ib) * weight;
      }
    }
  }
  for (let i = 0; i < cov.length; i++) if (cov[i] > 1) cov[i] = 1;
  return { x0, y0, x1, y1, cov };
}

/** Signed shoelace area of a polygon. */
export function polygonArea(p: Polygon): number {
  let a = 0;
  const n = p.length / 2;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    a += p[2 * i] * p[2 * j + 1] - p[2 * j] * p[2 * i + 1];
  }
  return a / 2;
}

/**
 * The procedural shapes: one image and its annotation rendered from a seed, in memory (no I/O;
 * generate.ts writes them as a VOC dataset).
 *
 * Classes (SHAPE_CLASSES): circle, square, triangle, star, ring, cross. Each image: a textured,
 * cluttered background (two-colour linear gradient, two octaves of value noise, sometimes stripes
 * or a checker, 3–12 random distractor strokes and 0–4 irregular blobs), then 1–5 shapes, each with
 * a log-uniform size from 7 % to 75 % of the image's short side, an aspect jitter of ±25 %, a
 * random rotation (all classes: circles and rings become rotated ellipses), a saturated-enough
 * colour chosen to stand apart from the background under it, a linear shading and sometimes a
 * striped fill. Shapes are placed with limited overlap (a later shape may cover up to ~35 % of an
 * earlier one's box, occasionally more) and sometimes run off the image edge. Last, per-pixel noise.
 *
 * Annotations: the box is the tight box of the shape's *visible* pixels (coverage ≥ 0.5 after
 * the shapes drawn above it), written 1-based (pixel column c → c + 1). `truncated` = 1 when more
 * than 5 % of the shape's area lies outside the image. `difficult` = 1 when more than 60 % of the
 * shape's area is hidden (by shapes above it and the image edge together); such objects stay in
 * the annotation (evaluation ignores them, training may drop them, as in VOC). An object with
 * fewer than 16 visible pixels or a visible box under 3 px on a side is dropped entirely.
 */
import { mulberry32 } from '../../util/random.js';
import { polygonArea, rasterise, type Coverage, type Polygon } from './raster.js';

export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'star', 'ring', 'cross'] as const;
export type ShapeClass = (typeof SHAPE_CLASSES)[number];

/** Bumped whenever the rendering changes, so a dataset records what produced it. */
export const GENERATOR_VERSION = 1;

/** One annotated object of a rendered sample: 0-based inclusive pixel box of the visible extent. */
export interface SampleObject {
  name: ShapeClass;
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
  difficult: 0 | 1;
  truncated: 0 | 1;
  /** Visible share of the shape's full area. */
  visible: number;
}

export interface Sample {
  width: number;
  height: number;
  /** width × height × 3, row-major RGB. */
  rgb: Uint8Array;
  objects: SampleObject[];
}

export interface RenderOptions {
  /**
   * false: leave the shapes out of the pixels (same random stream, same annotations), so the
   * image is the background the shapes would cover. For tests. Default true.
   */
  drawObjects?: boolean;
}

const DIFFICULT_HIDDEN = 0.6;
const TRUNCATED_OUTSIDE = 0.05;
const MIN_VISIBLE_PIXELS = 16;
const MIN_VISIBLE_SIDE = 3;

type Rand = () => number;
type RGB = [number, number, number];

const uniform = (r: Rand, a: number, b: number) => a + (b - a) * r();
const intIn = (r: Rand, a: number, b: number) => a + Math.floor(r() * (b - a + 1));

/** Renders one image and its annotation from a seed (no I/O). */
export function renderSample(
  width: number,
  height: number,
  seed: number,
  classes: readonly ShapeClass[] = SHAPE_CLASSES,
  options: RenderOptions = {},
): Sample {
  const r = mulberry32(seed);
  const img = new Float32Array(width * height * 3);
  drawBackground(img, width, height, r);
  drawClutter(img, width, height, r);

  const short = Math.min(width, height);
  const count = intIn(r, 1, 5);
  const placed: { cov: Coverage; area: number; name: ShapeClass }[] = [];
  const boxes: [number, number, number, number][] = [];
  for (let k = 0; k < count; k++) {
    const name = classes[Math.floor(r() * classes.length)];
    const size = short * Math.exp(uniform(r, Math.log(0.07), Math.log(0.75)));
    const aspect = Math.exp(uniform(r, -0.25, 0.25));
    const angle = uniform(r, 0, 2 * Math.PI);
    const params = shapeParams(name, r);
    const outside = r() < 0.2 ? 0.3 : 0; // may run up to 30 % of its size off the edge
    // Placement: the try whose box overlaps the placed boxes least (stop at ≤ 35 % of either box).
    let best: { cx: number; cy: number; score: number } | undefined;
    const half = size / 2;
    for (let t = 0; t < 25; t++) {
      const cx = uniform(r, half * (1 - 2 * outside), width - half * (1 - 2 * outside));
      const cy = uniform(r, half * (1 - 2 * outside), height - half * (1 - 2 * outside));
      const b: [number, number, number, number] = [cx - half, cy - half, cx + half, cy + half];
      let score = 0;
      for (const o of boxes) {
        const iw = Math.min(b[2], o[2]) - Math.max(b[0], o[0]),
          ih = Math.min(b[3], o[3]) - Math.max(b[1], o[1]);
        if (iw <= 0 || ih <= 0) continue;
        const inter = iw * ih;
        score = Math.max(score, inter / ((b[2] - b[0]) * (b[3] - b[1])), inter / ((o[2] - o[0]) * (o[3] - o[1])));
      }
      if (!best || score < best.score) best = { cx, cy, score };
      if (score <= 0.35) break;
    }
    const { cx, cy } = best!;
    boxes.push([cx - half, cy - half, cx + half, cy + half]);
    const polys = shapePolygons(name, params, cx, cy, half * aspect, half / aspect, angle, size);
    const area = polys.reduce((sum, p, i) => sum + (i === 0 ? 1 : -1) * Math.abs(polygonArea(p)), 0);
    const cov = rasterise(polys, width, height);
    if (!cov) continue;
    fillShape(img, width, cov, r, cx, cy, size, options.drawObjects ?? true);
    placed.push({ cov, area, name });
  }

  addNoise(img, r);
  const rgb = new Uint8Array(new Uint8ClampedArray(img).buffer); // rounds and clamps to 0..255
  return { width, height, rgb, objects: annotate(placed) };
}

/** Visible extents: each shape's coverage times the uncovered share of every shape drawn after it. */
function annotate(placed: { cov: Coverage; area: number; name: ShapeClass }[]): SampleObject[] {
  const out: SampleObject[] = [];
  placed.forEach(({ cov: c, area, name }, i) => {
    const w = c.x1 - c.x0;
    const vis = Float32Array.from(c.cov);
    for (let j = i + 1; j < placed.length; j++) {
      const d = placed[j].cov;
      const x0 = Math.max(c.x0, d.x0),
        x1 = Math.min(c.x1, d.x1),
        y0 = Math.max(c.y0, d.y0),
        y1 = Math.min(c.y1, d.y1);
      const dw = d.x1 - d.x0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) vis[(y - c.y0) * w + x - c.x0] *= 1 - d.cov[(y - d.y0) * dw + x - d.x0];
      }
    }
    let inImage = 0,
      visible = 0;
    let xmin = Infinity,
      ymin = Infinity,
      xmax = -1,
      ymax = -1;
    for (let y = c.y0; y < c.y1; y++) {
      for (let x = c.x0; x < c.x1; x++) {
        const k = (y - c.y0) * w + x - c.x0;
        inImage += c.cov[k];
        visible += vis[k];
        if (vis[k] >= 0.5) {
          if (x < xmin) xmin = x;
          if (x > xmax) xmax = x;
          if (y < ymin) ymin = y;
          if (y > ymax) ymax = y;
        }
      }
    }
    if (
      visible < MIN_VISIBLE_PIXELS ||
      xmax < 0 ||
      xmax - xmin + 1 < MIN_VISIBLE_SIDE ||
      ymax - ymin + 1 < MIN_VISIBLE_SIDE
    )
      return;
    const shown = visible / area;
    out.push({
      name,
      xmin,
      ymin,
      xmax,
      ymax,
      difficult: 1 - shown > DIFFICULT_HIDDEN ? 1 : 0,
      truncated: 1 - inImage / area > TRUNCATED_OUTSIDE ? 1 : 0,
      visible: shown,
    });
  });
  return out;
}

interface ShapeParams {
  a: number;
  b: number;
}

function shapeParams(name: ShapeClass, r: Rand): ShapeParams {
  switch (name) {
    case 'star':
      return { a: uniform(r, 0.38, 0.5), b: 0 }; // inner radius ratio
    case 'ring':
      return { a: uniform(r, 0.45, 0.7), b: 0 }; // hole radius ratio
    case 'cross':
      return { a: uniform(r, 0.28, 0.42), b: 0 }; // arm half-width (arm length 0.95)
    case 'triangle':
      return { a: uniform(r, -0.15, 0.15), b: 0 }; // apex shift (not always isosceles)
    default:
      return { a: 0, b: 0 };
  }
}

/** Polygons in pixels: unit shape (about [−1, 1]²) scaled by (sx, sy), rotated, moved to (cx, cy). */
function shapePolygons(
  name: ShapeClass,
  p: ShapeParams,
  cx: number,
  cy: number,
  sx: number,
  sy: number,
  angle: number,
  size: number,
): Polygon[] {
  const circleSegments = Math.max(24, Math.min(96, Math.round(size)));
  const circle = (radius: number) => {
    const pts: number[] = [];
    for (let i = 0; i < circleSegments; i++) {
      const t = (2 * Math.PI * i) / circleSegments;
      pts.push(radius * Math.cos(t), radius * Math.sin(t));
    }
    return pts;
  };
  let unit: number[][];
  switch (name) {
    case 'circle':
      unit = [circle(1)];
      break;
    case 'ring':
      unit = [circle(1), circle(p.a)];
      break;
    case 'square':
      unit = [[-0.8, -0.8, 0.8, -0.8, 0.8, 0.8, -0.8, 0.8]];
      break;
    case 'triangle':
      unit = [[p.a, -1, 0.95, 0.75, -0.95, 0.75]];
      break;
    case 'star': {
      const pts: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t = -Math.PI / 2 + (Math.PI * i) / 5,
          rad = i % 2 === 0 ? 1 : p.a;
        pts.push(rad * Math.cos(t), rad * Math.sin(t));
      }
      unit = [pts];
      break;
    }
    case 'cross': {
      const a = p.a,
        e = 0.95;
      unit = [[-a, -e, a, -e, a, -a, e, -a, e, a, a, a, a, e, -a, e, -a, a, -e, a, -e, -a, -a, -a]];
      break;
    }
  }
  const c = Math.cos(angle),
    s = Math.sin(angle);
  return unit.map((poly) => {
    const out = new Float64Array(poly.length);
    for (let i = 0; i < poly.length; i += 2) {
      const x = poly[i] * sx,
        y = poly[i + 1] * sy;
      out[i] = cx + x * c - y * s;
      out[i + 1] = cy + x * s + y * c;
    }
    return out;
  });
}

function hsv(h: number, s: number, v: number): RGB {
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return 255 * (v - v * s * Math.max(0, Math.min(k, 4 - k, 1)));
  };
  return [f(5), f(3), f(1)];
}

function randomColour(r: Rand, satMin = 0, satMax = 1, valMin = 0.1, valMax = 1): RGB {
  return hsv(r(), uniform(r, satMin, satMax), uniform(r, valMin, valMax));
}

function drawBackground(img: Float32Array, width: number, height: number, r: Rand): void {
  const c0 = randomColour(r, 0, 0.8, 0.15, 0.95),
    c1 = randomColour(r, 0, 0.8, 0.15, 0.95);
  const ga = uniform(r, 0, 2 * Math.PI),
    gx = Math.cos(ga),
    gy = Math.sin(ga);
  const diag = Math.hypot(width, height);
  // Value noise: two octaves of bilinear random grids, per channel.
  const octaves = [intIn(r, 2, 5), intIn(r, 8, 20)].map((cells) => {
    const amp = uniform(r, 5, 35);
    const cw = width / cells,
      ch = height / cells;
    const grid = new Float32Array((cells + 1) * (cells + 1) * 3);
    for (let i = 0; i < grid.length; i++) grid[i] = (r() * 2 - 1) * amp;
    return { cells, cw, ch, grid };
  });
  const pattern = r();
  const pAmp = uniform(r, 5, 22),
    pFreq = uniform(r, 0.08, 0.5),
    pa = uniform(r, 0, Math.PI);
  const px = Math.cos(pa) * pFreq,
    py = Math.sin(pa) * pFreq;
  const checker = Math.round(uniform(r, 6, 30));
  const row = new Float32Array(width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = Math.max(0, Math.min(1, ((x - width / 2) * gx + (y - height / 2) * gy) / diag + 0.5));
      let tex = 0;
      if (pattern < 0.3) tex = Math.sin(x * px + y * py) * pAmp;
      else if (pattern < 0.45) tex = ((Math.floor(x / checker) + Math.floor(y / checker)) & 1 ? 1 : -1) * pAmp * 0.6;
      row[x * 3] = c0[0] + (c1[0] - c0[0]) * t + tex;
      row[x * 3 + 1] = c0[1] + (c1[1] - c0[1]) * t + tex;
      row[x * 3 + 2] = c0[2] + (c1[2] - c0[2]) * t + tex;
    }
    for (const { cells, cw, ch, grid } of octaves) {
      const fy = y / ch;
      const iy = Math.min(Math.floor(fy), cells - 1),
        ay = fy - iy;
      const r0 = iy * (cells + 1) * 3,
        r1 = r0 + (cells + 1) * 3;
      for (let x = 0; x < width; x++) {
        const fx = x / cw;
        const ix = Math.min(Math.floor(fx), cells - 1),
          ax = fx - ix;
        const w00 = (1 - ax) * (1 - ay),
          w10 = ax * (1 - ay),
          w01 = (1 - ax) * ay,
          w11 = ax * ay;
        const a = r0 + ix * 3,
          b = r1 + ix * 3;
        for (let c = 0; c < 3; c++) {
          row[x * 3 + c] += grid[a + c] * w00 + grid[a + 3 + c] * w10 + grid[b + c] * w01 + grid[b + 3 + c] * w11;
        }
      }
    }
    img.set(row, y * width * 3);
  }
}

function composite(
  img: Float32Array,
  width: number,
  c: Coverage,
  colour: (x: number, y: number) => RGB | readonly number[],
  opacity = 1,
): void {
  const w = c.x1 - c.x0;
  for (let y = c.y0; y < c.y1; y++) {
    for (let x = c.x0; x < c.x1; x++) {
      const a = c.cov[(y - c.y0) * w + x - c.x0] * opacity;
      if (a <= 0) continue;
      const col = colour(x, y);
      const o = (y * width + x) * 3;
      img[o] += (col[0] - img[o]) * a;
      img[o + 1] += (col[1] - img[o + 1]) * a;
      img[o + 2] += (col[2] - img[o + 2]) * a;
    }
  }
}

/** Distractors: thick random polylines (straight or bent) and irregular blobs, below the shapes. */
function drawClutter(img: Float32Array, width: number, height: number, r: Rand): void {
  const short = Math.min(width, height);
  const strokes = intIn(r, 3, 12);
  for (let s = 0; s < strokes; s++) {
    const colour = randomColour(r, 0, 1, 0.05, 1);
    const thick = uniform(r, 0.8, 0.02 * short + 1);
    const opacity = uniform(r, 0.4, 1);
    let x = uniform(r, 0, width),
      y = uniform(r, 0, height);
    let dir = uniform(r, 0, 2 * Math.PI);
    const segments = intIn(r, 1, 6);
    for (let k = 0; k < segments; k++) {
      const len = uniform(r, 0.05, 0.35) * short;
      dir += uniform(r, -1.2, 1.2);
      const nx = x + Math.cos(dir) * len,
        ny = y + Math.sin(dir) * len;
      const ox = (-Math.sin(dir) * thick) / 2,
        oy = (Math.cos(dir) * thick) / 2;
      const cov = rasterise([[x + ox, y + oy, nx + ox, ny + oy, nx - ox, ny - oy, x - ox, y - oy]], width, height);
      if (cov) composite(img, width, cov, () => colour, opacity);
      x = nx;
      y = ny;
    }
  }
  const blobs = intIn(r, 0, 4);
  for (let b = 0; b < blobs; b++) {
    const colour = randomColour(r, 0, 0.7, 0.1, 0.9);
    const cx = uniform(r, 0, width),
      cy = uniform(r, 0, height),
      rad = uniform(r, 0.02, 0.12) * short;
    const n = intIn(r, 7, 14);
    const pts: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = (2 * Math.PI * (i + uniform(r, -0.3, 0.3))) / n,
        rr = rad * uniform(r, 0.4, 1.1);
      pts.push(cx + rr * Math.cos(t), cy + rr * Math.sin(t));
    }
    const cov = rasterise([pts], width, height);
    if (cov) composite(img, width, cov, () => colour, uniform(r, 0.3, 0.8));
  }
}

/** Mean colour of the image under a coverage rectangle. */
function meanUnder(img: Float32Array, width: number, c: Coverage): RGB {
  const m: RGB = [0, 0, 0];
  let n = 0;
  const step = Math.max(1, Math.floor((c.x1 - c.x0) / 16));
  for (let y = c.y0; y < c.y1; y += step) {
    for (let x = c.x0; x < c.x1; x += step) {
      const o = (y * width + x) * 3;
      m[0] += img[o];
      m[1] += img[o + 1];
      m[2] += img[o + 2];
      n++;
    }
  }
  return [m[0] / n, m[1] / n, m[2] / n];
}

function fillShape(
  img: Float32Array,
  width: number,
  cov: Coverage,
  r: Rand,
  cx: number,
  cy: number,
  size: number,
  draw: boolean,
): void {
  // A colour that stands apart from what is under the shape (best of up to 12 tries).
  const under = meanUnder(img, width, cov);
  let colour: RGB = [0, 0, 0];
  let bestDist = -1;
  for (let t = 0; t < 12; t++) {
    // always 12 draws: the stream never depends on pixels
    const c = randomColour(r, 0.35, 1, 0.2, 1);
    const d = Math.hypot(c[0] - under[0], c[1] - under[1], c[2] - under[2]);
    if (bestDist < 110 && d > bestDist) {
      bestDist = d;
      colour = c;
    } // first far-enough one, else the farthest
  }
  const shade = uniform(r, 0, 0.35),
    sa = uniform(r, 0, 2 * Math.PI);
  const sx = Math.cos(sa) / size,
    sy = Math.sin(sa) / size;
  const striped = r() < 0.2;
  const stripeFreq = uniform(r, 0.15, 0.5),
    st = uniform(r, 0, Math.PI);
  const tx = Math.cos(st) * stripeFreq,
    ty = Math.sin(st) * stripeFreq;
  const out: RGB = [0, 0, 0];
  if (draw)
    composite(img, width, cov, (x, y) => {
      let f = 1 + shade * ((x - cx) * sx + (y - cy) * sy) * 2;
      if (striped && Math.sin(x * tx + y * ty) > 0) f *= 0.7;
      out[0] = colour[0] * f;
      out[1] = colour[1] * f;
      out[2] = colour[2] * f;
      return out;
    });
}

function addNoise(img: Float32Array, r: Rand): void {
  // Uniform per-channel noise (standard deviation about 1.2 to 6), one PRNG draw per value.
  const amp = uniform(r, 4, 20);
  for (let i = 0; i < img.length; i++) img[i] += (r() - 0.5) * amp;
}

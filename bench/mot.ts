/**
 * Multi-object tracking evaluation: synthetic sequences with ground-truth identities, CLEAR MOT
 * (MOTA, identity switches) and IDF1, and the greedy IoU-only baseline tracker.
 *
 * CLEAR MOT (Bernardin & Stiefelhagen 2008), as py-motmetrics: per frame a ground-truth object
 * keeps last frame's hypothesis while their IoU ≥ 0.5, the rest are matched by optimal
 * assignment on 1 − IoU among pairs with IoU ≥ 0.5; a switch is a ground truth matched to a
 * hypothesis other than the one it was last matched to. MOTA = 1 − (FN + FP + IDSW) / GT.
 * IDF1 (Ristani et al. 2016): one global one-to-one matching of ground-truth ids to track ids
 * maximising the frames they overlap (IoU ≥ 0.5); IDF1 = 2·IDTP / (GT + hypotheses).
 */
import { assignMinCost } from '../src/core/reference/track.js';
import { mulberry32 } from './scenarios.js';

export type Box = [number, number, number, number];
export interface Labeled {
  id: number;
  classId: number;
  box: Box;
}
export interface Frame {
  timestampMs: number;
  truths: Labeled[];
  detections: { classId: number; score: number; box: Box }[];
}

export function iou(a: Box, b: Box): number {
  const iw = Math.max(Math.min(a[2], b[2]) - Math.max(a[0], b[0]), 0);
  const ih = Math.max(Math.min(a[3], b[3]) - Math.max(a[1], b[1]), 0);
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** Optimal one-to-one matching maximising `score` over pairs with score > 0; any shape. */
function maxMatching(rows: number, cols: number, score: (r: number, c: number) => number): [number, number][] {
  if (rows === 0 || cols === 0) return [];
  const byRow = rows <= cols;
  const cost = byRow ? (i: number, j: number) => -score(i, j) : (i: number, j: number) => -score(j, i);
  const assignment = byRow ? assignMinCost(cost, rows, cols) : assignMinCost(cost, cols, rows);
  const pairs: [number, number][] = [];
  assignment.forEach((c, r) => {
    if (c < 0) return;
    const [row, col] = byRow ? [r, c] : [c, r];
    if (score(row, col) > 0) pairs.push([row, col]);
  });
  return pairs;
}

export interface MotMetrics {
  mota: number;
  idf1: number;
  idSwitches: number;
  falseNegatives: number;
  falsePositives: number;
  truths: number;
  hypotheses: number;
  /** Distinct track ids output. */
  trackIds: number;
}

/** Scores hypotheses (one list per frame) against the frames' truths. */
export function evaluate(frames: Frame[], hypotheses: Labeled[][], threshold = 0.5): MotMetrics {
  let fn = 0,
    fp = 0,
    sw = 0,
    gtTotal = 0,
    hypTotal = 0;
  const lastMatch = new Map<number, number>(); // gt id → hyp id it was last matched to
  const pairFrames = new Map<string, number>(); // "g h" → frames with IoU ≥ threshold
  const gtCount = new Map<number, number>(),
    hypCount = new Map<number, number>();
  frames.forEach((frame, f) => {
    const gts = frame.truths,
      hyps = hypotheses[f];
    gtTotal += gts.length;
    hypTotal += hyps.length;
    for (const g of gts) gtCount.set(g.id, (gtCount.get(g.id) ?? 0) + 1);
    for (const h of hyps) hypCount.set(h.id, (hypCount.get(h.id) ?? 0) + 1);
    for (const g of gts)
      for (const h of hyps) {
        if (iou(g.box, h.box) >= threshold)
          pairFrames.set(`${g.id} ${h.id}`, (pairFrames.get(`${g.id} ${h.id}`) ?? 0) + 1);
      }
    // CLEAR MOT: keep last correspondences still valid, then optimal assignment of the rest
    const gtMatched = new Int32Array(gts.length).fill(-1),
      hypUsed = new Uint8Array(hyps.length);
    gts.forEach((g, gi) => {
      const previous = lastMatch.get(g.id);
      const hi = hyps.findIndex((h) => h.id === previous);
      if (hi >= 0 && !hypUsed[hi] && iou(g.box, hyps[hi].box) >= threshold) {
        gtMatched[gi] = hi;
        hypUsed[hi] = 1;
      }
    });
    const freeG = gts.map((_, i) => i).filter((i) => gtMatched[i] < 0);
    const freeH = hyps.map((_, i) => i).filter((i) => !hypUsed[i]);
    const pairs = maxMatching(freeG.length, freeH.length, (r, c) => {
      const v = iou(gts[freeG[r]].box, hyps[freeH[c]].box);
      return v >= threshold ? 1 + v : 0; // any valid pair beats none; then higher IoU
    });
    for (const [r, c] of pairs) {
      const g = gts[freeG[r]],
        h = hyps[freeH[c]];
      gtMatched[freeG[r]] = freeH[c];
      hypUsed[freeH[c]] = 1;
      const previous = lastMatch.get(g.id);
      if (previous !== undefined && previous !== h.id) sw++;
    }
    gts.forEach((g, gi) => {
      if (gtMatched[gi] >= 0) lastMatch.set(g.id, hyps[gtMatched[gi]].id);
      else fn++;
    });
    fp += hyps.length - hypUsed.reduce((a, b) => a + b, 0);
  });
  // IDF1: global id matching
  const gIds = [...gtCount.keys()],
    hIds = [...hypCount.keys()];
  const idPairs = maxMatching(gIds.length, hIds.length, (r, c) => pairFrames.get(`${gIds[r]} ${hIds[c]}`) ?? 0);
  const idtp = idPairs.reduce((sum, [r, c]) => sum + (pairFrames.get(`${gIds[r]} ${hIds[c]}`) ?? 0), 0);
  return {
    mota: gtTotal ? 1 - (fn + fp + sw) / gtTotal : 1,
    idf1: gtTotal + hypTotal ? (2 * idtp) / (gtTotal + hypTotal) : 1,
    idSwitches: sw,
    falseNegatives: fn,
    falsePositives: fp,
    truths: gtTotal,
    hypotheses: hypTotal,
    trackIds: hIds.length,
  };
}

export interface SceneOptions {
  seed: number;
  frames: number;
  /** Objects on screen at a time (about). */
  objects: number;
  /** Probability a visible object is not detected. */
  missRate: number;
  /** Mean false positives per frame. */
  falsePositives: number;
  /** Box noise: standard deviation of each corner as a fraction of the box size. */
  noise: number;
  /** Frame interval in ms. */
  frameMs?: number;
  /** Number of classes (1 = everything the same class: the hard case for crossings). */
  classes?: number;
}

interface Mover {
  id: number;
  classId: number;
  x: number;
  y: number;
  w: number;
  h: number;
  vx: number;
  vy: number;
  depth: number;
}

/**
 * A seeded synthetic sequence in normalised coordinates: objects enter from the edges, move at
 * constant velocity with slight turns, cross each other, leave; an object more than half
 * covered by a nearer one (larger depth) is occluded and not detected; detections carry
 * Gaussian corner noise, random misses and uniform false positives.
 */
export function makeScene(o: SceneOptions): Frame[] {
  const rand = mulberry32(o.seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const classes = o.classes ?? 1;
  let nextId = 1;
  const spawn = (anywhere: boolean): Mover => {
    const w = 0.05 + rand() * 0.1,
      h = w * (1 + rand());
    const speed = 0.003 + rand() * 0.008,
      angle = rand() * 2 * Math.PI;
    let x = rand() * (1 - w),
      y = rand() * (1 - h);
    let vx = speed * Math.cos(angle),
      vy = speed * Math.sin(angle);
    if (!anywhere) {
      // enter from a side, heading inwards
      const side = Math.floor(rand() * 4);
      if (side === 0) {
        x = -w;
        vx = Math.abs(vx);
      } else if (side === 1) {
        x = 1;
        vx = -Math.abs(vx);
      } else if (side === 2) {
        y = -h;
        vy = Math.abs(vy);
      } else {
        y = 1;
        vy = -Math.abs(vy);
      }
    }
    return { id: nextId++, classId: 1 + Math.floor(rand() * classes), x, y, w, h, vx, vy, depth: rand() };
  };
  let movers = Array.from({ length: o.objects }, () => spawn(true));
  const frames: Frame[] = [];
  const frameMs = o.frameMs ?? 33;
  for (let f = 0; f < o.frames; f++) {
    for (const m of movers) {
      m.x += m.vx;
      m.y += m.vy;
      const turn = normal() * 0.02,
        c = Math.cos(turn),
        s = Math.sin(turn);
      [m.vx, m.vy] = [m.vx * c - m.vy * s, m.vx * s + m.vy * c];
    }
    // leave when fully outside; keep the population
    movers = movers.filter((m) => m.x + m.w > 0 && m.x < 1 && m.y + m.h > 0 && m.y < 1);
    while (movers.length < o.objects) movers.push(spawn(false));
    const visible = movers.filter((m) => m.x + m.w > 0 && m.x < 1 && m.y + m.h > 0 && m.y < 1);
    const clip = (m: Mover): Box => [
      Math.max(m.x, 0),
      Math.max(m.y, 0),
      Math.min(m.x + m.w, 1),
      Math.min(m.y + m.h, 1),
    ];
    const truths: Labeled[] = visible
      .map((m) => ({ id: m.id, classId: m.classId, box: clip(m) }))
      .filter((t) => (t.box[2] - t.box[0]) * (t.box[3] - t.box[1]) > 0.25 * 0.05 * 0.05);
    const detections: Frame['detections'] = [];
    for (const t of truths) {
      const m = visible.find((v) => v.id === t.id)!;
      const area = (t.box[2] - t.box[0]) * (t.box[3] - t.box[1]);
      const covered = visible.some(
        (v) => v.depth > m.depth && v.id !== m.id && overlapArea(t.box, clip(v)) > 0.5 * area,
      );
      if (covered || rand() < o.missRate) continue;
      const bw = t.box[2] - t.box[0],
        bh = t.box[3] - t.box[1];
      const box: Box = [
        t.box[0] + normal() * o.noise * bw,
        t.box[1] + normal() * o.noise * bh,
        t.box[2] + normal() * o.noise * bw,
        t.box[3] + normal() * o.noise * bh,
      ];
      if (box[2] > box[0] && box[3] > box[1]) detections.push({ classId: t.classId, score: 0.5 + 0.5 * rand(), box });
    }
    // false positives: Poisson by inversion
    for (let k = 0, p = Math.exp(-o.falsePositives), acc = p, u = rand(); u > acc && k < 20; k++) {
      p *= o.falsePositives / (k + 1);
      acc += p;
      const w = 0.03 + rand() * 0.1,
        h = 0.03 + rand() * 0.1,
        x = rand() * (1 - w),
        y = rand() * (1 - h);
      detections.push({
        classId: 1 + Math.floor(rand() * classes),
        score: 0.3 + 0.4 * rand(),
        box: [x, y, x + w, y + h],
      });
    }
    // detector output order carries no identity
    for (let i = detections.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [detections[i], detections[j]] = [detections[j], detections[i]];
    }
    frames.push({ timestampMs: f * frameMs, truths, detections });
  }
  return frames;
}

function overlapArea(a: Box, b: Box): number {
  return (
    Math.max(Math.min(a[2], b[2]) - Math.max(a[0], b[0]), 0) * Math.max(Math.min(a[3], b[3]) - Math.max(a[1], b[1]), 0)
  );
}

/**
 * The baseline: greedy IoU-only association, no motion model. Each frame, (track, detection)
 * pairs of the same class are taken in order of decreasing IoU while IoU ≥ `iouThreshold`; a
 * track keeps its last detection's box; births after `minHits` consecutive hits, death after
 * `maxAge` missed frames; a track is output on the frames it is matched.
 */
export class GreedyIouTracker {
  private tracks: { id: number; classId: number; box: Box; streak: number; missed: number }[] = [];
  private nextId = 1;
  constructor(
    private readonly minHits = 3,
    private readonly maxAge = 10,
    private readonly iouThreshold = 0.3,
  ) {}

  update(detections: Frame['detections']): Labeled[] {
    const pairs: [number, number, number][] = [];
    this.tracks.forEach((t, ti) =>
      detections.forEach((d, di) => {
        const v = iou(t.box, d.box);
        if (t.classId === d.classId && v >= this.iouThreshold) pairs.push([v, ti, di]);
      }),
    );
    pairs.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2] - b[2]);
    const trackUsed = new Uint8Array(this.tracks.length),
      detUsed = new Uint8Array(detections.length);
    for (const [, ti, di] of pairs) {
      if (trackUsed[ti] || detUsed[di]) continue;
      trackUsed[ti] = detUsed[di] = 1;
      const t = this.tracks[ti];
      t.box = detections[di].box;
      t.streak++;
      t.missed = 0;
    }
    this.tracks.forEach((t, ti) => {
      if (!trackUsed[ti]) {
        t.missed++;
        t.streak = 0;
      }
    });
    this.tracks = this.tracks.filter((t) => t.missed <= this.maxAge && (t.id > 0 || t.missed === 0));
    detections.forEach((d, di) => {
      if (!detUsed[di]) this.tracks.push({ id: 0, classId: d.classId, box: d.box, streak: 1, missed: 0 });
    });
    const out: Labeled[] = [];
    for (const t of this.tracks) {
      if (t.id === 0 && t.streak >= this.minHits) t.id = this.nextId++;
      if (t.id > 0 && t.missed === 0) out.push({ id: t.id, classId: t.classId, box: t.box });
    }
    return out;
  }
}

/**
 * Boxes between detections: with detection on every N-th frame, the frames in between get each
 * live track's box extrapolated at constant velocity (the SORT motion model) from its last two
 * tracker estimates, by timestamp. Plain TypeScript, no DOM; runs in the tracking worker.
 */
import type { Box } from './geometry.js';

export interface Estimate {
  trackId: number;
  /** (xmin, ymin, xmax, ymax), normalised. */
  box: readonly number[];
}

interface History<T> {
  item: T;
  box: Box;
  timestampMs: number;
  /** Box change per millisecond since the previous estimate of this track; zero for a new track. */
  velocity: Box;
}

/**
 * Remembers each track's last estimate and velocity; `predict(t)` moves every remembered track
 * to time t. Tracks absent from an observation are forgotten (the tracker dropped them).
 */
export class Extrapolator<T extends Estimate> {
  private tracks = new Map<number, History<T>>();

  observe(items: readonly T[], timestampMs: number): void {
    const next = new Map<number, History<T>>();
    for (const item of items) {
      if (!(item.trackId > 0)) continue; // tentative tracks have no id to follow
      const box = [item.box[0], item.box[1], item.box[2], item.box[3]] as Box;
      const before = this.tracks.get(item.trackId);
      const dt = before ? timestampMs - before.timestampMs : 0;
      const velocity = before && dt > 0 ? (box.map((v, k) => (v - before.box[k]) / dt) as Box) : ([0, 0, 0, 0] as Box);
      next.set(item.trackId, { item, box, timestampMs, velocity });
    }
    this.tracks = next;
  }

  /** Every remembered track at `timestampMs`, its box moved on by velocity × elapsed time. */
  predict(timestampMs: number): { item: T; box: Box }[] {
    return [...this.tracks.values()].map(({ item, box, timestampMs: at, velocity }) => {
      const dt = Math.max(0, timestampMs - at);
      const moved = box.map((v, k) => v + velocity[k] * dt) as Box;
      // never let a shrinking box turn inside out
      if (moved[2] <= moved[0] || moved[3] <= moved[1]) return { item, box };
      return { item, box: moved };
    });
  }

  reset(): void {
    this.tracks.clear();
  }
}

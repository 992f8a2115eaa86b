/**
 * One stream's per-frame objects with detection on some frames only: the rule shared by
 * detector.track()'s worker and `ssd-edge detect clip.mp4`.
 *
 * - A frame with detection: with tracking, the tracker takes the detections and the frame's
 *   objects are its tracks (stable ids, smoothed boxes); without, the detections themselves.
 * - A frame without detection (`every: N`): with tracking, every live track's box moved on at
 *   constant velocity (state 'predicted'); without, the last detections stand.
 * - A timestamp that does not increase (a looped or seeked video) starts a new sequence.
 *
 * Boxes are in whatever units the detections use (normalised from a Detector). Plain TypeScript, no DOM.
 */
import type { Tracker, TrackInput } from '../core/tracker.js';
import { Extrapolator } from './predict.js';

export interface FrameObject {
  /** Stable id (1, 2, …) while tracking; absent with tracking off. */
  trackId?: number;
  classId: number;
  label?: string;
  score: number;
  box: [number, number, number, number];
  /** 'confirmed' | 'lost' | 'tentative' from the tracker, 'predicted' between detections; absent with tracking off. */
  state?: 'tentative' | 'confirmed' | 'lost' | 'predicted';
}

export class FrameTracking {
  private lastTimestamp: number | undefined;
  private lastObjects: FrameObject[] = [];
  private readonly extrapolator = new Extrapolator<FrameObject & { trackId: number }>();
  private trackingOn: boolean;

  constructor(
    private readonly tracker: Tracker,
    tracking = true,
  ) {
    this.trackingOn = tracking;
  }

  get tracking(): boolean {
    return this.trackingOn;
  }

  /** Turns tracking on or off; tracks start afresh. */
  set tracking(on: boolean) {
    this.trackingOn = on;
    this.reset();
  }

  /** Forgets every track and the last detections. */
  reset(): void {
    this.tracker.reset();
    this.extrapolator.reset();
    this.lastTimestamp = undefined;
    this.lastObjects = [];
  }

  private advance(timestampMs: number): void {
    if (this.lastTimestamp !== undefined && !(timestampMs > this.lastTimestamp)) this.reset();
    this.lastTimestamp = timestampMs;
  }

  /** A frame detection ran on: its objects. */
  detected(detections: readonly TrackInput[], timestampMs: number): FrameObject[] {
    this.advance(timestampMs);
    let objects: FrameObject[];
    if (this.trackingOn) {
      objects = this.tracker.update(detections, timestampMs).map((t) => ({
        trackId: t.trackId,
        classId: t.classId,
        label: t.label,
        score: t.score,
        box: t.smoothedBox,
        state: t.state,
      }));
      this.extrapolator.observe(objects as (FrameObject & { trackId: number })[], timestampMs);
    } else {
      objects = detections.map((d) => ({
        classId: d.classId,
        label: d.label,
        score: d.score,
        box: [d.box[0], d.box[1], d.box[2], d.box[3]],
      }));
    }
    this.lastObjects = objects;
    return objects;
  }

  /** A frame without detection: predicted tracks, or the last detections. */
  between(timestampMs: number): FrameObject[] {
    this.advance(timestampMs);
    if (!this.trackingOn) return this.lastObjects;
    return this.extrapolator.predict(timestampMs).map(({ item, box }) => ({ ...item, box, state: 'predicted' }));
  }
}

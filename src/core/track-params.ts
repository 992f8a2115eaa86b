/** The tracker's parameter block as the core reads it (assembly/track.ts), shared by tracker.ts and the reference. */

/** Smoother kinds, numbered as in the core's header. */
export const SMOOTHERS = ['kalman', 'one-euro', 'exponential', 'none'] as const;
export type SmootherKind = (typeof SMOOTHERS)[number];

export interface TrackerParams {
  minHits: number;
  maxAge: number;
  iouThreshold: number;
  classAware: boolean;
  smoother: SmootherKind;
  /** exponential: alpha; one-euro: minCutoff (Hz) */
  smoothA: number;
  /** one-euro: beta */
  smoothB: number;
  /** one-euro: dCutoff (Hz) */
  smoothC: number;
}

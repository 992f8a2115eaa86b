/** The training backends by name, apart from tfjs so the CLI can list them without loading it. */

/** In the order 'auto' tries them. */
export const TRAINING_BACKENDS = ['node-gpu', 'node', 'wasm', 'cpu'] as const;
export type TrainingBackendName = (typeof TRAINING_BACKENDS)[number];

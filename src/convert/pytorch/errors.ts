/** The errors of the PyTorch checkpoint reader, one class per kind of problem. */

/** The file is not a PyTorch checkpoint, or it is damaged or truncated. */
export class PthFormatError extends Error {
  override readonly name = 'PthFormatError';
}

/**
 * The pickle asks for something a state dict never needs: an opcode or a global (a callable)
 * outside the allow-list. Nothing in the file is ever executed; the message names the refused
 * opcode or global.
 */
export class UnsafePickleError extends Error {
  override readonly name = 'UnsafePickleError';
}

/** The checkpoint's tensors do not fit the architecture: unknown, missing or misshapen keys, all listed. */
export class CheckpointMismatchError extends Error {
  override readonly name = 'CheckpointMismatchError';

  constructor(
    readonly arch: string,
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
    readonly wrongShapes: readonly string[],
  ) {
    const parts: string[] = [];
    const list = (what: string, keys: readonly string[]) => {
      if (keys.length) parts.push(`${keys.length} ${what}: ${keys.join(', ')}`);
    };
    list('missing', missing);
    list('unexpected', unexpected);
    list('with the wrong shape', wrongShapes);
    super(`the checkpoint does not fit --arch ${arch}: ${parts.join('; ')}`);
  }
}

/**
 * Module resolution hooks that make the optional peers onnxruntime-node and sharp look
 * uninstalled, as Node reports a missing package. Registered by hide-peers-register.ts.
 */
const HIDDEN = new Set(['onnxruntime-node', 'sharp']);

type Resolve = (specifier: string, context: { parentURL?: string }) => Promise<unknown>;

export async function resolve(specifier: string, context: { parentURL?: string }, next: Resolve): Promise<unknown> {
  if (HIDDEN.has(specifier)) {
    throw Object.assign(new Error(`Cannot find package '${specifier}' imported from ${context.parentURL}`), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
  }
  return next(specifier, context);
}

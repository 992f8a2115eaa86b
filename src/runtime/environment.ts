/**
 * Where the runtime is running, and loading of the optional Node packages (onnxruntime-node,
 * sharp): imported only on the Node path, so browser bundles never pull them.
 */

/** True in Node.js (including its test runner); false in browsers and workers. */
export const IS_NODE = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * Imports an optional peer dependency. A missing package gives an Error naming it and what
 * it is for; a package that is present but fails to load (a missing native binary, say) says so.
 */
export async function importOptional<T>(name: string, purpose: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === 'ERR_MODULE_NOT_FOUND' && message.includes(`'${name}'`)) {
      throw new Error(`${purpose} needs the optional package '${name}', which is not installed: npm install ${name}`, {
        cause: error,
      });
    }
    throw new Error(`${purpose} needs '${name}', which is installed but failed to load: ${message}`, { cause: error });
  }
}

/** The default thread count: every core in Node; in a browser, every core only where threads work. */
export async function defaultThreads(): Promise<number> {
  if (IS_NODE) return (await import('node:os')).availableParallelism();
  return globalThis.crossOriginIsolated ? (globalThis.navigator?.hardwareConcurrency ?? 1) : 1;
}

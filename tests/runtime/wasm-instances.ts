/** Counting the WebAssembly instances a piece of code makes (a new core costs one). */

/** Runs `task` and returns its result with the number of WebAssembly.instantiate calls it made. */
export async function countInstances<T>(task: () => Promise<T>): Promise<{ result: T; instances: number }> {
  const instantiate = WebAssembly.instantiate;
  let instances = 0;
  WebAssembly.instantiate = ((...args: Parameters<typeof instantiate>) => {
    instances++;
    return instantiate(...args);
  }) as typeof instantiate;
  try {
    return { result: await task(), instances };
  } finally {
    WebAssembly.instantiate = instantiate;
  }
}

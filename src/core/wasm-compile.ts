/**
 * Compiling a .wasm file by URL, once per page: streamed from the fetch Response
 * (`WebAssembly.compileStreaming`, which compiles while the bytes arrive and lets the browser
 * cache the compiled code) where the engine has it and the server says `application/wasm`;
 * from the whole ArrayBuffer otherwise, and from the file for file: URLs (Node). Compiled modules
 * are kept per URL, so a second detector does not fetch or compile again.
 */

const modules = new Map<string, Promise<WebAssembly.Module>>();

/** Whether a response may be compiled while it streams in (compileStreaming refuses any other type). */
function streamable(response: Response): boolean {
  return (
    typeof WebAssembly.compileStreaming === 'function' &&
    response.headers.get('content-type')?.split(';')[0].trim().toLowerCase() === 'application/wasm'
  );
}

async function compileUrl(url: URL): Promise<WebAssembly.Module> {
  if (url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return WebAssembly.compile(await readFile(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
  if (streamable(response)) return WebAssembly.compileStreaming(response);
  return WebAssembly.compile(await response.arrayBuffer());
}

/**
 * The compiled module at `url`, compiled once per page and shared by every caller; a failure is
 * forgotten (a later call tries again) and names the URL.
 */
export function compileWasmUrl(url: URL): Promise<WebAssembly.Module> {
  let module = modules.get(url.href);
  if (!module) {
    module = compileUrl(url).catch((error: unknown) => {
      modules.delete(url.href);
      throw error;
    });
    modules.set(url.href, module);
  }
  return module;
}

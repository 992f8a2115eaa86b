/**
 * A static file server for the demo and the browser tests, on 127.0.0.1 by default. Every
 * response carries the cross-origin isolation headers (COOP same-origin, COEP require-corp)
 * that let onnxruntime-web run wasm threads, unless `isolated: false` (to check that the
 * low-power profile runs without them).
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.onnx': 'application/octet-stream',
  '.tflite': 'application/octet-stream',
};

export interface ServerOptions {
  /** URL prefix (ending in '/') → folder. The longest matching prefix wins. */
  mounts: Record<string, string>;
  /** Exact paths served from memory, checked before the mounts. */
  files?: Map<string, Uint8Array>;
  host?: string;
  /** 0 (default): any free port. */
  port?: number;
  /** Default true: send COOP/COEP so that the page is cross-origin isolated. */
  isolated?: boolean;
}

export interface StaticServer {
  /** 'http://127.0.0.1:PORT' */
  readonly url: string;
  close(): Promise<void>;
}

const isInside = (root: string, file: string) => file === root || file.startsWith(root + path.sep);

/** The file a URL path names under a mount, and the mount's folder; undefined outside every mount, or escaping one. */
function resolvePath(mounts: Record<string, string>, urlPath: string): { root: string; file: string } | undefined {
  const prefix = Object.keys(mounts)
    .filter((p) => urlPath.startsWith(p))
    .sort((a, b) => b.length - a.length)[0];
  if (prefix === undefined) return undefined;
  const root = path.resolve(mounts[prefix]);
  const file = path.resolve(root, `.${path.posix.sep}${urlPath.slice(prefix.length)}`);
  return isInside(root, file) ? { root, file } : undefined;
}

async function body(options: ServerOptions, urlPath: string): Promise<Uint8Array | undefined> {
  const inMemory = options.files?.get(urlPath);
  if (inMemory) return inMemory;
  const resolved = resolvePath(options.mounts, urlPath);
  if (!resolved) return undefined;
  let file = resolved.file;
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) file = path.join(file, 'index.html');
  // a symlink may point out of the mount: serve only files whose real path is inside its real root
  const [realRoot, realFile] = await Promise.all([realpath(resolved.root), realpath(file)]).catch(() => []);
  if (!realRoot || !realFile || !isInside(realRoot, realFile)) return undefined;
  return readFile(realFile).catch(() => undefined);
}

/** The methods a static server answers; anything else gets 405. */
const ALLOWED_METHODS = ['GET', 'HEAD'];

export function startServer(options: ServerOptions): Promise<StaticServer> {
  const server = http.createServer(async (request, response) => {
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    } catch {
      response.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad URL');
      return;
    }
    if (options.isolated !== false) {
      response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    response.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    response.setHeader('Cache-Control', 'no-store');
    if (!ALLOWED_METHODS.includes(request.method ?? '')) {
      response
        .writeHead(405, { 'Content-Type': 'text/plain', Allow: ALLOWED_METHODS.join(', ') })
        .end(`method ${request.method} not allowed; this server answers ${ALLOWED_METHODS.join(' and ')}`);
      return;
    }
    const bytes = await body(options, urlPath);
    if (!bytes) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end(`not found: ${urlPath}`);
      return;
    }
    const type = MIME[path.extname(urlPath.endsWith('/') ? 'index.html' : urlPath)] ?? 'application/octet-stream';
    response.writeHead(200, { 'Content-Type': type, 'Content-Length': bytes.length });
    response.end(bytes);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      const { address, port } = server.address() as AddressInfo;
      resolve({
        url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

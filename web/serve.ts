/**
 * `npm run demo`: serves the built demo (dist/demo/) on 127.0.0.1 with the headers for wasm
 * threads, onnxruntime-web's files at /ort/, the repository's models/ and samples/.
 * Options: --port N (default 8080), --host H (default 127.0.0.1).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_URL } from './config.js';
import { startServer, type StaticServer } from './server.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'); // from dist/web/
const ortWebDist = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));

const { values } = parseArgs({
  options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' } },
});
const demoDir = path.join(repoRoot, 'dist/demo');
if (!existsSync(path.join(demoDir, 'index.html'))) {
  console.error(`${demoDir} is not built: run npm run build`);
  process.exit(1);
}
let server: StaticServer;
try {
  server = await startServer({
    host: values.host,
    port: Number(values.port),
    mounts: {
      '/': demoDir,
      '/ort/': ortWebDist,
      '/models/': path.join(repoRoot, 'models'),
      '/samples/': path.join(repoRoot, 'samples'),
    },
  });
} catch (error) {
  // one line, not a stack trace: the usual causes are the user's to fix
  const { code, message } = error as NodeJS.ErrnoException;
  const hint =
    code === 'EADDRINUSE'
      ? `: port ${values.port} is in use; pass --port with another (or 0 for any free one)`
      : code === 'EACCES'
        ? `: not allowed to listen on ${values.host}:${values.port}; pass --port above 1023`
        : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
          ? `: ${values.host} is not an address of this machine; pass --host`
          : '';
  console.error(`ssd-edge demo: cannot serve on ${values.host}:${values.port}${hint} (${message})`);
  process.exit(1);
}
console.log(`ssd-edge demo: ${server.url}/  (model ${DEFAULT_MODEL_URL}; ?model=URL to use another)`);
if (!existsSync(path.join(repoRoot, DEFAULT_MODEL_URL))) {
  console.log(
    `note: ${DEFAULT_MODEL_URL} is not there yet; the page will say so. Try: ` +
      `npx ssd-edge export --out models/try.onnx --width 0.0625, then open ${server.url}/?model=models/try.onnx`,
  );
}

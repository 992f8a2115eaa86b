// Browser bundles, built from tsc's output in dist/ (so `npm run build:ts` comes first):
//
//   dist/bundle/ssd-edge.mjs          ESM; the core's .wasm files emitted beside it and fetched from
//                                     the bundle's own URL (import.meta.url), or from wasmBaseUrl
//   dist/bundle/ssd-edge.iife.min.js  script tag, global `ssdEdge`; the .wasm inlined (base64)
//   dist/bundle/ssd-edge-track-worker.mjs  detector.track()'s worker (a module worker), found by both
//                                     bundles beside themselves; it imports 'onnxruntime-web' like the
//                                     ESM bundle, or the URL given as track()'s ortUrl
//   dist/bundle/*.d.*ts               their type declarations (those of dist/src, re-exported)
//   dist/demo/                        the demo page (web/): page script, detection worker, .wasm
//
// onnxruntime-web is never copied in: the ESM bundle imports it (the user's bundler or an import
// map resolves it), the script-tag bundle takes the global `ort` of onnxruntime-web's own script
// tag, and the demo imports it from /ort/ (served from node_modules by web/server.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import terser from '@rollup/plugin-terser';

const WASM_FILES = { simd: 'ssd-core.simd.wasm', baseline: 'ssd-core.baseline.wasm' };
const WASM_SOURCE_MODULE = path.resolve('dist/src/core/wasm-source.js');
const ORT_WEB_MODULE = path.resolve('dist/src/runtime/ort-web.js');
const BUILTIN_MODELS_MODULE = path.resolve('dist/src/runtime/builtin-models.js');
const TRACK_MODULE = path.resolve('dist/src/stream/track.js');
const TFLITE_CONVERT_MODULE = path.resolve('dist/src/runtime/tflite-convert.js');
const TRACK_WORKER_FILE = 'ssd-edge-track-worker.mjs';

const INT8_THREADS_MODULE = path.resolve('dist/src/int8/threads.js');
const INT8_WORKER_FILE = 'ssd-edge-int8-worker.mjs';
const INT8_THREADS_WASM = 'ssd-int8.threads.wasm';

/**
 * The two-thread int8 network in the bundles: its worker is the worker bundle beside the bundle,
 * and its kernels-only threaded .wasm is emitted beside it (fetched from the bundle's own URL, or
 * from wasmBaseUrl).
 */
function int8Threads() {
  return {
    name: 'ssd-edge-int8-threads',
    transform(code, id) {
      if (path.resolve(id) !== INT8_THREADS_MODULE) return null;
      const ref = this.emitFile({
        type: 'asset',
        fileName: INT8_THREADS_WASM,
        source: readFileSync(path.join('dist/wasm', INT8_THREADS_WASM)),
      });
      const replaced = code
        .replace("new URL('./worker.js', import.meta.url)", `new URL('./${INT8_WORKER_FILE}', import.meta.url)`)
        .replace(
          'new URL(`../../wasm/${THREADS_WASM}`, import.meta.url)',
          `new URL(import.meta.ROLLUP_FILE_URL_${ref})`,
        );
      if (!replaced.includes(INT8_WORKER_FILE) || !replaced.includes(`ROLLUP_FILE_URL_${ref}`)) {
        this.error('int8/threads.js: the worker URL or the threaded .wasm URL not found to replace');
      }
      return { code: replaced, map: null };
    },
  };
}

/** Points track()'s default worker URL at the worker bundle beside the bundle. */
function trackWorkerUrl() {
  return {
    name: 'ssd-edge-track-worker-url',
    transform(code, id) {
      if (path.resolve(id) !== TRACK_MODULE) return null;
      const replaced = code.replace(
        "new URL('./track-worker.js', import.meta.url)",
        `new URL('./${TRACK_WORKER_FILE}', import.meta.url)`,
      );
      if (replaced === code) this.error('track.js: the default worker URL not found to replace');
      return { code: replaced, map: null };
    },
  };
}

/** Node-only or optional imports, reached only on Node paths: left as imports, never bundled. */
const external = (id) => /^(node:|onnxruntime-node$|sharp$|onnxruntime-web(\/wasm)?$)/.test(id);

/**
 * Replaces dist/src/core/wasm-source.js, which points into dist/wasm/, with a module that either
 * emits the two .wasm files beside the output and returns their URLs, or carries their bytes.
 */
function coreWasm(mode) {
  return {
    name: 'ssd-edge-core-wasm',
    load(id) {
      if (path.resolve(id) !== WASM_SOURCE_MODULE) return null;
      const files = `export const WASM_FILES = ${JSON.stringify(WASM_FILES)};\n`;
      if (mode === 'emit') {
        const refs = Object.fromEntries(
          Object.entries(WASM_FILES).map(([build, file]) => [
            build,
            this.emitFile({ type: 'asset', fileName: file, source: readFileSync(path.join('dist/wasm', file)) }),
          ]),
        );
        return `${files}export function defaultWasmSource(build) {
  return build === 'simd' ? new URL(import.meta.ROLLUP_FILE_URL_${refs.simd}) : new URL(import.meta.ROLLUP_FILE_URL_${refs.baseline});
}\n`;
      }
      const base64 = Object.fromEntries(
        Object.entries(WASM_FILES).map(([build, file]) => [
          build,
          readFileSync(path.join('dist/wasm', file)).toString('base64'),
        ]),
      );
      return `${files}const BASE64 = ${JSON.stringify(base64)};
const decoded = {};
export function defaultWasmSource(build) {
  // decoded once per build, on first use (the same bytes keep the compiled module memoised)
  return decoded[build] ??= Uint8Array.from(atob(BASE64[build]), (c) => c.charCodeAt(0));
}\n`;
    },
  };
}

/**
 * Replaces the default URL of the built-in models (models/ at the package root) with files
 * emitted beside the bundle, under models/, and their URLs relative to the bundle's own URL.
 */
function builtinModels() {
  return {
    name: 'ssd-edge-builtin-models',
    transform(code, id) {
      if (path.resolve(id) !== BUILTIN_MODELS_MODULE) return null;
      const files = [...code.matchAll(/'([\w.-]+\.(?:onnx|tflite))'/g)].map((m) => m[1]);
      const refs = Object.fromEntries(
        files.map((file) => [
          file,
          this.emitFile({ type: 'asset', fileName: `models/${file}`, source: readFileSync(path.join('models', file)) }),
        ]),
      );
      const table = Object.entries(refs)
        .map(([file, ref]) => `${JSON.stringify(file)}: import.meta.ROLLUP_FILE_URL_${ref}`)
        .join(', ');
      const replaced = code.replace(
        /function defaultModelUrl\(file\) \{[\s\S]*?\n\}/,
        `function defaultModelUrl(file) {\n    return new URL({ ${table} }[file]);\n}`,
      );
      if (replaced === code) this.error('builtin-models.js: defaultModelUrl not found to replace');
      return { code: replaced, map: null };
    },
  };
}

/**
 * The browser bundles do not convert a .tflite in the page (the ONNX writer needs protobufjs, not
 * bundled): the detector's tflite-convert module becomes one that says what to do instead.
 */
function noTfliteConversion() {
  return {
    name: 'ssd-edge-no-tflite-conversion',
    load(id) {
      if (path.resolve(id) !== TFLITE_CONVERT_MODULE) return null;
      return `export function tfliteToOnnx() {
  throw new Error("ssd-edge's browser bundle runs a .tflite SSD on backend 'int8' (uint8 models) only; for onnxruntime, " +
    'convert it ahead of time (npx ssd-edge convert model.tflite --out model.onnx) and load the .onnx');
}\n`;
    },
  };
}

/** The script-tag bundle takes onnxruntime-web from its own script tag (the global `ort`). */
function ortFromGlobal() {
  return {
    name: 'ssd-edge-ort-global',
    load(id) {
      if (path.resolve(id) !== ORT_WEB_MODULE) return null;
      return `export function importOrtWeb() {
  const ort = globalThis.ort;
  if (!ort || !ort.InferenceSession) {
    return Promise.reject(new Error('onnxruntime-web is not loaded: add <script src=".../onnxruntime-web/dist/ort.min.js"> ' +
      'before the ssd-edge script tag (it defines the global \`ort\`)'));
  }
  return Promise.resolve(ort);
}\n`;
    },
  };
}

/** Copies static files into the output. */
function copy(files) {
  return {
    name: 'ssd-edge-copy',
    buildStart() {
      for (const file of files) {
        this.addWatchFile(file);
        this.emitFile({ type: 'asset', fileName: path.basename(file), source: readFileSync(file) });
      }
    },
  };
}

/** Prints each output file's size, raw and gzipped (the figures BENCHMARKS.md records). */
function sizes() {
  return {
    name: 'ssd-edge-sizes',
    writeBundle(options, bundle) {
      for (const [name, item] of Object.entries(bundle)) {
        const bytes = Buffer.from(item.type === 'chunk' ? item.code : item.source);
        const where = path.join(options.dir ?? path.dirname(options.file), name);
        console.log(
          `size: ${where.padEnd(38)} ${(bytes.length / 1024).toFixed(1).padStart(7)} KiB, ` +
            `gzip ${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1).padStart(6)} KiB`,
        );
      }
    },
  };
}

/** Type declarations of the bundles: those tsc wrote for dist/src, re-exported. */
function declarations() {
  return {
    name: 'ssd-edge-declarations',
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'ssd-edge.d.mts', source: "export * from '../src/index.js';\n" });
      this.emitFile({
        type: 'asset',
        fileName: 'ssd-edge.iife.d.ts',
        source:
          '// <script src="ssd-edge.iife.min.js">: the API as the global `ssdEdge`\n' +
          "declare global {\n  const ssdEdge: typeof import('../src/index.js');\n}\nexport {};\n",
      });
    },
  };
}

const quiet = (warning, warn) => {
  // the Node-only dynamic imports stay imports by design
  if (warning.code === 'UNRESOLVED_IMPORT' && /^(node:|onnxruntime-node|sharp)/.test(warning.exporter ?? '')) return;
  warn(warning);
};

export default [
  {
    input: 'dist/src/index.js',
    external,
    onwarn: quiet,
    plugins: [
      coreWasm('emit'),
      builtinModels(),
      noTfliteConversion(),
      int8Threads(),
      trackWorkerUrl(),
      declarations(),
      sizes(),
    ],
    output: { file: 'dist/bundle/ssd-edge.mjs', format: 'es', inlineDynamicImports: true, sourcemap: true },
  },
  {
    input: 'dist/src/index.js',
    external,
    onwarn: quiet,
    plugins: [
      coreWasm('inline'),
      builtinModels(),
      noTfliteConversion(),
      int8Threads(),
      ortFromGlobal(),
      trackWorkerUrl(),
      sizes(),
    ],
    output: {
      file: 'dist/bundle/ssd-edge.iife.min.js',
      format: 'iife',
      name: 'ssdEdge',
      inlineDynamicImports: true,
      sourcemap: true,
      plugins: [terser()],
    },
  },
  // the two-thread int8 network's worker (src/int8/worker.ts): the kernels arrive compiled, on shared memory
  {
    input: 'dist/src/int8/worker.js',
    external,
    onwarn: quiet,
    plugins: [sizes()],
    output: { file: `dist/bundle/${INT8_WORKER_FILE}`, format: 'es', inlineDynamicImports: true, sourcemap: true },
  },
  // detector.track()'s worker: the model arrives as bytes, so no built-in model files
  {
    input: 'dist/src/stream/track-worker.js',
    external,
    onwarn: quiet,
    plugins: [coreWasm('emit'), noTfliteConversion(), int8Threads(), sizes()],
    output: { file: `dist/bundle/${TRACK_WORKER_FILE}`, format: 'es', inlineDynamicImports: true, sourcemap: true },
  },
  // the demo: the page script, its image worker and track()'s worker, each one file (no chunk shared)
  {
    input: 'dist/web/main.js',
    onwarn: quiet,
    plugins: [copy(['web/index.html', 'web/style.css']), sizes()],
    output: { dir: 'dist/demo', format: 'es', sourcemap: true },
  },
  {
    input: 'dist/web/worker.js',
    external,
    onwarn: quiet,
    plugins: [coreWasm('emit'), noTfliteConversion(), sizes()],
    output: {
      dir: 'dist/demo',
      format: 'es',
      inlineDynamicImports: true,
      sourcemap: true,
      // the worker runs from the demo's root, onnxruntime-web is served at /ort/
      paths: { 'onnxruntime-web': './ort/ort.min.mjs', 'onnxruntime-web/wasm': './ort/ort.wasm.min.mjs' },
    },
  },
  {
    input: 'dist/src/stream/track-worker.js',
    external,
    onwarn: quiet,
    plugins: [coreWasm('emit'), noTfliteConversion(), sizes()],
    output: {
      dir: 'dist/demo',
      format: 'es',
      inlineDynamicImports: true,
      sourcemap: true,
      paths: { 'onnxruntime-web': './ort/ort.min.mjs', 'onnxruntime-web/wasm': './ort/ort.wasm.min.mjs' },
    },
  },
];

// Bundles the kiln command (dist/kiln.mjs, with what it imports on use in dist/chunks/). Loading ~60 modules one by
// one cost ~70 ms at every start; one file keeps a no-op rebuild well under 250 ms.
// jiti, listr2, chokidar, protobufjs, webgpu, binaryen and onnxruntime-node (an optional peer) stay external: they
// load only when a command needs them (and webgpu and onnxruntime-node find their .node files next to their own).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry content hashes: without this, every build would leave the last one's chunks behind.
rmSync('dist/chunks', { recursive: true, force: true });

await build({
  entryPoints: { kiln: 'src/cli/bin.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  // What the CLI imports on use (code generators, the ONNX importer, kiln serve) goes to chunks
  // of its own: a cached build parses only what it runs.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['jiti', 'listr2', 'chokidar', 'protobufjs', 'webgpu', 'binaryen', 'esbuild', 'onnxruntime-node'],
  // CommonJS dependencies (ajv) call require: give the ES module one.
  banner: { js: "import { createRequire as __kilnRequire } from 'node:module'; const require = __kilnRequire(import.meta.url);" },
  sourcemap: true,
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});

// The up-to-date check alone, one CommonJS file (bin/kiln.js requires it first): a no-op rebuild
// starts no ES module loader and loads nothing else.
await build({
  entryPoints: { 'up-to-date': 'src/cli/up-to-date-entry.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
});

// The browser runtime as one ES module (kiln/runtime/browser, nothing of the compiler): what
// `kiln serve` gives its page, and a file a page can import without a bundler. Its size is printed.
const browser = await build({
  entryPoints: ['src/runtime/browser.ts'],
  outfile: 'dist/runtime/browser.bundle.mjs',
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
const out = Object.entries(browser.metafile.outputs).find(([file]) => file.endsWith('.mjs'));
const { gzipSync } = await import('node:zlib');
const { readFileSync } = await import('node:fs');
const bytes = readFileSync(out[0]);
console.log(
  `browser runtime: ${out[0]} ${(bytes.length / 1024).toFixed(1)} KiB (${(gzipSync(bytes).length / 1024).toFixed(1)} KiB gzipped)`,
);

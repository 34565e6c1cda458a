// Bundles the kiln command into one file (dist/kiln.mjs). Loading ~60 modules one by
// one cost ~70 ms at every start; one file keeps a no-op rebuild well under 250 ms.
// jiti, listr2, chokidar, protobufjs, webgpu and binaryen stay external: they load only when a command needs them
// (and webgpu finds its dawn.node next to its own files).
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/bin.ts'],
  outfile: 'dist/kiln.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['jiti', 'listr2', 'chokidar', 'protobufjs', 'webgpu', 'binaryen'],
  // CommonJS dependencies (ajv) call require: give the ES module one.
  banner: { js: "import { createRequire as __kilnRequire } from 'node:module'; const require = __kilnRequire(import.meta.url);" },
  sourcemap: true,
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});

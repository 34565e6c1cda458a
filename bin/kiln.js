#!/usr/bin/env node
// The kiln command runs the compiled CLI from dist/ (built by `npm ci` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/bin.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('kiln: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
await import(entry.href);

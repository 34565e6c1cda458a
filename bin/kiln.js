#!/usr/bin/env node
// The kiln command runs the bundled CLI from dist/ (built by `npm ci` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/kiln.mjs', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('kiln: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
// Stack traces point into the sources only on request: reading the map costs ~15 ms at every start.
if (process.env.KILN_DEBUG) process.setSourceMapsEnabled(true);
// A rebuild with nothing changed is answered by the up-to-date check alone (src/cli/up-to-date.ts).
const { answerIfUpToDate } = await import(new URL('../dist/up-to-date.mjs', import.meta.url).href);
if (await answerIfUpToDate(process.argv.slice(2))) process.exitCode = 0;
else await import(entry.href);

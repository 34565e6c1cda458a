#!/usr/bin/env node
// The kiln command runs the bundled CLI from dist/ (built by `npm ci` / `npm run build`). CommonJS
// (bin/package.json): a rebuild with nothing changed is answered by the up-to-date check
// (src/cli/up-to-date.ts, bundled as dist/up-to-date.cjs) without starting the ES module loader.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const entry = join(__dirname, '..', 'dist', 'kiln.mjs');
if (!existsSync(entry)) {
  process.stderr.write('kiln: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
// Stack traces point into the sources only on request: reading the map costs ~15 ms at every start.
if (process.env.KILN_DEBUG) process.setSourceMapsEnabled(true);
const argv = process.argv.slice(2);
if (require('../dist/up-to-date.cjs').answerIfUpToDate(argv, entry)) process.exitCode = 0;
else import(require('node:url').pathToFileURL(entry).href);

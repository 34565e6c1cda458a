/** Process entry point of `kiln`. */
import { fileURLToPath } from 'node:url';
import { identifyKiln, replayUpToDate, UP_TO_DATE_CHECKED } from './up-to-date.ts';

const argv = process.argv.slice(2);
identifyKiln(fileURLToPath(import.meta.url));
// A build with nothing changed is answered before the compiler is loaded (most of a no-op's time);
// bin/kiln.js asks dist/up-to-date.cjs first, and then this need not ask again.
const checked = (globalThis as Record<symbol, unknown>)[UP_TO_DATE_CHECKED] === true;
if (!checked && replayUpToDate(argv)) process.exitCode = 0;
else {
  const { main } = await import('./main.ts');
  process.exitCode = await main(argv);
}

/** Process entry point of `kiln`. */
import { identifyKiln, replayUpToDate } from './up-to-date.ts';

const argv = process.argv.slice(2);
identifyKiln(import.meta.url);
// A build with nothing changed is answered before the compiler is loaded (most of a no-op's time).
if (await replayUpToDate(argv)) process.exitCode = 0;
else {
  const { main } = await import('./main.ts');
  process.exitCode = await main(argv);
}

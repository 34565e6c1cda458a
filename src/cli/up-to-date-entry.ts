/**
 * The up-to-date check as a CommonJS module of its own (dist/up-to-date.cjs, one file, Node's
 * built-ins only), which bin/kiln.js requires before anything else: a rebuild with nothing
 * changed then starts no ES module loader and loads no CLI code.
 */
import { identifyKiln, replayUpToDate, UP_TO_DATE_CHECKED } from './up-to-date.ts';

/** True when `argv` was answered from its stamp; `kilnEntry`: the path of the bundled CLI (dist/kiln.mjs). */
export function answerIfUpToDate(argv: readonly string[], kilnEntry: string): boolean {
  (globalThis as Record<symbol, unknown>)[UP_TO_DATE_CHECKED] = true;
  identifyKiln(kilnEntry);
  return replayUpToDate(argv);
}

/**
 * The up-to-date check as a module of its own (dist/up-to-date.mjs, one file with no imports
 * but Node's): bin/kiln.js loads it before the CLI, so a rebuild with nothing changed loads one
 * small module instead of the CLI's entry and its chunks.
 */
import { identifyKiln, replayUpToDate, UP_TO_DATE_CHECKED } from './up-to-date.ts';

/** True when `argv` was answered from its stamp; Kiln is the bundle next to this file. */
export async function answerIfUpToDate(argv: readonly string[]): Promise<boolean> {
  (globalThis as Record<symbol, unknown>)[UP_TO_DATE_CHECKED] = true;
  identifyKiln(new URL('./kiln.mjs', import.meta.url).href);
  return replayUpToDate(argv);
}

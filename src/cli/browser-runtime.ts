/**
 * The browser runtime as one ES module (what `kiln serve` gives its page, and what
 * `npm run build` writes to dist/runtime/browser.bundle.mjs): kiln/runtime/browser
 * bundled, no compiler code in it. From a source checkout it is bundled on demand,
 * so edits to the runtime show on the next page load.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BROWSER_BUNDLE = 'runtime/browser.bundle.mjs';

/** The bundle's code, from the built package or bundled from the sources (esbuild, a development dependency). */
export async function browserRuntime(): Promise<string> {
  // In the bundled CLI (dist/kiln.mjs) the bundle lies next to it; from the sources it is built.
  const built = fileURLToPath(new URL(`./${BROWSER_BUNDLE}`, import.meta.url));
  const source = fileURLToPath(new URL('../runtime/browser.ts', import.meta.url));
  if (!existsSync(source) && existsSync(built)) return readFileSync(built, 'utf8');
  const { bundleBrowserRuntime } = await import('./browser-bundle.ts');
  return (await bundleBrowserRuntime(source)).code;
}

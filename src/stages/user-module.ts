/**
 * Loading the user's own TypeScript or JavaScript files (a stage, a partition
 * backend) with jiti, so TypeScript works without a build step, and with
 * `kiln` and `zod` resolving to this process's own modules. `localSourceFiles`
 * lists the file and the local files it imports: their content is what a
 * cache key must cover, so editing a helper next to the file re-runs it too.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { sha256Hex } from '../support/hash.ts';

/** The file's default export, evaluated afresh (a fresh module cache lets watch mode see edits). */
export async function importUserModule(path: string): Promise<unknown> {
  // jiti is loaded only when a pipeline uses a file of its own (transpiled files stay cached on disk).
  const { createJiti } = await import('jiti');
  const jiti = createJiti(import.meta.url, {
    moduleCache: false,
    interopDefault: true,
    virtualModules: await kilnModules(),
  });
  return jiti.import<unknown>(path, { default: true });
}

/** Hash of the files' contents, with their names: what enters a cache key. */
export function sourceHash(files: readonly string[]): string {
  return sha256Hex(files.map((f) => `${f}\0${sha256Hex(readFileSync(f))}`).join('\n'));
}

/**
 * What a user's file imports as `kiln`, `kiln/schedule`, `kiln/runtime` and `zod`: the very
 * modules this process runs, wherever the file lies. Resolved from the user's folder they
 * would not be found (no node_modules there), or be another copy of Kiln with registries of
 * its own, so an operator the file defines would never reach the build.
 */
async function kilnModules(): Promise<Record<string, unknown>> {
  const [api, schedule, runtime, zod] = await Promise.all([
    import('../index.ts'),
    import('../schedule/index.ts'),
    import('../runtime/index.ts'),
    import('zod'),
  ]);
  return { kiln: api, 'kiln/schedule': schedule, 'kiln/runtime': runtime, zod };
}

const IMPORT =
  /(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|import\s+['"](\.{1,2}\/[^'"]+)['"]/g;
const EXTENSIONS = ['', '.ts', '.mts', '.js', '.mjs', '/index.ts', '/index.js'];

/** The file and every relative import reachable from it (what its behaviour can depend on, besides packages). */
export function localSourceFiles(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec) continue;
      const base = resolve(dirname(file), spec);
      const candidates = [...EXTENSIONS.map((e) => base + e), base.replace(/\.js$/, '.ts')];
      const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
      if (found) visit(found);
    }
  };
  visit(resolve(entry));
  return [...seen].sort();
}

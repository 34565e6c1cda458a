/**
 * Stages from the user's own files (`use: ./stages/my-pass.ts`), loaded
 * with jiti so TypeScript works without a build step, and with `kiln` and
 * `zod` resolving to this process's own modules. The source hash that
 * enters the cache key covers the file and the local files it imports, so
 * editing a helper next to the stage re-runs it too.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { sha256Hex } from '../support/hash.ts';
import { isStageDefinition, type StageDefinition } from '../stages/registry.ts';

export interface UserStage {
  readonly def: StageDefinition;
  /** The file and the local files it imports, transitively. */
  readonly files: readonly string[];
  /** Hash of all of them. */
  readonly hash: string;
}

/** Stages loaded in this process, by file: an unchanged file is not evaluated again (its defineOp would run twice). */
const loaded = new Map<string, UserStage>();

export async function loadUserStage(path: string): Promise<UserStage> {
  const files = localSourceFiles(path);
  const hash = sha256Hex(files.map((f) => `${f}\0${sha256Hex(readFileSync(f))}`).join('\n'));
  const known = loaded.get(path);
  if (known?.hash === hash) return known;
  // jiti is loaded only when a pipeline uses a stage of its own; a fresh module cache per
  // load lets watch mode see edits (transpiled files stay cached on disk).
  const { createJiti } = await import('jiti');
  const jiti = createJiti(import.meta.url, {
    moduleCache: false,
    interopDefault: true,
    virtualModules: await kilnModules(),
  });
  const mod = await jiti.import<unknown>(path, { default: true });
  if (!isStageDefinition(mod)) {
    throw new Error('its default export must be a stage: export default defineStage({ id, version, options, run })');
  }
  const stage = { def: mod, files, hash };
  loaded.set(path, stage);
  return stage;
}

/**
 * What a stage file imports as `kiln`, `kiln/schedule`, `kiln/runtime` and `zod`: the very
 * modules this process runs, wherever the file lies. Resolved from the user's folder they
 * would not be found (no node_modules there), or be another copy of Kiln with registries of
 * its own, so an operator the stage defines would never reach the build.
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

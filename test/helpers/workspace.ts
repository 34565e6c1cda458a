/**
 * A scratch project for pipeline tests: files written under .kiln-test/ in
 * the repository (so a user stage's imports of zod and of Kiln's sources
 * resolve as they would in a real project), removed after the test.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface Workspace {
  readonly dir: string;
  path(rel: string): string;
  write(rel: string, text: string | Uint8Array): string;
  read(rel: string): string;
  /** An import specifier for a repository source file, from a file of the workspace. */
  importOf(repoFile: string, fromRel: string): string;
  remove(): void;
}

export function workspace(files: Record<string, string> = {}): Workspace {
  const root = join(REPO, '.kiln-test');
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, 'ws-'));
  const ws: Workspace = {
    dir,
    path: (rel) => join(dir, rel),
    write: (rel, text) => {
      const p = join(dir, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
      return p;
    },
    read: (rel) => readFileSync(join(dir, rel), 'utf8'),
    importOf: (repoFile, fromRel) => {
      const spec = relative(dirname(join(dir, fromRel)), join(REPO, repoFile));
      return spec.startsWith('.') ? spec : `./${spec}`;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  for (const [rel, text] of Object.entries(files)) ws.write(rel, text);
  return ws;
}

/** The design's example module, for pipelines to import. */
export const MM_RELU = readFileSync(join(REPO, 'examples/mm-relu.kir'), 'utf8');

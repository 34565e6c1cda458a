/**
 * The runtime imports nothing from the compiler, and its core nothing
 * Node-only, so a browser bundle of it stays small (DESIGN.md §2).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { REPO } from '../helpers/workspace.ts';

const DIR = join(REPO, 'src/runtime');
const NODE_ADAPTERS = new Set(['node.ts']);

test('src/runtime imports only itself, and only its Node adapter imports node:', () => {
  const problems: string[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(DIR, file), 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('node:')) {
        if (!NODE_ADAPTERS.has(file)) problems.push(`${file} imports ${spec}`);
      } else if (!spec.startsWith('./')) problems.push(`${file} imports ${spec}`);
    }
  }
  expect(problems).toEqual([]);
});

/**
 * The runtime imports nothing from the compiler, and its core nothing
 * Node-only, so a browser bundle of it stays small (DESIGN.md §2). Only the
 * Node adapter may import node: modules and the `webgpu` package (Dawn).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { expect, test } from 'vitest';
import { REPO } from '../helpers/workspace.ts';

const DIR = join(REPO, 'src/runtime');
const NODE_ADAPTERS = new Set(['node.ts', 'wasm/node-workers.ts', 'onnxruntime.ts']);
const NODE_ONLY_PACKAGES = new Set(['webgpu', 'onnxruntime-node']);

test('src/runtime imports only itself, and only its Node adapter imports node: or webgpu', () => {
  const problems: string[] = [];
  const files = readdirSync(DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  expect(files).toContain('webgpu/device.ts');
  for (const file of files) {
    const text = readFileSync(join(DIR, file), 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('node:') || NODE_ONLY_PACKAGES.has(spec)) {
        if (!NODE_ADAPTERS.has(file)) problems.push(`${file} imports ${spec}`);
      } else if (!spec.startsWith('.') || relative(DIR, join(DIR, dirname(file), spec)).startsWith('..')) {
        problems.push(`${file} imports ${spec}`);
      }
    }
  }
  expect(problems).toEqual([]);
});

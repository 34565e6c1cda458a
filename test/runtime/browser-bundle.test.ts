/**
 * The browser runtime bundle (dist/runtime/browser.bundle.mjs, what `kiln serve` gives its
 * page): one ES module made of runtime sources only, no compiler code, and small.
 */
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { bundleBrowserRuntime } from '../../src/cli/browser-bundle.ts';
import { REPO } from '../helpers/workspace.ts';

test('the browser bundle holds runtime code only, is small, and is an ES module exporting loadFromUrl', async () => {
  const b = await bundleBrowserRuntime(join(REPO, 'src/runtime/browser.ts'));
  expect(b.inputs.length).toBeGreaterThan(10);
  expect(b.inputs.filter((f) => !f.startsWith('src/runtime/'))).toEqual([]);
  // 52.6 KiB when this was written; the bound catches the compiler (megabytes) creeping in.
  expect(b.code.length).toBeLessThan(128 * 1024);
  expect(b.code).toMatch(/export\s*\{[^}]*\bloadFromUrl\b/);
  expect(b.code).not.toMatch(/from\s*["']node:/);
});

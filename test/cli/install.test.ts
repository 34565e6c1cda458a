/**
 * Installing and starting Kiln prints nothing but Kiln's own output: no npm warning before
 * every `npx kiln` (an unknown key in the project's .npmrc gave one), and onnxruntime-node's
 * install script, which would download CUDA libraries, is kept from running without one.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { REPO } from '../helpers/workspace.ts';

test('npx kiln prints no npm warning', () => {
  const r = spawnSync('npm', ['exec', '--offline', '--', 'kiln', '--help'], { cwd: REPO, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/npm warn/i);
  expect(r.stdout).toMatch(/^Usage: kiln /);
}, 90_000);

test("onnxruntime-node's download is skipped by allowScripts (npm 11) and by the variable its script reads (CI, npm 10)", () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> };
  expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
  expect(readFileSync(join(REPO, '.ci/run'), 'utf8')).toMatch(/^export ONNXRUNTIME_NODE_INSTALL=skip$/m);
  const script = readFileSync(join(REPO, 'node_modules/onnxruntime-node/script/install-utils.js'), 'utf8');
  expect(script).toContain('process.env.ONNXRUNTIME_NODE_INSTALL');
});

/**
 * An artifact runs wherever it is copied: its modules say what they are, so
 * a folder whose package.json says "type": "commonjs" (what `npm init -y`
 * writes) does not turn the ES-module kernels into CommonJS.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import type { Manifest } from '../../src/runtime/manifest.ts';
import { tensor, type NDArray } from '../../src/runtime/ndarray.ts';
import { load } from '../../src/runtime/node.ts';
import { JS_TARGET, parse } from '../helpers/build-run.ts';
import { randomArray } from '../helpers/tir-interpreter.ts';
import { MM_RELU, type Workspace, workspace } from '../helpers/workspace.ts';

let ws: Workspace | undefined;
afterEach(() => ws?.remove());

test('an artifact copied into a "type": "commonjs" package loads its kernels in plain Node', async () => {
  ws = workspace({ 'project/package.json': '{ "name": "app", "version": "1.0.0", "type": "commonjs" }\n' });
  const artifact = await buildArtifact(parse(MM_RELU), { name: 'mm-relu', target: JS_TARGET });
  for (const f of artifact.files) ws.write(`project/art/${f.path}`, f.bytes);
  const manifest = JSON.parse(ws.read('project/art/manifest.json')) as Manifest;

  // Plain Node (no test transform) decides the module type the way a user's process does.
  const url = pathToFileURL(ws.path(`project/art/${manifest.kernels.file}`)).href;
  const script = `const m = await import(${JSON.stringify(url)}); console.log(Object.keys(m.kernels).join(','));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(out.trim().split(',').sort()).toEqual([...manifest.kernels.names].sort());

  const mod = await load(ws.path('project/art'));
  const x = randomArray(3 * 128, 1);
  const w = randomArray(128 * 64, 2);
  const y = (await mod.call('main', tensor(x, [3, 128]), tensor(w, [128, 64]))) as NDArray;
  let s = 0;
  for (let k = 0; k < 128; k++) s += x[k]! * w[k * 64]!;
  expect(y.toNumbers()[0]).toBeCloseTo(Math.max(0, s), 4);
  expect(readFileSync(ws.path('project/package.json'), 'utf8')).toContain('commonjs');
});

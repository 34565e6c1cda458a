/**
 * A damaged artifact is a LoadError with a code that names the file and what
 * is wrong, at load, never a TypeError or a raw ENOENT; `kiln run` reports it
 * with exit 2.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { LOAD_CODES } from '../../src/runtime/errors.ts';
import { load } from '../../src/runtime/node.ts';
import { JS_TARGET, parse } from '../helpers/build-run.ts';
import { type Workspace, workspace } from '../helpers/workspace.ts';

const MODEL = `
func main(x: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  c: Tensor[(n, 4), f32] = add(x, const(f32[4], [1.0, 2.0, 3.0, 4.0]))
  return c
}`;

let ws: Workspace;
beforeEach(async () => {
  ws = workspace();
  for (const f of (await buildArtifact(parse(MODEL), { name: 'art', target: JS_TARGET })).files)
    ws.write(`art/${f.path}`, f.bytes);
});
afterEach(() => ws.remove());

function editJson(file: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(ws.read(file)) as Record<string, unknown>;
  edit(json);
  writeFileSync(ws.path(file), JSON.stringify(json));
}

async function loadError(): Promise<{ code?: string; message: string }> {
  const e = await load(ws.path('art')).then(
    () => undefined,
    (err: unknown) => err as { code?: string; message: string; name: string },
  );
  expect(e, 'the load should fail').toBeDefined();
  expect((e as { name: string }).name).toBe('LoadError');
  return e!;
}

describe('damaged artifacts', () => {
  test('a missing parameter shard names the file', async () => {
    rmSync(ws.path('art/params/shard-0.bin'));
    const e = await loadError();
    expect(e.code).toBe(LOAD_CODES.missingFile);
    expect(e.message).toContain('cannot read params/shard-0.bin');
  });

  test('a manifest without entries names the field', async () => {
    editJson('art/manifest.json', (m) => delete m.entries);
    const e = await loadError();
    expect(e.code).toBe(LOAD_CODES.malformed);
    expect(e.message).toMatch(/manifest\.json: field 'entries' is missing; expected an object/);
  });

  test('fields of the wrong kind, deep in the manifest or the program, are named', async () => {
    const cases: [string, (j: Record<string, unknown>) => void, RegExp][] = [
      [
        'art/manifest.json',
        (m) => ((m.params as Record<string, unknown>).tensors = 'x'),
        /field 'params.tensors' must be an array/,
      ],
      [
        'art/manifest.json',
        (m) => ((m.params as { tensors: Record<string, unknown>[] }).tensors[0]!.shard = 3),
        /field 'params.tensors\[0\].shard' is 3, but there are 1 shards/,
      ],
      [
        'art/manifest.json',
        (m) => ((m.entries as Record<string, Record<string, unknown>>).main!.vars = [1]),
        /'entries.main.vars' must be an array of strings/,
      ],
      ['art/manifest.json', (m) => delete m.externs, /field 'externs' is missing/],
      ['art/program.json', (p) => delete p.functions, /program\.json: field 'functions' is missing/],
      [
        'art/program.json',
        (p) => ((p.functions as Record<string, unknown>).main = undefined),
        /entry function 'main' is not in the program/,
      ],
    ];
    const original = new Map(['art/manifest.json', 'art/program.json'].map((f) => [f, ws.read(f)]));
    for (const [file, edit, message] of cases) {
      for (const [f, text] of original) writeFileSync(ws.path(f), text);
      editJson(file, edit);
      const e = await loadError();
      expect(e.code).toBe(LOAD_CODES.malformed);
      expect(e.message).toMatch(message);
    }
  });

  test('kiln run reports a damaged artifact with its code and exit 2, no stack trace', async () => {
    rmSync(ws.path('art/params/shard-0.bin'));
    let err = '';
    const code = await main(['run', ws.path('art')], { stdout: () => {}, stderr: (t) => (err += t) });
    expect(code).toBe(2);
    expect(err).toContain(`error ${LOAD_CODES.missingFile}: `);
    expect(err).toContain('params/shard-0.bin');
    expect(err).not.toMatch(/\n\s+at /);
    expect(readFileSync(ws.path('art/manifest.json'), 'utf8')).toContain('kiln-artifact');
  });
});

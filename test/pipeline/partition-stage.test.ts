/**
 * The partition stage through pipelines: a backend of the user's own (a
 * fixture with its own file and registry function) builds and runs, its
 * source is part of the cache key, and bad input is reported where it was
 * written: a pattern's error at its character, a rule that matches nothing,
 * a backend that throws in codegen, an artifact loaded without its backend.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openLocalStore } from '../../src/cache/index.ts';
import { Build, type BuildEvent } from '../../src/pipeline/engine.ts';
import { resolvePipeline } from '../../src/pipeline/resolve.ts';
import { type KilnModule, load, tensor } from '../../src/runtime/node.ts';
import { isKilnError } from '../../src/support/diagnostics.ts';
import myGemm from '../fixtures/partition-user-backend/my-gemm.ts';
import { REPO, type Workspace, workspace } from '../helpers/workspace.ts';

const FIXTURE = join(REPO, 'test/fixtures/partition-user-backend');
const fixture = (f: string): string => readFileSync(join(FIXTURE, f), 'utf8');

let ws: Workspace;
beforeEach(() => {
  ws = workspace({
    'pipeline.yaml': fixture('pipeline.yaml'),
    'model.kir': fixture('model.kir'),
    'my-gemm.ts': fixture('my-gemm.ts'),
    'gemm-kernel.ts': fixture('gemm-kernel.ts'),
  });
});
afterEach(() => ws.remove());

async function build(): Promise<{ ran: Record<string, boolean>; warnings: string[] }> {
  const r = await resolvePipeline(ws.path('pipeline.yaml'));
  expect(r.diagnostics.map((d) => d.message)).toEqual([]);
  const warnings: string[] = [];
  const onEvent = (e: BuildEvent): void => void (e.kind === 'warning' && warnings.push(e.message));
  const result = await new Build(r.pipeline!, { store: openLocalStore(ws.path('cache')), verify: true, onEvent }).run();
  return { ran: Object.fromEntries(result.stages.map((s) => [s.name, !s.cached])), warnings };
}

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
}

/** relu(x · w + b) by the artifact against a float64 reference, on seeded inputs. */
async function maxErrorAgainstReference(mod: KilnModule): Promise<number> {
  const [n, k, m] = [5, 16, 8];
  const [x, w, b] = [seeded(n * k, 1), seeded(k * m, 2), seeded(m, 3)];
  const y = (await mod.call('main', tensor(x, [n, k]), tensor(w, [k, m]), tensor(b, [m]))) as { data: Float32Array };
  let worst = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = b[j]!;
      for (let p = 0; p < k; p++) s += x[i * k + p]! * w[p * m + j]!;
      worst = Math.max(worst, Math.abs(Math.max(s, 0) - y.data[i * m + j]!));
    }
  }
  return worst;
}

describe('a backend of the user’s own', () => {
  test('builds through the pipeline and runs with its registry function; matches a float64 reference', async () => {
    await build();
    const dir = ws.path('out/artifact');
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { backends: object };
    expect(Object.keys(manifest.backends)).toEqual(['my-gemm']);
    const mod = await load(dir, { backends: [myGemm.runtime!] });
    expect(await maxErrorAgainstReference(mod)).toBeLessThan(1e-5);
  });

  test('the built-in kiln-wasm-gemm library takes the same matmul + bias the same way', async () => {
    ws.write('pipeline.yaml', fixture('pipeline.yaml').replace('./my-gemm.ts, when: { dtype: f32 }', 'kiln-wasm-gemm'));
    await build();
    const mod = await load(ws.path('out/artifact'));
    expect(await maxErrorAgainstReference(mod)).toBeLessThan(1e-5);
  });

  test('its source, and the files it imports, are part of the cache key', async () => {
    expect((await build()).ran).toEqual({ import: true, partition: true, legalize: true, codegen: true });
    expect((await build()).ran).toEqual({ import: false, partition: false, legalize: false, codegen: false });
    ws.write('gemm-kernel.ts', `${fixture('gemm-kernel.ts')}\n// an edit\n`);
    expect((await build()).ran).toEqual({ import: false, partition: true, legalize: true, codegen: true });
  });

  test('an artifact loaded without the backend it calls fails at load, naming it', async () => {
    await build();
    await expect(load(ws.path('out/artifact'))).rejects.toThrow(/calls backend 'my-gemm' \(my-gemm\.my_gemm_matmul_add_0\)/);
  });

  test('a backend that throws in codegen fails the stage, naming the backend, the composite and the rule', async () => {
    ws.write(
      'my-gemm.ts',
      fixture('my-gemm.ts').replace('const bias = ', "throw new Error('no gemm today');\n    const bias = "),
    );
    const error = await build().catch((e: unknown) => e);
    expect(isKilnError(error)).toBe(true);
    const text = String((error as Error).message);
    expect(text).toContain(
      "backend 'my-gemm' failed on composite 'my_gemm_matmul_add_0' (from rule 1 ('matmul -> add?')): no gemm today",
    );
    const d = (error as { diagnostics: { location?: { line: number; column: number } }[] }).diagnostics[1]!;
    expect(d.location).toMatchObject({ line: 11, column: 11 });
  });
});

describe('rules', () => {
  test('a pattern that matches nothing is a warning at the rule', async () => {
    ws.write('pipeline.yaml', fixture('pipeline.yaml').replace("'matmul -> add?'", "'matmul -> sigmoid'"));
    const { warnings } = await build();
    expect(warnings).toEqual([
      expect.stringMatching(/pipeline\.yaml:11:11: partition rule 1 \('matmul -> sigmoid'\) matches nothing$/),
    ]);
  });

  test('a syntax error in a pattern is reported at its character before any work', async () => {
    ws.write('pipeline.yaml', fixture('pipeline.yaml').replace("'matmul -> add?'", "'matmul -> add(*, cnst)'"));
    const r = await resolvePipeline(ws.path('pipeline.yaml'));
    expect(r.diagnostics.map((d) => [d.message, d.location?.line, d.location?.column])).toEqual([
      [
        "stage 'partition', option 'rules[0].pattern': expected an argument: '*' (anything) or 'const' (a constant), found 'cnst'",
        11,
        23 + 'matmul -> add(*, '.length,
      ],
    ]);
  });

  test('an unknown operator is reported at its place when the stage runs', async () => {
    ws.write('pipeline.yaml', fixture('pipeline.yaml').replace("'matmul -> add?'", "'matmul -> ad?'"));
    const error = await build().catch((e: unknown) => e);
    const d = (error as { diagnostics: { message: string; location?: { line: number; column: number } }[] }).diagnostics[1]!;
    expect(d.message).toBe("rule 1, pattern: unknown operator 'ad'");
    expect(d.location).toMatchObject({ line: 11, column: 23 + 'matmul -> '.length });
  });

  test('an unknown backend name is an error with the known ones', async () => {
    ws.write('pipeline.yaml', fixture('pipeline.yaml').replace('./my-gemm.ts', 'onnxruntim'));
    const r = await resolvePipeline(ws.path('pipeline.yaml'));
    expect(r.diagnostics[0]?.message).toBe("stage 'partition', option 'rules[0].backend': unknown backend 'onnxruntim'");
  });
});

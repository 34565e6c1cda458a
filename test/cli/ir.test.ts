/** `kiln ir ...` end to end: exit codes, output, and located errors with an excerpt. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.ts';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('kiln ir', () => {
  test('check accepts the examples', async () => {
    for (const f of ['examples/mm-relu.kir', 'examples/dps-packed.kir', 'examples/softmax-scheduled.kir']) {
      const r = await run('ir', 'check', f);
      expect(r, r.err).toMatchObject({ code: 0, err: '' });
      expect(r.out).toMatch(/: ok \(\d+ functions?\)/);
    }
  });

  test('print writes the canonical form', async () => {
    const r = await run('ir', 'print', 'examples/mm-relu.kir');
    expect(r.code).toBe(0);
    expect(r.out).toContain('func main(x: Tensor[(n, 128), f32], w: Tensor[(128, 64), f32]) -> Tensor[(n, 64), f32] {');
  });

  test('hash prints the structural hash, the same for a renamed copy', async () => {
    const a = await run('ir', 'hash', 'examples/mm-relu.kir');
    const renamed = tempFile('renamed.kir', (await run('ir', 'print', 'examples/mm-relu.kir')).out.replaceAll('lv0', 'tmp'));
    const b = await run('ir', 'hash', renamed);
    expect(a.out).toMatch(/^[0-9a-f]{64}\n$/);
    expect(b.out).toBe(a.out);
  });

  test('a malformed file exits 2 with file:line:col, the line and a caret', async () => {
    const path = tempFile('bad.kir', 'prim_func f(A: f32[4]) {\n  A[0] = B[0]\n}\n');
    const r = await run('ir', 'check', path);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(`${path}:2:10 - error K1004: unknown variable 'B'\n  2 |   A[0] = B[0]\n    |          ^\n`);
  });

  test('a module that parses but is ill-formed reports every problem at its line and exits 2', async () => {
    const path = tempFile(
      'ill.kir',
      'func f(x: Tensor[(4,), f32]) -> Tensor[(5,), f32] {\n  y: Tensor[(4,), f16] = relu(x)\n  return y\n}\n',
    );
    const r = await run('ir', 'check', path);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `${path}:2:3 - error K2001: function 'f', binding 'y': annotated Tensor[(4,), f16] but the value is Tensor[(4,), f32]\n  2 |   y: Tensor[(4,), f16] = relu(x)\n`,
    );
    expect(r.err).toContain(
      `${path}:1:6 - error K2001: function 'f': returns Tensor[(4,), f16] but is declared to return Tensor[(5,), f32]`,
    );
  });

  test('a missing file exits 2', async () => {
    const r = await run('ir', 'check', 'no/such/file.kir');
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toContain("cannot read 'no/such/file.kir': no such file");
  });

  test('usage mistakes exit 2, help exits 0 with examples', async () => {
    expect((await run('ir', 'frobnicate')).code).toBe(2);
    expect((await run('ir', 'check')).code).toBe(2);
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('kiln ir check examples/mm-relu.kir');
  });

  test('the real process exits with the same codes', () => {
    const root = new URL('../..', import.meta.url);
    const ok = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'ir', 'check', 'examples/mm-relu.kir'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(ok.status, ok.stderr).toBe(0);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'ir', 'check', 'missing.kir'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});

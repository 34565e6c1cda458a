/**
 * The README stays true: its first-steps commands build and run the example,
 * and its runtime snippet runs as written (against the built package).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { describeWebGpu } from '../helpers/webgpu.ts';
import { REPO } from '../helpers/workspace.ts';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');

function block(after: string, lang: string): string {
  const start = README.indexOf(after);
  expect(start, `README section '${after}'`).toBeGreaterThanOrEqual(0);
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(README.slice(start));
  expect(m, `a ${lang} block after '${after}'`).not.toBeNull();
  return m![1]!;
}

/** The `npx kiln` lines of the sh block after `after`, as argument lists. */
function kilnCommands(after: string): string[][] {
  return block(after, 'sh')
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l.startsWith('npx kiln '))
    .map((l) => l.slice('npx kiln '.length).split(/\s+/));
}

async function runCommands(commands: readonly string[][]): Promise<void> {
  const cache = mkdtempSync(join(tmpdir(), 'kiln-readme-'));
  const cwd = process.cwd();
  try {
    process.chdir(REPO);
    for (const argv of commands) {
      let out = '';
      let err = '';
      const extra = argv[0] === 'build' ? ['--cache-dir', cache] : [];
      const code = await main([...argv, ...extra], { stdout: (t) => (out += t), stderr: (t) => (err += t) });
      expect(code, `kiln ${argv.join(' ')}\n${err}`).toBe(0);
      // The README's sample output names the output's dtype and shape; the values are random.
      if (argv[0] === 'run')
        expect(out).toContain(/output 0: \S+\[[0-9, ]*\]/.exec(README.slice(README.indexOf('## First steps')))![0]);
    }
  } finally {
    process.chdir(cwd);
    rmSync(cache, { recursive: true, force: true });
  }
}

test('the first-steps commands build and run the example', async () => {
  const commands = kilnCommands('## First steps');
  expect(commands.map((c) => c[0])).toEqual(['build', 'run']);
  await runCommands(commands);
});

describeWebGpu('the README on WebGPU', () => {
  test('the WebGPU commands build and run the example on the device', async () => {
    const commands = kilnCommands('On WebGPU');
    expect(commands.map((c) => c[0])).toEqual(['build', 'run']);
    expect(commands[1]).toContain('webgpu');
    await runCommands(commands);
  });
});

test('the runtime snippet runs as written', () => {
  const snippet = block('## The artifact and the runtime', 'js');
  // In the repository, so that `kiln/runtime/node` resolves to this package (dist/, built by npm ci).
  const file = join(REPO, `.readme-snippet-${process.pid}.mjs`);
  writeFileSync(file, `${snippet}\nconsole.log(JSON.stringify({ shape: y.shape, dtype: y.dtype }));\n`);
  try {
    const r = spawnSync(process.execPath, [file], { cwd: REPO, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ shape: [2, 10], dtype: 'float32' });
  } finally {
    rmSync(file, { force: true });
  }
});

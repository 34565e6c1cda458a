/**
 * The README stays true: its first steps are two lines (install and run the main
 * job; run the tests), their commands build and run the example and print the
 * sample output the README shows, the stages its opening names exist, and its
 * runtime snippet runs as written (against the built package).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { allStages } from '../../src/stages/index.ts';
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

/** The command lines of the sh block after `after`, comments dropped, each split at `&&`. */
function commandLines(after: string): string[][] {
  return block(after, 'sh')
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '')
    .map((l) => l.split('&&').map((c) => c.trim()));
}

/** The `npx kiln` commands of the sh block after `after`, as argument lists. */
function kilnCommands(after: string): string[][] {
  return commandLines(after)
    .flat()
    .filter((c) => c.startsWith('npx kiln '))
    .map((c) => c.slice('npx kiln '.length).split(/\s+/));
}

/**
 * A sample output line as a pattern: a timing line's numbers may differ (they are this
 * machine's), everything else must be printed exactly as the README shows it.
 */
function samplePattern(line: string): RegExp {
  const escaped = line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // Timing lines vary in their numbers and so in their plurals ("1 warm-up run", "3 warm-up runs").
  const timing = (): string => escaped.replace(/\d+(\\\.\d+)?/g, '[0-9.]+').replace(/\b(run|warm-up run)s\b/g, '$1s?');
  return new RegExp(`^${/^\w+: median /.test(line) ? timing() : escaped}$`);
}

/** Runs the commands with the CLI in-process (from the repository, as the README's reader does); stdout of each. */
async function runCommands(commands: readonly string[][]): Promise<string[]> {
  const cache = mkdtempSync(join(tmpdir(), 'kiln-readme-'));
  const cwd = process.cwd();
  const outputs: string[] = [];
  try {
    process.chdir(REPO);
    for (const argv of commands) {
      let out = '';
      let err = '';
      const extra = argv[0] === 'build' ? ['--cache-dir', cache] : [];
      const code = await main([...argv, ...extra], { stdout: (t) => (out += t), stderr: (t) => (err += t) });
      expect(code, `kiln ${argv.join(' ')}\n${err}`).toBe(0);
      outputs.push(out);
    }
  } finally {
    process.chdir(cwd);
    rmSync(cache, { recursive: true, force: true });
  }
  return outputs;
}

test('the first steps are two lines: install, build and run the vision model; run the tests', () => {
  const lines = commandLines('## First steps');
  expect(lines).toHaveLength(2);
  expect(lines[0]![0]).toBe('npm ci');
  expect(lines[0]!.slice(1).map((c) => c.split(/\s+/).slice(0, 3).join(' '))).toEqual(['npx kiln build', 'npx kiln run']);
  expect(lines[1]).toEqual(['npm test']);
  // What CI runs on a clean checkout is what the README tells a new user to run.
  const ci = readFileSync(join(REPO, '.ci/run'), 'utf8');
  expect(ci).toMatch(/^npm ci\b/m);
  expect(ci).toMatch(/^npm test$/m);
});

test("the first steps build and run the example, and print the README's sample output", async () => {
  const outputs = await runCommands(kilnCommands('## First steps'));
  const sample = block('`kiln run` prints', '').trim().split('\n');
  const printed = outputs[1]!.trim().split('\n');
  expect(printed).toHaveLength(sample.length);
  sample.forEach((line, i) => expect(printed[i]).toMatch(samplePattern(line)));
});

test('the stages the opening names exist', () => {
  const opening = /compose stages \(([^)]*)\)/.exec(README.replace(/\s+/g, ' '));
  expect(opening, 'the opening names the stages').not.toBeNull();
  const named = opening![1]!
    .split(',')
    .map((x) => x.trim().replace(/^and /, ''))
    .filter((x) => x !== 'stages of your own');
  const ids = allStages().map((d) => d.id);
  for (const name of named) expect(ids, `stage '${name}' named in the README's opening`).toContain(name);
});

describeWebGpu('the README on WebGPU', () => {
  test('the WebGPU commands build and run the example on the device', async () => {
    const commands = kilnCommands('On WebGPU');
    expect(commands.map((c) => c[0])).toEqual(['build', 'run']);
    expect(commands[1]).toContain('webgpu');
    const outputs = await runCommands(commands);
    // The GPU's float rounding differs from the CPU's: the shape and dtype are the README's.
    expect(outputs[1]).toMatch(/^output 0: float32\[4, 10\] /);
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

/**
 * Fuzzing what users write: a few thousand seeded mutants of the example `.kir` files and
 * of the pipeline files (deleted, duplicated and swapped spans, inserted tokens, odd
 * numbers, truncation, commented lines, YAML anchors and aliases). Each must end in a
 * result or in Kiln's own located error: no other exception, no hang. Each campaign runs
 * in a process of its own (test/fuzz/fuzz-run.ts), which is stopped if it stalls; a
 * failure prints fast-check's shrunk counterexample and its seed, to replay it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { exited, lines } from '../cache/helpers.ts';
import { REPO } from '../helpers/workspace.ts';

/** Fixed, so a failure repeats; change it to explore further. */
const SEED = 17;
/** Far more than a campaign takes (a few seconds): only a hang reaches it. */
const STALL_MS = 60_000;

async function campaign(kind: 'kir' | 'pipeline', runs: number): Promise<void> {
  const script = fileURLToPath(new URL('./fuzz-run.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, kind, String(SEED), String(runs)], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let last = 'none yet';
  let verdict = '';
  const out = lines(child, (line) => {
    if (line.startsWith('mutant ')) last = line;
    else verdict = line;
  });
  let stalled = false;
  const timer = setTimeout(() => {
    stalled = true;
    child.kill('SIGKILL');
  }, STALL_MS);
  const result = await exited(child);
  clearTimeout(timer);
  expect(stalled, `${kind} campaign (seed ${SEED}) stalled at ${last}: a mutant hangs`).toBe(false);
  expect(result.code, out.stderr()).toBe(0);
  expect(verdict, `${kind} campaign (seed ${SEED})`).toBe(`ok ${runs}`);
}

test('2,000 mutants of the example .kir files: parsed, verified, built, or a located error', async () => {
  await campaign('kir', 2000);
}, 90_000);

test('1,000 mutants of the pipeline files: resolved (some built), or located errors', async () => {
  await campaign('pipeline', 1000);
}, 90_000);

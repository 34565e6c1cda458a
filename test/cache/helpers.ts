/** Shared by the cache tests: throwaway store directories and child processes running fixture scripts. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { openLocalStore, type CacheStore } from '../../src/cache/index.ts';

export { bytesOf } from './fixtures/entries.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const made: string[] = [];

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-cache-test-'));
  made.push(dir);
  return dir;
}

export interface TestStore {
  readonly store: CacheStore;
  readonly warnings: string[];
}

export function tempStore(): TestStore {
  const warnings: string[] = [];
  const store = openLocalStore(join(tempDir(), 'cache'), { onWarning: (m) => warnings.push(m) });
  return { store, warnings };
}

/** Runs `test/cache/fixtures/<name>.ts` in a separate Node process, as a concurrent build would be. */
export function spawnFixture(name: string, args: readonly string[]): ChildProcess {
  const script = fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Resolves with each stdout line as it arrives; collects stderr for failure messages. */
export function lines(child: ChildProcess, onLine: (line: string) => void): { stderr: () => string } {
  let pending = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  return { stderr: () => err };
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

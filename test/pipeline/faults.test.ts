/**
 * Paths that cannot work and a file system that refuses: each is a clear error naming the
 * path and what is wrong with it (exit 2 when the pipeline's path is the mistake, 1 when the
 * machine is), never a stack trace or a half-written file; a cache that cannot be written
 * (read-only, full) warns and the build goes on without it. Full disks and read-only file
 * systems are simulated: Node's own fs functions, failing the way they fail there.
 */
import type * as NodeFs from 'node:fs';
import { existsSync, readdirSync } from 'node:fs';
import type * as NodeFsPromises from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { MM_RELU, type Workspace, workspace } from '../helpers/workspace.ts';

/** Which calls fail, with which errno code: paths matching `match`, while `code` is set. */
const fault = vi.hoisted(() => ({
  code: undefined as string | undefined,
  syscalls: [] as string[],
  match: /^$/,
}));

function errno(code: string, syscall: string, path?: string): Error {
  const words: Record<string, string> = { ENOSPC: 'no space left on device', EROFS: 'read-only file system' };
  const e = new Error(`${code}: ${words[code] ?? code}, ${syscall}${path ? ` '${path}'` : ''}`);
  return Object.assign(e, { code, syscall, ...(path ? { path } : {}) });
}

const failing = (syscall: string, path: unknown): boolean =>
  fault.code !== undefined && fault.syscalls.includes(syscall) && fault.match.test(String(path));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof NodeFs>();
  /** Descriptors opened on a path whose writes fail. */
  const full = new Set<number>();
  return {
    ...fs,
    // A full disk: the file is created, then writing to it fails (the error names no path).
    writeFileSync: (...args: Parameters<typeof fs.writeFileSync>) => {
      if (failing('write', args[0])) {
        fs.writeFileSync(args[0], '');
        throw errno(fault.code!, 'write');
      }
      return fs.writeFileSync(...args);
    },
    openSync: (...args: Parameters<typeof fs.openSync>) => {
      const fd = fs.openSync(...args);
      if (failing('write', args[0])) full.add(fd);
      else full.delete(fd);
      return fd;
    },
    writeSync: (...args: Parameters<typeof fs.writeSync>) => {
      if (fault.code !== undefined && full.has(args[0])) throw errno(fault.code, 'write');
      return (fs.writeSync as (...a: unknown[]) => number)(...args);
    },
  };
});

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof NodeFsPromises>();
  return {
    ...fs,
    open: (...args: Parameters<typeof fs.open>) =>
      failing('open', args[0]) ? Promise.reject(errno(fault.code!, 'open', String(args[0]))) : fs.open(...args),
    rename: (...args: Parameters<typeof fs.rename>) =>
      failing('rename', args[0]) ? Promise.reject(errno(fault.code!, 'rename', String(args[0]))) : fs.rename(...args),
    unlink: (...args: Parameters<typeof fs.unlink>) =>
      failing('unlink', args[0]) ? Promise.reject(errno(fault.code!, 'unlink', String(args[0]))) : fs.unlink(...args),
  };
});

const PIPELINE = `name: faults
target: js
model:
  path: model.kir
stages:
  - import: {}
  - codegen: { out: artifacts/mm }
`;

let ws: Workspace;
beforeEach(() => {
  ws = workspace({ 'pipeline.yaml': PIPELINE, 'model.kir': MM_RELU });
});
afterEach(() => {
  fault.code = undefined;
  ws.remove();
});

async function kiln(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

const build = () => kiln('build', ws.path('pipeline.yaml'), '--cache-dir', ws.path('cache'));

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

describe('paths that cannot work', () => {
  test('a model path that is a directory is a located input error, for validate and build', async () => {
    ws.write('models/x/keep', '');
    ws.write('pipeline.yaml', PIPELINE.replace('path: model.kir', 'path: models/x\n  format: kir'));
    for (const cmd of ['validate', 'build']) {
      const r = await kiln(cmd, ws.path('pipeline.yaml'), '--cache-dir', ws.path('cache'));
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(`pipeline.yaml:4:9 - error K6013: model file '${ws.path('models/x')}' is a directory, not a file`);
      expect(r.err).not.toMatch(/internal error|EISDIR/);
    }
  });

  test('a codegen out under a regular file names the path and exits 2', async () => {
    ws.write('artifacts', 'a file where a directory is expected');
    const r = await build();
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain(`pipeline.yaml:7:5 - error K6101: stage 'codegen' failed: cannot create the directory`);
    expect(r.err).toContain('a part of the path is a file, not a directory (ENOTDIR)');
    expect(r.err).not.toContain('internal error');
  });

  test('a cache directory under a regular file: the build warns and runs without the cache', async () => {
    ws.write('cache', 'not a directory');
    const r = await build();
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/warning K6201: cache .* cannot be written: a part of the path is a file, not a directory \(ENOTDIR\)/);
    expect(r.err).not.toMatch(/is corrupt/);
    expect(existsSync(ws.path('artifacts/mm/manifest.json'))).toBe(true);
  });
});

describe('a file system that refuses', () => {
  test('a full disk while writing the artifact: the path and the reason, exit 1, no temporary file left', async () => {
    Object.assign(fault, { code: 'ENOSPC', syscalls: ['write'], match: /artifacts/ });
    const r = await build();
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(
      /error K6101: stage 'codegen' failed: cannot write '.*artifacts\/mm\/[^']+': the disk is full \(ENOSPC\)/,
    );
    expect(filesUnder(ws.path('artifacts'))).toEqual([]);
  });

  test('a full cache: the build warns once, finishes without storing, and leaves no temporary file', async () => {
    Object.assign(fault, { code: 'ENOSPC', syscalls: ['open'], match: /cache/ });
    const r = await build();
    expect(r.code, r.err).toBe(0);
    expect(r.err.match(/cannot be written: the disk is full \(ENOSPC\)/g)).toHaveLength(1);
    expect(existsSync(ws.path('artifacts/mm/manifest.json'))).toBe(true);
    expect(filesUnder(ws.path('cache')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('a read-only cache: builds warn and run, cached results are still read', async () => {
    expect((await build()).code).toBe(0);
    Object.assign(fault, { code: 'EROFS', syscalls: ['open', 'rename', 'unlink'], match: /cache/ });
    const cached = await build();
    expect(cached.code, cached.err).toBe(0);
    expect(cached.err).toContain('0 ran, 2 cached');
    ws.write('model.kir', MM_RELU.replace('0.0', '1.0'));
    const changed = await build();
    expect(changed.code, changed.err).toBe(0);
    expect(changed.err).toMatch(/warning K6201: cache .* cannot be written: the file system is read-only \(EROFS\)/);
  });

  test('kiln cache clear and gc on a read-only cache: exit 1 with the directory and the reason', async () => {
    expect((await build()).code).toBe(0);
    Object.assign(fault, { code: 'EROFS', syscalls: ['rename', 'unlink'], match: /cache/ });
    const clear = await kiln('cache', 'clear', '--cache-dir', ws.path('cache'));
    expect(clear.code, clear.err).toBe(1);
    expect(clear.err).toContain(
      `error K5003: cannot clear the cache '${ws.path('cache')}': the file system is read-only (EROFS)`,
    );
    const gc = await kiln('cache', 'gc', '--max-size', '0', '--cache-dir', ws.path('cache'));
    expect(gc.code, gc.err).toBe(1);
    expect(gc.err).toMatch(/error K6202: cache .*: \d+ entries could not be removed/);
    expect(gc.err).toContain('read-only file system');
  });
});

/**
 * Walking the store, for `stats` and `gc` only: ordinary reads and writes
 * never list a directory, so opening a large cache costs nothing. Files that
 * vanish mid-walk (a concurrent `gc`) are skipped, and stray files whose names
 * are not entries are ignored rather than counted or deleted.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from './fs-util.ts';
import { ENTRY_DIRS, isSha256Hex, isShardName, TEMP_DIR } from './layout.ts';
import type { EntryKind } from './store.ts';

export interface FileInfo {
  readonly path: string;
  readonly bytes: number;
  readonly mtimeMs: number;
}

export interface EntryInfo extends FileInfo {
  readonly kind: EntryKind;
  readonly name: string;
}

export async function listEntries(root: string): Promise<EntryInfo[]> {
  const kinds: EntryKind[] = ['action', 'blob'];
  const perKind = await Promise.all(kinds.map((kind) => listKind(root, kind)));
  return perKind.flat();
}

async function listKind(root: string, kind: EntryKind): Promise<EntryInfo[]> {
  const dir = join(root, ENTRY_DIRS[kind]);
  const shards = (await readDir(dir)).filter((d) => d.isDirectory() && isShardName(d.name));
  const perShard = await Promise.all(
    shards.map(async (shard) => {
      const names = (await readDir(join(dir, shard.name)))
        .filter((d) => d.isFile() && isSha256Hex(d.name) && d.name.startsWith(shard.name))
        .map((d) => d.name);
      const infos = await Promise.all(names.map((name) => statFile(join(dir, shard.name, name))));
      return names.flatMap((name, i) => {
        const info = infos[i];
        return info ? [{ ...info, kind, name }] : [];
      });
    }),
  );
  return perShard.flat();
}

export async function listTempFiles(root: string): Promise<FileInfo[]> {
  const dir = join(root, TEMP_DIR);
  const names = (await readDir(dir)).filter((d) => d.isFile()).map((d) => d.name);
  const infos = await Promise.all(names.map((name) => statFile(join(dir, name))));
  return infos.filter((info) => info !== undefined);
}

async function readDir(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
}

async function statFile(path: string): Promise<FileInfo | undefined> {
  try {
    const s = await stat(path);
    return { path, bytes: s.size, mtimeMs: s.mtimeMs };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Where entries live under a store's root. Names are validated here, once, so
 * no caller-supplied string can reach the file system as anything but 64 hex
 * digits (no `..`, no separators). Entries are sharded by their first two hex
 * digits so no directory grows past a few thousand files.
 */
import { join } from 'node:path';
import type { EntryKind } from './store.ts';

export const ENTRY_DIRS: Readonly<Record<EntryKind, string>> = { action: 'ac', blob: 'cas' };
export const TEMP_DIR = 'tmp';
/** The up-to-date check's stamps (src/cli/up-to-date.ts). */
export const UP_TO_DATE_DIR = 'up-to-date';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const SHARD = /^[0-9a-f]{2}$/;

export function isSha256Hex(name: string): boolean {
  return SHA256_HEX.test(name);
}

export function isShardName(name: string): boolean {
  return SHARD.test(name);
}

export function assertSha256Hex(name: unknown, what: string): asserts name is string {
  if (typeof name === 'string' && SHA256_HEX.test(name)) return;
  const shown = typeof name === 'string' ? JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}...` : name) : typeof name;
  throw new Error(`invalid cache ${what} ${shown}: expected a sha256 as 64 lowercase hex digits`);
}

export function entryPath(root: string, kind: EntryKind, name: string): string {
  assertSha256Hex(name, kind === 'action' ? 'action key' : 'blob hash');
  return join(root, ENTRY_DIRS[kind], name.slice(0, 2), name);
}

/** How the entry is named in warnings: short, and the same on every platform. */
export function entryLabel(kind: EntryKind, name: string): string {
  return `${ENTRY_DIRS[kind]}/${name.slice(0, 2)}/${name}`;
}

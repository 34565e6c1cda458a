/**
 * The record of the last build that `kiln cache stats` shows: where each stage came from,
 * what the remote cache did. Written by a build and by the up-to-date check alike, so it
 * imports nothing but Node and the cache's layout.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEMP_DIR } from '../cache/layout.ts';
import type { RemoteActivity } from '../cache/remote-store.ts';

export interface BuildRecord {
  readonly at: string;
  readonly pipelines: readonly { readonly pipeline: string; readonly stages: readonly { name: string; source: string }[] }[];
  readonly local: { readonly hits: number; readonly misses: number };
  readonly remote?: Omit<RemoteActivity, 'warnings'> & { readonly warnings: number };
}

const RECORD_FILE = 'last-build.json';

/** The record of stages that came from `source` ('local', 'remote' or 'built'). */
export function buildRecord(
  pipelines: readonly { pipeline: string; stages: readonly { name: string; source: string }[] }[],
  remote?: BuildRecord['remote'],
): BuildRecord {
  const stages = pipelines.flatMap((p) => p.stages);
  return {
    at: new Date().toISOString(),
    pipelines: pipelines.map((p) => ({
      pipeline: p.pipeline,
      stages: p.stages.map((s) => ({ name: s.name, source: s.source })),
    })),
    local: { hits: stages.filter((s) => s.source === 'local').length, misses: stages.filter((s) => s.source !== 'local').length },
    ...(remote ? { remote } : {}),
  };
}

/**
 * Writes the record in place of the last one: a temporary file renamed over it, so a reader sees
 * one whole record. Synchronous, as the up-to-date check runs before anything asynchronous is
 * loaded; and without node:crypto for a random name (loading it costs more than the check): the
 * pid and the time, the file created exclusively.
 */
export function writeBuildRecord(root: string, record: BuildRecord): void {
  const temp = join(root, TEMP_DIR, `${process.pid}-${Date.now()}-record.tmp`);
  try {
    mkdirSync(join(root, TEMP_DIR), { recursive: true });
    writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`, { flag: 'wx' });
    renameSync(temp, join(root, RECORD_FILE));
  } catch {
    // The record is a convenience: a cache that cannot be written already warned.
    try {
      rmSync(temp, { force: true });
    } catch {
      // no temporary file could be made there either
    }
  }
}

export function readBuildRecord(root: string): BuildRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(root, RECORD_FILE), 'utf8')) as BuildRecord;
  } catch {
    return undefined;
  }
}

/**
 * The record of the last build that `kiln cache stats` shows: where each stage came from,
 * what the remote cache did. Written by a build and by the up-to-date check alike, so it
 * imports nothing but Node and the cache's atomic write.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../cache/atomic-write.ts';
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

export async function writeBuildRecord(root: string, record: BuildRecord): Promise<void> {
  try {
    await writeFileAtomic(root, join(root, RECORD_FILE), Buffer.from(`${JSON.stringify(record, null, 2)}\n`));
  } catch {
    // The record is a convenience: a cache that cannot be written already warned.
  }
}

export function readBuildRecord(root: string): BuildRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(root, RECORD_FILE), 'utf8')) as BuildRecord;
  } catch {
    return undefined;
  }
}

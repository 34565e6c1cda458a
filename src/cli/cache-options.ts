/**
 * Which cache a build uses: the local directory, optionally backed by a remote
 * (Bazel HTTP) cache, from flags, then environment variables, then the project
 * config's `cache:` section. And the record of the last build that `kiln cache
 * stats` shows: where each stage came from, what the remote cache did.
 */
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import {
  type CacheStore,
  DEFAULT_REMOTE_TIMEOUT_MS,
  openLocalStore,
  parseRemoteUrl,
  RemoteBackedStore,
  withRemoteCache,
} from '../cache/index.ts';
import type { BuildResult } from '../pipeline/engine.ts';
import { formatDiagnostic, KilnError } from '../support/diagnostics.ts';
import { diagnostic, M, warning } from '../support/messages.ts';
import { buildRecord, writeBuildRecord } from './build-record.ts';
import type { CliIO } from './io.ts';
import { loadProjectConfig } from './project-config.ts';

export interface CacheOptions {
  readonly cache: boolean;
  readonly cacheDir?: string;
  readonly remoteCache?: string;
  readonly remoteCacheReadOnly?: boolean;
  readonly remoteCacheTimeout?: string;
}

export function addCacheOptions(cmd: Command): Command {
  return (
    cmd
      .option('--no-cache', 'run every stage; read and write no cache')
      .addOption(new Option('--cache-dir <dir>', 'the cache directory (default .kiln/cache)').env('KILN_CACHE_DIR'))
      .addOption(
        new Option('--remote-cache <url>', 'a shared remote cache (Bazel HTTP protocol: <url>/ac/, <url>/cas/)').env(
          'KILN_REMOTE_CACHE',
        ),
      )
      // Not commander's env(): it would turn KILN_REMOTE_CACHE_READ_ONLY=false on (see `readOnly`).
      .option(
        '--remote-cache-read-only',
        'read the remote cache, never write it (untrusted builds; env KILN_REMOTE_CACHE_READ_ONLY=1)',
      )
      .addOption(
        new Option('--remote-cache-timeout <seconds>', 'give the remote cache up after this long without progress').env(
          'KILN_REMOTE_CACHE_TIMEOUT',
        ),
      )
  );
}

/** The store a command builds with, or undefined with `--no-cache`. Mistakes in the settings are usage errors. */
export function openStore(opts: CacheOptions, io: CliIO): CacheStore | undefined {
  if (!opts.cache) return undefined;
  const config = loadProjectConfig().cache ?? {};
  const onWarning = (message: string): void => io.stderr(`${formatDiagnostic(warning(M.cacheWarning, { problem: message }))}\n`);
  const local = openLocalStore(resolve(opts.cacheDir ?? config.dir ?? '.kiln/cache'), { onWarning });
  const url = opts.remoteCache ?? config.remote;
  if (url === undefined || url === '') return local;
  try {
    parseRemoteUrl(url);
  } catch (e) {
    throw usage(`--remote-cache: ${e instanceof Error ? e.message : String(e)}`);
  }
  const timeoutMs = timeout(opts.remoteCacheTimeout, config.timeout);
  const env = process.env.KILN_REMOTE_CACHE_READ_ONLY;
  const readOnly = opts.remoteCacheReadOnly === true || (env !== undefined ? flag(env) : Boolean(config.readOnly));
  return withRemoteCache(local, { url, readOnly, timeoutMs, onWarning });
}

/** Closes what the store holds open (the remote cache's connections). */
export function closeStore(store: CacheStore | undefined): void {
  if (store instanceof RemoteBackedStore) store.close();
}

function timeout(flagValue: string | undefined, configured: number | undefined): number {
  if (flagValue === undefined) return configured === undefined ? DEFAULT_REMOTE_TIMEOUT_MS : configured * 1000;
  const s = Number(flagValue);
  if (!Number.isFinite(s) || s <= 0)
    throw usage(`--remote-cache-timeout: expected seconds (a positive number), got '${flagValue}'`);
  return s * 1000;
}

/** A yes/no environment variable: `1`, `true`, `yes` are yes; unset, empty, `0`, `false`, `no` are no. */
function flag(v: string): boolean {
  return !['', '0', 'false', 'no', 'off'].includes(v.trim().toLowerCase());
}

function usage(problem: string): KilnError {
  return new KilnError(diagnostic(M.cliUsage, { problem }), { input: true });
}

export function recordBuild(store: CacheStore | undefined, results: readonly BuildResult[]): void {
  if (!store) return;
  const remote = store instanceof RemoteBackedStore ? { ...store.activity, warnings: store.activity.warnings.length } : undefined;
  writeBuildRecord(
    store.root,
    buildRecord(
      results.map((r) => ({ pipeline: r.pipeline, stages: r.stages })),
      remote,
    ),
  );
}

/** `kiln cache stats | gc --max-size SIZE | clear`. */
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { openLocalStore, parseSize } from '../cache/index.ts';
import { KilnError } from '../support/diagnostics.ts';
import { fsDiagnostic, isErrnoError } from '../support/fs-errors.ts';
import { diagnostic, M } from '../support/messages.ts';
import { type CliIO, EXIT, reportError, Sources } from './io.ts';
import { type BuildRecord, readBuildRecord } from './build-record.ts';
import { formatBytes } from './progress.ts';
import { loadProjectConfig } from './project-config.ts';

export function registerCacheCommands(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const cache = program.command('cache').description('the local build cache');
  const dirOption = (): Option =>
    new Option('--cache-dir <dir>', "the cache directory (default: the project config's cache.dir, else .kiln/cache)").env(
      'KILN_CACHE_DIR',
    );
  const open = (dir: string) => openLocalStore(resolve(dir), { onWarning: (m) => io.stderr(`warning: ${m}\n`) });
  /** Runs a command's work; a file-system failure is reported with the cache directory and what was being done. */
  const guarded =
    <O extends { cacheDir: string }>(verb: string, work: (opts: O) => Promise<number>) =>
    async (given: Omit<O, 'cacheDir'> & { cacheDir?: string }): Promise<void> => {
      let opts = given as O;
      try {
        opts = { ...given, cacheDir: given.cacheDir ?? loadProjectConfig().cache?.dir ?? '.kiln/cache' } as O;
        setExit(await work(opts));
      } catch (e) {
        const error = isErrnoError(e) ? new KilnError(fsDiagnostic(e, { verb, path: resolve(opts.cacheDir ?? '.') })) : e;
        setExit(reportError(error, io, new Sources(), EXIT.failed));
      }
    };

  cache
    .command('stats')
    .description('entries and sizes')
    .addOption(dirOption())
    .action(
      guarded('read the cache', async (opts: { cacheDir: string }) => {
        const s = await open(opts.cacheDir).stats();
        io.stdout(
          [
            `cache ${resolve(opts.cacheDir)}`,
            `  stage results  ${s.actions.count} (${formatBytes(s.actions.bytes)})`,
            `  blobs          ${s.blobs.count} (${formatBytes(s.blobs.bytes)})`,
            `  total          ${formatBytes(s.totalBytes)}`,
            ...(s.tempFiles.count > 0 ? [`  temp files     ${s.tempFiles.count} (${formatBytes(s.tempFiles.bytes)})`] : []),
            ...(s.oldestAccess ? [`  last used      ${s.oldestAccess.toISOString()} .. ${s.newestAccess!.toISOString()}`] : []),
            ...lastBuildLines(readBuildRecord(resolve(opts.cacheDir))),
          ].join('\n') + '\n',
        );
        return EXIT.ok;
      }),
    );

  cache
    .command('gc')
    .description('evict least recently used entries until the cache is at most SIZE')
    .requiredOption('--max-size <size>', 'e.g. 500MB, 2GiB')
    .addOption(dirOption())
    .action(
      guarded('collect garbage in', async (opts: { cacheDir: string; maxSize: string }) => {
        let max: number;
        try {
          max = parseSize(opts.maxSize);
        } catch (e) {
          const problem = `--max-size: ${e instanceof Error ? e.message : String(e)}`;
          return reportError(new KilnError(diagnostic(M.cliUsage, { problem })), io, new Sources());
        }
        const r = await open(opts.cacheDir).gc(max);
        io.stdout(`removed ${r.removed.length} entries (${formatBytes(r.freedBytes)}); ${formatBytes(r.remainingBytes)} left\n`);
        const failures = r.failures ?? [];
        if (failures.length === 0) return EXIT.ok;
        const d = diagnostic(M.cacheUnchanged, { dir: resolve(opts.cacheDir), count: failures.length }, undefined, [
          ...failures.slice(0, 3),
          ...(failures.length > 3 ? [`and ${failures.length - 3} more`] : []),
        ]);
        return reportError(new KilnError(d), io, new Sources(), EXIT.failed);
      }),
    );

  cache
    .command('clear')
    .description('remove every entry')
    .addOption(dirOption())
    .action(
      guarded('clear the cache', async (opts: { cacheDir: string }) => {
        await open(opts.cacheDir).clear();
        io.stdout(`cleared ${resolve(opts.cacheDir)}\n`);
        return EXIT.ok;
      }),
    );
}

/** The last build's hits and misses, local and remote, and where each stage came from. */
function lastBuildLines(r: BuildRecord | undefined): string[] {
  if (!r) return [];
  const stages = r.pipelines.flatMap((p) => p.stages);
  const built = stages.filter((s) => s.source === 'built').length;
  const lines = [
    `last build (${r.at})`,
    `  local          ${r.local.hits} hit${r.local.hits === 1 ? '' : 's'}, ${r.local.misses} miss${r.local.misses === 1 ? '' : 'es'}`,
  ];
  if (r.remote) {
    const m = r.remote;
    lines.push(
      `  remote         ${m.hits} hit${m.hits === 1 ? '' : 's'}, ${m.misses} miss${m.misses === 1 ? '' : 'es'} (${m.url}${m.readOnly ? ', read-only' : ''})`,
      `  downloaded     ${m.downloads.count} blobs (${formatBytes(m.downloads.bytes)})`,
      `  uploaded       ${m.uploads.count} entries and blobs (${formatBytes(m.uploads.bytes)})`,
      ...(m.corrupt > 0 ? [`  corrupt        ${m.corrupt} remote entries ignored`] : []),
      ...(m.disabled ? [`  remote off     ${m.disabled}`] : []),
      ...(m.warnings > 0 ? [`  warnings       ${m.warnings}`] : []),
    );
  }
  lines.push(`  ran            ${built} of ${stages.length} stages`);
  for (const p of r.pipelines) lines.push(`  ${p.pipeline}: ${p.stages.map((s) => `${s.name} ${s.source}`).join(', ')}`);
  return lines;
}

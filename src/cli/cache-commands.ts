/** `kiln cache stats | gc --max-size SIZE | clear`. */
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { openLocalStore, parseSize } from '../cache/index.ts';
import { KilnError } from '../support/diagnostics.ts';
import { fsDiagnostic, isErrnoError } from '../support/fs-errors.ts';
import { diagnostic, M } from '../support/messages.ts';
import { type CliIO, EXIT, reportError, Sources } from './io.ts';
import { formatBytes } from './progress.ts';

export function registerCacheCommands(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const cache = program.command('cache').description('the local build cache');
  const dirOption = (): Option =>
    new Option('--cache-dir <dir>', 'the cache directory').env('KILN_CACHE_DIR').default('.kiln/cache');
  const open = (dir: string) => openLocalStore(resolve(dir), { onWarning: (m) => io.stderr(`warning: ${m}\n`) });
  /** Runs a command's work; a file-system failure is reported with the cache directory and what was being done. */
  const guarded =
    <O extends { cacheDir: string }>(verb: string, work: (opts: O) => Promise<number>) =>
    async (opts: O): Promise<void> => {
      try {
        setExit(await work(opts));
      } catch (e) {
        const error = isErrnoError(e) ? new KilnError(fsDiagnostic(e, { verb, path: resolve(opts.cacheDir) })) : e;
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

/** `kiln build`, `kiln validate` and `kiln inspect`: pipelines from the command line. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { IRModule } from '../ir/module.ts';
import { printModule } from '../ir/text/printer.ts';
import { Build, type BuildResult } from '../pipeline/engine.ts';
import { type Resolution, resolvePipeline } from '../pipeline/resolve.ts';
import { didYouMean, formatDiagnostic, KilnError } from '../support/diagnostics.ts';
import { diagnostic, M } from '../support/messages.ts';
import { addCacheOptions, type CacheOptions, closeStore, openStore, recordBuild } from './cache-options.ts';
import { type CliIO, EXIT, reportError, Sources } from './io.ts';
import { plainEvents, runWithListr, summary, useTty } from './progress.ts';
import { readFilesState, recordUpToDate } from './up-to-date.ts';

export { openStore } from './cache-options.ts';

export interface PipelineOptions extends CacheOptions {
  readonly target?: string;
  readonly set: string[];
  readonly verify?: boolean;
}

export function addPipelineOptions(cmd: Command): Command {
  return addCacheOptions(cmd)
    .option('--target <name>', 'build for another target (a name in targets/ or a path)')
    .option(
      '--set <path=value>',
      'override a pipeline value, e.g. stages.tune.trials=50 (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option('--verify', 'check every module a stage produces for well-formedness');
}

/** Prints a resolution's problems; true when there were none. */
export function reportResolution(r: Resolution, io: CliIO): boolean {
  for (const d of r.diagnostics) io.stderr(`${formatDiagnostic(d, d.location ? r.sources.get(d.location.file) : undefined)}\n`);
  return r.diagnostics.length === 0;
}

/** Resolves every pipeline first: invalid ones fail before any work. */
async function resolveAll(files: readonly string[], opts: PipelineOptions, io: CliIO): Promise<Resolution[] | undefined> {
  const all = await Promise.all(
    files.map((f) => resolvePipeline(f, { set: opts.set, ...(opts.target ? { target: opts.target } : {}) })),
  );
  let ok = true;
  for (const r of all) ok = reportResolution(r, io) && ok;
  return ok ? all : undefined;
}

export async function runBuild(build: Build, last: number): Promise<BuildResult> {
  return useTty() ? runWithListr(build, last) : build.run(last);
}

export function registerBuildCommands(program: Command, io: CliIO, setExit: (code: number) => void): void {
  addPipelineOptions(
    program
      .command('build')
      .argument('<pipelines...>', 'pipeline files')
      .description('build pipelines through the cache')
      .option('--report <file>', 'write a JSON report of the build'),
  ).action(async (files: string[], opts: PipelineOptions & { report?: string }) => {
    setExit(await build(files, opts, io));
  });

  addPipelineOptions(
    program.command('validate').argument('<pipelines...>', 'pipeline files').description('check pipelines without building'),
  ).action(async (files: string[], opts: PipelineOptions) => {
    const all = await resolveAll(files, opts, io);
    if (!all) return setExit(EXIT.invalid);
    for (const r of all) {
      const p = r.pipeline!;
      io.stdout(`${files[all.indexOf(r)]}: ok (${p.stages.length} stages, target ${p.target.description.name})\n`);
    }
    setExit(EXIT.ok);
  });

  addPipelineOptions(
    program
      .command('inspect')
      .argument('<pipeline>', 'a pipeline file')
      .description('print the module after a stage (from the cache when it is there) in the text format')
      .option('--after <stage>', 'the stage (default: the last one)')
      .option('--json', 'print JSON: the stage, its key, whether it was cached, and the module')
      .option(
        '--memory <file>',
        "write the memory plan as a picture (HTML: a timeline of each arena, a bar per tensor) instead of printing the module; --after defaults to the last 'plan-memory' stage",
      ),
  ).action(async (file: string, opts: InspectOptions) => {
    setExit(await inspect(file, opts, io));
  });
}

async function build(files: readonly string[], opts: PipelineOptions & { report?: string }, io: CliIO): Promise<number> {
  const startedAt = Date.now();
  const all = await resolveAll(files, opts, io);
  if (!all) return EXIT.invalid;
  // What the build reads, as it is before it runs: the stamp of the up-to-date check.
  const read = readFilesState(
    all.flatMap((r) => r.watched),
    startedAt,
  );
  const store = openStore(opts, io);
  const reports: BuildResult[] = [];
  const builds: Build[] = [];
  try {
    for (const r of all) {
      const p = r.pipeline!;
      const b = new Build(p, {
        ...(store ? { store } : {}),
        verify: Boolean(opts.verify),
        ...(useTty() ? {} : { onEvent: plainEvents(io, p.name) }),
      });
      const result = await runBuild(b, p.stages.length - 1);
      builds.push(b);
      reports.push(result);
      io.stderr(`${summary(result)}\n`);
    }
  } catch (e) {
    return reportError(e, io, new Sources(), EXIT.failed);
  } finally {
    recordBuild(store, reports);
    closeStore(store);
  }
  if (opts.report) writeFileSync(opts.report, `${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)}\n`);
  else if (store)
    recordUpToDate(
      {
        files,
        set: opts.set,
        verify: Boolean(opts.verify),
        ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}),
        ...(opts.target ? { target: opts.target } : {}),
      },
      read,
      builds.map((b, i) => ({
        pipeline: reports[i]!.pipeline,
        target: reports[i]!.target,
        stages: reports[i]!.stages.map((s) => s.name),
        entries: b.entries(),
      })),
    );
  return EXIT.ok;
}

type InspectOptions = PipelineOptions & { after?: string; json?: boolean; memory?: string };

async function inspect(file: string, opts: InspectOptions, io: CliIO): Promise<number> {
  const all = await resolveAll([file], opts, io);
  if (!all) return EXIT.invalid;
  const p = all[0]!.pipeline!;
  const names = p.stages.map((s) => s.name);
  const usage = (problem: string, hints: string[]): number =>
    reportError(new KilnError(diagnostic(M.cliUsage, { problem }, undefined, hints)), io, new Sources());
  const index =
    opts.after !== undefined
      ? names.indexOf(opts.after)
      : opts.memory !== undefined
        ? names.lastIndexOf('plan-memory')
        : p.stages.length - 1;
  if (index < 0) {
    if (opts.after === undefined)
      return usage(`--memory: the pipeline has no 'plan-memory' stage`, [
        `stages: ${names.join(', ')}`,
        'add `- plan-memory: {}` after schedule',
      ]);
    return usage(`--after: no stage named '${opts.after}'`, [...didYouMean(opts.after, names), `stages: ${names.join(', ')}`]);
  }
  const store = openStore(opts, io);
  const b = new Build(p, {
    ...(store ? { store } : {}),
    verify: Boolean(opts.verify),
    ...(useTty() ? {} : { onEvent: plainEvents(io, p.name) }),
  });
  try {
    const result = await runBuild(b, index);
    const module = await b.moduleAfter(index);
    const stage = result.stages[index]!;
    if (opts.memory !== undefined) return writeMemoryPicture(module, stage.name, opts.memory, io);
    const text = printModule(module);
    if (opts.json)
      io.stdout(
        `${JSON.stringify({ pipeline: p.name, stage: stage.name, key: stage.key, cached: stage.cached, functions: stage.functions, primFuncs: stage.primFuncs, bindings: stage.bindings, module: text }, null, 2)}\n`,
      );
    else io.stdout(text);
    return EXIT.ok;
  } catch (e) {
    return reportError(e, io, new Sources(), EXIT.failed);
  } finally {
    closeStore(store);
  }
}

/** `inspect --memory FILE`: the plan of the module after a stage, drawn at the upper bounds of its dimensions. */
async function writeMemoryPicture(module: IRModule, stage: string, file: string, io: CliIO): Promise<number> {
  const { memoryPicture, plannedBlocks, upperBounds } = await import('../passes/memory-picture.ts');
  if (plannedBlocks(module) === 0) {
    return reportError(
      new KilnError(
        diagnostic(M.cliUsage, { problem: `--memory: the module after '${stage}' has no memory plan` }, undefined, [
          "pass --after a 'plan-memory' stage (or one after it)",
        ]),
      ),
      io,
      new Sources(),
    );
  }
  writeFileSync(file, memoryPicture(module, upperBounds(module)));
  io.stderr(`wrote the memory plan after '${stage}' to ${file}\n`);
  return EXIT.ok;
}

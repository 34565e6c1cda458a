/**
 * `kiln watch`: builds, then rebuilds on every change to a file the
 * pipelines depend on (their YAML and extends chain, the target, the model,
 * user stage files, files stages read). One summary line per rebuild; a
 * broken edit prints its problems and watching goes on, the last good output
 * left in place; Ctrl-C ends it cleanly.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FSWatcher } from 'chokidar';
import type { Command } from 'commander';
import { Build } from '../pipeline/engine.ts';
import { FileDigests } from '../pipeline/file-digests.ts';
import { resolvePipeline } from '../pipeline/resolve.ts';
import { addPipelineOptions, openStore, type PipelineOptions, reportResolution } from './build-commands.ts';
import { closeStore } from './cache-options.ts';
import { type CliIO, EXIT, reportError, Sources } from './io.ts';
import { formatMs } from './progress.ts';

export interface RebuildEvent {
  readonly pipeline: string;
  readonly ok: boolean;
  /** Stage name → ran or cached; empty when the pipeline did not validate. */
  readonly stages: readonly { readonly name: string; readonly cached: boolean }[];
  readonly ms: number;
}

export interface WatchHandle {
  /** Resolves once the first build is done and the watcher is ready. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface WatchOptions extends PipelineOptions {
  /** Milliseconds to wait for more changes before rebuilding. */
  readonly debounce?: number;
  readonly onRebuild?: (e: RebuildEvent) => void;
}

export function startWatch(files: readonly string[], opts: WatchOptions, io: CliIO): WatchHandle {
  const store = openStore(opts, io);
  const digests = new FileDigests(store?.root);
  const overrides = { set: opts.set, ...(opts.target ? { target: opts.target } : {}) };
  const dependsOn = new Map<string, Set<string>>(); // watched file → pipelines
  let watcher: FSWatcher | undefined;
  let closed = false;
  // What each watched file looked like when a build last read it. chokidar drops a
  // change that comes within 50 ms of the previous one on the same file (an editor's
  // save then format-on-save), so after every rebuild we look again ourselves.
  const readAs = new Map<string, string>();
  const recheckTimers = new Set<NodeJS.Timeout>();

  // Files are followed by path, not inode: chokidar watches the directories that hold them
  // (only those files in them), so a file deleted and created again, as editors that save by
  // replacing do, is still seen; a watch on the file itself ends with its first inode.
  const dirs = new Set<string>();
  const track = (pipeline: string, watched: readonly string[]): void => {
    const add: string[] = [];
    for (const f of [pipeline, ...watched]) {
      let set = dependsOn.get(f);
      if (!set) {
        set = new Set();
        dependsOn.set(f, set);
        if (!dirs.has(dirname(f))) {
          dirs.add(dirname(f));
          add.push(dirname(f));
        }
      }
      set.add(pipeline);
    }
    if (watcher && add.length > 0) watcher.add(add);
  };

  const recheckLater = (files: readonly string[]): void => {
    const t = setTimeout(() => {
      recheckTimers.delete(t);
      for (const f of files) if (!closed && fileSignature(f) !== readAs.get(f)) schedule(f);
    }, CHOKIDAR_THROTTLE_MS + 25);
    recheckTimers.add(t);
  };

  const rebuild = async (pipeline: string): Promise<void> => {
    const t0 = performance.now();
    const before = [pipeline, ...dependsOnPipeline(pipeline)];
    for (const f of before) readAs.set(f, fileSignature(f));
    const r = await resolvePipeline(pipeline, overrides);
    track(pipeline, r.watched);
    for (const f of r.watched) if (!readAs.has(f)) readAs.set(f, fileSignature(f));
    recheckLater([pipeline, ...r.watched]);
    if (!r.pipeline) {
      reportResolution(r, io);
      io.stderr(`[${pipeline}] not rebuilt: fix the problems above; still watching\n`);
      opts.onRebuild?.({ pipeline, ok: false, stages: [], ms: performance.now() - t0 });
      return;
    }
    const p = r.pipeline;
    try {
      const result = await new Build(p, {
        ...(store ? { store } : {}),
        digests,
        verify: Boolean(opts.verify),
        onEvent: (e) => {
          if (e.kind === 'warning') io.stderr(`[${p.name}] warning: ${e.message}\n`);
        },
      }).run();
      const stages = result.stages.map((s) => ({ name: s.name, cached: s.cached }));
      const ms = performance.now() - t0;
      io.stderr(
        `[${p.name}] built in ${formatMs(ms)}: ${stages.map((s) => `${s.name} ${s.cached ? 'cached' : 'ran'}`).join(', ')}\n`,
      );
      opts.onRebuild?.({ pipeline, ok: true, stages, ms });
    } catch (e) {
      reportError(e, io, new Sources(), EXIT.failed);
      io.stderr(`[${p.name}] build failed; the last good output stays in place; still watching\n`);
      opts.onRebuild?.({ pipeline, ok: false, stages: [], ms: performance.now() - t0 });
    }
  };

  const dependsOnPipeline = (pipeline: string): string[] => [...dependsOn].filter(([, ps]) => ps.has(pipeline)).map(([f]) => f);

  // Changes are collected while a rebuild runs and handled after it, together.
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = (path: string): void => {
    for (const p of dependsOn.get(path) ?? []) pending.add(p);
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      running = running.then(async () => {
        const todo = [...pending];
        pending = new Set();
        for (const p of todo) {
          if (closed) continue;
          // Whatever one rebuild meets, watching goes on.
          await rebuild(p).catch((e: unknown) => reportError(e, io, new Sources(), EXIT.failed));
        }
      });
    }, opts.debounce ?? 20);
  };

  const pipelines = files.map((f) => resolve(f));
  const ready = (async () => {
    for (const p of pipelines) await rebuild(p);
    const { watch: chokidarWatch } = await import('chokidar');
    watcher = chokidarWatch([...dirs], {
      ignoreInitial: true,
      depth: 0,
      ignored: (path: string) => !dirs.has(resolve(path)) && !dependsOn.has(resolve(path)),
    });
    watcher.on('all', (_event, path) => schedule(resolve(path)));
    await new Promise<void>((res) => watcher!.once('ready', () => res()));
    io.stderr(`watching ${dependsOn.size} files; Ctrl-C to stop\n`);
  })();

  return {
    ready,
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const t of recheckTimers) clearTimeout(t);
      await ready.catch(() => undefined);
      await watcher?.close();
      await running;
      closeStore(store);
    },
  };
}

/** chokidar's window for coalescing change events on one path. */
const CHOKIDAR_THROTTLE_MS = 50;

/** Enough of a file's stat to see that it was rewritten ('' when it is gone). */
function fileSignature(path: string): string {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return '';
  }
}

export function registerWatchCommand(program: Command, io: CliIO, setExit: (code: number) => void): void {
  addPipelineOptions(
    program.command('watch').argument('<pipelines...>', 'pipeline files').description('build, then rebuild on every change'),
  ).action(async (files: string[], opts: PipelineOptions) => {
    const handle = startWatch(files, opts, io);
    await handle.ready;
    await new Promise<void>((done) => {
      const stop = (): void => {
        void handle.close().then(done);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    setExit(EXIT.ok);
  });
}

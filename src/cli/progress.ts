/**
 * Build progress: listr2 on a terminal (each stage running, then done with
 * its time or `cached`), plain lines otherwise and whenever CI is set, so
 * logs stay readable.
 */
import type { Build, BuildEvent, BuildResult, StageResult } from '../pipeline/engine.ts';
import type { CliIO } from './io.ts';

export function useTty(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.CI;
}

export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** `[vision] fuse: cached`, `[vision] codegen: 120 ms` */
export function doneLine(pipeline: string, stage: string, r: Pick<StageResult, 'cached' | 'source' | 'ms'>): string {
  return `[${pipeline}] ${stage}: ${stageLine(r)}`;
}

function stageLine(r: Pick<StageResult, 'cached' | 'source' | 'ms'>): string {
  return r.cached ? cachedWord(r) : formatMs(r.ms);
}

function cachedWord(r: Pick<StageResult, 'source'>): string {
  return r.source === 'remote' ? 'cached (remote)' : 'cached';
}

/** Plain, line-per-event output: what CI logs show. */
export function plainEvents(io: CliIO, pipeline: string): (e: BuildEvent) => void {
  return (e) => {
    if (e.kind === 'done') io.stderr(`${doneLine(pipeline, e.stage.name, e.result)}\n`);
    else if (e.kind === 'warning') io.stderr(`[${pipeline}] warning: ${e.message}\n`);
    else if (e.kind === 'log') io.stderr(`[${pipeline}] ${e.stage ? `${e.stage.name}: ` : ''}${e.message}\n`);
  };
}

/** Runs a build's stages as listr2 tasks, so a terminal shows each one live. */
export async function runWithListr(build: Build, last: number): Promise<BuildResult> {
  // Only terminals load listr2: CI and scripts start faster without it.
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  const t0 = performance.now();
  const results: StageResult[] = [];
  const stages = build.pipeline.stages.slice(0, last + 1);
  const list = new Listr(
    stages.map((s, i) => ({
      title: s.name,
      task: async (_ctx: unknown, task: { title: string }) => {
        const r = await build.runStage(i);
        results.push(r);
        task.title = `${s.name} ${r.cached ? `(${cachedWord(r)})` : formatMs(r.ms)}`;
      },
    })),
    {
      concurrent: false,
      exitOnError: true,
      // Progress goes to stderr: stdout is for what a command prints (inspect's module).
      rendererOptions: { logger: new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) }) },
      registerSignalListeners: false,
    },
  );
  await list.run();
  return {
    pipeline: build.pipeline.name,
    target: build.pipeline.target.description.name,
    totalMs: performance.now() - t0,
    stages: results,
  };
}

/** `built vision (webgpu) in 120 ms: 2 ran, 6 cached` */
export function summary(
  r: Pick<BuildResult, 'pipeline' | 'target' | 'totalMs'> & { stages: readonly Pick<StageResult, 'cached' | 'source'>[] },
  verb = 'built',
): string {
  const ran = r.stages.filter((s) => !s.cached).length;
  const remote = r.stages.filter((s) => s.source === 'remote').length;
  const cached = `${r.stages.length - ran} cached${remote > 0 ? ` (${remote} remote)` : ''}`;
  return `${verb} ${r.pipeline} (${r.target}) in ${formatMs(r.totalMs)}: ${ran} ran, ${cached}`;
}

/**
 * Shader modules and compute pipelines, each created once per device: kernels
 * with the same source share a module, and an entry point with the same bind
 * group layout shares a pipeline. Pipelines are created with
 * createComputePipelineAsync, all requested at once, so the browser compiles them
 * in parallel and off its main thread (created synchronously, the vision model's
 * took a minute on a software adapter, blocking the page). Each entry carries the
 * compiler's verdict; its pipeline is there once the verdict is in and says valid.
 */

export interface PipelineEntry {
  /** Set when the pipeline was created (before `verdict` resolves to undefined). */
  readonly pipeline: GPUComputePipeline | undefined;
  readonly layout: GPUBindGroupLayout;
  /** Resolves to undefined when the pipeline is valid, else to what is wrong (never rejects). */
  readonly verdict: Promise<string | undefined>;
}

interface ModuleEntry {
  readonly module: GPUShaderModule;
  readonly verdict: Promise<string | undefined>;
}

export class PipelineCache {
  private readonly modules = new Map<string, ModuleEntry>();
  private readonly pipelines = new Map<string, PipelineEntry>();

  constructor(private readonly device: GPUDevice) {}

  get moduleCount(): number {
    return this.modules.size;
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }

  pipeline(source: string, entryPoint: string, entries: readonly GPUBindGroupLayoutEntry[]): PipelineEntry {
    const key = `${entryPoint}\n${JSON.stringify(entries)}\n${source}`;
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const mod = this.module(source);
    const device = this.device;
    const failed = (why: string): string => `creating the pipeline of entry point '${entryPoint}' failed: ${why}`;
    device.pushErrorScope('validation');
    const layout = device.createBindGroupLayout({ entries });
    const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
    const scope = device.popErrorScope();
    const entry: { pipeline: GPUComputePipeline | undefined; layout: GPUBindGroupLayout; verdict: Promise<string | undefined> } =
      { pipeline: undefined, layout, verdict: Promise.resolve(undefined) };
    const made = device.createComputePipelineAsync({ layout: pipelineLayout, compute: { module: mod.module, entryPoint } }).then(
      (pipeline) => {
        entry.pipeline = pipeline;
        return undefined;
      },
      (e: unknown) => failed(e instanceof Error ? e.message.trim() : String(e)),
    );
    entry.verdict = Promise.all([mod.verdict, scope, made]).then(
      ([compile, err, creation]) => compile ?? (err ? failed(err.message.trim()) : creation),
      (e: unknown) => failed(String(e)),
    );
    this.pipelines.set(key, entry);
    return entry;
  }

  private module(source: string): ModuleEntry {
    const hit = this.modules.get(source);
    if (hit) return hit;
    const device = this.device;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code: source });
    const scope = device.popErrorScope();
    const verdict = Promise.all([module.getCompilationInfo(), scope]).then(
      ([info, err]) => {
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length > 0) {
          return `WGSL compilation failed:\n${errors.map((m) => `  ${m.lineNum}:${m.linePos}: ${m.message}`).join('\n')}`;
        }
        return err ? `WGSL compilation failed: ${err.message.trim()}` : undefined;
      },
      (e: unknown) => `WGSL compilation failed: ${String(e)}`,
    );
    const entry = { module, verdict };
    this.modules.set(source, entry);
    return entry;
  }
}

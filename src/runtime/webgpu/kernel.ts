/**
 * Turns a WGSL kernel into a runtime Kernel: its pipelines come from the
 * device's cache; a call checks the arguments, writes the uniform struct,
 * allocates the workspaces, evaluates each launch's grid and records every
 * launch into one compute pass (each dispatch is its own usage scope, so a
 * launch sees the writes of the ones before), then submits.
 */
import type { Device, NDArray } from '../ndarray.ts';
import { evalShapeExpr } from '../shape-expr.ts';
import type { Kernel } from '../vm.ts';
import { bindArgs } from './args.ts';
import { BufferUsage, SHADER_STAGE_COMPUTE, type WebGpuLimits } from './constants.ts';
import type { DeviceHealth } from './health.ts';
import type { WgslDispatch, WgslKernel, WgslVar } from './kernel-spec.ts';
import type { PipelineCache, PipelineEntry } from './pipelines.ts';
import { bufferBytes } from './storage.ts';
import { validateKernel } from './validate.ts';

/** What a kernel needs of its device (the WebGpuDevice). */
export interface KernelHost extends Device {
  readonly gpuDevice: GPUDevice;
  readonly features: ReadonlySet<string>;
  readonly limits: WebGpuLimits;
  readonly health: DeviceHealth;
  readonly pipelines: PipelineCache;
}

export interface CompiledKernel {
  readonly run: Kernel;
  /** Resolves to the compile error, or undefined once every pipeline is valid (never rejects). */
  readonly ready: Promise<Error | undefined>;
}

export function compileKernel(host: KernelHost, k: WgslKernel, where: string): CompiledKernel {
  validateKernel(k, host, where);
  const pipelines = k.dispatches.map((d) => host.pipelines.pipeline(k.source, d.entryPoint, layoutEntries(k, d)));
  const ready = Promise.all(pipelines.map((p) => p.verdict)).then((msgs) => {
    const m = msgs.find((x) => x !== undefined);
    return m === undefined ? undefined : new Error(`${where}: kernel ${k.name}: ${m}`);
  });
  let valid = false;
  void ready.then((e) => (valid = e === undefined));
  const call = (args: readonly (NDArray | number)[]): void => launch(host, k, pipelines, args);
  // Calls before the compiler's verdict wait for it; later ones run synchronously.
  const run: Kernel = (args) =>
    valid
      ? call(args)
      : ready.then((e) => {
          if (e) throw e;
          call(args);
        });
  return { run, ready };
}

/**
 * An entry point's bind group layout: read-only storage for the buffers it only reads (artifacts
 * from before bindings said so: for the parameters no launch writes).
 */
function layoutEntries(k: WgslKernel, d: WgslDispatch): GPUBindGroupLayoutEntry[] {
  return [...d.bindings]
    .sort((a, b) => a.binding - b.binding)
    .map(({ binding, resource: r, readOnly }) => {
      const p = r !== 'uniforms' && 'param' in r ? k.params[r.param] : undefined;
      const read = readOnly ?? (p?.kind === 'buffer' && !p.written);
      const type: GPUBufferBindingType = r === 'uniforms' ? 'uniform' : read ? 'read-only-storage' : 'storage';
      return { binding, visibility: SHADER_STAGE_COMPUTE, buffer: { type } };
    });
}

function launch(host: KernelHost, k: WgslKernel, pipelines: readonly PipelineEntry[], args: readonly (NDArray | number)[]): void {
  host.health.check();
  const L = host.limits;
  const { vars, buffers } = bindArgs(k, args, host, L.maxStorageBufferBindingSize);
  const names = k.vars.map((v) => v.name);
  const count = (e: Parameters<typeof evalShapeExpr>[0], what: string): number => {
    const v = evalShapeExpr(e, vars, names);
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`kernel ${k.name}: ${what} is ${v}, not a count`);
    return v;
  };
  // Everything that can fail on the JS side is checked before any GPU object is made.
  const grids = k.dispatches.map((d) =>
    workgroups(
      k.name,
      d,
      [0, 1, 2].map((i) => count(d.grid[i]!, `the grid of '${d.entryPoint}'`)),
      L,
    ),
  );
  if (grids.every((g) => g === undefined)) return;
  const aliased = new Set<number>();
  k.dispatches.forEach((d, i) => grids[i] && aliasedOutputs(k, d, buffers, aliased));
  const wsBytes = k.workspace.map((w) => {
    const bytes = bufferBytes(count(w.size, `the size of workspace '${w.name}'`), w.storage);
    if (bytes > L.maxStorageBufferBindingSize) {
      throw new Error(
        `kernel ${k.name}: workspace '${w.name}' takes ${bytes} bytes, more than ${host.name} binds in one storage buffer (maxStorageBufferBindingSize = ${L.maxStorageBufferBindingSize})`,
      );
    }
    return bytes;
  });

  const gpu = host.gpuDevice;
  gpu.pushErrorScope('validation');
  const uniforms = k.vars.length > 0 ? uniformBuffer(gpu, k.vars, vars) : undefined;
  // createBuffer zero-fills, as workspaces need.
  const workspaces = wsBytes.map((size) => gpu.createBuffer({ size, usage: BufferUsage.STORAGE }));
  // An output that is also bound as another parameter is written to a buffer of its own and copied over
  // after the launch, as if the launch had read every input before writing (what an in-place plan means).
  const bound = [...buffers];
  const copies = [...aliased].map((i) => {
    const target = buffers[i]!;
    const temp = gpu.createBuffer({ size: target.size, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC });
    bound[i] = temp;
    return { temp, target };
  });
  const encoder = gpu.createCommandEncoder();
  const pass = encoder.beginComputePass();
  k.dispatches.forEach((d, i) => {
    const g = grids[i];
    if (!g) return;
    const { pipeline, layout } = pipelines[i]!;
    // A kernel runs only once its verdict is in and valid, and then its pipelines exist.
    if (!pipeline) throw new Error(`kernel ${k.name}: the pipeline of '${d.entryPoint}' is not created yet`);
    const entries = d.bindings.map(({ binding, resource: r }) => ({
      binding,
      resource: { buffer: r === 'uniforms' ? uniforms! : 'param' in r ? bound[r.param]! : workspaces[r.workspace]! },
    }));
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, gpu.createBindGroup({ layout, entries }));
    pass.dispatchWorkgroups(g[0], g[1], g[2]);
  });
  pass.end();
  for (const { temp, target } of copies) encoder.copyBufferToBuffer(temp, 0, target, 0, target.size);
  gpu.queue.submit([encoder.finish()]);
  // Destroying after submit is allowed: the memory is freed once the submitted work is done.
  uniforms?.destroy();
  for (const w of workspaces) w.destroy();
  for (const { temp } of copies) temp.destroy();
  host.health.watch(gpu.popErrorScope(), `kernel ${k.name}`);
}

/**
 * WebGPU refuses a dispatch that binds one buffer as writable storage and again in any other
 * binding (an output written over an input, as a memory plan does for elementwise kernels, or the
 * same tensor passed twice): such outputs are added to `out`, to be written elsewhere and copied.
 */
function aliasedOutputs(k: WgslKernel, d: WgslDispatch, buffers: readonly (GPUBuffer | undefined)[], out: Set<number>): void {
  const bound = d.bindings.flatMap(({ resource: r }) => (r !== 'uniforms' && 'param' in r ? [r.param] : []));
  for (const i of bound) {
    const p = k.params[i]!;
    if (p.kind === 'buffer' && p.written && bound.some((o) => o !== i && buffers[o] === buffers[i])) out.add(i);
  }
}

/** The workgroup counts to dispatch, undefined when the grid is empty; folds a long x over y when allowed. */
function workgroups(kernel: string, d: WgslDispatch, grid: number[], L: WebGpuLimits): [number, number, number] | undefined {
  const [x, y, z] = grid as [number, number, number];
  if (x === 0 || y === 0 || z === 0) return undefined;
  const max = L.maxComputeWorkgroupsPerDimension;
  const tooMany = (n: number, axis: string, extra = ''): never => {
    throw new Error(
      `kernel ${kernel}: '${d.entryPoint}' needs ${n} workgroups in ${axis}, more than maxComputeWorkgroupsPerDimension (${max})${extra}`,
    );
  };
  if (x > max && d.foldX && y === 1 && z === 1) {
    if (Math.ceil(x / max) > max) tooMany(x, 'x', ` even folded over y`);
    return [max, Math.ceil(x / max), 1];
  }
  ([x, y, z] as const).forEach((n, i) => {
    if (n > max) tooMany(n, 'xyz'[i]!);
  });
  return [x, y, z];
}

/** The uniform struct: one 4-byte field per var, in order, its size rounded up to 16 bytes. */
function uniformBuffer(gpu: GPUDevice, decl: readonly WgslVar[], values: readonly number[]): GPUBuffer {
  const size = Math.ceil((decl.length * 4) / 16) * 16;
  const buffer = gpu.createBuffer({ size, usage: BufferUsage.UNIFORM, mappedAtCreation: true });
  const view = new DataView(buffer.getMappedRange());
  decl.forEach((v, i) => {
    const x = values[i]!;
    if (v.type === 'i32') view.setInt32(i * 4, x, true);
    else if (v.type === 'u32') view.setUint32(i * 4, x, true);
    else view.setFloat32(i * 4, x, true);
  });
  buffer.unmap();
  return buffer;
}

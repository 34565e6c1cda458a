/**
 * Runs a WGSL kernel as the code generator emits it (kernel-spec.ts) on a raw
 * GPUDevice, for the code generator's tests: reads the symbolic variables off
 * the arguments, uploads inputs and uniforms, allocates the workspace,
 * dispatches every launch in order and reads every buffer back. Test-only and
 * deliberately small: the real device is src/runtime/webgpu.
 */
import type { WgslKernel } from '../../src/runtime/webgpu/kernel-spec.ts';
import { evalShapeExpr } from '../../src/runtime/shape-expr.ts';
import { bufferBytes } from '../../src/runtime/webgpu/storage.ts';

export type HostArray = Float32Array | Int32Array | Uint32Array | Uint16Array;

/** A buffer argument: its data as the GPU stores it (f16 as its bits in a Uint16Array). */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: HostArray;
}

export type KernelArg = HostTensor | number;

export interface RunOptions {
  /** Fold a grid x above this many workgroups into x and y (as the runtime does past the device limit). */
  readonly foldAbove?: number;
}

// The device dies when the GPU object is collected, so it stays referenced here.
let gpu: GPU | undefined;
let device: Promise<GPUDevice | undefined> | undefined;

/** The adapter's device (with shader-f16 when it has it), or undefined where there is no adapter. */
export function webgpuDevice(): Promise<GPUDevice | undefined> {
  device ??= (async () => {
    try {
      // Imported here: where the native module is missing, the tests skip instead of failing to load.
      const { create, globals } = await import('webgpu');
      Object.assign(globalThis, globals);
      gpu = create([]);
      const adapter = await gpu.requestAdapter();
      if (!adapter) return undefined;
      const requiredFeatures: GPUFeatureName[] = adapter.features.has('shader-f16') ? ['shader-f16'] : [];
      return await adapter.requestDevice({ requiredFeatures });
    } catch {
      return undefined;
    }
  })();
  return device;
}

/** Whether WebGPU tests must skip: no adapter, and KILN_REQUIRE_WEBGPU=1 does not insist on one. */
export async function skipWithoutWebgpu(what: string): Promise<boolean> {
  if (await webgpuDevice()) return false;
  if (process.env.KILN_REQUIRE_WEBGPU === '1') return false;
  console.warn(`${what}: skipped, no WebGPU adapter (install Mesa's Vulkan driver; KILN_REQUIRE_WEBGPU=1 fails instead)`);
  return true;
}

export async function requireDevice(): Promise<GPUDevice> {
  const d = await webgpuDevice();
  if (!d) throw new Error('no WebGPU adapter, and KILN_REQUIRE_WEBGPU=1 requires one');
  return d;
}

const ARRAY_OF = { f32: Float32Array, f16: Uint16Array, i32: Int32Array, u32: Uint32Array } as const;

/**
 * Runs `k` on `args` (in PrimFunc parameter order); returns each buffer argument's contents afterwards,
 * at its argument's index.
 */
export async function runWgsl(k: WgslKernel, args: readonly KernelArg[], options: RunOptions = {}): Promise<HostArray[]> {
  const dev = await requireDevice();
  dev.pushErrorScope('validation');
  const module = dev.createShaderModule({ code: k.source });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    throw new Error(
      `WGSL of ${k.name} does not compile:\n${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('\n')}\n${k.source}`,
    );
  }

  const vars = k.vars.map((v) => {
    const a = args[v.from.param];
    if (v.from.dim === undefined) return a as number;
    return (a as HostTensor).shape[v.from.dim]!;
  });
  const names = k.vars.map((v) => v.name);
  const buffers: (GPUBuffer | undefined)[] = k.params.map((p, i) => {
    if (p.kind !== 'buffer') return undefined;
    const t = args[i] as HostTensor;
    if (!(t.data instanceof ARRAY_OF[p.storage])) throw new Error(`argument ${p.name}: expected ${p.storage} data`);
    const shape = p.shape.map((d) => evalShapeExpr(d, vars, names));
    if (shape.join() !== t.shape.join())
      throw new Error(`argument ${p.name}: shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    return upload(dev, t.data);
  });
  const workspace = k.workspace.map((w) => {
    const count = evalShapeExpr(w.size, vars, names);
    return dev.createBuffer({ size: bufferBytes(count, w.storage), usage: GPUBufferUsage.STORAGE });
  });
  const uniforms = new ArrayBuffer(Math.max(16, Math.ceil((k.vars.length * 4) / 16) * 16));
  k.vars.forEach((v, i) => {
    const view = new DataView(uniforms);
    if (v.type === 'f32') view.setFloat32(i * 4, vars[i]!, true);
    else if (v.type === 'u32') view.setUint32(i * 4, vars[i]!, true);
    else view.setInt32(i * 4, vars[i]!, true);
  });
  const uniformBuffer = dev.createBuffer({ size: uniforms.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  dev.queue.writeBuffer(uniformBuffer, 0, uniforms);

  const encoder = dev.createCommandEncoder();
  for (const d of k.dispatches) {
    const grid = d.grid.map((g) => evalShapeExpr(g, vars, names));
    let [x, y] = grid as [number, number, number];
    const z = grid[2]!;
    if (x === 0 || y === 0 || z === 0) continue;
    const foldAbove = options.foldAbove ?? dev.limits.maxComputeWorkgroupsPerDimension;
    if (d.foldX && x > foldAbove) {
      y = Math.ceil(x / foldAbove);
      x = foldAbove;
    }
    const pipeline = dev.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: d.entryPoint } });
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    if (d.bindings.length > 0) {
      const entries = d.bindings.map((b) => {
        const r = b.resource;
        const buffer = r === 'uniforms' ? uniformBuffer : 'param' in r ? buffers[r.param]! : workspace[r.workspace]!;
        return { binding: b.binding, resource: { buffer } };
      });
      pass.setBindGroup(0, dev.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
    }
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
  }
  const reads = buffers.map((b) => {
    if (!b) return undefined;
    const staging = dev.createBuffer({ size: b.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(b, 0, staging, 0, b.size);
    return staging;
  });
  dev.queue.submit([encoder.finish()]);
  const error = await dev.popErrorScope();
  if (error) throw new Error(`WebGPU validation error running ${k.name}: ${error.message}`);

  const out: HostArray[] = [];
  for (let i = 0; i < reads.length; i++) {
    const staging = reads[i];
    if (!staging) {
      out.push(new Float32Array(0));
      continue;
    }
    await staging.mapAsync(GPUMapMode.READ);
    const a = args[i] as HostTensor;
    const Ctor = a.data.constructor as new (b: ArrayBuffer) => HostArray;
    out.push(new Ctor(staging.getMappedRange().slice(0, a.data.byteLength)));
    staging.unmap();
    staging.destroy();
  }
  for (const b of [...buffers, ...workspace, uniformBuffer]) b?.destroy();
  return out;
}

function upload(dev: GPUDevice, data: HostArray): GPUBuffer {
  // As the runtime sizes buffers (whole 16 bytes, for vector views).
  const size = bufferBytes(Math.ceil(data.byteLength / 4), 'u32');
  const bytes = new Uint8Array(size);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const b = dev.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  dev.queue.writeBuffer(b, 0, bytes);
  return b;
}

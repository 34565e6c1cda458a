/**
 * Checks a WGSL kernel's metadata before anything is compiled: that the device
 * has the features and limits it needs, and that its vars and bindings refer to
 * parameters and workspaces that exist. A kernel file from another build, or a
 * device weaker than the target, fails here with a message instead of with a
 * WebGPU validation error later.
 */
import type { WebGpuLimits } from './constants.ts';
import { WGSL_FORMAT, WGSL_FORMAT_VERSION, type WgslKernel, type WgslKernelFile } from './kernel-spec.ts';

/** Throws unless `file` is a kernels file of the version this runtime reads. */
export function checkKernelFile(file: WgslKernelFile, where: string): void {
  if (file?.format !== WGSL_FORMAT || !Array.isArray(file.kernels)) {
    throw new Error(`${where}: not a Kiln WGSL kernels file (format '${String(file?.format)}')`);
  }
  if (file.version !== WGSL_FORMAT_VERSION) {
    throw new Error(
      `${where}: WGSL kernels format version ${file.version}, this runtime reads version ${WGSL_FORMAT_VERSION}; rebuild it`,
    );
  }
}

export interface DeviceCaps {
  readonly name: string;
  readonly features: ReadonlySet<string>;
  readonly limits: WebGpuLimits;
}

/** Throws an Error naming `where`, the kernel and the problem. */
export function validateKernel(k: WgslKernel, caps: DeviceCaps, where: string): void {
  const fail = (problem: string): never => {
    throw new Error(`${where}: kernel ${k.name}: ${problem}`);
  };
  for (const f of k.features) {
    if (!caps.features.has(f)) fail(`needs the WebGPU feature '${f}', which ${caps.name} lacks`);
  }
  k.params.forEach((p) => {
    if (p.kind === 'buffer' && p.storage === 'f16' && !caps.features.has('shader-f16')) {
      fail(`stores parameter '${p.name}' as f16, which needs the WebGPU feature 'shader-f16', which ${caps.name} lacks`);
    }
  });
  k.vars.forEach((v) => {
    const p = k.params[v.from.param];
    if (!p) return fail(`variable ${v.name} is read from parameter ${v.from.param}, which does not exist`);
    if (v.from.dim === undefined ? p.kind !== 'scalar' : p.kind !== 'buffer' || v.from.dim >= p.shape.length) {
      fail(
        `variable ${v.name} is read from parameter '${p.name}'${v.from.dim === undefined ? '' : ` dimension ${v.from.dim}`}, which it lacks`,
      );
    }
  });
  const L = caps.limits;
  for (const d of k.dispatches) {
    const [x, y, z] = d.workgroupSize;
    const of = `entry point '${d.entryPoint}'`;
    const over = (name: keyof WebGpuLimits, v: number): void => {
      if (v > L[name]) fail(`${of} needs ${name} >= ${v}; ${caps.name} has ${L[name]}`);
    };
    over('maxComputeWorkgroupSizeX', x);
    over('maxComputeWorkgroupSizeY', y);
    over('maxComputeWorkgroupSizeZ', z);
    over('maxComputeInvocationsPerWorkgroup', x * y * z);
    let storageBuffers = 0;
    for (const b of d.bindings) {
      const r = b.resource;
      if (r === 'uniforms') {
        if (k.vars.length === 0) fail(`${of} binds the uniforms, but the kernel has no variables`);
      } else if ('param' in r) {
        if (k.params[r.param]?.kind !== 'buffer') fail(`${of} binds parameter ${r.param}, which is not a buffer parameter`);
        storageBuffers++;
      } else {
        if (!k.workspace[r.workspace]) fail(`${of} binds workspace ${r.workspace}, which does not exist`);
        storageBuffers++;
      }
    }
    over('maxStorageBuffersPerShaderStage', storageBuffers);
  }
}

/**
 * Hand-written WGSL kernels in the format the WGSL code generator writes
 * (src/runtime/webgpu/kernel-spec.ts), for testing the webgpu device without it.
 */
import type { ShapeExpr } from '../../src/runtime/program.ts';
import {
  type GpuStorage,
  WGSL_FORMAT,
  WGSL_FORMAT_VERSION,
  type WgslDispatch,
  type WgslKernel,
  type WgslKernelFile,
  type WgslParam,
} from '../../src/runtime/webgpu/kernel-spec.ts';

const N: ShapeExpr = ['v', 0];
/** ceil(n / 64): workgroups of 64 over n elements. */
const BLOCKS: ShapeExpr = ['floordiv', ['add', N, 63], 64];

export function file(...kernels: WgslKernel[]): WgslKernelFile {
  return { format: WGSL_FORMAT, version: WGSL_FORMAT_VERSION, kernels };
}

function buffer(name: string, dtype: string, storage: GpuStorage, written = false, shape: ShapeExpr[] = [N]): WgslParam {
  return { kind: 'buffer', name, dtype, storage, shape, written };
}

function dispatch(
  entryPoint: string,
  grid: ShapeExpr,
  resources: WgslDispatch['bindings'][number]['resource'][],
  over: Partial<WgslDispatch> = {},
): WgslDispatch {
  return {
    entryPoint,
    workgroupSize: [64, 1, 1],
    grid: [grid, 1, 1],
    foldX: false,
    bindings: resources.map((resource, binding) => ({ binding, resource })),
    ...over,
  };
}

const N_VAR = { name: 'n', type: 'i32', from: { param: 0, dim: 0 } } as const;

/** c = a + b over a symbolic n (read from a's dimension 0 into the uniforms). */
export function addKernel(name = 'add', dtype = 'float32', storage: GpuStorage = 'f32', source?: string): WgslKernel {
  const t = storage === 'f32' ? 'f32' : storage;
  return {
    name,
    source:
      source ??
      `struct U { n: i32 }
@group(0) @binding(0) var<storage, read> a: array<${t}>;
@group(0) @binding(1) var<storage, read> b: array<${t}>;
@group(0) @binding(2) var<storage, read_write> c: array<${t}>;
@group(0) @binding(3) var<uniform> u: U;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = i32(g.x);
  if (i < u.n) { c[i] = a[i] + b[i]; }
}`,
    vars: [N_VAR],
    params: [buffer('a', dtype, storage), buffer('b', dtype, storage), buffer('c', dtype, storage, true)],
    workspace: [],
    dispatches: [dispatch('main', BLOCKS, [{ param: 0 }, { param: 1 }, { param: 2 }, 'uniforms'])],
    features: [],
  };
}

/**
 * Two launches through a workspace: t = 2x, then y[i] = t[i] + t[n-1-i]. The second reads
 * what other workgroups of the first wrote, so it sees the first launch's writes or fails.
 */
export const MIRROR: WgslKernel = {
  name: 'mirror',
  source: `struct U { n: i32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> t: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
@compute @workgroup_size(64) fn double(@builtin(global_invocation_id) g: vec3u) {
  let i = i32(g.x);
  if (i < u.n) { t[i] = 2.0 * x[i]; }
}
@compute @workgroup_size(64) fn mirror(@builtin(global_invocation_id) g: vec3u) {
  let i = i32(g.x);
  if (i < u.n) { y[i] = t[i] + t[u.n - 1 - i]; }
}`,
  vars: [N_VAR],
  params: [buffer('x', 'float32', 'f32'), buffer('y', 'float32', 'f32', true)],
  workspace: [{ name: 't', dtype: 'float32', storage: 'f32', size: N }],
  dispatches: [
    {
      ...dispatch('double', BLOCKS, []),
      bindings: [
        { binding: 0, resource: { param: 0 } },
        { binding: 2, resource: { workspace: 0 } },
        { binding: 3, resource: 'uniforms' },
      ],
    },
    {
      ...dispatch('mirror', BLOCKS, []),
      bindings: [
        { binding: 1, resource: { param: 1 } },
        { binding: 2, resource: { workspace: 0 } },
        { binding: 3, resource: 'uniforms' },
      ],
    },
  ],
  features: [],
};

/** out[i] = 3i with one workgroup of one invocation per element: grid x is n, folded over y past the limit. */
export function iotaKernel(foldX: boolean): WgslKernel {
  return {
    name: foldX ? 'iota' : 'iota_unfolded',
    source: `struct U { n: i32 }
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<uniform> u: U;
@compute @workgroup_size(1) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = wg.x + wg.y * nwg.x;
  if (i >= u32(u.n)) { return; }
  out[i] = 3u * i;
}`,
    vars: [N_VAR],
    params: [buffer('out', 'uint32', 'u32', true)],
    workspace: [],
    dispatches: [dispatch('main', N, [{ param: 0 }, 'uniforms'], { workgroupSize: [1, 1, 1], foldX })],
    features: [],
  };
}

/** y = x * alpha + k, with alpha (float32) and k (int32) scalar parameters. */
export const AXPB: WgslKernel = {
  name: 'axpb',
  source: `struct U { n: i32, alpha: f32, k: i32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> u: U;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = i32(g.x);
  if (i < u.n) { y[i] = x[i] * u.alpha + f32(u.k); }
}`,
  vars: [N_VAR, { name: 'alpha', type: 'f32', from: { param: 2 } }, { name: 'k', type: 'i32', from: { param: 3 } }],
  params: [
    buffer('x', 'float32', 'f32'),
    buffer('y', 'float32', 'f32', true),
    { kind: 'scalar', name: 'alpha', dtype: 'float32' },
    { kind: 'scalar', name: 'k', dtype: 'int32' },
  ],
  workspace: [],
  dispatches: [dispatch('main', BLOCKS, [{ param: 0 }, { param: 1 }, 'uniforms'])],
  features: [],
};

/** y = 2x in f16 (needs shader-f16). */
export const HALF_DOUBLE: WgslKernel = {
  name: 'half_double',
  source: `enable f16;
struct U { n: i32 }
@group(0) @binding(0) var<storage, read> x: array<f16>;
@group(0) @binding(1) var<storage, read_write> y: array<f16>;
@group(0) @binding(2) var<uniform> u: U;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = i32(g.x);
  if (i < u.n) { y[i] = 2.0h * x[i]; }
}`,
  vars: [N_VAR],
  params: [buffer('x', 'float16', 'f16'), buffer('y', 'float16', 'f16', true)],
  workspace: [],
  dispatches: [dispatch('main', BLOCKS, [{ param: 0 }, { param: 1 }, 'uniforms'])],
  features: ['shader-f16'],
};

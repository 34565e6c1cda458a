/**
 * A PrimFunc's interface to the runtime (src/codegen/kernel-interface.ts) in
 * the terms of the WGSL kernel format: the storage type of each buffer and
 * the WGSL type of each variable.
 */
import { isFloat, isUnsigned } from '../../ir/dtype.ts';
import type { PrimVar } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import type { PrimFunc, Stmt } from '../../ir/tir/stmt.ts';
import type { GpuStorage, WgslParam, WgslVar, WgslWorkspace } from '../../runtime/webgpu/kernel-spec.ts';
import { kernelInterface } from '../kernel-interface.ts';
import { gpuStorage, NO_FLOAT64 } from './types.ts';

export interface Signature {
  readonly vars: readonly WgslVar[];
  /** The slot of each kernel variable in `vars`. */
  readonly slots: ReadonlyMap<PrimVar, number>;
  readonly params: readonly WgslParam[];
  readonly workspace: readonly WgslWorkspace[];
  /** Buffers the launches reach through bindings: parameters, then workspace buffers, in order. */
  readonly resources: ReadonlyMap<Buffer, { readonly param: number } | { readonly workspace: number }>;
  readonly launches: readonly Stmt[];
}

export function signature(f: PrimFunc, f16: boolean, unsupported: (what: string) => never): Signature {
  const storage = (b: Buffer): GpuStorage => gpuStorage(b.dtype, f16) ?? unsupported(`buffer '${b.name}': ${NO_FLOAT64}`);
  const k = kernelInterface(f, unsupported);
  const vars = k.vars.map(({ v, from }): WgslVar => {
    if (v.dtype === 'float64') unsupported(`scalar parameter '${v.name}': ${NO_FLOAT64}`);
    return { name: v.name, type: isFloat(v.dtype) ? 'f32' : isUnsigned(v.dtype) ? 'u32' : 'i32', from };
  });
  const resources = new Map<Buffer, { param: number } | { workspace: number }>();
  const params = k.params.map((p, i): WgslParam => {
    if (p.kind === 'scalar') return { kind: 'scalar', name: p.v.name, dtype: p.v.dtype };
    const b = p.buffer;
    resources.set(b, { param: i });
    return { kind: 'buffer', name: b.name, dtype: b.dtype, storage: storage(b), shape: p.shape, written: p.written };
  });
  const workspace = k.workspace.map(({ buffer: b, size }, i): WgslWorkspace => {
    resources.set(b, { workspace: i });
    return { name: b.name, dtype: b.dtype, storage: storage(b), size };
  });
  return { vars, slots: k.slots, params, workspace, resources, launches: k.launches };
}

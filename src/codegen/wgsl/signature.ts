/**
 * A PrimFunc's interface to the runtime: its symbolic variables (where the
 * runtime reads each), its parameters, the workspace buffers (global-scope
 * allocations at the top of its body) and its launches: the statements after
 * them, one dispatch each, as TVM splits host from device code at the global
 * synchronizations between kernels.
 */
import { isFloat, isUnsigned } from '../../ir/dtype.ts';
import { primVars, type PrimVar } from '../../ir/prim/expr.ts';
import type { Buffer } from '../../ir/tir/buffer.ts';
import { type PrimFunc, type Stmt, visitStmts } from '../../ir/tir/stmt.ts';
import type { GpuStorage, WgslParam, WgslVar, WgslWorkspace } from '../../runtime/webgpu/kernel-spec.ts';
import { shapeProduct, toShapeExpr } from './shape.ts';
import { gpuStorage, NO_FLOAT64 } from './types.ts';

export interface Signature {
  readonly vars: readonly WgslVar[];
  /** The slot of each kernel variable in `vars`. */
  readonly slots: ReadonlyMap<PrimVar, number>;
  readonly params: readonly WgslParam[];
  readonly workspace: readonly WgslWorkspace[];
  /** Buffers the launches reach through bindings: parameters, then workspace buffers, in order. */
  readonly resources: ReadonlyMap<Buffer, { readonly param: number } | { readonly workspace: number }>;
  readonly written: ReadonlySet<Buffer>;
  readonly launches: readonly Stmt[];
}

export function signature(f: PrimFunc, f16: boolean, unsupported: (what: string) => never): Signature {
  const storage = (b: Buffer): GpuStorage => gpuStorage(b.dtype, f16) ?? unsupported(`buffer '${b.name}': ${NO_FLOAT64}`);
  const { vars, slots } = variables(f, unsupported);

  const written = new Set<Buffer>();
  visitStmts(f.body, (s) => {
    if (s.kind === 'store') written.add(s.buffer);
  });

  const resources = new Map<Buffer, { param: number } | { workspace: number }>();
  const params = f.params.map((p, i): WgslParam => {
    if (p.kind === 'var') return { kind: 'scalar', name: p.name, dtype: p.dtype };
    resources.set(p, { param: i });
    const shape = p.shape.map((d, k) => toShapeExpr(d, slots, `dimension ${k} of buffer '${p.name}'`, unsupported));
    return { kind: 'buffer', name: p.name, dtype: p.dtype, storage: storage(p), shape, written: written.has(p) };
  });

  let body = f.body;
  const workspace: WgslWorkspace[] = [];
  while (body.kind === 'allocate' && body.buffer.scope === 'global') {
    const b = body.buffer;
    resources.set(b, { workspace: workspace.length });
    const dims = b.shape.map((d, k) => toShapeExpr(d, slots, `dimension ${k} of workspace buffer '${b.name}'`, unsupported));
    workspace.push({ name: b.name, dtype: b.dtype, storage: storage(b), size: shapeProduct(dims) });
    body = body.body;
  }
  const launches = body.kind === 'seq' ? body.stmts : [body];
  return { vars, slots, params, workspace, resources, written, launches };
}

/**
 * Scalar parameters are read as themselves; any other variable of a buffer
 * parameter's shape from the first dimension where it stands alone.
 */
function variables(f: PrimFunc, unsupported: (what: string) => never): { vars: WgslVar[]; slots: Map<PrimVar, number> } {
  const from = new Map<PrimVar, WgslVar['from']>();
  f.params.forEach((p, i) => {
    if (p.kind === 'var') from.set(p, { param: i });
  });
  f.params.forEach((p, i) => {
    if (p.kind !== 'buffer') return;
    p.shape.forEach((d, dim) => {
      if (d.kind === 'var' && !from.has(d)) from.set(d, { param: i, dim });
    });
  });
  // Slots in order of first appearance among the parameters.
  const order = new Set<PrimVar>();
  for (const p of f.params) {
    if (p.kind === 'var') order.add(p);
    else for (const d of p.shape) primVars(d, order);
  }
  const vars: WgslVar[] = [];
  const slots = new Map<PrimVar, number>();
  for (const v of order) {
    const at = from.get(v);
    if (!at) {
      return unsupported(
        `symbolic variable '${v.name}' never stands alone as a dimension of a buffer parameter, so the runtime cannot read it; make it a scalar parameter`,
      );
    }
    if (v.dtype === 'float64') unsupported(`scalar parameter '${v.name}': ${NO_FLOAT64}`);
    slots.set(v, vars.length);
    vars.push({ name: v.name, type: isFloat(v.dtype) ? 'f32' : isUnsigned(v.dtype) ? 'u32' : 'i32', from: at });
  }
  return { vars, slots };
}

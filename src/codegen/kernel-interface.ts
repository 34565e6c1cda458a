/**
 * A PrimFunc's interface to the runtime, whatever the target: its symbolic
 * variables (where the runtime reads each), its parameters with their shapes
 * as shape expressions, the workspace buffers (global-scope allocations at
 * the top of its body, which the runtime allocates per call) and its
 * launches: the statements after them, run one after the other, as TVM
 * splits host from device code at the global synchronizations between
 * kernels. The WGSL and WebAssembly generators describe their kernels with it.
 */
import { primVars, type PrimVar } from '../ir/prim/expr.ts';
import type { Buffer } from '../ir/tir/buffer.ts';
import { type PrimFunc, type Stmt, visitStmts } from '../ir/tir/stmt.ts';
import type { ShapeExpr } from '../runtime/program.ts';
import { shapeProduct, toShapeExpr } from './shape-expr.ts';

export interface KernelVar {
  readonly v: PrimVar;
  /** Read from dimension `dim` of buffer parameter `param`, or (no dim) the value of scalar parameter `param`. */
  readonly from: { readonly param: number; readonly dim?: number };
}

export type KernelParam =
  | { readonly kind: 'buffer'; readonly buffer: Buffer; readonly shape: readonly ShapeExpr[]; readonly written: boolean }
  | { readonly kind: 'scalar'; readonly v: PrimVar };

export interface KernelWorkspace {
  readonly buffer: Buffer;
  /** Number of elements. */
  readonly size: ShapeExpr;
}

export interface KernelInterface {
  readonly vars: readonly KernelVar[];
  /** The slot of each kernel variable in `vars`. */
  readonly slots: ReadonlyMap<PrimVar, number>;
  readonly params: readonly KernelParam[];
  readonly workspace: readonly KernelWorkspace[];
  readonly launches: readonly Stmt[];
}

export function kernelInterface(f: PrimFunc, unsupported: (what: string) => never): KernelInterface {
  const { vars, slots } = variables(f, unsupported);
  const written = new Set<Buffer>();
  visitStmts(f.body, (s) => {
    if (s.kind === 'store') written.add(s.buffer);
  });
  const params = f.params.map((p): KernelParam => {
    if (p.kind === 'var') return { kind: 'scalar', v: p };
    const shape = p.shape.map((d, k) => toShapeExpr(d, slots, `dimension ${k} of buffer '${p.name}'`, unsupported));
    return { kind: 'buffer', buffer: p, shape, written: written.has(p) };
  });
  let body = f.body;
  const workspace: KernelWorkspace[] = [];
  while (body.kind === 'allocate' && body.buffer.scope === 'global') {
    const b = body.buffer;
    const dims = b.shape.map((d, k) => toShapeExpr(d, slots, `dimension ${k} of workspace buffer '${b.name}'`, unsupported));
    workspace.push({ buffer: b, size: shapeProduct(dims) });
    body = body.body;
  }
  const launches = body.kind === 'seq' ? body.stmts : [body];
  return { vars, slots, params, workspace, launches };
}

/**
 * Scalar parameters are read as themselves; any other variable of a buffer
 * parameter's shape from the first dimension where it stands alone.
 */
function variables(f: PrimFunc, unsupported: (what: string) => never): { vars: KernelVar[]; slots: Map<PrimVar, number> } {
  const from = new Map<PrimVar, KernelVar['from']>();
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
  const vars: KernelVar[] = [];
  const slots = new Map<PrimVar, number>();
  for (const v of order) {
    const at = from.get(v);
    if (!at) {
      return unsupported(
        `symbolic variable '${v.name}' never stands alone as a dimension of a buffer parameter, so the runtime cannot read it; make it a scalar parameter`,
      );
    }
    slots.set(v, vars.length);
    vars.push({ v, from: at });
  }
  return { vars, slots };
}

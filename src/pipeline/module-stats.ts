/** The size of a module, for progress, reports and benchmarks. */
import type { SeqExpr } from '../ir/graph/expr.ts';
import type { IRModule } from '../ir/module.ts';

export interface ModuleStats {
  /** All global functions: graph functions, PrimFuncs and extern declarations. */
  readonly functions: number;
  readonly primFuncs: number;
  /** Bindings of the graph functions, if-branches included. */
  readonly bindings: number;
}

export function moduleStats(m: IRModule): ModuleStats {
  let primFuncs = 0;
  let bindings = 0;
  const count = (s: SeqExpr): void => {
    for (const b of s.blocks) {
      for (const x of b.bindings) {
        bindings++;
        if (x.value.kind === 'if') {
          count(x.value.then);
          count(x.value.else);
        }
      }
    }
  };
  for (const f of m.functions.values()) {
    if (f.kind === 'prim_func') primFuncs++;
    else if (f.kind === 'func') count(f.body);
  }
  return { functions: m.functions.size, primFuncs, bindings };
}

/** The size of a module, for progress, reports and benchmarks. */
import type { SeqExpr } from '../ir/graph/expr.ts';
import type { IRModule } from '../ir/module.ts';

export interface ModuleStats {
  /** All global functions: graph functions, PrimFuncs and extern declarations. */
  readonly functions: number;
  readonly primFuncs: number;
  /** Bindings of the graph functions, if-branches included. */
  readonly bindings: number;
  /**
   * Per scheduled kernel, the rule that scheduled each of its launches (the kernel's
   * `schedule_rules` attribute); absent before a schedule stage. The trace is in the
   * module (`kiln inspect --after schedule`).
   */
  readonly schedules?: Readonly<Record<string, readonly string[]>>;
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
  const schedules: Record<string, readonly string[]> = {};
  for (const [name, f] of m.functions) {
    if (f.kind === 'prim_func') {
      primFuncs++;
      const rules = f.attrs.schedule_rules;
      if (Array.isArray(rules)) schedules[name] = rules.map(String);
    } else if (f.kind === 'func') count(f.body);
  }
  const scheduled = Object.keys(schedules).length > 0;
  return { functions: m.functions.size, primFuncs, bindings, ...(scheduled ? { schedules } : {}) };
}

/** The module verifier: well-formedness problems, all of them, with where they are. */
import { KilnError, type Diagnostic } from '../../support/diagnostics.ts';
import { diagnostic, M } from '../../support/messages.ts';
import { type IRModule, sortedFunctionNames } from '../module.ts';
import type { InferOp } from '../graph/op-hooks.ts';
import { verifyGraphFunc } from './graph.ts';
import { verifyMemoryPlan } from './memory.ts';
import { locationOf } from '../text/locations.ts';
import { verifyPrimFunc, type Where } from './tir.ts';

export interface VerifyOptions {
  /** Operator struct-info inference, to check the annotations of operator calls too. */
  readonly inferOp?: InferOp;
}

export function verifyModule(m: IRModule, options: VerifyOptions = {}): Diagnostic[] {
  const problems: Diagnostic[] = [];
  const report = (where: Where, problem: string): void => {
    problems.push(diagnostic(M.wellFormed, { where: where.text, problem }, locationOf(where.node)));
  };
  for (const name of sortedFunctionNames(m)) {
    const f = m.functions.get(name)!;
    if (f.kind === 'prim_func') verifyPrimFunc(name, f, report);
    else if (f.kind === 'func') {
      verifyGraphFunc(m, name, f, report, options.inferOp);
      verifyMemoryPlan(m, name, f, report);
    }
  }
  return problems;
}

/** Throws every well-formedness problem of the module at once. */
export function assertWellFormed(m: IRModule, options: VerifyOptions = {}): void {
  const problems = verifyModule(m, options);
  if (problems.length > 0) throw new KilnError(problems);
}

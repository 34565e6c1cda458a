/**
 * fold-constants → legalize → fuse → plan-memory with default options, as one
 * function: what the vision pipelines run, for the benchmarks, the
 * conformance runner (`KILN_OPTIMIZE=1`) and tests that check the optimising
 * stages keep the numbers.
 */
import { evaluatePrimFunc } from '../codegen/js/evaluate.ts';
import type { IRModule } from '../ir/module.ts';
import { foldModule } from '../passes/fold-constants.ts';
import { ALL_FUSION_RULES } from '../passes/fuse-ops.ts';
import { fuseModule } from '../passes/fuse-tir.ts';
import { legalizeModule } from '../passes/legalize.ts';
import { planModule } from '../passes/plan-memory.ts';
import { inlineIntermediates } from '../schedule/inline-intermediates.ts';

export function optimizeModule(m: IRModule, options: { plan?: boolean } = {}): IRModule {
  const fused = fuseModule(legalizeModule(foldModule(m, { evaluate: evaluatePrimFunc })), {
    maxDepth: 64,
    rules: ALL_FUSION_RULES,
    exclude: [],
    inline: inlineIntermediates,
  });
  return options.plan === false ? fused : planModule(fused);
}

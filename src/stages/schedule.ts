/**
 * `schedule`: gives every kernel a schedule for the target from its default
 * rules (src/schedule/rules/default-rules.ts, a rule set per target kind),
 * recording per kernel the rule and the trace applied (shown by `kiln
 * inspect` and the build report). Kernels that already carry a schedule are
 * left alone. It schedules the kernels the module has: operator calls not yet
 * legalized are legalized by codegen and run unscheduled, which it warns
 * about (put `legalize` before `schedule`). Weights a CPU rule pre-packs (a
 * matmul's constant B in panels) are rewritten into the new layout here, the
 * transform evaluated at build time (src/schedule/layout-rewrite.ts).
 *
 *   - schedule: {}
 */
import { z } from 'zod';
import { defineStage } from './registry.ts';

/** Bumped whenever the default rules or the primitives change what they produce. */
export const SCHEDULE_VERSION = 20;

export const scheduleStage = defineStage({
  id: 'schedule',
  version: SCHEDULE_VERSION,
  description: "Schedules every kernel with the target's default rules and records the rule and trace per kernel.",
  options: z
    .object({
      rules: z.enum(['default']).default('default').describe('The rule set: the default rules of the target.'),
    })
    .strict(),
  run: async (module, ctx) => {
    if (!module) throw new Error('schedule needs a module; put import first');
    // Loaded on use: a cached build never needs the rules.
    const { defaultRules, scheduleModule } = await import('../schedule/rules/default-rules.ts');
    if (defaultRules(ctx.target.kind).length === 0) {
      ctx.log(`target '${ctx.target.name}' (${ctx.target.kind}) has no schedule rules; kernels run as written`);
      return module;
    }
    const { needsLegalization } = await import('../passes/legalize.ts');
    if (needsLegalization(module)) {
      ctx.warn(
        "operator calls are not legalized yet: codegen will legalize them and they will run unscheduled; put a 'legalize: {}' stage before 'schedule'",
      );
    }
    // The js kernels evaluate the layout transforms of pre-packed weights at build time (as fold-constants does).
    const { evaluatePrimFunc } = await import('../codegen/js/evaluate.ts');
    return scheduleModule(module, ctx.target, { evaluate: evaluatePrimFunc });
  },
});

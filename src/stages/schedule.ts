/**
 * `schedule`: gives every kernel a schedule for the target from its default
 * rules (for WebGPU: injective, reductions, fallback), recording per kernel
 * the rule and the trace applied (shown by `kiln inspect` and the build
 * report). Kernels that already carry thread bindings are left alone. The CPU
 * target (js) has no rules: its kernels run as written.
 *
 *   - schedule: {}
 */
import { z } from 'zod';
import { LEGALIZE_VERSION } from '../passes/legalize-pass.ts';
import { defineStage } from './registry.ts';

/** Bumped whenever the default rules or the primitives change what they produce. */
export const SCHEDULE_VERSION = 2;

export const scheduleStage = defineStage({
  id: 'schedule',
  version: SCHEDULE_VERSION,
  description: "Schedules every kernel with the target's default rules and records the rule and trace per kernel.",
  options: z
    .object({
      rules: z.enum(['default']).default('default').describe('The rule set: the default rules of the target.'),
    })
    .strict(),
  fingerprint: () => `legalize@${LEGALIZE_VERSION}`,
  run: async (module, ctx) => {
    if (!module) throw new Error('schedule needs a module; put import first');
    if (ctx.target.kind !== 'webgpu') {
      ctx.log(`target '${ctx.target.name}' (${ctx.target.kind}) has no schedule rules; kernels run as written`);
      return module;
    }
    // Loaded on use: a cached build never needs the operator library or the rules.
    const { legalizeModule } = await import('../passes/legalize.ts');
    const { scheduleModule } = await import('../schedule/rules/default-rules.ts');
    return scheduleModule(legalizeModule(module), ctx.target);
  },
});

/**
 * `legalize`: rewrites operator calls into call_tir of kernels from the
 * operator library (see src/passes/legalize.ts).
 *
 *   - legalize: {}
 */
import { z } from 'zod';
import { LEGALIZE_VERSION } from '../passes/legalize-pass.ts';
import { defineStage } from './registry.ts';

export const legalizeStage = defineStage({
  id: 'legalize',
  version: 1,
  description: 'Rewrites operator calls into call_tir of PrimFuncs made by the operator library.',
  options: z.object({}).strict(),
  usesTarget: false,
  fingerprint: () => `legalize@${LEGALIZE_VERSION}`,
  run: async (module) => {
    if (!module) throw new Error('legalize needs a module; put import first');
    // Loaded on use, with the operator library: a cached build never needs them.
    const { legalizeModule } = await import('../passes/legalize.ts');
    return legalizeModule(module);
  },
});

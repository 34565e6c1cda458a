/**
 * The `legalize` pass as the registry knows it. Its implementation (and the
 * operator library with it) loads on use: a pipeline whose stages are all
 * cached never pays for it, which keeps a no-op rebuild fast.
 */
import { z } from 'zod';
import type { IRModule } from '../ir/module.ts';
import { definePass } from './registry.ts';

/** Bumped whenever legalization's output changes for the same module (cache keys). */
export const LEGALIZE_VERSION = 3;

let implementation: ((m: IRModule) => IRModule) | undefined;

export const LEGALIZE = definePass({
  name: 'legalize',
  description: 'Rewrites operator calls into call_tir of PrimFuncs made by the operator library, shared between identical calls.',
  version: LEGALIZE_VERSION,
  options: z.object({}),
  load: async () => {
    implementation ??= (await import('./legalize.ts')).legalizeModule;
  },
  create: () => ({
    name: 'legalize',
    run: (m) => {
      if (!implementation) throw new Error('the legalize pass ran before its implementation was loaded (await LEGALIZE.load())');
      return implementation(m);
    },
  }),
});

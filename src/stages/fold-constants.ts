/**
 * `fold-constants`: evaluates at build time the calls whose inputs are all
 * constants, through the js target's kernels (bit for bit the CPU's run-time
 * values), folds batch_norm into the convolution or matmul before it, and
 * removes what became dead (src/passes/fold-constants.ts). Put it before
 * `legalize` to fold batch norms; after it, it still folds call_tir of constants.
 *
 *   - fold-constants: { batch-norm: true, max-bytes: 268435456 }
 */
import { z } from 'zod';
import { defineStage } from './registry.ts';

/** Bumped whenever folding changes what it produces. */
export const FOLD_VERSION = 1;

export const foldConstantsStage = defineStage({
  id: 'fold-constants',
  version: FOLD_VERSION,
  description: 'Evaluates calls of constants at build time, folds batch_norm into the weights before it, removes dead code.',
  options: z
    .object({
      'batch-norm': z.boolean().default(true).describe('Fold batch_norm into the convolution / matmul before it.'),
      'max-bytes': z
        .number()
        .int()
        .positive()
        .default(256 * 1024 * 1024)
        .describe('Results larger than this are left to run time.'),
    })
    .strict(),
  usesTarget: false,
  run: async (module, ctx) => {
    if (!module) throw new Error('fold-constants needs a module; put import first');
    // Loaded on use, with the operator library and the JavaScript emitter: a cached build needs neither.
    const [{ foldModule }, { evaluatePrimFunc }] = await Promise.all([
      import('../passes/fold-constants.ts'),
      import('../codegen/js/evaluate.ts'),
    ]);
    const stats = { folded: 0, batchNorms: 0 };
    const out = foldModule(
      module,
      { evaluate: evaluatePrimFunc, batchNorm: ctx.options['batch-norm'], maxBytes: ctx.options['max-bytes'] },
      stats,
    );
    ctx.log(`folded ${stats.folded} call(s) of constants and ${stats.batchNorms} batch_norm(s)`);
    return out;
  },
});

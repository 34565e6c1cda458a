/**
 * `fuse`: FuseOps + FuseTIR. Records each kernel's pattern kind (`op_pattern`),
 * groups calls by a post-dominator analysis (conv/matmul + bias + activation
 * + residual add, chains of injective calls, a reduction with its
 * elementwise epilogue) and merges each group into one kernel whose
 * intermediates are inlined where the schedule primitives allow
 * (src/passes/fuse-ops.ts, src/passes/fuse-tir.ts). Put it after `legalize`.
 *
 *   - fuse: { max-depth: 64, patterns: { injective: false }, exclude: [softmax] }
 */
import { z } from 'zod';
import { defineStage } from './registry.ts';

/** Bumped whenever fusion changes what it produces. */
export const FUSE_VERSION = 2;

const patterns = z
  .object({
    'out-elemwise': z.boolean().default(true).describe('matmul / convolution + elementwise and broadcast consumers.'),
    'reduction-epilogue': z.boolean().default(true).describe('A reduction + its elementwise consumers.'),
    elemwise: z.boolean().default(true).describe('Elementwise / broadcast calls into their consumer.'),
    injective: z.boolean().default(true).describe('Chains of injective calls (transpose, reshape, pad, ...).'),
    'dequantize-prologue': z
      .boolean()
      .default(true)
      .describe('A widening call (dequantize, a cast up) into the matmul / convolution that reads it.'),
  })
  .strict();

export const fuseStage = defineStage({
  id: 'fuse',
  version: FUSE_VERSION,
  description: 'Fuses kernel calls by their loop patterns (FuseOps) and merges each group into one kernel (FuseTIR).',
  options: z
    .object({
      'max-depth': z.number().int().min(1).default(64).describe('The most calls fused into one kernel.'),
      patterns: patterns.default({
        'out-elemwise': true,
        'reduction-epilogue': true,
        elemwise: true,
        injective: true,
        'dequantize-prologue': true,
      }),
      exclude: z
        .array(z.string())
        .default([])
        .describe('Kernels never fused, by name or by name without its number (conv2d covers conv2d3).'),
    })
    .strict(),
  usesTarget: false,
  run: async (module, ctx) => {
    if (!module) throw new Error('fuse needs a module; put import first');
    const [{ fuseModule }, { inlineIntermediates }, { needsLegalization }] = await Promise.all([
      import('../passes/fuse-tir.ts'),
      import('../schedule/inline-intermediates.ts'),
      import('../passes/legalize.ts'),
    ]);
    if (needsLegalization(module))
      ctx.warn("operator calls are not legalized yet and are not fused; put 'legalize: {}' before 'fuse'");
    const stats = { functions: {} as Record<string, { before: number; after: number; groups: string[][] }> };
    const out = fuseModule(
      module,
      {
        maxDepth: ctx.options['max-depth'],
        rules: ctx.options.patterns,
        exclude: ctx.options.exclude,
        inline: inlineIntermediates,
      },
      stats,
    );
    for (const [name, s] of Object.entries(stats.functions)) {
      ctx.log(
        `${name}: ${s.before} kernel calls -> ${s.after} (${s.groups.length} groups: ${s.groups.map((g) => g.join('+')).join(', ')})`,
      );
    }
    return out;
  },
});

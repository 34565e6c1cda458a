/**
 * `plan-memory`: static storage planning (src/passes/plan-memory.ts). The
 * plan is in the IR (`alloc_storage`, `alloc_tensor`, `call_tir(..., dst:)`;
 * `kiln inspect --after plan-memory` shows it); the VM places tensors in the
 * arena (the cpu, WebAssembly memory) or in one buffer per storage token (webgpu). The
 * build log gives, per function, the planned bytes against the naive sum and
 * the peak, at batch 1 and at the pipeline's upper bounds.
 *
 *   - plan-memory: { picture: ../artifacts/memory-plan-vision.html }
 */
import { z } from 'zod';
import { defineStage } from './registry.ts';

/** Bumped whenever planning changes what it produces. */
export const PLAN_MEMORY_VERSION = 1;

export const planMemoryStage = defineStage({
  id: 'plan-memory',
  version: PLAN_MEMORY_VERSION,
  description: 'Plans the storage of intermediate tensors: liveness, shared tokens, in-place reuse, one arena per block.',
  options: z
    .object({
      picture: z
        .string()
        .optional()
        .describe('An HTML file (relative to the pipeline) with the plan drawn: a timeline of each arena, a bar per tensor.'),
    })
    .strict(),
  usesTarget: false,
  run: async (module, ctx) => {
    if (!module) throw new Error('plan-memory needs a module; put import first');
    const { planModule, describePlan } = await import('../passes/plan-memory.ts');
    const stats = { functions: {} };
    const out = planModule(module, stats);
    for (const line of describePlan(out, stats)) ctx.log(line);
    if (ctx.options.picture) {
      const { memoryPicture, upperBounds } = await import('../passes/memory-picture.ts');
      // Drawn at the upper bounds of the symbolic dimensions (model.dynamic), 1 where there is none.
      ctx.emitFile(ctx.resolvePath(ctx.options.picture), new TextEncoder().encode(memoryPicture(out, upperBounds(out))));
    }
    return out;
  },
});

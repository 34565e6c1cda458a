/**
 * Injective kernels (elementwise, broadcast, data movement): every output
 * element is independent, so the loops fuse into one that splits across
 * workgroups and threads.
 */
import { constExtent } from './nest.ts';
import { ceilPow2, type ScheduleRule } from './rule.ts';

export const injectiveRule: ScheduleRule = {
  name: 'injective',
  apply(sch, nest, ctx) {
    const blk = nest.block.block;
    if (blk.init || blk.iterVars.some((iv) => iv.iterKind === 'reduce') || nest.loops.length === 0) return false;
    if (nest.roles.some((r) => r === 'reduce' || r === 'mixed')) return false;
    const b = sch.getBlock(blk.name);
    const loops = sch.getLoops(b);
    const fused = loops.length > 1 ? sch.fuse(...loops) : loops[0]!;
    const total = constExtent(nest.loops);
    const threads = total === undefined ? ctx.maxThreads : Math.min(ctx.maxThreads, ceilPow2(total));
    const [bx, tx] = sch.split(fused, [null, threads]);
    sch.bind(bx!, 'blockIdx.x');
    sch.bind(tx!, 'threadIdx.x');
    return true;
  },
};

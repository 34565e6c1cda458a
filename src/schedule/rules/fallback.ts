/**
 * The fallback: any nest whose outer loops drive only spatial iterators gets
 * those loops spread over threads; the rest of the nest runs in each thread as
 * written. A nest with nothing provably parallel runs on one thread — slow but
 * correct (the WGSL generator launches an unbound nest as a single invocation).
 */
import type { ScheduleRule } from './rule.ts';

export const fallbackRule: ScheduleRule = {
  name: 'fallback',
  apply(sch, nest) {
    let outer = 0;
    while (outer < nest.loops.length && nest.roles[outer] === 'spatial') outer++;
    if (outer === 0) return false;
    const b = sch.getBlock(nest.block.block.name);
    const loops = sch.getLoops(b).slice(0, outer);
    const fused = loops.length > 1 ? sch.fuse(...loops) : loops[0]!;
    const [bx, tx] = sch.split(fused, [null, 64]);
    sch.bind(bx!, 'blockIdx.x');
    sch.bind(tx!, 'threadIdx.x');
    return true;
  },
};

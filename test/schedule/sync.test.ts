/** insertWorkgroupBarriers: where a schedule with workgroup memory needs barriers, and where none may go. */
import { describe, expect, it } from 'vitest';
import { insertWorkgroupBarriers } from '../../src/schedule/sync.ts';
import { expectFunc, kernel } from '../helpers/prim-funcs.ts';

const TILED = (barrier1: string, barrier2: string): string => `
prim_func k(X: f32[4, 64], Y: f32[4, 64]) {
  for b in thread_binding(4, "blockIdx.x") {
    alloc tile: f32[8] shared
    for t in thread_binding(8, "threadIdx.x") {
      for ko in range(8) {
        tile[t] = X[b, ko * 8 + t]${barrier1}
        Y[b, ko * 8 + t] = tile[7 - t]${barrier2}
      }
    }
  }
}`;

const BARRIER = '\n        eval workgroup_barrier()';

describe('insertWorkgroupBarriers', () => {
  it('puts a barrier between a copy and its use, and at the end of a loop that overwrites the tile', () => {
    const f = kernel(TILED('', ''));
    expectFunc(insertWorkgroupBarriers(f), TILED(BARRIER, BARRIER));
  });

  it('keeps a kernel that already synchronises as it is', () => {
    const f = kernel(TILED(BARRIER, BARRIER));
    expect(insertWorkgroupBarriers(f)).toBe(f);
  });

  it('leaves code outside thread loops, and shared accesses under a thread-dependent if, alone', () => {
    const f = kernel(`
prim_func k(X: f32[8], Y: f32[8]) {
  for t in thread_binding(8, "threadIdx.x") {
    alloc tile: f32[8] shared
    if t < 4 {
      tile[t] = X[t]
      Y[t] = tile[3 - t]
    }
  }
}`);
    expect(insertWorkgroupBarriers(f)).toBe(f);
  });
});

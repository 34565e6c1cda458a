import { describe, expect, it } from 'vitest';
import { replayTrace } from '../../src/schedule/schedule.ts';
import { type Trace, type TraceInstruction, traceText } from '../../src/schedule/trace.ts';
import { expectFunc, expectSameResults, kernel, printFunc, schedule } from '../helpers/prim-funcs.ts';
import { MATMUL } from './kernels.ts';

const SUM = `
prim_func k(data: f32[n, 256], T_sum: f32[n]) {
  for i, k1 in grid(n, 256) {
    block T_sum(vi = spatial(i), vk1 = reduce(k1)) {
      init { T_sum[vi] = 0.0 }
      T_sum[vi] = T_sum[vi] + data[vi, vk1]
    }
  }
}`;

/** The row reduction the default GPU rule applies. */
function rowReduction() {
  const sch = schedule(SUM);
  const b = sch.getBlock('T_sum');
  const [i, k1] = sch.getLoops(b);
  sch.bind(i!, 'blockIdx.x');
  const [outer, inner] = sch.split(k1!, [null, 64]);
  sch.reorder(inner!, outer!);
  sch.bind(inner!, 'threadIdx.x');
  sch.crossThreadReduction(b);
  return sch;
}

describe('trace', () => {
  it('records a row reduction and replays it to the same kernel', () => {
    const sch = rowReduction();
    expect(traceText(sch.trace)).toBe(
      [
        'b0 = get_block(name="T_sum")',
        'l1, l2 = get_loops(b0)',
        'bind(l1, thread="blockIdx.x")',
        'l3, l4 = split(l2, factors=[None, 64])',
        'reorder(l4, l3)',
        'bind(l4, thread="threadIdx.x")',
        'cross_thread_reduction(b0)',
      ].join('\n'),
    );
    const replayed = replayTrace(kernel(SUM), 'k', sch.trace);
    expectFunc(replayed.func, printFunc(sch.func));
    expect(traceText(replayed.trace)).toBe(traceText(sch.trace));
  });

  it('replays a trace that went through JSON (as the tuning database stores it)', () => {
    const sch = schedule(MATMUL);
    const b = sch.getBlock('mm');
    const [i, j, k] = sch.getLoops(b);
    const ij = sch.fuse(i!, j!);
    const [bx, tx] = sch.split(ij, [null, 32]);
    const [, ki] = sch.split(k!, [4, 4]);
    sch.unroll(ki!, 16);
    const init = sch.decomposeReduction(b, tx!);
    sch.parallel(bx!);
    sch.vectorize(sch.getLoops(init)[1]!);
    expect(traceText(sch.trace)).toBe(
      [
        'b0 = get_block(name="mm")',
        'l1, l2, l3 = get_loops(b0)',
        'l4 = fuse(l1, l2)',
        'l5, l6 = split(l4, factors=[None, 32])',
        'l7, l8 = split(l3, factors=[4, 4])',
        'unroll(l8, max_copies=16)',
        'b9 = decompose_reduction(b0, l6)',
        'parallel(l5)',
        'l10, l11 = get_loops(b9)',
        'vectorize(l11)',
      ].join('\n'),
    );
    expectFunc(
      sch.func,
      `prim_func k(X: f32[n, 16], W: f32[16, 8], Y: f32[n, 8]) {
        for i_j_fused_0 in parallel((n + 3) // 4) {
          for i_j_fused_1_init in vectorized(32) {
            block mm_init(vi_init = spatial(n, (i_j_fused_0 * 32 + i_j_fused_1_init) // 8), vj_init = spatial(8, (i_j_fused_0 * 32 + i_j_fused_1_init) % 8)) {
              where i_j_fused_0 * 32 + i_j_fused_1_init < n * 8
              Y[vi_init, vj_init] = 0.0
            }
          }
          for i_j_fused_1, k_0 in grid(32, 4) {
            for k_1 in unrolled(4) attrs(max_copies=16) {
              block mm(vi = spatial(n, (i_j_fused_0 * 32 + i_j_fused_1) // 8), vj = spatial(8, (i_j_fused_0 * 32 + i_j_fused_1) % 8), vk = reduce(16, k_0 * 4 + k_1)) {
                where i_j_fused_0 * 32 + i_j_fused_1 < n * 8
                Y[vi, vj] = Y[vi, vj] + X[vi, vk] * W[vk, vj]
              }
            }
          }
        }
      }`,
    );
    const stored = JSON.parse(JSON.stringify(sch.trace)) as Trace;
    const replayed = replayTrace(kernel(MATMUL), 'k', stored);
    expectFunc(replayed.func, printFunc(sch.func));
    expectSameResults(kernel(MATMUL), replayed.func, { n: 5 }, 1e-5);
  });

  describe('a corrupted trace', () => {
    const trace = rowReduction().trace;
    const corrupt = (step: number, change: Partial<TraceInstruction>): Trace =>
      trace.map((ins, i) => (i === step ? { ...ins, ...change } : ins));
    const fails = (t: Trace, problem: string): void => {
      expect(() => replayTrace(kernel(SUM), 'k', t)).toThrow(
        new RegExp(`K7202: replaying the schedule trace of kernel 'k' failed at step \\d+ \\(.*\\): ${problem}`),
      );
    };

    it('an input no earlier instruction defines', () =>
      fails(corrupt(3, { inputs: ['l9'] }), 'input l9 is not defined by an earlier instruction'));
    it('an unknown primitive', () => fails(corrupt(4, { op: 'tile' }), "unknown primitive 'tile'"));
    it('a missing or mistyped attribute', () => {
      fails(corrupt(3, { attrs: { factors: '64' } }), "attribute 'factors' is missing or has the wrong type");
      fails(corrupt(2, { attrs: {} }), "attribute 'thread' is missing or has the wrong type");
    });
    it('a block where a loop belongs', () => fails(corrupt(2, { inputs: ['b0'] }), 'input 0 must be a loop'));
    it('fewer outputs than the primitive gives', () =>
      fails(corrupt(3, { outputs: ['l3'] }), 'it produced 2 handles, the trace recorded 1'));
    it('names the step', () =>
      expect(() => replayTrace(kernel(SUM), 'k', corrupt(4, { op: 'tile' }))).toThrow(/failed at step 4 \(tile\(l4, l3\)\)/));
    it('a step that no longer applies names the step and the primitive error', () =>
      expect(() => replayTrace(kernel(SUM), 'k', corrupt(3, { attrs: { factors: [null, null] } }))).toThrow(
        /K7202: .*failed at step 3 \(l3, l4 = split\(l2, factors=\[None, None\]\)\): .*split: at most one factor may be null/,
      ));
  });
});

/**
 * The default GPU rules: every legalized kernel gets a schedule, each launch
 * records the rule that scheduled it, and the recorded trace replays on the
 * unscheduled kernel to the very same function.
 */
import { describe, expect, it } from 'vitest';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { emitWgslKernel } from '../../src/codegen/wgsl/kernel.ts';
import type { TraceInstruction } from '../../src/schedule/trace.ts';
import { getPrimFunc } from '../../src/ir/module.ts';
import { structuralEqual } from '../../src/ir/structural.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { opHooks } from '../../src/ops/index.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import {
  scheduleKernel,
  scheduleModule,
  SCHEDULE_RULES_ATTR,
  SCHEDULE_TRACE_ATTR,
} from '../../src/schedule/rules/default-rules.ts';
import { replayTrace } from '../../src/schedule/schedule.ts';
import { WEBGPU_DISCRETE_TARGET, WEBGPU_TARGET } from '../helpers/gpu-ops.ts';
import { expectSameResults, printFunc } from '../helpers/prim-funcs.ts';
import { lockstep } from './lockstep.ts';
import { matmulKernel } from './kernels.ts';

const MODEL = `
func main(x: Tensor[(n, 64), f32], w: Tensor[(64, 32), f32], wt: Tensor[(32, 64), f32], c: Tensor[(1, 3, 8, 8), f32], k: Tensor[(4, 3, 3, 3), f32]) -> Tensor[(n, 32), f32] {
  dataflow {
    a = matmul(x, w)
    t = permute_dims(wt)
    a2 = matmul(x, t)
    b = softmax(a, axis=1)
    d = conv2d(c, k, padding=[1, 1, 1, 1])
    e = sum(x, axis=[1])
    r = relu(b)
    output r
  }
  return r
}`;

const legalized = legalizeModule(parseModule(MODEL, { ...opHooks, file: 'model.kir' }));
const scheduled = scheduleModule(legalized, WEBGPU_TARGET);

function rulesOf(name: string): unknown {
  return getPrimFunc(scheduled, name)!.attrs[SCHEDULE_RULES_ATTR];
}

describe('default GPU rules', () => {
  it('record which rule scheduled each launch of each kernel', () => {
    expect(rulesOf('relu')).toEqual(['injective']);
    // x · W with 32 and more rows and columns: register-blocked tiles.
    expect(rulesOf('matmul')).toEqual(['matmul']);
    // A row sum over the contiguous axis, over n rows: on a software adapter (no real workgroup memory) a
    // thread per row, its sum in a register; on a GPU a workgroup per row.
    expect(rulesOf('sum')).toEqual(['reduction-per-thread']);
    expect(scheduleKernel('sum', getPrimFunc(legalized, 'sum')!, WEBGPU_DISCRETE_TARGET).rules).toEqual(['reduction']);
    // Softmax's rows of 32: two reductions and the elementwise division, one launch each.
    expect(rulesOf('softmax')).toHaveLength(3);
    expect((rulesOf('softmax') as string[])[2]).toBe('injective');
    // A padded 3x3 convolution: input patches and weights per channel step in workgroup memory.
    expect(rulesOf('conv2d')).toEqual(['conv']);
  });

  it('every kernel of the module is scheduled, none is left to run on one thread', async () => {
    for (const [name, f] of scheduled.functions) {
      if (f.kind !== 'prim_func') continue;
      expect(f.attrs[SCHEDULE_RULES_ATTR], name).not.toContain('none');
    }
    expect((await buildArtifact(scheduled, { name: 't', target: WEBGPU_TARGET })).warnings).toEqual([]);
  });

  it('the recorded trace replays on the unscheduled kernel to the scheduled one', () => {
    for (const [name, f] of scheduled.functions) {
      if (f.kind !== 'prim_func') continue;
      const trace = f.attrs[SCHEDULE_TRACE_ATTR] as unknown as TraceInstruction[];
      const replayed = replayTrace(getPrimFunc(legalized, name)!, name, trace).func;
      expect(structuralEqual({ ...replayed, attrs: f.attrs }, f), name).toBe(true);
    }
  });

  it('a webgpu build of unscheduled kernels warns that they run on one thread', async () => {
    const warnings = (await buildArtifact(legalized, { name: 't', target: WEBGPU_TARGET })).warnings;
    expect(warnings.join('\n')).toMatch(/no GPU schedule and will run on a single GPU thread .*add a 'schedule: \{\}' stage/);
  });

  it('scheduling again leaves scheduled kernels alone', () => {
    expect(scheduleModule(scheduled, WEBGPU_TARGET)).toBe(scheduled);
  });
});

describe('the matmul rule', () => {
  const kernelOf = (text: string) => getPrimFunc(legalizeModule(parseModule(text, { ...opHooks, file: 'mm.kir' })), 'matmul')!;
  const MM = `
func main(x: Tensor[(m, 40), f32], w: Tensor[(40, 50), f32]) -> Tensor[(m, 50), f32] {
  dataflow {
    y = matmul(x, w)
    output y
  }
  return y
}`;

  it('on a GPU with workgroup memory: tiles into it, accumulates in registers, and keeps the numbers (interpreter, partial tiles)', () => {
    const before = kernelOf(MM);
    const s = scheduleKernel('matmul', before, WEBGPU_DISCRETE_TARGET);
    expect(s.rules).toEqual(['matmul']);
    const text = printFunc(s.func);
    expect(text).toMatch(/alloc x1_shared: f32\[32, 8\] shared/);
    expect(text).toMatch(/alloc x2_shared: f32\[8, 32\] shared/);
    expect(text).toMatch(/alloc T_matmul_local: f32\[4, 4\] local/);
    expectSameResults(before, s.func, { m: 37 }, 1e-4);
  });

  it('on a software adapter: no workgroup memory, an 8x8 register block per thread, shrunk on short dims (same numbers)', () => {
    const before = kernelOf(MM);
    const s = scheduleKernel('matmul', before, WEBGPU_TARGET);
    expect(s.rules).toEqual(['matmul']);
    const text = printFunc(s.func);
    expect(text).not.toMatch(/ shared/);
    // 50 columns over 8 threads: blocks of 4 columns; the symbolic rows get the target's 8.
    expect(text).toMatch(/alloc T_matmul_local: f32\[8, 4\] local/);
    expectSameResults(before, s.func, { m: 37 }, 1e-4);
    const square = scheduleKernel('matmul', matmulKernel(128, 64, 128), WEBGPU_TARGET);
    expect(printFunc(square.func)).toMatch(/alloc T_matmul_local: f32\[8, 8\] local/);
  });

  it('the register block is indexed with constants in the WGSL (unrolled, folded)', () => {
    const s = scheduleKernel('matmul', matmulKernel(128, 64, 128), WEBGPU_TARGET);
    const wgsl = emitWgslKernel('matmul', s.func, WEBGPU_TARGET).source;
    expect(wgsl).toMatch(/T_matmul_local\[63i\] = \(T_matmul_local\[63i\] \+/);
    expect(wgsl).not.toMatch(/T_matmul_local\[[^\]0-9]/);
  });

  it('leaves a single-row product (GEMV) to the reduction rules', () => {
    const gemv = kernelOf(MM.replaceAll('(m, ', '(1, '));
    expect(scheduleKernel('matmul', gemv, WEBGPU_TARGET).rules).not.toEqual(['matmul']);
  });
});

describe('the reduction rules', () => {
  const layerNorm = getPrimFunc(
    legalizeModule(
      parseModule(
        `
func main(x: Tensor[(128, 768), f32], g: Tensor[(768,), f32], b: Tensor[(768,), f32]) -> Tensor[(128, 768), f32] {
  dataflow {
    y = layer_norm(x, g, b, axes=[-1])
    output y
  }
  return y
}`,
        { ...opHooks, file: 'ln.kir' },
      ),
    ),
    'layer_norm',
  )!;

  it("a row's mean, read once per row, does not make its variance a GEMV: a workgroup (or on a software adapter a thread) per row", () => {
    const gpu = scheduleKernel('layer_norm', layerNorm, WEBGPU_DISCRETE_TARGET);
    expect(gpu.rules).toEqual(['reduction', 'reduction', 'injective']);
    const software = scheduleKernel('layer_norm', layerNorm, WEBGPU_TARGET);
    expect(software.rules).toEqual(['reduction-per-thread', 'reduction-per-thread', 'injective']);
    expectSameResults(layerNorm, software.func, {}, 1e-4);
    expectSameResults(layerNorm, lockstep(gpu.func), {}, 1e-4);
  });

  it('a thread per row sums in a register and writes its output once', () => {
    const wgsl = emitWgslKernel('layer_norm', scheduleKernel('layer_norm', layerNorm, WEBGPU_TARGET).func, WEBGPU_TARGET).source;
    expect(wgsl).toMatch(/var T_layer_norm_sum_local: array<f32, 1>;/);
    expect(wgsl).toMatch(
      /for \(var \w+: i32 = 0i; \w+ < 768i; \w+\+\+\) \{\n\s+T_layer_norm_sum_local\[0i\] = \(T_layer_norm_sum_local\[0i\] \+ /,
    );
  });
});

describe('the gemv rule', () => {
  const kernelOf = (rows: number, k: number, n: number) => matmulKernel(rows, k, n);

  it('on a GPU with workgroup memory: threads along the outputs and along a long reduction, combining there (same numbers)', () => {
    const before = kernelOf(1, 256, 40);
    const s = scheduleKernel('matmul', before, WEBGPU_DISCRETE_TARGET);
    expect(s.rules).toEqual(['gemv']);
    const text = printFunc(s.func);
    expect(text).toMatch(/thread_binding\(32, "threadIdx.x"\)/);
    expect(text).toMatch(/thread_binding\(8, "threadIdx.y"\)/);
    // Partial results per reduce thread, then per output thread: neighbouring threadIdx.x touch neighbouring words.
    expect(text).toMatch(/alloc T_matmul_shared: f32\[8, 32\] shared/);
    expectSameResults(before, lockstep(s.func), {}, 1e-4);
  });

  it('on a software adapter: a block of 8 neighbouring outputs per thread in registers, the whole reduction each (same numbers)', () => {
    const before = kernelOf(1, 256, 40);
    const s = scheduleKernel('matmul', before, WEBGPU_TARGET);
    expect(s.rules).toEqual(['gemv']);
    const text = printFunc(s.func);
    expect(text).not.toMatch(/ shared/);
    expect(text).toMatch(/thread_binding\(8, "threadIdx.x"\)/);
    expect(text).toMatch(/alloc T_matmul_local: f32\[1, 8\] local/);
    // The block's loop is vectorized: its weights are read as two vec4s per step of the reduction.
    expect(text).toMatch(/for j_2 in vectorized\(8\)/);
    expectSameResults(before, s.func, {}, 1e-4);
    const wgsl = emitWgslKernel('matmul', s.func, WEBGPU_TARGET).source;
    expect(wgsl).toContain('var<storage, read> x2_vec4: array<vec4<f32>>;');
    // Two per step, in each copy of the reduction loop: the full blocks' (unguarded) and the tail block's.
    expect(wgsl.match(/= x2_vec4\[/g)).toHaveLength(4);
  });

  it('leaves short reductions and many outputs to one thread per output', () => {
    expect(scheduleKernel('matmul', kernelOf(1, 64, 40), WEBGPU_TARGET).rules).toEqual(['reduction-per-thread']);
    expect(scheduleKernel('matmul', kernelOf(1, 512, 32768), WEBGPU_TARGET).rules).toEqual(['reduction-per-thread']);
  });
});

/**
 * The convolution rule: output tiles per workgroup, a few outputs per thread
 * in registers, and per step of input channels the input patch (halo
 * included) and the weights in workgroup memory. Each case checks the rule
 * applied, the workgroup memory stayed within the target's limit, and the
 * TIR interpreter gives the same numbers before and after (padding taps,
 * partial tiles and partial channel steps included). test/ops runs the same
 * kernels on WebGPU against the CPU.
 */
import { describe, expect, it } from 'vitest';
import { emitWgslKernel } from '../../src/codegen/wgsl/index.ts';
import { getPrimFunc } from '../../src/ir/module.ts';
import type { TargetDescription } from '../../src/ir/target.ts';
import { type PrimFunc, visitStmts } from '../../src/ir/tir/stmt.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { opHooks } from '../../src/ops/index.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import { registerPlan } from '../../src/schedule/rules/conv.ts';
import { scheduleKernel } from '../../src/schedule/rules/default-rules.ts';
import { WEBGPU_DISCRETE_TARGET, WEBGPU_TARGET as SOFTWARE_TARGET } from '../helpers/gpu-ops.ts';
import { expectSameResults, printFunc } from '../helpers/prim-funcs.ts';

/** A GPU with workgroup memory (targets/webgpu-discrete.yaml): the staged tiles. */
const STAGED_TARGET = WEBGPU_DISCRETE_TARGET;

/** The legalized kernel of one operator call. */
function convKernel(params: string, call: string): { name: string; func: PrimFunc } {
  const text = `
func main(${params}) -> Tensor[f32] {
  dataflow {
    y = ${call}
    output y
  }
  return y
}`;
  const m = legalizeModule(parseModule(text, { ...opHooks, file: 'conv.kir' }));
  const name = call.slice(0, call.indexOf('('));
  return { name, func: getPrimFunc(m, name)! };
}

function sharedAllocs(f: PrimFunc): { name: string; elements: number }[] {
  const out: { name: string; elements: number }[] = [];
  visitStmts(f.body, (s) => {
    if (s.kind === 'allocate' && s.buffer.scope === 'shared') {
      out.push({ name: s.buffer.name, elements: s.buffer.shape.reduce((n, d) => n * (d.kind === 'int' ? d.value : NaN), 1) });
    }
  });
  return out;
}

function withSharedBytes(bytes: number): TargetDescription {
  return { ...STAGED_TARGET, limits: { ...STAGED_TARGET.limits, maxComputeWorkgroupStorageSize: bytes } };
}

describe('the conv rule', () => {
  it('keeps the input patch with its halo and the weights of a channel step in workgroup memory', () => {
    const { name, func } = convKernel(
      'x: Tensor[(1, 16, 32, 32), f32], w: Tensor[(32, 16, 3, 3), f32]',
      'conv2d(x, w, padding=[1, 1, 1, 1])',
    );
    const s = scheduleKernel(name, func, STAGED_TARGET);
    expect(s.rules).toEqual(['conv']);
    const text = printFunc(s.func);
    // 16x16 outputs per workgroup read an 18x18 patch per channel; 8 channels per step fit 16 KiB.
    expect(text).toMatch(/alloc data_shared: f32\[1, 8, 18, 18\] shared/);
    expect(text).toMatch(/alloc weight_shared: f32\[8, 8, 3, 3\] shared/);
    expect(text).toMatch(/alloc conv2d_local: f32\[1, 4, 2, 2\] local/);
    expect(text).toMatch(/for rc_0 in range\(2\)/);
    // The patch wraps modulo its size: its start (a row before the tile) is not a multiple of it.
    expect(text).toMatch(/data_shared\[vi0, vrc % 8, \(vi2 \+ vrh \+ 17\) % 18, \(vi3 \+ vrw \+ 17\) % 18\]/);
  });

  const cases: { what: string; params: string; call: string; sizes?: Record<string, number> }[] = [
    {
      what: 'padding and partial tiles',
      params: 'x: Tensor[(2, 5, 10, 9), f32], w: Tensor[(3, 5, 3, 3), f32]',
      call: 'conv2d(x, w, padding=[1, 1, 1, 1])',
    },
    {
      what: 'symbolic input channels: steps of 16, the last one partial',
      params: 'x: Tensor[(1, c, 6, 5), f32], w: Tensor[(2, c, 3, 3), f32]',
      call: 'conv2d(x, w, padding=[1, 1, 1, 1])',
      sizes: { c: 19 },
    },
    {
      what: 'strides, dilation, asymmetric padding, symbolic batch, height and width',
      params: 'x: Tensor[(n, 3, h, w), f32], k: Tensor[(4, 3, 3, 2), f32]',
      call: 'conv2d(x, k, strides=[2, 3], padding=[1, 0, 2, 1], dilation=[2, 1])',
      sizes: { n: 1, h: 11, w: 20 },
    },
    {
      what: 'groups',
      params: 'x: Tensor[(1, 4, 9, 9), f32], w: Tensor[(6, 2, 3, 3), f32]',
      call: 'conv2d(x, w, padding=[1, 1, 1, 1], groups=2)',
    },
    {
      what: 'depthwise',
      params: 'x: Tensor[(1, 3, 17, 10), f32], w: Tensor[(3, 1, 3, 3), f32]',
      call: 'conv2d(x, w, padding=[1, 1, 1, 1], groups=3)',
    },
    {
      what: '1x1, stride 2',
      params: 'x: Tensor[(1, 20, 7, 7), f32], w: Tensor[(12, 20, 1, 1), f32]',
      call: 'conv2d(x, w, strides=[2, 2])',
    },
    {
      what: 'conv1d over a symbolic batch and width',
      params: 'x: Tensor[(n, 3, w), f32], k: Tensor[(4, 3, 3), f32]',
      call: 'conv1d(x, k, strides=2, padding=[1, 2], dilation=2)',
      sizes: { n: 2, w: 37 },
    },
    {
      what: 'conv2d_transpose (its taps gather through the stride)',
      params: 'x: Tensor[(1, 4, 6, 5), f32], w: Tensor[(4, 3, 3, 3), f32]',
      call: 'conv2d_transpose(x, w, strides=[2, 2], padding=[1, 1, 1, 1])',
    },
    {
      what: 'conv3d',
      params: 'x: Tensor[(1, 2, 4, 5, 4), f32], w: Tensor[(3, 2, 3, 3, 3), f32]',
      call: 'conv3d(x, w, padding=1)',
    },
  ];
  for (const c of cases) {
    it(`${c.what}: scheduled by the rule, within the workgroup memory, same numbers`, () => {
      const { name, func } = convKernel(c.params, c.call);
      const s = scheduleKernel(name, func, STAGED_TARGET);
      expect(s.rules).toEqual(['conv']);
      const shared = sharedAllocs(s.func);
      expect(shared.map((b) => b.name).sort()).toEqual(['data_shared', 'weight_shared']);
      const bytes = shared.reduce((n, b) => n + 4 * b.elements, 0);
      expect(bytes).toBeLessThanOrEqual(16384);
      expectSameResults(func, s.func, c.sizes, 1e-9);
    });
  }

  for (const c of cases) {
    it(`${c.what}, on a software adapter: register blocks read straight from storage, same numbers`, () => {
      const { name, func } = convKernel(c.params, c.call);
      const s = scheduleKernel(name, func, SOFTWARE_TARGET);
      expect(s.rules).toEqual(['conv']);
      expect(sharedAllocs(s.func)).toEqual([]);
      expectSameResults(func, s.func, c.sizes, 1e-9);
    });
  }

  it('on a software adapter: the input padded by a launch of its own, then a block of channels x rows x columns per thread, each step of the window written out', () => {
    const { name, func } = convKernel(
      'x: Tensor[(1, 16, 32, 32), f32], w: Tensor[(32, 16, 3, 3), f32]',
      'conv2d(x, w, padding=[1, 1, 1, 1])',
    );
    const s = scheduleKernel(name, func, SOFTWARE_TARGET);
    const text = printFunc(s.func);
    expect(text).toMatch(/alloc data_global: f32\[1, 16, 34, 34\]/);
    // registerPlan's block for these extents: 8 channels x 1 row x 16 columns.
    expect(text).toMatch(/alloc conv2d_local: f32\[1, 8, 1, 16\] local/);
    // The taps read the padded copy unguarded.
    expect(text).toMatch(/conv2d_local\[vi0, vi1 % 8, 0, vi3 % 16\] \+ data_global\[vi0, vrc, vi2 \+ vrh, vi3 \+ vrw\]/);
    expect(text).not.toMatch(/if vi2 \+ vrh/);
    const k = emitWgslKernel(name, s.func, SOFTWARE_TARGET);
    expect(k.dispatches.map((d) => d.workgroupSize)).toEqual([
      [64, 1, 1],
      [1, 8, 1],
    ]);
    // The convolution only reads the padded copy: bound read-only there (the copy binds it writable).
    const conv = k.dispatches[1]!;
    expect(conv.bindings.find((b) => typeof b.resource === 'object' && 'workspace' in b.resource)?.readOnly).toBe(true);
    // Per step of the window's rows: 3 columns x 8 channels x 16 columns of multiply-adds in straight-line code,
    // the loops over input channels and window rows around them.
    expect(k.source.match(/conv2d_local\[\d+i\] = \(conv2d_local\[\d+i\] \+/g)).toHaveLength(3 * 8 * 16);
    expect(k.source.match(/for \(/g)).toHaveLength(2);
  });

  it('registerPlan: the block that loads least per multiply-add, tiles that divide the output, enough workgroups', () => {
    const plan = (e: Partial<Parameters<typeof registerPlan>[0]>): ReturnType<typeof registerPlan> =>
      registerPlan({ batch: 1, channels: 64, channelsPerGroup: 64, rows: 56, cols: 56, windowCols: 3, ...e }, 256);
    // 3x3 64->64 over 56x56: 224 outputs per thread (8 channels x 2 rows x 14 columns); 56 = 2 x 2 x 14.
    expect(plan({})).toEqual({ channels: 8, rows: 2, cols: 14, tx: 2, ty: 4 });
    // A depthwise convolution: each channel reads its own input, one channel per thread.
    expect(plan({ channels: 144, channelsPerGroup: 1 }).channels).toBe(1);
    // A 7x7 window: at most 672 multiply-adds written out per step.
    const stem = plan({ rows: 112, cols: 112, windowCols: 7 });
    expect(stem.channels * stem.rows * stem.cols * 7).toBeLessThanOrEqual(672);
    // 32 channels over 8x8, a symbolic batch: small blocks, so that 8 workgroups remain.
    const small = plan({ batch: undefined, channels: 32, channelsPerGroup: 32, rows: 8, cols: 8 });
    const workgroups = (8 / (small.tx * small.cols)) * (8 / (small.ty * small.rows)) * (32 / small.channels);
    expect(workgroups).toBeGreaterThanOrEqual(8);
    for (const p of [plan({}), stem, small]) {
      expect((p.tx * p.ty) % 8).toBe(0);
    }
  });

  it('takes fewer channels per step where the workgroup memory is smaller, and gives way when not one fits', () => {
    const { name, func } = convKernel(
      'x: Tensor[(1, 16, 32, 32), f32], w: Tensor[(32, 16, 3, 3), f32]',
      'conv2d(x, w, padding=[1, 1, 1, 1])',
    );
    const small = scheduleKernel(name, func, withSharedBytes(4096));
    expect(small.rules).toEqual(['conv']);
    expect(printFunc(small.func)).toMatch(/alloc data_shared: f32\[1, 2, 18, 18\] shared/);
    // One channel of an 18x18 patch is 1296 bytes: below that the reduction rules take the kernel.
    expect(scheduleKernel(name, func, withSharedBytes(1024)).rules).toEqual(['reduction-per-thread']);
  });

  it('a grouped convolution whose channel tile divides the group keeps one group\u2019s input channels (same numbers)', () => {
    const { name, func } = convKernel(
      'x: Tensor[(1, 16, 6, 6), f32], w: Tensor[(16, 8, 3, 3), f32]',
      'conv2d(x, w, padding=[1, 1, 1, 1], groups=2)',
    );
    const s = scheduleKernel(name, func, STAGED_TARGET);
    expect(s.rules).toEqual(['conv']);
    // 8 input channels per group, not all 16; the patch is the whole 6x6 image (the 10x10 halo tile would be larger).
    expect(printFunc(s.func)).toMatch(/alloc data_shared: f32\[1, 8, 6, 6\] shared/);
    expectSameResults(func, s.func, {}, 1e-9);
  });

  it('gives a 1x1 output (a GEMV in disguise) to the gemv rule', () => {
    const { name, func } = convKernel('x: Tensor[(1, 256, 1, 1), f32], w: Tensor[(512, 256, 1, 1), f32]', 'conv2d(x, w)');
    expect(scheduleKernel(name, func, STAGED_TARGET).rules).toEqual(['gemv']);
  });

  it('keeps the threads within the per-axis limits of the target, numbers every workgroup along x, and the kernel builds', () => {
    const { name, func } = convKernel(
      'x: Tensor[(n, 64, 20, 20), f32], w: Tensor[(64, 64, 3, 3), f32]',
      'conv2d(x, w, padding=[1, 1, 1, 1])',
    );
    const target = { ...STAGED_TARGET, limits: { ...STAGED_TARGET.limits, maxComputeWorkgroupSizeZ: 2 } };
    const s = scheduleKernel(name, func, target);
    expect(s.rules).toEqual(['conv']);
    const k = emitWgslKernel(name, s.func, target);
    expect(k.dispatches).toHaveLength(1);
    const [x, y, z] = k.dispatches[0]!.workgroupSize;
    expect([x, y, z]).toEqual([8, 8, 2]);
    // Batch, channel tiles, row tiles and column tiles all on x: a grid too large for one axis folds into y.
    expect(k.dispatches[0]!.grid.slice(1)).toEqual([1, 1]);
    expect(k.dispatches[0]!.foldX).toBe(true);
  });

  it('a 7x7 stride-2 stem over 224x224 fits one channel of a 37x37 patch per step', () => {
    const { name, func } = convKernel(
      'x: Tensor[(1, 3, 224, 224), f32], w: Tensor[(64, 3, 7, 7), f32]',
      'conv2d(x, w, strides=[2, 2], padding=[3, 3, 3, 3])',
    );
    const s = scheduleKernel(name, func, STAGED_TARGET);
    expect(s.rules).toEqual(['conv']);
    expect(printFunc(s.func)).toMatch(/alloc data_shared: f32\[1, 1, 37, 37\] shared/);
  });
});

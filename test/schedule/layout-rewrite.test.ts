/**
 * Weights pre-packed at build time: the transform_layout primitive (Before /
 * Expected), the transform kernel (a gather into the new layout, checked by
 * the interpreter against the permutation), the graph rewrite that passes
 * every call's argument through it (Before / Expected), and the whole path
 * on the wasm target — a matmul whose B is a constant scheduled with B in
 * panels, the transform folded into a new constant (or left to run time), its
 * results against the js target's on random inputs, one thread and two.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { evaluatePrimFunc } from '../../src/codegen/js/evaluate.ts';
import { memorySource } from '../../src/codegen/memory-source.ts';
import type { Expr } from '../../src/ir/graph/expr.ts';
import { getGraphFunc, getPrimFunc, type IRModule } from '../../src/ir/module.ts';
import { findMismatch, structuralHash } from '../../src/ir/structural.ts';
import { targetSchema } from '../../src/ir/target.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { printModule } from '../../src/ir/text/printer.ts';
import type { Buffer } from '../../src/ir/tir/buffer.ts';
import { opHooks } from '../../src/ops/index.ts';
import { ALL_FUSION_RULES } from '../../src/passes/fuse-ops.ts';
import { fuseModule } from '../../src/passes/fuse-tir.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import { planModule } from '../../src/passes/plan-memory.ts';
import { inlineIntermediates } from '../../src/schedule/inline-intermediates.ts';
import { loadArtifact } from '../../src/runtime/artifact.ts';
import { type NDArray, tensor } from '../../src/runtime/ndarray.ts';
import '../../src/runtime/node.ts';
import { insertLayoutTransforms, layoutFreeParams } from '../../src/schedule/layout-rewrite.ts';
import { type LayoutAxis, layoutTransformFunc } from '../../src/schedule/primitives/layout.ts';
import { SCHEDULE_RULES_ATTR, SCHEDULE_TRACE_ATTR, scheduleModule } from '../../src/schedule/rules/default-rules.ts';
import type { TraceInstruction } from '../../src/schedule/trace.ts';
import { replayTrace } from '../../src/schedule/schedule.ts';
import { KilnError } from '../../src/support/diagnostics.ts';
import { expectFunc, printFunc, schedule } from '../helpers/prim-funcs.ts';
import { randomArray, runPrimFunc } from '../helpers/tir-interpreter.ts';
import { WASM_TARGET } from '../helpers/wasm-ops.ts';
import { WEBGPU_TARGET as GPU_TARGET } from '../helpers/gpu-ops.ts';
import { describeWebGpu } from '../helpers/webgpu.ts';
import { emitWgslKernel } from '../../src/codegen/wgsl/index.ts';

const JS_TARGET = targetSchema.parse(parseYaml(readFileSync(new URL('../../targets/js.yaml', import.meta.url), 'utf8')));

const PANELS: LayoutAxis[] = [
  ['div', 1, 8],
  ['axis', 0],
  ['mod', 1, 8],
];

const MATMUL = `
prim_func k(A: f32[4, 16], B: f32[16, 24], C: f32[4, 24]) {
  for i, j, k in grid(4, 24, 16) {
    block C(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
      init { C[vi, vj] = 0.0 }
      C[vi, vj] = C[vi, vj] + A[vi, vk] * B[vk, vj]
    }
  }
}`;

describe('transform_layout', () => {
  it('takes B in panels [N/8, K, 8]: every load B[k, j] becomes B[j // 8, k, j % 8]', () => {
    const sch = schedule(MATMUL);
    sch.transformLayout(1, PANELS);
    expectFunc(
      sch.func,
      `
prim_func k(A: f32[4, 16], B: f32[3, 16, 8], C: f32[4, 24]) {
  for i, j, k in grid(4, 24, 16) {
    block C(vi = spatial(i), vj = spatial(j), vk = reduce(k)) {
      init { C[vi, vj] = 0.0 }
      C[vi, vj] = C[vi, vj] + A[vi, vk] * B[vj // 8, vk, vj % 8]
    }
  }
}`,
    );
    expect(sch.trace.at(-1)).toMatchObject({ op: 'transform_layout', attrs: { param: 1, map: PANELS } });
  });

  it('refuses an output, a factor that does not divide its axis, and an axis left out', () => {
    const refuses = (param: number, map: LayoutAxis[], why: RegExp): void => {
      let error: unknown;
      try {
        schedule(MATMUL).transformLayout(param, map);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(KilnError);
      expect((error as KilnError).diagnostics[0]!.code).toBe('K7201');
      expect((error as KilnError).message).toMatch(why);
    };
    refuses(2, PANELS, /writes buffer 'C'; only an input's layout can change/);
    refuses(
      1,
      [
        ['div', 1, 5],
        ['axis', 0],
        ['mod', 1, 5],
      ],
      /not a whole number of blocks of 5/,
    );
    refuses(1, [['axis', 0]], /axis 1 must appear once/);
  });

  it('the transform kernel gathers each element of the new layout from the old one', () => {
    const src = schedule(MATMUL).func.params[1] as Buffer;
    const f = layoutTransformFunc(src, PANELS);
    const input = randomArray(16 * 24, 5);
    const out = new Float64Array(16 * 24);
    runPrimFunc(f, [input, out]);
    for (let k = 0; k < 16; k++) {
      for (let j = 0; j < 24; j++) {
        expect(out[Math.floor(j / 8) * 16 * 8 + k * 8 + (j % 8)]).toBe(input[k * 24 + j]);
      }
    }
  });
});

const CONV_S2 = `
prim_func k(X: f32[1, 4, 8, 8], W: f32[6, 4, 1, 1], Y: f32[1, 6, 4, 4]) {
  for i0, i1, i2, i3, rc, rh, rw in grid(1, 6, 4, 4, 4, 1, 1) {
    block Y(vi0 = spatial(i0), vi1 = spatial(i1), vi2 = spatial(i2), vi3 = spatial(i3), vrc = reduce(rc), vrh = reduce(rh), vrw = reduce(rw)) {
      init { Y[vi0, vi1, vi2, vi3] = 0.0 }
      Y[vi0, vi1, vi2, vi3] = Y[vi0, vi1, vi2, vi3] + X[vi0, vrc, vi2 * 2 + vrh, vi3 * 2 + vrw] * W[vi1, vrc, vrh, vrw]
    }
  }
}`;

const SUBSAMPLE: LayoutAxis[] = [
  ['axis', 0],
  ['axis', 1],
  ['step', 2, 2],
  ['step', 3, 2],
];

describe('transform_layout with a step', () => {
  it("takes a stride-2 1x1 convolution's input subsampled: X[n, c, 2h, 2w] becomes X[n, c, 2h // 2, 2w // 2]", () => {
    const sch = schedule(CONV_S2);
    sch.transformLayout(0, SUBSAMPLE);
    expectFunc(
      sch.func,
      `
prim_func k(X: f32[1, 4, 4, 4], W: f32[6, 4, 1, 1], Y: f32[1, 6, 4, 4]) {
  for i0, i1, i2, i3, rc, rh, rw in grid(1, 6, 4, 4, 4, 1, 1) {
    block Y(vi0 = spatial(i0), vi1 = spatial(i1), vi2 = spatial(i2), vi3 = spatial(i3), vrc = reduce(rc), vrh = reduce(rh), vrw = reduce(rw)) {
      init { Y[vi0, vi1, vi2, vi3] = 0.0 }
      Y[vi0, vi1, vi2, vi3] = Y[vi0, vi1, vi2, vi3] + X[vi0, vrc, (vi2 * 2 + vrh) // 2, (vi3 * 2 + vrw) // 2] * W[vi1, vrc, vrh, vrw]
    }
  }
}`,
    );
    // The transform gathers every other row and column.
    const f = layoutTransformFunc(schedule(CONV_S2).func.params[0] as Buffer, SUBSAMPLE);
    const input = randomArray(4 * 8 * 8, 9);
    const out = new Float64Array(4 * 4 * 4);
    runPrimFunc(f, [input, out]);
    for (let c = 0; c < 4; c++)
      for (let h = 0; h < 4; h++)
        for (let w = 0; w < 4; w++) expect(out[c * 16 + h * 4 + w]).toBe(input[c * 64 + h * 2 * 8 + w * 2]);
  });

  it('is recorded in the trace, which replays to the same kernel (a step axis included)', () => {
    const sch = schedule(CONV_S2);
    sch.transformLayout(0, SUBSAMPLE);
    const again = replayTrace(schedule(CONV_S2).func, 'k', sch.trace);
    expect(findMismatch(again.func, sch.func)).toBeUndefined();
  });

  it('refuses a read between the steps (a 3x3 window)', () => {
    const sch = schedule(
      CONV_S2.replace('grid(1, 6, 4, 4, 4, 1, 1)', 'grid(1, 6, 3, 3, 4, 2, 2)')
        .replace('Y: f32[1, 6, 4, 4]', 'Y: f32[1, 6, 3, 3]')
        .replaceAll('f32[6, 4, 1, 1]', 'f32[6, 4, 2, 2]'),
    );
    expect(() => sch.transformLayout(0, SUBSAMPLE)).toThrow(/read off the step of 2 along axis 2/);
  });
});

const CONV_PAD = `
prim_func k(X: f32[1, 2, 5, 5], W: f32[4, 2, 3, 3], Y: f32[1, 4, 5, 5]) {
  for i0, i1, i2, i3, rc, rh, rw in grid(1, 4, 5, 5, 2, 3, 3) {
    block Y(vi0 = spatial(i0), vi1 = spatial(i1), vi2 = spatial(i2), vi3 = spatial(i3), vrc = reduce(rc), vrh = reduce(rh), vrw = reduce(rw)) {
      init { Y[vi0, vi1, vi2, vi3] = 0.0 }
      if vi2 + vrh - 1 >= 0 && vi2 + vrh - 1 < 5 && vi3 + vrw - 1 >= 0 && vi3 + vrw - 1 < 5 && vrc < 2 {
        Y[vi0, vi1, vi2, vi3] = Y[vi0, vi1, vi2, vi3] + X[vi0, vrc, vi2 + vrh - 1, vi3 + vrw - 1] * W[vi1, vrc, vrh, vrw]
      }
    }
  }
}`;

const PADDED: LayoutAxis[] = [
  ['axis', 0],
  ['axis', 1],
  ['pad', 2, 1, 1],
  ['pad', 3, 1, 1],
];

describe('transform_layout with padding', () => {
  it("takes a convolution's input padded with zeros: reads shift by the padding, the bound checks it answers go", () => {
    const sch = schedule(CONV_PAD);
    sch.transformLayout(0, PADDED);
    // vrc < 2 is not a bound of a padded read: it stays.
    expectFunc(
      sch.func,
      `
prim_func k(X: f32[1, 2, 7, 7], W: f32[4, 2, 3, 3], Y: f32[1, 4, 5, 5]) {
  for i0, i1, i2, i3, rc, rh, rw in grid(1, 4, 5, 5, 2, 3, 3) {
    block Y(vi0 = spatial(i0), vi1 = spatial(i1), vi2 = spatial(i2), vi3 = spatial(i3), vrc = reduce(rc), vrh = reduce(rh), vrw = reduce(rw)) {
      init { Y[vi0, vi1, vi2, vi3] = 0.0 }
      if vrc < 2 {
        Y[vi0, vi1, vi2, vi3] = Y[vi0, vi1, vi2, vi3] + X[vi0, vrc, vi2 + vrh, vi3 + vrw] * W[vi1, vrc, vrh, vrw]
      }
    }
  }
}`,
    );
    const again = replayTrace(schedule(CONV_PAD).func, 'k', sch.trace);
    expect(findMismatch(again.func, sch.func)).toBeUndefined();
    // The transform writes the input inside a frame of zeros.
    const f = layoutTransformFunc(schedule(CONV_PAD).func.params[0] as Buffer, PADDED);
    const input = randomArray(2 * 5 * 5, 3);
    const out = new Float64Array(2 * 7 * 7).fill(Number.NaN);
    runPrimFunc(f, [input, out]);
    for (let c = 0; c < 2; c++)
      for (let h = 0; h < 7; h++)
        for (let w = 0; w < 7; w++) {
          const inside = h >= 1 && h <= 5 && w >= 1 && w <= 5;
          expect(out[c * 49 + h * 7 + w]).toBe(inside ? input[c * 25 + (h - 1) * 5 + (w - 1)] : 0);
        }
  });

  it('keeps a bound check the padding does not cover (one element of padding for a read two past the edge)', () => {
    const sch = schedule(CONV_PAD.replaceAll('vi3 + vrw - 1', 'vi3 + vrw - 2'));
    sch.transformLayout(0, PADDED);
    const text = printFunc(sch.func);
    // The read reaches -2 (kept: one element of padding) and at most 4 (dropped: inside the old bounds).
    expect(text).toMatch(/if vi3 \+ vrw - 2 >= 0 && vrc < 2 \{/);
    expect(text).toMatch(/X\[vi0, vrc, vi2 \+ vrh, vi3 \+ vrw - 1\]/);
  });
});

describe('the channel-vectorized convolution on the wasm target', () => {
  // Odd sizes: a 7- and a 9-wide image (rows MR does not divide), 8 and 12 output channels (two vectors, one),
  // stride 1 padded and stride 2, a symbolic batch; weights constant, so packed at build time. Grouped
  // convolutions whose groups hold whole tiles of output channels: 8 per group (two vectors), 4 (one).
  const cases = [
    { c: 3, o: 16, groups: 1, size: 7, k: 3, stride: 1, pad: 1 },
    { c: 5, o: 12, groups: 1, size: 9, k: 3, stride: 2, pad: 1 },
    { c: 8, o: 8, groups: 1, size: 7, k: 1, stride: 1, pad: 0 },
    { c: 4, o: 8, groups: 1, size: 11, k: 7, stride: 2, pad: 3 },
    { c: 16, o: 16, groups: 2, size: 7, k: 3, stride: 1, pad: 1 },
    { c: 12, o: 24, groups: 3, size: 9, k: 3, stride: 2, pad: 1 },
    { c: 8, o: 8, groups: 2, size: 7, k: 3, stride: 1, pad: 1 },
  ];
  it.each(cases)(
    '$c->$o channels in $groups group(s) over $size x $size, $k x $k stride $stride: scheduled by cpu-conv-channels, agrees with js',
    async (t) => {
      const perGroup = t.c / t.groups;
      const out = Math.floor((t.size + 2 * t.pad - t.k) / t.stride) + 1;
      const model = legalizeModule(
        parseModule(
          `
func main(x: Tensor[(n, ${t.c}, ${t.size}, ${t.size}), f32]) -> Tensor[(n, ${t.o}, ${out}, ${out}), f32] {
  dataflow {
    y = conv2d(x, ${constText(t.o * perGroup * t.k * t.k, 31, `${t.o}, ${perGroup}, ${t.k}, ${t.k}`)}, strides=[${t.stride}, ${t.stride}], padding=[${t.pad}, ${t.pad}, ${t.pad}, ${t.pad}], groups=${t.groups})
    b = add(y, ${constText(t.o, 32, `${t.o}, 1, 1`)})
    z = relu(b)
    output z
  }
  return z
}`,
          { ...opHooks, file: 'conv.kir' },
        ),
      );
      const fused = fuseModule(model, { maxDepth: 64, rules: ALL_FUSION_RULES, exclude: [], inline: inlineIntermediates });
      const scheduled = scheduleModule(fused, WASM_TARGET, { evaluate: evaluatePrimFunc });
      const kernel = [...scheduled.functions.keys()].find((k) => k.startsWith('fused_conv2d') && !k.includes('layout'))!;
      const f = getPrimFunc(scheduled, kernel)!;
      // The bias and relu fold into the tile's write-back: one launch, no intermediate in memory.
      expect(f.attrs[SCHEDULE_RULES_ATTR]).toEqual(['cpu-conv-channels']);
      expect(printFunc(f)).not.toMatch(/alloc conv2d: /);
      // The filter packed [O/NR, C, KH, KW, NR], or [O/NR, KH, KW, C, NR] from 8 input channels, where the
      // taps are the outer loop and each tap's pass reads its weights of every channel in order; a padded
      // input copied into a frame of zeros before the call.
      const nr = (t.o / t.groups) % 8 === 0 ? 8 : 4;
      expect((f.params[1] as Buffer).shape.map((d) => (d as { value: number }).value)).toEqual(
        perGroup >= 8 ? [t.o / nr, t.k, t.k, perGroup, nr] : [t.o / nr, perGroup, t.k, t.k, nr],
      );
      const inputShape = (f.params[0] as Buffer).shape.slice(1).map((d) => (d as { value: number }).value);
      // Padded by what the window reads past each edge: pad before, and after as far as the last tap reaches.
      const after = Math.max(0, (out - 1) * t.stride + t.k - 1 - t.pad - (t.size - 1));
      // Rows rounded up to whole vectors (the copy runs as vectors; the extra zeros go unread).
      const width = t.pad + after > 0 ? Math.ceil((t.size + t.pad + after) / 4) * 4 : t.size;
      expect(inputShape).toEqual([t.c, t.size + t.pad + after, width]);
      const x = () => tensor(Float32Array.from(randomArray(2 * t.c * t.size * t.size, 7)), [2, t.c, t.size, t.size], 'float32');
      await expectWasmAgreesWithJs(model, scheduled, x);
    },
  );
});

describeWebGpu('the register-blocked convolution on a software adapter (WebGPU)', (device) => {
  // A constant filter packed [O/c, C, KH, KW, c]: a tap's weights for the thread's c output channels are
  // read as vec4s. 16 and 32 output channels, a 10- and a 13-wide image, stride 1 and 2, two groups.
  const cases = [
    { c: 8, o: 16, groups: 1, size: 10, stride: 1 },
    { c: 6, o: 32, groups: 1, size: 13, stride: 2 },
    { c: 16, o: 16, groups: 2, size: 10, stride: 1 },
  ];
  it.each(cases)('$c->$o channels in $groups group(s) over $size x $size, stride $stride: agrees with js', async (t) => {
    const perGroup = t.c / t.groups;
    const out = Math.floor((t.size + 2 - 3) / t.stride) + 1;
    const model = legalizeModule(
      parseModule(
        `
func main(x: Tensor[(1, ${t.c}, ${t.size}, ${t.size}), f32]) -> Tensor[(1, ${t.o}, ${out}, ${out}), f32] {
  dataflow {
    y = conv2d(x, ${constText(t.o * perGroup * 9, 41, `${t.o}, ${perGroup}, 3, 3`)}, strides=[${t.stride}, ${t.stride}], padding=[1, 1, 1, 1], groups=${t.groups})
    output y
  }
  return y
}`,
        { ...opHooks, file: 'conv.kir' },
      ),
    );
    const scheduled = scheduleModule(model, GPU_TARGET, { evaluate: evaluatePrimFunc });
    const kernel = [...scheduled.functions.keys()].find((k) => k.startsWith('conv2d') && !k.includes('layout'))!;
    const f = getPrimFunc(scheduled, kernel)!;
    expect(f.attrs[SCHEDULE_RULES_ATTR]).toEqual(['conv']);
    const shape = (f.params[1] as Buffer).shape.map((d) => (d as { value: number }).value);
    expect(shape.length).toBe(5);
    expect(shape[4]! % 4).toBe(0);
    expect(shape[0]! * shape[4]!).toBe(t.o);
    expect(emitWgslKernel(kernel, f, GPU_TARGET).source).toMatch(/var<storage, read> \w+_vec4: array<vec4<f32>>;/);
    const x = () => tensor(Float32Array.from(randomArray(t.c * t.size * t.size, 9)), [1, t.c, t.size, t.size], 'float32');
    const js = await loadArtifact(memorySource(await buildArtifact(model, { name: 'js', target: JS_TARGET })));
    const expected = (await ((await js.call('main', x())) as NDArray).toCpu()).data as Float32Array;
    const gpu = await loadArtifact(
      memorySource(await buildArtifact(planModule(scheduled), { name: 'gpu', target: GPU_TARGET })),
      {
        device,
      },
    );
    const actual = (await ((await gpu.call('main', await device.upload(x()))) as NDArray).toCpu()).data as Float32Array;
    expect(actual.length).toBe(expected.length);
    for (let j = 0; j < expected.length; j++)
      expect(Math.abs(actual[j]! - expected[j]!), `element ${j}`).toBeLessThan(1e-5 * (1 + Math.abs(expected[j]!)));
  });
});

describe('the depthwise convolution on the wasm target', () => {
  // Heights the 4-row tile does not divide (7, 5 outputs at stride 2, 13) and one it does (12), widths that
  // end mid-vector, a 5x5 window, a depth multiplier of 2; bias and relu folded. Under 16 planes (a
  // symbolic batch counts as one image): the input copied padded by a kernel of its own before the call.
  // 16 or more: each plane padded inside the kernel, on the thread's stack, right before its tiles read it.
  const cases = [
    { batch: 'n', c: 6, mult: 1, size: 7, k: 3, stride: 1, pad: 1 },
    { batch: 'n', c: 5, mult: 1, size: 10, k: 3, stride: 2, pad: 1 },
    { batch: 'n', c: 3, mult: 1, size: 13, k: 5, stride: 1, pad: 2 },
    { batch: 'n', c: 4, mult: 2, size: 12, k: 3, stride: 1, pad: 1 },
    { batch: '2', c: 16, mult: 1, size: 7, k: 3, stride: 1, pad: 1 },
    { batch: '2', c: 8, mult: 2, size: 10, k: 3, stride: 2, pad: 1 },
    { batch: '2', c: 9, mult: 1, size: 13, k: 5, stride: 1, pad: 2 },
    { batch: '2', c: 16, mult: 1, size: 16, k: 3, stride: 1, pad: 1 },
    // Work enough for the pool to split the planes over both threads, each padding on its own stack.
    { batch: '2', c: 32, mult: 1, size: 28, k: 3, stride: 1, pad: 1 },
    // A symbolic batch with 16 channels: a batch of any size has as many planes.
    { batch: 'n', c: 16, mult: 1, size: 9, k: 3, stride: 1, pad: 1 },
  ];
  it.each(cases)(
    'batch $batch, $c channels (x$mult) over $size x $size, $k x $k stride $stride: scheduled by cpu-depthwise, agrees with js',
    async (t) => {
      const o = t.c * t.mult;
      const out = Math.floor((t.size + 2 * t.pad - t.k) / t.stride) + 1;
      const model = legalizeModule(
        parseModule(
          `
func main(x: Tensor[(${t.batch}, ${t.c}, ${t.size}, ${t.size}), f32]) -> Tensor[(${t.batch}, ${o}, ${out}, ${out}), f32] {
  dataflow {
    y = conv2d(x, ${constText(o * t.k * t.k, 41, `${o}, 1, ${t.k}, ${t.k}`)}, strides=[${t.stride}, ${t.stride}], padding=[${t.pad}, ${t.pad}, ${t.pad}, ${t.pad}], groups=${t.c})
    b = add(y, ${constText(o, 42, `${o}, 1, 1`)})
    z = relu(b)
    output z
  }
  return z
}`,
          { ...opHooks, file: 'depthwise.kir' },
        ),
      );
      const fused = fuseModule(model, { maxDepth: 64, rules: ALL_FUSION_RULES, exclude: [], inline: inlineIntermediates });
      const scheduled = scheduleModule(fused, WASM_TARGET, { evaluate: evaluatePrimFunc });
      const names = [...scheduled.functions.keys()];
      const kernel = names.find((k) => k.startsWith('fused_conv2d') && !k.includes('layout'))!;
      const f = getPrimFunc(scheduled, kernel)!;
      expect(f.attrs[SCHEDULE_RULES_ATTR]).toEqual(['cpu-depthwise']);
      // The epilogue in the write-back, and no padding test left in the convolution's block.
      const text = printFunc(f);
      expect(text).not.toMatch(/alloc conv2d: /);
      const perPlane = (t.batch === 'n' ? 1 : Number(t.batch)) * o >= 16;
      expect(names.some((k) => k.startsWith(`${kernel}_layout`))).toBe(!perPlane);
      if (perPlane) {
        // The one test left is the copy's: inside the plane or in its padding.
        expect(text.match(/^\s*if /gm)).toHaveLength(1);
        expect(text).toMatch(/block \w+_local\(.*\n\s*if v2 >= 0 && /);
        // pad_read is recorded with its loop: the trace replays to the same kernel.
        const trace = f.attrs[SCHEDULE_TRACE_ATTR] as unknown as TraceInstruction[];
        expect(trace.some((ins) => ins.op === 'pad_read' && ins.inputs.length === 2)).toBe(true);
        const replayed = replayTrace(getPrimFunc(fused, kernel)!, kernel, trace).func;
        expect(findMismatch({ ...replayed, attrs: f.attrs }, f)).toBeUndefined();
      } else expect(text).not.toMatch(/>= 0 &&/);
      const batch = 2;
      const x = () =>
        tensor(Float32Array.from(randomArray(batch * t.c * t.size * t.size, 9)), [batch, t.c, t.size, t.size], 'float32');
      await expectWasmAgreesWithJs(model, scheduled, x);
    },
  );

  it('keeps a padded plane off the stack past 256 KiB, whatever L2 the target file describes', () => {
    const depthwise = (size: number) =>
      legalizeModule(
        parseModule(
          `
func main(x: Tensor[(1, 16, ${size}, ${size}), f32]) -> Tensor[(1, 16, ${size}, ${size}), f32] {
  dataflow {
    y = conv2d(x, ${constText(16 * 9, 41, '16, 1, 3, 3')}, strides=[1, 1], padding=[1, 1, 1, 1], groups=16)
    output y
  }
  return y
}`,
          { ...opHooks, file: 'depthwise.kir' },
        ),
      );
    const bigL2 = { ...WASM_TARGET, limits: { ...WASM_TARGET.limits, l2Bytes: 64 << 20 } };
    const perPlane = (size: number): boolean => {
      const scheduled = scheduleModule(depthwise(size), bigL2, { evaluate: evaluatePrimFunc });
      const names = [...scheduled.functions.keys()];
      const conv = names.find((k) => k.startsWith('conv2d') && !k.includes('_layout'))!;
      expect(getPrimFunc(scheduled, conv)!.attrs[SCHEDULE_RULES_ATTR]).toEqual(['cpu-depthwise']);
      return !names.some((k) => k.includes('_layout'));
    };
    // 224x224 padded: 230 rows of 232 columns, 213 KB; 300x300: 378 KB.
    expect(perPlane(224)).toBe(true);
    expect(perPlane(300)).toBe(false);
  });
});

describe('the graph rewrite', () => {
  it('passes the argument of every call of a re-laid-out kernel through the transform kernel', () => {
    const before = parseModule(
      `${MATMUL}
func main(a: Tensor[(4, 16), f32], b: Tensor[(16, 24), f32]) -> Tensor[(4, 24), f32] {
  dataflow {
    c = call_tir(k, (a, b), out: Tensor[(4, 24), f32])
    output c
  }
  return c
}`,
      { ...opHooks, file: 'before.kir' },
    );
    const source = getPrimFunc(before, 'k')!.params[1] as Buffer;
    const { module, transforms } = insertLayoutTransforms(before, new Map([['k', [{ param: 1, source, map: PANELS }]]]));
    expect([...transforms]).toEqual(['k_layout1']);
    const expected = parseModule(
      `${MATMUL}
prim_func k_layout1(B: f32[16, 24], B_packed: f32[3, 16, 8]) attrs(layout_transform=true) {
  for i0, i1, i2 in grid(3, 16, 8) {
    block layout_transform(v0 = spatial(i0), v1 = spatial(i1), v2 = spatial(i2)) {
      B_packed[v0, v1, v2] = B[v1, v0 * 8 + v2]
    }
  }
}
func main(a: Tensor[(4, 16), f32], b: Tensor[(16, 24), f32]) -> Tensor[(4, 24), f32] {
  dataflow {
    packed0 = call_tir(k_layout1, (b,), out: Tensor[(3, 16, 8), f32])
    c = call_tir(k, (a, packed0), out: Tensor[(4, 24), f32])
    output c
  }
  return c
}`,
      { ...opHooks, file: 'expected.kir' },
    );
    const mismatch = findMismatch(expected, module);
    expect(mismatch, mismatch && `at ${mismatch.path}: ${mismatch.expected} vs ${mismatch.found}\n${printModule(module)}`).toBe(
      undefined,
    );
  });

  it('a parameter is layout-free only where every call passes a constant', () => {
    const m = parseModule(
      `${MATMUL}
func main(a: Tensor[(4, 16), f32], b: Tensor[(16, 24), f32]) -> Tensor[(4, 24), f32] {
  dataflow {
    c = call_tir(k, (a, ${constText(16 * 24, 3, '16, 24')}), out: Tensor[(4, 24), f32])
    d = call_tir(k, (a, b), out: Tensor[(4, 24), f32])
    e = add(c, d)
    output e
  }
  return e
}`,
      { ...opHooks, file: 'mixed.kir' },
    );
    expect(layoutFreeParams(m).get('k')).toEqual(new Set());
  });
});

/** Runs `model` on the js target and its `scheduled` form on the wasm target (1 and 2 threads) on the same input. */
async function expectWasmAgreesWithJs(model: IRModule, scheduled: IRModule, x: () => NDArray): Promise<void> {
  const js = await loadArtifact(memorySource(await buildArtifact(model, { name: 'js', target: JS_TARGET })));
  const expected = (await ((await js.call('main', x())) as NDArray).toCpu()).data as Float32Array;
  const art = await buildArtifact(planModule(scheduled), { name: 'cpu', target: WASM_TARGET });
  for (const threads of [1, 2]) {
    const cpu = await loadArtifact(memorySource(art), { threads });
    const actual = (await ((await cpu.call('main', x())) as NDArray).toCpu()).data as Float32Array;
    expect(actual.length).toBe(expected.length);
    for (let j = 0; j < expected.length; j++)
      expect(Math.abs(actual[j]! - expected[j]!), `element ${j}, ${threads} thread(s)`).toBeLessThan(
        1e-5 * (1 + Math.abs(expected[j]!)),
      );
  }
}

function constText(n: number, seed: number, shape: string): string {
  return `const(f32[${shape}], [${[...randomArray(n, seed)].map((v) => v.toFixed(6)).join(', ')}])`;
}

/** A two-layer MLP over a symbolic batch whose weights are constants (37 -> 32 -> 24 columns). */
const MLP = parseModule(
  `
func main(x: Tensor[(n, 37), f32]) -> Tensor[(n, 24), f32] {
  dataflow {
    h = matmul(x, ${constText(37 * 32, 11, '37, 32')})
    r = relu(h)
    y = matmul(r, ${constText(32 * 24, 12, '32, 24')})
    output y
  }
  return y
}`,
  { ...opHooks, file: 'mlp.kir' },
);
const legalized = legalizeModule(MLP);

/** The call_tir bindings of main: kernel and argument kinds. */
function calls(m: IRModule): string[] {
  return getGraphFunc(m, 'main')!.body.blocks.flatMap((b) =>
    b.bindings.flatMap((x) => {
      const v: Expr = x.value;
      return v.kind === 'call_tir' ? [`${v.func}(${v.args.map((a) => a.kind).join(', ')})`] : [];
    }),
  );
}

describe('pre-packed weights on the wasm target', () => {
  const folded = scheduleModule(legalized, WASM_TARGET, { evaluate: evaluatePrimFunc });
  const atRunTime = scheduleModule(legalized, WASM_TARGET, { prepack: true });
  const unpacked = scheduleModule(legalized, WASM_TARGET);

  it('schedules B in panels and folds the transform into the constant at build time', () => {
    for (const kernel of ['matmul', 'matmul1']) {
      expect(getPrimFunc(folded, kernel)!.attrs[SCHEDULE_RULES_ATTR]).toEqual(['cpu-matmul']);
    }
    expect((getPrimFunc(folded, 'matmul')!.params[1] as Buffer).shape.map((d) => (d as { value: number }).value)).toEqual([
      4, 37, 8,
    ]);
    expect((getPrimFunc(folded, 'matmul1')!.params[1] as Buffer).shape.map((d) => (d as { value: number }).value)).toEqual([
      3, 32, 8,
    ]);
    expect(calls(folded)).toEqual(['matmul(graph_var, constant)', 'relu(graph_var)', 'matmul1(graph_var, constant)']);
    expect([...folded.functions.keys()].filter((k) => k.includes('layout'))).toEqual([]);
    // Without an evaluator the transform runs at run time; without either, nothing is re-laid out.
    expect(calls(atRunTime)).toEqual([
      'matmul_layout1(constant)',
      'matmul(graph_var, graph_var)',
      'relu(graph_var)',
      'matmul1_layout1(constant)',
      'matmul1(graph_var, graph_var)',
    ]);
    expect((getPrimFunc(unpacked, 'matmul')!.params[1] as Buffer).shape.length).toBe(2);
    // The packed weights are part of the module's content address.
    expect(structuralHash(folded)).not.toBe(structuralHash(unpacked));
  });

  const built = Promise.all(
    [folded, atRunTime, legalized].map((m, i) =>
      buildArtifact(m, { name: `mlp${i}`, target: i === 2 ? JS_TARGET : WASM_TARGET }),
    ),
  );

  it.each([1, 7, 13])('n = %i: folded and run-time packing agree with the js target, one thread and two', async (n) => {
    const [foldedArt, runTimeArt, jsArt] = await built;
    const x = () => tensor(Float32Array.from(randomArray(n * 37, n)), [n, 37], 'float32');
    const js = await loadArtifact(memorySource(jsArt!));
    const expected = (await ((await js.call('main', x())) as NDArray).toCpu()).data as Float32Array;
    for (const art of [foldedArt!, runTimeArt!]) {
      for (const threads of [1, 2]) {
        const cpu = await loadArtifact(memorySource(art), { threads });
        const actual = (await ((await cpu.call('main', x())) as NDArray).toCpu()).data as Float32Array;
        let worst = 0;
        for (let j = 0; j < expected.length; j++) {
          worst = Math.max(worst, Math.abs(actual[j]! - expected[j]!) / (1 + Math.abs(expected[j]!)));
        }
        expect(worst, `${threads} thread(s)`).toBeLessThan(1e-5);
      }
    }
  });
});

describe('a GEMV over a constant weight on the wasm target', () => {
  it.each([1, 3])('%i row(s) of A: B packed [N/chunk, K, chunk], one contiguous stream per part; agrees with js', async (m) => {
    const model = legalizeModule(
      parseModule(
        `
func main(x: Tensor[(${m}, 37), f32]) -> Tensor[(${m}, 64), f32] {
  dataflow {
    y = matmul(x, ${constText(37 * 64, 51, '37, 64')})
    output y
  }
  return y
}`,
        { ...opHooks, file: 'gemv.kir' },
      ),
    );
    const scheduled = scheduleModule(model, WASM_TARGET, { evaluate: evaluatePrimFunc });
    const f = getPrimFunc(scheduled, 'matmul')!;
    expect(f.attrs[SCHEDULE_RULES_ATTR]).toEqual(['cpu-gemv']);
    // 64 columns in 8 chunks of 8: each chunk's 37 x 8 weights adjacent, the transform folded at build time.
    expect((f.params[1] as Buffer).shape.map((d) => (d as { value: number }).value)).toEqual([8, 37, 8]);
    // A chunk's sums in a local tile (registers) over the whole reduction, stored once after it.
    expect(printFunc(f)).toMatch(/alloc T_matmul_local: f32\[1, 8\] local/);
    expect(calls(scheduled)).toEqual(['matmul(graph_var, constant)']);
    const x = () => tensor(Float32Array.from(randomArray(m * 37, 5)), [m, 37], 'float32');
    await expectWasmAgreesWithJs(model, scheduled, x);
  });
});

// Ten output channels: not a whole number of vectors, so not the channel-vectorized rule (which reads any stride).
describe('a stride-2 1x1 convolution on the wasm target', () => {
  const model = legalizeModule(
    parseModule(
      `
func main(x: Tensor[(n, 8, 10, 11), f32]) -> Tensor[(n, 10, 5, 6), f32] {
  dataflow {
    y = conv2d(x, ${constText(10 * 8, 21, '10, 8, 1, 1')}, strides=[2, 2])
    z = add(y, ${constText(10, 22, '10, 1, 1')})
    output z
  }
  return z
}`,
      { ...opHooks, file: 'conv-s2.kir' },
    ),
  );
  // Fused with its bias (the kernel then shares the graph's size variable n, as fuse makes it).
  const fused = fuseModule(model, { maxDepth: 64, rules: ALL_FUSION_RULES, exclude: [], inline: inlineIntermediates });
  const scheduled = scheduleModule(fused, WASM_TARGET, { evaluate: evaluatePrimFunc });

  it('reads its input subsampled by a transform that runs before the call, and agrees with the js target', async () => {
    // A symbolic batch: the transform kernel defines its own size variable, the graph uses its own; the module
    // prints and parses back (an odd width, 11, keeps its last column: 6 of them).
    expect(
      (getPrimFunc(scheduled, 'fused_conv2d_add')!.params[0] as Buffer).shape.slice(1).map((d) => (d as { value: number }).value),
    ).toEqual([8, 5, 6]);
    const reparsed = parseModule(printModule(scheduled), { ...opHooks, file: 'roundtrip.kir' });
    expect(findMismatch(scheduled, reparsed)).toBeUndefined();
    expect(calls(scheduled)).toEqual(['fused_conv2d_add_layout0(graph_var)', 'fused_conv2d_add(graph_var, constant, constant)']);
    expect(getPrimFunc(scheduled, 'fused_conv2d_add_layout0')!.attrs[SCHEDULE_RULES_ATTR]).toEqual(['cpu-injective']);
    const x = () => tensor(Float32Array.from(randomArray(2 * 8 * 10 * 11, 4)), [2, 8, 10, 11], 'float32');
    const js = await loadArtifact(memorySource(await buildArtifact(model, { name: 'js', target: JS_TARGET })));
    const expected = (await ((await js.call('main', x())) as NDArray).toCpu()).data as Float32Array;
    const cpu = await loadArtifact(
      memorySource(await buildArtifact(planModule(scheduled), { name: 'cpu', target: WASM_TARGET })),
    );
    const actual = (await ((await cpu.call('main', x())) as NDArray).toCpu()).data as Float32Array;
    for (let j = 0; j < expected.length; j++)
      expect(Math.abs(actual[j]! - expected[j]!)).toBeLessThan(1e-5 * (1 + Math.abs(expected[j]!)));
  });
});

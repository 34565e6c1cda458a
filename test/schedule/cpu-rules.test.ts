/**
 * The default CPU rules (the wasm target): each kernel records the rule that
 * scheduled it, the trace replays, the matmul rule's register tile and packed
 * panel keep the numbers (interpreter), so does the convolution's tile
 * (padding and a tail that the tile does not divide), and WebAssembly kernels built from
 * the schedules agree with the JavaScript reference target on odd shapes —
 * prime sizes, size 1, a symbolic dimension, tails of the vector width — on
 * one thread and on two.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { buildArtifact } from '../../src/codegen/artifact.ts';
import { memorySource } from '../../src/codegen/memory-source.ts';
import { getPrimFunc } from '../../src/ir/module.ts';
import { structuralEqual } from '../../src/ir/structural.ts';
import { targetSchema } from '../../src/ir/target.ts';
import { parseModule } from '../../src/ir/text/parser.ts';
import { opHooks } from '../../src/ops/index.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import { loadArtifact } from '../../src/runtime/artifact.ts';
import { type NDArray, tensor } from '../../src/runtime/ndarray.ts';
import '../../src/runtime/node.ts';
import {
  scheduleKernel,
  scheduleModule,
  SCHEDULE_RULES_ATTR,
  SCHEDULE_TRACE_ATTR,
} from '../../src/schedule/rules/default-rules.ts';
import { replayTrace } from '../../src/schedule/schedule.ts';
import type { TraceInstruction } from '../../src/schedule/trace.ts';
import { randomArray } from '../helpers/tir-interpreter.ts';
import { expectSameResults, printFunc } from '../helpers/prim-funcs.ts';
import { WASM_TARGET } from '../helpers/wasm-ops.ts';
import { legalizedKernel, matmulKernel } from './kernels.ts';

const JS_TARGET = targetSchema.parse(parseYaml(readFileSync(new URL('../../targets/js.yaml', import.meta.url), 'utf8')));

const MODEL = `
func main(x: Tensor[(n, 37), f32], w: Tensor[(37, 24), f32], b: Tensor[(24,), f32], c: Tensor[(1, 3, 9, 7), f32], k: Tensor[(5, 3, 3, 3), f32], c2: Tensor[(1, 3, 9, 21), f32], v: Tensor[(1, 37), f32]) -> Tensor[(n, 24), f32] {
  dataflow {
    a = matmul(x, w)
    ab = add(a, b)
    s = softmax(ab, axis=1)
    r = relu(s)
    d = conv2d(c, k, padding=[1, 1, 1, 1])
    d2 = conv2d(c2, k, strides=[2, 2], padding=[1, 1, 1, 1])
    e = sum(x, axis=[1])
    g = matmul(v, w)
    p = max_pool2d(c2, pool_size=[3, 3], strides=[2, 2], padding=[1, 1, 1, 1])
    output r, d, d2, e, g, p
  }
  return (r, d, d2, e, g, p)
}`;

const legalized = legalizeModule(parseModule(MODEL, { ...opHooks, file: 'model.kir' }));
const scheduled = scheduleModule(legalized, WASM_TARGET);
const rulesOf = (name: string): unknown => getPrimFunc(scheduled, name)!.attrs[SCHEDULE_RULES_ATTR];

describe('default CPU rules', () => {
  it('record which rule scheduled each kernel', () => {
    expect(rulesOf('matmul')).toEqual(['cpu-matmul']);
    expect(rulesOf('relu')).toEqual(['cpu-injective']);
    expect(rulesOf('add')).toEqual(['cpu-injective']);
    // A padded 3x3 convolution at stride 1: output channels × output columns in registers.
    expect(rulesOf('conv2d')).toEqual(['cpu-conv']);
    // At stride 2 too: the code generator loads the input's every other element as two vectors and a shuffle.
    expect(rulesOf('conv2d1')).toEqual(['cpu-conv']);
    // One row of A: B's rows streamed in order.
    expect(rulesOf('matmul1')).toEqual(['cpu-gemv']);
    // A window reduction: a vector of outputs in registers, the padded window written out.
    expect(rulesOf('max_pool2d')).toEqual(['cpu-window']);
    for (const [name, f] of scheduled.functions) {
      if (f.kind !== 'prim_func') continue;
      expect(f.attrs[SCHEDULE_RULES_ATTR], name).not.toContain('none');
    }
  });

  it('the recorded trace replays on the unscheduled kernel to the scheduled one', () => {
    for (const [name, f] of scheduled.functions) {
      if (f.kind !== 'prim_func') continue;
      const trace = f.attrs[SCHEDULE_TRACE_ATTR] as unknown as TraceInstruction[];
      const replayed = replayTrace(getPrimFunc(legalized, name)!, name, trace).func;
      expect(structuralEqual({ ...replayed, attrs: f.attrs }, f), name).toBe(true);
    }
  });
});

describe('the cpu-matmul rule', () => {
  const kernelOf = (m: string, k: number, n: number) => matmulKernel(m, k, n);

  it('accumulates an MR×NR tile in registers and copies each B panel contiguous once per column tile', () => {
    // 61 rows: no row count near 4 divides them, so the last row tile is predicated.
    const before = kernelOf('61', 20, 64);
    const s = scheduleKernel('matmul', before, WASM_TARGET);
    expect(s.rules).toEqual(['cpu-matmul']);
    const text = printFunc(s.func);
    // 8 columns (two vectors) per tile; as many rows as 15 vector registers hold with 3 left to the
    // engine's temporaries (measured: 6 rows spill): 4.
    expect(text).toMatch(/alloc T_matmul_local: f32\[4, 8\] local/);
    expect(text).toMatch(/alloc x2_local: f32\[20, 8\] local/);
    expect(text).toMatch(/in parallel\(8\)/);
    expectSameResults(before, s.func, {}, 1e-4);
  });

  it('a symbolic M (decoding one row at a time, or a whole prompt) tiles without the panel copy', () => {
    const before = kernelOf('m', 20, 64);
    const s = scheduleKernel('matmul', before, WASM_TARGET);
    const text = printFunc(s.func);
    expect(text).toMatch(/alloc T_matmul_local: f32\[4, 8\] local/);
    expect(text).not.toMatch(/x2_local/);
    expectSameResults(before, s.func, { m: 13 }, 1e-4);
    expectSameResults(before, s.func, { m: 1 }, 1e-4);
  });

  it('with few column tiles, parallel over row and column tiles together and no panel copy', () => {
    const before = kernelOf('30', 20, 8);
    const s = scheduleKernel('matmul', before, WASM_TARGET);
    const text = printFunc(s.func);
    expect(text).not.toMatch(/x2_local/);
    // 30 rows in tiles of 3 (the row count near 4 that divides them).
    expect(text).toMatch(/in parallel\(10\)/);
    expectSameResults(before, s.func, {}, 1e-4);
  });
});

describe('the cpu-gemv rule', () => {
  it("streams B's rows: each part owns a chunk of output columns and adds A[i, k] times B's row chunk per step of k", () => {
    const before = matmulKernel('1', 20, 64);
    const s = scheduleKernel('matmul', before, WASM_TARGET);
    expect(s.rules).toEqual(['cpu-gemv']);
    const text = printFunc(s.func);
    // 64 columns in 8 chunks of 8, k outside the chunk's vector loop.
    expect(text).toMatch(/for j_0 in parallel\(8\) \{[\s\S]*for k in range\(20\) \{\s*for j_1 in vectorized\(8\)/);
    expectSameResults(before, s.func, {}, 1e-4);
  });

  it('three rows still stream; more go to the register tile, as does a column count that is not a whole number of vectors', () => {
    expect(scheduleKernel('matmul', matmulKernel('3', 20, 64), WASM_TARGET).rules).toEqual(['cpu-gemv']);
    expect(scheduleKernel('matmul', matmulKernel('4', 20, 64), WASM_TARGET).rules).toEqual(['cpu-matmul']);
    expect(scheduleKernel('matmul', matmulKernel('1', 20, 30), WASM_TARGET).rules).not.toEqual(['cpu-gemv']);
  });
});

describe('the cpu-window rule', () => {
  it('accumulates a vector of pooled outputs in registers over the window, written out', () => {
    const before = legalizedKernel(
      'x: Tensor[(2, 3, 9, 21), f32]',
      'Tensor[(2, 3, 5, 11), f32]',
      'max_pool2d(x, pool_size=[3, 3], strides=[2, 2], padding=[1, 1, 1, 1])',
      'max_pool2d',
    );
    const s = scheduleKernel('max_pool2d', before, WASM_TARGET);
    expect(s.rules).toEqual(['cpu-window']);
    const text = printFunc(s.func);
    expect(text).toMatch(/alloc max_pool2d_local: f32\[1, 1, 1, 8\] local/);
    expect(text).not.toMatch(/range\(3\)/);
    expectSameResults(before, s.func, {}, 1e-6);
  });
});

describe('the cpu-row-reduce rule', () => {
  it('sums a contiguous row in two vectors of partial sums held in registers, then combines them', () => {
    const before = legalizedKernel('x: Tensor[(5, 32), f32]', 'Tensor[(5,), f32]', 'sum(x, axis=[1])', 'sum');
    const s = scheduleKernel('sum', before, WASM_TARGET);
    expect(s.rules).toEqual(['cpu-row-reduce']);
    const text = printFunc(s.func);
    expect(text).toMatch(/_rf_local: f32\[1, 8\] local/);
    expect(text).toMatch(/for \w+ in range\(4\) \{\s*for \w+ in vectorized\(8\)/);
    expectSameResults(before, s.func, {}, 1e-5);
  });

  it("softmax's max and sum take it; a row that is not a whole number of vectors does not", () => {
    const sm = legalizedKernel('x: Tensor[(3, 24), f32]', 'Tensor[(3, 24), f32]', 'softmax(x, axis=1)', 'softmax');
    expect(scheduleKernel('softmax', sm, WASM_TARGET).rules).toEqual(['cpu-row-reduce', 'cpu-row-reduce', 'cpu-injective']);
    const odd = legalizedKernel('x: Tensor[(5, 37), f32]', 'Tensor[(5,), f32]', 'sum(x, axis=[1])', 'sum');
    expect(scheduleKernel('sum', odd, WASM_TARGET).rules).not.toEqual(['cpu-row-reduce']);
  });
});

describe('the cpu-conv rule', () => {
  const kernelOf = (x: string, w: string, attrs: string, out: string) =>
    legalizedKernel(`x: Tensor[${x}, f32], w: Tensor[${w}, f32]`, `Tensor[${out}, f32]`, `conv2d(x, w${attrs})`, 'conv2d');

  it('tiles output channels × output columns, the rows under one padding guard, the window written out', () => {
    // 11 columns: one full tile of 8 and a predicated tail; 5 output channels: a row tile of 4 and a predicated one.
    const before = kernelOf('(1, 3, 7, 11)', '(5, 3, 3, 3)', ', padding=[1, 1, 1, 1]', '(1, 5, 7, 11)');
    const s = scheduleKernel('conv2d', before, WASM_TARGET);
    expect(s.rules).toEqual(['cpu-conv']);
    expect(printFunc(s.func)).toMatch(/alloc conv2d_local: f32\[1, 4, 1, 8\] local/);
    expectSameResults(before, s.func, {}, 1e-4);
  });

  it('takes a stride-2 convolution (its input two elements apart per output column), leaves stride 3 to another rule', () => {
    const two = kernelOf('(1, 3, 8, 21)', '(4, 3, 3, 3)', ', strides=[2, 2], padding=[1, 1, 1, 1]', '(1, 4, 4, 11)');
    const s = scheduleKernel('conv2d', two, WASM_TARGET);
    expect(s.rules).toEqual(['cpu-conv']);
    expectSameResults(two, s.func, {}, 1e-4);
    const three = kernelOf('(1, 3, 8, 8)', '(4, 3, 3, 3)', ', strides=[3, 3], padding=[1, 1, 1, 1]', '(1, 4, 3, 3)');
    expect(scheduleKernel('conv2d', three, WASM_TARGET).rules).not.toEqual(['cpu-conv']);
  });
});

describe('the cpu-conv rule on a row narrower than its tile', () => {
  it("a 1x1 convolution over a 7-wide image (QLinearConv's test) builds for wasm and computes x * w", async () => {
    const text = `
func main(x: Tensor[(1, 1, 7, 7), f32], w: Tensor[(1, 1, 1, 1), f32]) -> Tensor[(1, 1, 7, 7), f32] {
  dataflow {
    y = conv2d(x, w)
    output y
  }
  return y
}`;
    const m = scheduleModule(legalizeModule(parseModule(text, { ...opHooks, file: 'narrow.kir' })), WASM_TARGET);
    expect(getPrimFunc(m, 'conv2d')!.attrs[SCHEDULE_RULES_ATTR]).toEqual(['cpu-conv']);
    // It used to fail: "a register buffer indexed at 7 (size 7)" (a tile of 8 columns over 7).
    const cpu = await loadArtifact(memorySource(await buildArtifact(m, { name: 'narrow', target: WASM_TARGET })));
    const x = Float32Array.from(randomArray(49, 3));
    const y = await (
      (await cpu.call('main', tensor(x, [1, 1, 7, 7], 'float32'), tensor([1.5], [1, 1, 1, 1], 'float32'))) as NDArray
    ).toCpu();
    expect(Array.from(y.data as Float32Array)).toEqual(Array.from(x, (v) => Math.fround(v * 1.5)));
  });
});

describe('wasm kernels agree with the js target', () => {
  const built = Promise.all([
    buildArtifact(scheduled, { name: 'cpu', target: WASM_TARGET }),
    buildArtifact(legalized, { name: 'js', target: JS_TARGET }),
  ]);

  const inputs = (n: number, seed: number) => [
    tensor(Float32Array.from(randomArray(n * 37, seed)), [n, 37], 'float32'),
    tensor(Float32Array.from(randomArray(37 * 24, seed + 1)), [37, 24], 'float32'),
    tensor(Float32Array.from(randomArray(24, seed + 2)), [24], 'float32'),
    tensor(Float32Array.from(randomArray(3 * 9 * 7, seed + 3)), [1, 3, 9, 7], 'float32'),
    tensor(Float32Array.from(randomArray(5 * 3 * 3 * 3, seed + 4)), [5, 3, 3, 3], 'float32'),
    tensor(Float32Array.from(randomArray(3 * 9 * 21, seed + 5)), [1, 3, 9, 21], 'float32'),
    tensor(Float32Array.from(randomArray(37, seed + 6)), [1, 37], 'float32'),
  ];

  const outputs = async (v: unknown): Promise<NDArray[]> =>
    Promise.all((v as { toCpu(): Promise<NDArray> }[]).map((t) => t.toCpu()));

  it.each([1, 7, 13, 64])('n = %i, one thread and two', async (n) => {
    const [wasmArt, jsArt] = await built;
    const js = await loadArtifact(memorySource(jsArt));
    const expected = await outputs(await js.call('main', ...inputs(n, n)));
    for (const threads of [1, 2]) {
      const cpu = await loadArtifact(memorySource(wasmArt), { threads });
      const actual = await outputs(await cpu.call('main', ...inputs(n, n)));
      for (const [i, e] of expected.entries()) {
        const a = actual[i]!;
        expect(a.shape).toEqual(e.shape);
        const ad = a.data as Float32Array;
        const ed = e.data as Float32Array;
        let worst = 0;
        for (let j = 0; j < ed.length; j++) worst = Math.max(worst, Math.abs(ad[j]! - ed[j]!) / (1 + Math.abs(ed[j]!)));
        expect(worst, `output ${i}, ${threads} thread(s)`).toBeLessThan(1e-5);
      }
    }
  });
});

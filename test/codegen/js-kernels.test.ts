/** The JavaScript code generator: what it refuses, and how a kernel checks the tensors it is given. */
import { describe, expect, test } from 'vitest';
import { emitJsKernels } from '../../src/codegen/js/module.ts';
import type { PrimFunc } from '../../src/ir/tir/stmt.ts';
import { tensor, cpu, type NDArray } from '../../src/runtime/ndarray.ts';
import { parse } from '../helpers/build-run.ts';

function kernels(text: string): Map<string, PrimFunc> {
  const m = parse(text);
  return new Map([...m.functions].filter(([, f]) => f.kind === 'prim_func') as [string, PrimFunc][]);
}

function compile(text: string): Record<string, (args: readonly (NDArray | number)[]) => void> {
  const source = emitJsKernels(kernels(text)).replace('export const kernels =', 'return');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return (new Function(source) as () => Record<string, (args: readonly (NDArray | number)[]) => void>)();
}

describe('JavaScript kernels', () => {
  test('a barrier between GPU threads is refused at build time, naming the kernel', () => {
    const text = `
prim_func sync(A: f32[64]) {
  for tx in thread_binding(64, "threadIdx.x") {
    eval workgroup_barrier()
    A[tx] = 1.0
  }
}`;
    expect(() => emitJsKernels(kernels(text))).toThrow(
      "js code generation: kernel 'sync': workgroup_barrier (a barrier between GPU threads)",
    );
  });

  test('a kernel checks dtype, rank and every dimension of its tensors', () => {
    const k = compile(`
prim_func copy(A: f32[n, 4], B: f32[n, 4]) {
  for i, j in grid(n, 4) {
    B[i, j] = A[i, j]
  }
}`).copy!;
    const a = tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
    const b = cpu.empty([2, 4], 'float32');
    k([a, b]);
    expect(b.toNumbers()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(() => k([a, cpu.empty([3, 4], 'float32')])).toThrow('kernel copy: buffer B dimension 0 is 3, expected 2');
    expect(() => k([a, cpu.empty([2, 4], 'float64')])).toThrow(
      'kernel copy: buffer B is float64[2, 4], expected float32 of rank 2',
    );
  });

  test('strided buffers, allocations, lets and ifs', () => {
    const k = compile(`
prim_func f(A: f32[3, 2] strides(1, 3), B: f32[3]) {
  alloc S: f32[3] local
  for i in range(3) {
    let t = A[i, 0] + A[i, 1]
    if t > 5.0 {
      S[i] = t
    } else {
      S[i] = 0.0 - t
    }
  }
  for i in range(3) {
    B[i] = S[i]
  }
}`).f!;
    // Column-major 3x2: A[i, j] is element i + 3 j.
    const b = cpu.empty([3], 'float32');
    k([tensor([1, 2, 3, 4, 5, 6], [3, 2]), b]);
    expect(b.toNumbers()).toEqual([-5, 7, 9]);
  });
});

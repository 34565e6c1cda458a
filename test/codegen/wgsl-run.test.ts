/**
 * WGSL kernels validated and run on a real WebGPU adapter (Dawn; Mesa's
 * lavapipe where there is no GPU), against numbers computed in JavaScript:
 * a hand-scheduled kernel with workgroup memory and barriers, unscheduled
 * legalized kernels (one invocation, workspace buffers), and thread-bound
 * kernels over a symbolic size.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { emitWgslKernel } from '../../src/codegen/wgsl/index.ts';
import type { TargetDescription } from '../../src/ir/target.ts';
import type { PrimFunc } from '../../src/ir/tir/stmt.ts';
import { legalizeModule } from '../../src/passes/legalize.ts';
import type { WgslKernel } from '../../src/runtime/webgpu/kernel-spec.ts';
import { parse } from '../passes/helpers.ts';
import { maxError, type PrimArg, randomArray, runPrimFunc } from '../helpers/tir-interpreter.ts';
import { type KernelArg, runWgsl, skipWithoutWebgpu } from '../helpers/wgsl-harness.ts';

const WEBGPU: TargetDescription = { name: 'webgpu', kind: 'webgpu', device: 'webgpu', features: ['shader-f16'], limits: {} };

const skip = await skipWithoutWebgpu('WGSL execution tests');

function kernelsOf(text: string): Map<string, PrimFunc> {
  const m = legalizeModule(parse(text));
  return new Map([...m.functions].filter(([, f]) => f.kind === 'prim_func') as [string, PrimFunc][]);
}

function f32(shape: readonly number[], seed: number): { shape: readonly number[]; data: Float32Array } {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from(randomArray(n, seed)) };
}

function zeros(shape: readonly number[]): { shape: readonly number[]; data: Float32Array } {
  return { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
}

/** Runs `f` as WGSL and in the reference interpreter on the same float32 arguments; returns the worst error over written buffers. */
async function againstInterpreter(k: WgslKernel, f: PrimFunc, args: readonly KernelArg[]): Promise<number> {
  const ref: PrimArg[] = args.map((a) => (typeof a === 'number' ? a : Float64Array.from(a.data)));
  const sizes: Record<string, number> = {};
  for (const v of k.vars) {
    const a = args[v.from.param]!;
    sizes[v.name] = typeof a === 'number' ? a : a.shape[v.from.dim!]!;
  }
  runPrimFunc(f, ref, { sizes });
  const out = await runWgsl(k, args);
  let worst = 0;
  k.params.forEach((p, i) => {
    if (p.kind !== 'buffer' || !p.written) return;
    const e = maxError(out[i]!, ref[i] as Float64Array);
    worst = Math.max(worst, Number.isNaN(e.abs) ? Infinity : e.abs);
  });
  return worst;
}

function softmaxRows(x: Float32Array, rows: number, cols: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    const m = Math.max(...row);
    const s = row.reduce((acc, v) => acc + Math.exp(v - m), 0);
    row.forEach((v, c) => (y[r * cols + c] = Math.exp(v - m) / s));
  }
  return y;
}

describe.skipIf(skip)('WGSL kernels on WebGPU', () => {
  test('the hand-scheduled softmax (workgroup memory, barriers), with the grid folded and not', async () => {
    const f = kernelsOf(readFileSync('examples/softmax-scheduled.kir', 'utf8')).get('softmax_rows')!;
    const k = emitWgslKernel('softmax_rows', f, WEBGPU);
    const n = 5;
    const x = f32([n, 256], 1);
    const expected = softmaxRows(x.data, n, 256);
    const plain = await runWgsl(k, [x, zeros([n, 256])]);
    expect(maxError(plain[1]!, expected).abs).toBeLessThan(1e-6);
    // 5 rows spread over 2 x 3 workgroups: the sixth returns at once.
    const folded = await runWgsl(k, [x, zeros([n, 256])], { foldAbove: 2 });
    expect(maxError(folded[1]!, expected).abs).toBeLessThan(1e-6);
  });

  test('unscheduled legalized kernels run as one invocation: matmul, softmax with its workspace, a reduction', async () => {
    const m = kernelsOf(`
func main(a: Tensor[(n, 8), f32], w: Tensor[(8, 5), f32]) -> Tensor[(n,), f32] {
  b = matmul(a, w)
  c = softmax(b, axis=-1)
  d = sum(c, axis=[1])
  return d
}`);
    const n = 3;
    const cases: [string, KernelArg[]][] = [
      ['matmul', [f32([n, 8], 2), f32([8, 5], 3), zeros([n, 5])]],
      ['softmax', [f32([n, 5], 4), zeros([n, 5])]],
      ['sum', [f32([n, 5], 5), zeros([n])]],
    ];
    for (const [name, args] of cases) {
      const f = m.get(name)!;
      const k = emitWgslKernel(name, f, WEBGPU);
      if (name === 'softmax') expect(k.workspace).toHaveLength(2);
      expect(await againstInterpreter(k, f, args), name).toBeLessThan(1e-5);
    }
  });

  test('blockIdx.x over a symbolic grid, 64 threads, a guard for the tail', async () => {
    const f = kernelsOf(`
prim_func axpb(A: f32[n], B: f32[n], alpha: f32) {
  for bx in thread_binding((n + 63) // 64, "blockIdx.x") {
    for tx in thread_binding(64, "threadIdx.x") {
      if bx * 64 + tx < n {
        B[bx * 64 + tx] = A[bx * 64 + tx] * alpha + 1.0
      }
    }
  }
}`).get('axpb')!;
    const k = emitWgslKernel('axpb', f, WEBGPU);
    const n = 1000;
    const b = { shape: [n], data: new Float32Array(n).fill(-7) };
    expect(await againstInterpreter(k, f, [f32([n], 6), b, 0.5])).toBe(0);
    // The runtime may fold the grid: 16 workgroups as 5 x 4.
    const out = await runWgsl(k, [f32([n], 6), { shape: [n], data: new Float32Array(n) }, 0.5], { foldAbove: 5 });
    const ref = new Float64Array(n);
    runPrimFunc(f, [Float64Array.from(f32([n], 6).data), ref, 0.5], { sizes: { n } });
    expect(maxError(out[1]!, ref).abs).toBe(0);
  });

  test('vectorized loops: aligned runs read as vec4s, the last one partly past the tensor, as the interpreter computes', async () => {
    const f = kernelsOf(`
prim_func tail4(A: f32[n], B: f32[n]) {
  for bx in thread_binding((n + 3) // 4, "blockIdx.x") {
    for j in vectorized(4) {
      if bx * 4 + j < n {
        B[bx * 4 + j] = A[bx * 4 + j] * 0.5 + 1.0
      }
    }
  }
}`).get('tail4')!;
    const k = emitWgslKernel('tail4', f, WEBGPU);
    expect(k.source).toContain('A_vec4');
    for (const n of [10, 13, 16]) {
      expect(await againstInterpreter(k, f, [f32([n], n), { shape: [n], data: new Float32Array(n).fill(-7) }])).toBe(0);
    }
    const g = kernelsOf(`
prim_func gemv8(A: f32[64], W: f32[64, 96], Y: f32[96]) {
  for b in thread_binding(3, "blockIdx.x") {
    for t in thread_binding(4, "threadIdx.x") {
      alloc acc: f32[8] local
      for j in vectorized(8) {
        acc[j] = 0.0
      }
      for k in range(64) {
        for j in vectorized(8) {
          acc[j] = acc[j] + A[k] * W[k, b * 32 + t * 8 + j]
        }
      }
      for j in vectorized(8) {
        Y[b * 32 + t * 8 + j] = acc[j]
      }
    }
  }
}`).get('gemv8')!;
    const kg = emitWgslKernel('gemv8', g, WEBGPU);
    expect(kg.source.match(/= W_vec4\[/g)).toHaveLength(2);
    expect(await againstInterpreter(kg, g, [f32([64], 1), f32([64, 96], 2), zeros([96])])).toBeLessThan(1e-5);
  });

  test('a 2-d grid of 2-d workgroups with thread loops of different widths', async () => {
    const f = kernelsOf(`
prim_func tile(A: f32[m, 16], B: f32[m, 16]) {
  for by in thread_binding(m, "blockIdx.y") {
    for bx in thread_binding(2, "blockIdx.x") {
      for ty in thread_binding(2, "threadIdx.y") {
        for tx in thread_binding(8, "threadIdx.x") {
          B[by, bx * 8 + tx] = A[by, bx * 8 + tx] * 2.0
        }
        eval workgroup_barrier()
        for tx2 in thread_binding(4, "threadIdx.x") {
          if ty == 1 {
            B[by, bx * 8 + tx2] = B[by, bx * 8 + tx2] + 100.0
          }
        }
      }
    }
  }
}`).get('tile')!;
    const k = emitWgslKernel('tile', f, WEBGPU);
    expect(k.dispatches[0]!.workgroupSize).toEqual([8, 2, 1]);
    expect(await againstInterpreter(k, f, [f32([3, 16], 7), zeros([3, 16])])).toBe(0);
  });

  test('identifiers WGSL reserves are renamed, so the shader compiles', async () => {
    const f = kernelsOf(`
prim_func f(loop: f32[4], fn: f32[4], u: f32[4]) {
  for max in range(4) {
    let select = loop[max] * 2.0
    fn[max] = select + u[max]
  }
}`).get('f')!;
    const k = emitWgslKernel('f', f, WEBGPU);
    const out = await runWgsl(k, [f32([4], 8), zeros([4]), f32([4], 9)]);
    const ref = new Float64Array(4);
    runPrimFunc(f, [Float64Array.from(f32([4], 8).data), ref, Float64Array.from(f32([4], 9).data)]);
    expect(maxError(out[1]!, ref).abs).toBe(0);
  });
});

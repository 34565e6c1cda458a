/**
 * The numerics of WGSL kernels on a real WebGPU adapter, against the
 * JavaScript kernels, whose semantics they mirror: 64-bit integers computed
 * in 32 bits, half floats with and without shader-f16, bools and small
 * integers stored wrapped, casts, and the math intrinsics WGSL lacks or
 * leaves undefined.
 */
import { describe, expect, test } from 'vitest';
import { emitJsKernels } from '../../src/codegen/js/module.ts';
import { emitWgslKernel } from '../../src/codegen/wgsl/index.ts';
import { fromFloat16Bits, toFloat16Bits } from '../../src/ir/float-bits.ts';
import type { TargetDescription } from '../../src/ir/target.ts';
import type { PrimFunc } from '../../src/ir/tir/stmt.ts';
import { cpu, type NDArray, tensor } from '../../src/runtime/ndarray.ts';
import type { WgslKernel } from '../../src/runtime/webgpu/kernel-spec.ts';
import { parse } from '../passes/helpers.ts';
import { randomArray } from '../helpers/tir-interpreter.ts';
import { type HostArray, type KernelArg, runWgsl, skipWithoutWebgpu, webgpuDevice } from '../helpers/wgsl-harness.ts';

const WEBGPU: TargetDescription = { name: 'webgpu', kind: 'webgpu', device: 'webgpu', features: ['shader-f16'], limits: {} };
const NO_F16: TargetDescription = { ...WEBGPU, features: [] };

const skip = await skipWithoutWebgpu('WGSL numerics tests');
const hasF16 = (await webgpuDevice())?.features.has('shader-f16') ?? false;

/** A buffer argument by its values (outputs: values omitted, zeros), or a scalar. */
type Arg = { readonly shape: readonly number[]; readonly values?: readonly number[] } | number;

interface Outcome {
  readonly kernel: WgslKernel;
  /** Per written buffer parameter, by name: what WGSL and the JavaScript kernel stored, as numbers. */
  readonly gpu: Record<string, number[]>;
  readonly js: Record<string, number[]>;
}

function onlyKernel(text: string): [string, PrimFunc] {
  const kernels = [...parse(text).functions].filter((e): e is [string, PrimFunc] => e[1].kind === 'prim_func');
  if (kernels.length !== 1) throw new Error(`expected one prim_func, found ${kernels.length}`);
  return kernels[0]!;
}

/** Runs the one PrimFunc of `text` as WGSL and as JavaScript on the same arguments. */
async function both(text: string, args: readonly Arg[], target: TargetDescription = WEBGPU): Promise<Outcome> {
  const [name, f] = onlyKernel(text);
  const kernel = emitWgslKernel(name, f, target);

  const source = emitJsKernels(new Map([[name, f]])).replace('export const kernels =', 'return');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const table = (new Function(source) as () => Record<string, (a: readonly (NDArray | number)[]) => void>)();
  const jsArgs = f.params.map((p, i) => {
    const a = args[i]!;
    if (typeof a === 'number') return a;
    return a.values ? tensor(a.values, a.shape, p.dtype) : cpu.empty(a.shape, p.dtype);
  });
  table[name]!(jsArgs);

  const gpuArgs = kernel.params.map((p, i): KernelArg => {
    const a = args[i]!;
    if (typeof a === 'number' || p.kind !== 'buffer') return a as number;
    const size = a.shape.reduce((x, y) => x * y, 1);
    const values = a.values ?? new Array<number>(size).fill(0);
    const data: HostArray =
      p.storage === 'f16'
        ? Uint16Array.from(values, toFloat16Bits)
        : p.storage === 'f32'
          ? Float32Array.from(values)
          : p.storage === 'u32'
            ? Uint32Array.from(values)
            : Int32Array.from(values);
    return { shape: a.shape, data };
  });
  const out = await runWgsl(kernel, gpuArgs);

  const gpu: Record<string, number[]> = {};
  const js: Record<string, number[]> = {};
  kernel.params.forEach((p, i) => {
    if (p.kind !== 'buffer' || !p.written) return;
    gpu[p.name] = p.storage === 'f16' ? Array.from(out[i]!, fromFloat16Bits) : Array.from(out[i]!);
    js[p.name] = (jsArgs[i] as NDArray).toNumbers();
  });
  return { kernel, gpu, js };
}

/** Elementwise |gpu - js| <= atol + rtol |js|, NaN matching NaN. */
function close(gpu: readonly number[], js: readonly number[], rtol: number, atol: number): string[] {
  const bad: string[] = [];
  js.forEach((e, i) => {
    const a = gpu[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) bad.push(`[${i}] ${a} vs ${e}`);
  });
  return bad;
}

describe.skipIf(skip)('WGSL numerics against the JavaScript kernels', () => {
  test('int64 index math in i32: 2-d symbolic indexing, floor division and modulo of negatives, saturated literals', async () => {
    const n = 6;
    const m = 5;
    const a = Array.from({ length: n * m }, (_, i) => ((i * 37) % 41) - 20);
    const r = await both(
      `
prim_func idx(A: i64[n, m], T: i64[m, n], B: i64[n, m], C: i64[n, m], D: i64[n, m]) {
  for i, j in grid(n, m) {
    T[j, i] = A[n - 1 - i, j]
    B[i, j] = A[i, j] // 3 * 100 + A[i, j] % 3
    C[i, j] = A[i, j] // 4 * 100 + A[i, j] % 8 + truncdiv(A[i, j], 3) * 10000 + truncmod(A[i, j], 3) * 1000000
    D[i, j] = select(max(A[i, j], -9007199254740991) == A[i, j], 1, 0) + (A[i, j] << 2) + (A[i, j] >> 1)
  }
}`,
      [{ shape: [n, m], values: a }, { shape: [m, n] }, { shape: [n, m] }, { shape: [n, m] }, { shape: [n, m] }],
    );
    expect(r.gpu).toEqual(r.js);
  });

  test('bools and small integers: stores wrap to their width, bools load as bools', async () => {
    const a = [0, 1, -1, 5, -5, 127, 128, 200, -129, 300, 40000, -40000, 70000];
    const n = a.length;
    const r = await both(
      `
prim_func b(A: i32[n], P: bool[n], Q: bool[n], C: i8[n], D: u8[n], E: i16[n], F: u16[n], G: i8[n]) {
  for i in range(n) {
    P[i] = A[i] > 0
    Q[i] = !P[i] && A[i] != -5
    C[i] = i8(A[i])
    D[i] = u8(A[i])
    E[i] = i16(A[i] * 3)
    F[i] = u16(A[i] * 3)
    G[i] = i8(A[i]) + i8(A[i]) * i8(200)
  }
}`,
      [{ shape: [n], values: a }, ...Array.from({ length: 7 }, () => ({ shape: [n] }))],
    );
    expect(r.gpu).toEqual(r.js);
    expect(r.gpu.C!.slice(5, 9)).toEqual([127, -128, -56, 127]);
  });

  test('float16 and bfloat16 round to nearest even, with shader-f16 (f16 buffers) and without (f32 buffers)', async () => {
    const special = [1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, 65519, 65520, 70000, -70000, 1e-7, 6e-8, 2 ** -25, 3 * 2 ** -26];
    const x = [...special, NaN, -0, Infinity, -Infinity, ...randomArray(16, 11, -100, 100)].map(Math.fround);
    const h = randomArray(x.length, 12, -4, 4).map((v) => fromFloat16Bits(toFloat16Bits(v)));
    const text = `
prim_func h(X: f32[n], A: f16[n], B: f16[n], C: f32[n], D: bf16[n], E: f16[n]) {
  for i in range(n) {
    B[i] = f16(X[i])
    C[i] = f32(A[i] * 3.0 + 0.5)
    D[i] = bf16(X[i])
    E[i] = A[i] * A[i] + f16(X[i])
  }
}`;
    const n = x.length;
    const args: Arg[] = [
      { shape: [n], values: x },
      { shape: [n], values: [...h] },
      ...Array.from({ length: 4 }, () => ({ shape: [n] })),
    ];
    if (hasF16) {
      const with16 = await both(text, args);
      expect(with16.kernel.features).toEqual(['shader-f16']);
      expect(with16.gpu).toEqual(with16.js);
    }
    const without = await both(text, args, NO_F16);
    expect(without.kernel.features).toEqual([]);
    expect(without.gpu).toEqual(without.js);
  });

  test('casts between floats and integers: truncation toward zero, NaN to 0, wrapping through i32 like the JS kernels', async () => {
    const x = [0, 2.7, -2.7, 200.5, -1.5, 300.7, 3e9, NaN, 1e9, -1e9, 65535.9].map(Math.fround);
    const n = x.length;
    const r = await both(
      `
prim_func c(X: f32[n], I: i32[n], U: u32[n], B: u8[n], S: i8[n], F: f32[n], L: i64[n]) {
  for i in range(n) {
    I[i] = i32(select(X[i] > 2000000000.0, 0.0, X[i]))
    U[i] = u32(X[i])
    B[i] = u8(X[i])
    S[i] = i8(X[i])
    F[i] = f32(i32(X[i] * 0.001)) + f32(X[i] > 1.0) + f32(u8(X[i]))
    L[i] = i64(select(isnan(X[i]), 0.0, X[i] * 0.5))
  }
}`,
      [{ shape: [n], values: x }, ...Array.from({ length: 6 }, () => ({ shape: [n] }))],
    );
    expect(r.gpu).toEqual(r.js);
  });

  test('math intrinsics: erf, tanh of large values, log1p and expm1 near 0, C pow and fmod, half-to-even round, isnan', async () => {
    const specials = [0, -0, 0.5, -0.5, 1.5, 2.5, -2.5, 3, -3, 1e-6, -1e-6, 20, -20, 100, -100, NaN, Infinity, -Infinity];
    const x = [...specials, ...randomArray(30, 13, -4, 4)].map(Math.fround);
    const n = x.length;
    const rows = [
      'exp(@)',
      'erf(@)',
      'tanh(@)',
      'tanh(@ * 40.0)',
      'log1p(@ * 0.001)',
      'expm1(@ * 0.001)',
      'sigmoid(@)',
      'pow(@, 3.0)',
      'pow(@, 2.0)',
      'pow(@, 0.5)',
      'pow(@, -1.0)',
      'fmod(@ * 7.0, 2.5)',
      'fmod(@, -0.75)',
      'round(@)',
      'sign(@)',
      'floor(@) + ceil(@) * 10.0 + trunc(@) * 100.0',
      '@ // 0.75',
      '@ % 0.75',
      'select(isnan(@), 1.0, 0.0) + select(isinf(@), 2.0, 0.0) + select(isfinite(@), 4.0, 0.0)',
      'rsqrt(abs(@) + 1.0) + log10(abs(@) + 1.0)',
      'sqrt(abs(@)) + exp2(@ * 0.5) + log2(abs(@) + 0.5) + log(abs(@) + 0.5)',
      'atan2(@, 1.5)',
      'atan(@)',
      'asinh(@)',
      'acosh(abs(@) + 2.0)',
      'atanh(@ * 0.2)',
      'sinh(@ * 0.5)',
      'cosh(@ * 0.5)',
      'sin(@)',
      'cos(@)',
      'tan(@ * 0.3)',
      'asin(@ * 0.2)',
      'acos(@ * 0.2)',
      'abs(@) + min(@, 0.5) + max(@, -0.5)',
    ];
    const stores = rows.map((e, r) => `    O[${r}, i] = ${e.replaceAll('@', 'X[i]')}`);
    const r = await both(
      `
prim_func m(X: f32[n], O: f32[${rows.length}, n]) {
  for i in range(n) {
    ${stores.join('\n').trim()}
  }
}`,
      [{ shape: [n], values: x }, { shape: [rows.length, n] }],
    );
    const problems = rows.flatMap((e, k) => {
      const got = r.gpu.O!.slice(k * n, (k + 1) * n);
      const want = r.js.O!.slice(k * n, (k + 1) * n);
      return close(got, want, 2e-5, 2e-6).map((p) => `${e} ${p} (@ = ${x[Number(/\d+/.exec(p)![0])]})`);
    });
    expect(problems).toEqual([]);
  });

  test('integer abs, sign, min, max, shifts, unsigned arithmetic, division by zero (0, as in the JS kernels)', async () => {
    const a = [0, 1, -1, 7, -7, 1000, -1000, 123456, -123456];
    const n = a.length;
    const r = await both(
      `
prim_func i(A: i32[n], B: i32[n], U: u32[n], V: u32[n], Z: i32[n]) {
  for k in range(n) {
    B[k] = abs(A[k]) * 10 + sign(A[k]) + min(A[k], 3) * 1000 + max(A[k], -3) * 100000
    U[k] = u32(A[k])
    V[k] = (U[k] >> 3u32) + U[k] // 7u32 + U[k] % 5u32 + (U[k] & 255u32) + sign(U[k] % 2u32) + U[k] // (U[k] % 3u32)
    Z[k] = A[k] // (A[k] % 3) * 1000 + truncdiv(A[k], A[k] % 2) * 10 + A[k] % (A[k] % 2)
  }
}`,
      [{ shape: [n], values: a }, { shape: [n] }, { shape: [n] }, { shape: [n] }, { shape: [n] }],
    );
    expect(r.gpu).toEqual(r.js);
  });
});

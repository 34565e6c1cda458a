/** The VM end to end: modules built in memory, run on the CPU, checked against plain JS. */
import { describe, expect, test } from 'vitest';
import { FunctionRegistry } from '../../src/runtime/registry.ts';
import type { NDArray } from '../../src/runtime/ndarray.ts';
import { tensor } from '../../src/runtime/ndarray.ts';
import type { Shape } from '../../src/runtime/values.ts';
import { type Value } from '../../src/runtime/values.ts';
import { buildAndLoad } from '../helpers/build-run.ts';
import { MM_RELU } from '../helpers/workspace.ts';
import { randomArray } from '../helpers/tir-interpreter.ts';

function mmRelu(x: Float64Array, w: Float64Array, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 64; j++) {
      let s = 0;
      for (let k = 0; k < 128; k++) s += x[i * 128 + k]! * w[k * 64 + j]!;
      out.push(Math.max(0, s));
    }
  }
  return out;
}

function close(actual: readonly number[], expected: readonly number[], tol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  actual.forEach((a, i) => (worst = Math.max(worst, Math.abs(a - expected[i]!) / Math.max(1, Math.abs(expected[i]!)))));
  expect(worst).toBeLessThan(tol);
}

describe('the design example (mm + relu over a symbolic n)', () => {
  test('runs for n = 1, 7 and 64', async () => {
    const mod = await buildAndLoad(MM_RELU);
    const w = randomArray(128 * 64, 2);
    for (const n of [1, 7, 64]) {
      const x = randomArray(n * 128, n);
      const y = (await mod.call('main', tensor(x, [n, 128]), tensor(w, [128, 64]))) as NDArray;
      expect(y.shape).toEqual([n, 64]);
      close(y.toNumbers(), mmRelu(x, w, n));
    }
  });

  test('a wrong input names the function, the parameter, the dimension and both values', async () => {
    const mod = await buildAndLoad(MM_RELU);
    const w = tensor(randomArray(128 * 64, 2), [128, 64]);
    await expect(mod.call('main', tensor(randomArray(3 * 100, 1), [3, 100]), w)).rejects.toThrow(
      "main: parameter 'x' dimension 1 is 100 (shape [3, 100]), expected 128",
    );
    await expect(mod.call('main', tensor(randomArray(128, 1), [128]), w)).rejects.toThrow(
      "main: parameter 'x' has rank 1 (shape [128]), expected rank 2",
    );
    await expect(mod.call('main', tensor(new Float64Array(128), [1, 128], 'float64'), w)).rejects.toThrow(
      "main: parameter 'x' has dtype float64, expected float32",
    );
    await expect(mod.call('main', w)).rejects.toThrow('main takes 2 arguments (x, w), 1 given');
  });
});

describe('symbolic variables shared between parameters', () => {
  const SRC = `
func main(a: Tensor[(n, 4), f32], b: Tensor[(n, 4), f32]) -> Tensor[(n, 4), f32] {
  c: Tensor[(n, 4), f32] = add(a, b)
  return c
}`;
  test('an inconsistent dimension says where the variable was bound', async () => {
    const mod = await buildAndLoad(SRC);
    await expect(mod.call('main', tensor(new Float32Array(12), [3, 4]), tensor(new Float32Array(8), [2, 4]))).rejects.toThrow(
      "main: parameter 'b' dimension 0 is 2 (shape [2, 4]), but n = 3 from parameter 'a' dimension 0",
    );
  });

  test('a dimension that is an expression is checked after every variable is bound', async () => {
    const mod = await buildAndLoad(`
func main(a: Tensor[(n * 2,), f32], b: Tensor[(n,), f32]) -> Tensor[(n,), f32] {
  return b
}`);
    const b = tensor([1, 2, 3], [3]);
    expect(((await mod.call('main', tensor(new Float32Array(6), [6]), b)) as NDArray).toNumbers()).toEqual([1, 2, 3]);
    await expect(mod.call('main', tensor(new Float32Array(5), [5]), b)).rejects.toThrow(
      "main: parameter 'a' dimension 0 is 5 (shape [5]), expected 6",
    );
  });
});

describe('control flow, tuples, calls, shapes', () => {
  test('if picks a branch at run time', async () => {
    const mod = await buildAndLoad(`
func main(c: Prim[bool], x: Tensor[(n,), f32]) -> Tensor[(n,), f32] {
  y: Tensor[(n,), f32] = if c {
    a: Tensor[(n,), f32] = exp(x)
    a
  } else {
    b: Tensor[(n,), f32] = negative(x)
    b
  }
  return y
}`);
    const x = tensor([0, 1, 2], [3]);
    close(((await mod.call('main', true, x)) as NDArray).toNumbers(), [1, Math.E, Math.E ** 2], 1e-6);
    expect(((await mod.call('main', false, x)) as NDArray).toNumbers()).toEqual([-0, -1, -2]);
  });

  test('tuples, calls between graph functions, shape_of and match_cast', async () => {
    const mod = await buildAndLoad(`
func double(x: Tensor[(k,), f32]) -> Tensor[(k,), f32] attrs(private=true) {
  y: Tensor[(k,), f32] = add(x, x)
  return y
}
func main(x: Tensor[ndim=1, f32]) -> Tuple[Tensor[ndim=1, f32], Shape[ndim=1]] {
  s = shape_of(x)
  v = match_cast(x, Tensor[(m,), f32])
  d: Tensor[(m,), f32] = @double(v)
  t = (d, s)
  return t
}`);
    expect(mod.entries).toEqual(['main']);
    const [d, s] = (await mod.call('main', tensor([1, 2, 3], [3]))) as readonly Value[];
    expect((d as NDArray).toNumbers()).toEqual([2, 4, 6]);
    expect((s as Shape).dims).toEqual([3]);
  });

  test('a match_cast that fails names the binding', async () => {
    const mod = await buildAndLoad(`
func main(x: Tensor[ndim=1, f32]) -> Tensor[(4,), f32] {
  v = match_cast(x, Tensor[(4,), f32])
  return v
}`);
    await expect(mod.call('main', tensor([1, 2, 3], [3]))).rejects.toThrow(
      "main: the match_cast of 'v' dimension 0 is 3 (shape [3]), expected 4",
    );
  });
});

describe('call_dps_packed and the registry', () => {
  const SRC = `
func main(x: Tensor[(n, k), f32], w: Tensor[(k, m), f32], b: Tensor[(m,), f32]) -> Tensor[(n, m), f32] {
  y = call_dps_packed("my.gemm", (x, w), out: Tensor[(n, m), f32])
  z: Tensor[(n, m), f32] = add(y, b)
  return z
}`;
  test('a registered function runs destination-passing style', async () => {
    const registry = new FunctionRegistry();
    registry.register('my.gemm', (...args: Value[]) => {
      const [x, w, y] = args as NDArray[];
      const [n, k] = x!.shape as [number, number];
      const m = w!.shape[1]!;
      const xd = x!.data as Float32Array;
      const wd = w!.data as Float32Array;
      const yd = y!.data as Float32Array;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < m; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += xd[i * k + p]! * wd[p * m + j]!;
          yd[i * m + j] = s;
        }
      }
    });
    const mod = await buildAndLoad(SRC, { registry });
    const out = (await mod.call(
      'main',
      tensor([1, 2, 3, 4], [2, 2]),
      tensor([1, 0, 0, 1], [2, 2]),
      tensor([10, 20], [2]),
    )) as NDArray;
    expect(out.toNumbers()).toEqual([11, 22, 13, 24]);
  });

  test('a missing function is an error at load time that names it', async () => {
    await expect(buildAndLoad(SRC, { registry: new FunctionRegistry() })).rejects.toThrow(
      "the program calls registry function 'my.gemm', which is not registered",
    );
  });
});

describe('entry functions sharing parameters', () => {
  test('both run, and the shared constant is stored once', async () => {
    const src = `
func first(x: Tensor[(2,), f32]) -> Tensor[(2,), f32] {
  y: Tensor[(2,), f32] = add(x, const(f32[2], [1.0, 2.0]))
  return y
}
func second(x: Tensor[(2,), f32]) -> Tensor[(2,), f32] {
  y: Tensor[(2,), f32] = multiply(x, const(f32[2], [1.0, 2.0]))
  return y
}`;
    const mod = await buildAndLoad(src);
    expect(mod.entries.sort()).toEqual(['first', 'second']);
    expect(mod.manifest.params.tensors).toHaveLength(1);
    const x = tensor([3, 4], [2]);
    expect(((await mod.call('first', x)) as NDArray).toNumbers()).toEqual([4, 6]);
    expect(((await mod.call('second', x)) as NDArray).toNumbers()).toEqual([3, 8]);
  });
});

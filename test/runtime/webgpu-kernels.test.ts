/**
 * WGSL kernels on the webgpu device, written by hand in the code generator's
 * format: symbolic sizes through the uniforms, scalar parameters, launches
 * sharing a workspace, grids folded past the per-dimension limit, the checks
 * before a dispatch, compile errors, and pipelines made once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { NDArray } from '../../src/runtime/ndarray.ts';
import { tensor } from '../../src/runtime/ndarray.ts';
import { nodeGpu } from '../../src/runtime/node.ts';
import { createWebGpuDevice, type WebGpuDevice } from '../../src/runtime/webgpu/device.ts';
import type { Kernel } from '../../src/runtime/vm.ts';
import { describeWebGpu } from '../helpers/webgpu.ts';
import { addKernel, AXPB, file, HALF_DOUBLE, iotaKernel, MIRROR } from './wgsl-fixtures.ts';

describeWebGpu('WGSL kernels', (device) => {
  const up = async (values: number[], dtype: 'float32' | 'float16' | 'int64' = 'float32'): Promise<NDArray> =>
    device.upload(tensor(values, [values.length], dtype));
  const numbers = async (t: NDArray): Promise<number[]> => (await t.toCpu()).toNumbers();
  const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));
  let kernels: Map<string, Kernel>;
  beforeAll(async () => {
    kernels = await device.prepareKernels(
      file(addKernel(), addKernel('add_i64', 'int64', 'i32', undefined), MIRROR, AXPB, iotaKernel(true), iotaKernel(false)),
      'test',
    );
  });
  const k = (name: string): Kernel => kernels.get(name)!;

  test('add over a symbolic n, one and several workgroups', async () => {
    for (const n of [1, 5, 300]) {
      const a = await up(range(n, (i) => i));
      const b = await up(range(n, (i) => 10 * i));
      const c = device.empty([n], 'float32');
      await k('add')([a, b, c]);
      expect(await numbers(c)).toEqual(range(n, (i) => 11 * i));
    }
  });

  test('int64 tensors run on i32 storage', async () => {
    const a = await up([1, -2, 3], 'int64');
    const c = device.empty([3], 'int64');
    await k('add_i64')([a, a, c]);
    expect((await c.toCpu()).data).toEqual(new BigInt64Array([2n, -4n, 6n]));
  });

  test('a second launch sees the first one’s writes to the workspace', async () => {
    const n = 1000;
    const x = await up(range(n, (i) => i));
    const y = device.empty([n], 'float32');
    await k('mirror')([x, y]);
    // t = 2x, y[i] = t[i] + t[n-1-i] = 2(n-1).
    expect(await numbers(y)).toEqual(new Array<number>(n).fill(2 * (n - 1)));
  });

  test('scalar parameters reach the uniforms with their types', async () => {
    const x = await up([1, 2, 3]);
    const y = device.empty([3], 'float32');
    await k('axpb')([x, y, 0.5, -4]);
    expect(await numbers(y)).toEqual([-3.5, -3, -2.5]);
    expect(() => k('axpb')([x, y, 0.5, 1.5])).toThrow("kernel axpb: k = 1.5 (from scalar parameter 'k') is not a valid i32");
  });

  test('a grid x past maxComputeWorkgroupsPerDimension is folded over y when the kernel allows it', async () => {
    const n = device.limits.maxComputeWorkgroupsPerDimension + 1000;
    const out = device.empty([n], 'uint32');
    await k('iota')([out]);
    const data = (await out.toCpu()).data as Uint32Array;
    let wrong = -1;
    for (let i = 0; i < n && wrong < 0; i++) if (data[i] !== 3 * i) wrong = i;
    expect(wrong).toBe(-1);
    expect(() => k('iota_unfolded')([out])).toThrow(
      `kernel iota_unfolded: 'main' needs ${n} workgroups in x, more than maxComputeWorkgroupsPerDimension (${device.limits.maxComputeWorkgroupsPerDimension})`,
    );
  });

  test('an empty grid dispatches nothing', async () => {
    const e = device.empty([0], 'float32');
    await k('add')([e, e, e]);
    await device.sync();
  });

  test('wrong arguments are refused before anything is dispatched, naming kernel, parameter, dimension and values', async () => {
    const a = await up([1, 2, 3, 4]);
    const b3 = await up([1, 2, 3]);
    const c = device.empty([4], 'float32');
    expect(() => k('add')([a, b3, c])).toThrow(
      "kernel add: parameter 'b' dimension 0 is 3 (shape [3]), but n = 4 from parameter 'a' dimension 0",
    );
    expect(() => k('add')([a, a, device.empty([2, 2], 'float32')])).toThrow(
      "kernel add: parameter 'c' has rank 2 (shape [2, 2]), expected rank 1",
    );
    expect(() => k('add')([a, a, device.empty([4], 'int32')])).toThrow(
      "kernel add: parameter 'c' has dtype int32, expected float32",
    );
    expect(() => k('add')([tensor([1, 2, 3, 4], [4]), a, c])).toThrow(
      "kernel add: parameter 'a' is a tensor on cpu, not on webgpu",
    );
    expect(() => k('add')([a, a])).toThrow('kernel add takes 3 arguments (a, b, c), 2 given');
  });

  test('an output that is also an input (a memory plan writing in place) is written elsewhere and copied over', async () => {
    const a = await up([1, 2, 3, 4]);
    const b = await up([10, 20, 30, 40]);
    await k('add')([a, b, a]);
    expect(Array.from((await device.download(a)).data as Float32Array)).toEqual([11, 22, 33, 44]);
  });

  test('a WGSL error names the kernel and the line, at prepare time and at the first call', async () => {
    const broken = file(addKernel('broken', 'float32', 'f32', 'fn main( { }'));
    await expect(device.prepareKernels(broken, 'here')).rejects.toThrow(
      /^here: kernel broken: WGSL compilation failed:\n {2}1:\d+: /,
    );
    const lazy = device.compileKernels(broken, 'there').get('broken')!;
    const a = await up([1]);
    await expect(lazy([a, a, device.empty([1], 'float32')])).rejects.toThrow('there: kernel broken: WGSL compilation failed');
  });

  test('a binding whose access mode disagrees with the metadata fails at prepare time, naming the entry point', async () => {
    const k0 = addKernel('mislabeled');
    const bad = { ...k0, params: k0.params.map((p) => (p.kind === 'buffer' ? { ...p, written: false } : p)) };
    await expect(device.prepareKernels(file(bad), 'x')).rejects.toThrow(
      "x: kernel mislabeled: creating the pipeline of entry point 'main' failed",
    );
  });

  test('shader modules and pipelines are made once per device', async () => {
    const before = device.stats;
    // A source no other test compiles, shared by three kernels.
    const source = addKernel().source.replace('fn main', 'fn  main');
    const same = (name: string) => addKernel(name, 'float32', 'f32', source);
    await device.prepareKernels(file(same('p1'), same('p2')), 'a');
    await device.prepareKernels(file(same('p3')), 'b');
    expect(device.stats).toEqual({ shaderModules: before.shaderModules + 1, pipelines: before.pipelines + 1 });
  });

  test('pipelines compile in parallel with progress reported per kernel', async () => {
    const seen: [number, number][] = [];
    const source = addKernel().source.replace('fn main', 'fn   main');
    const ks = await device.prepareKernels(
      file(addKernel('q1', 'float32', 'f32', source), addKernel('q2', 'float32', 'f32', source.replace('fn', 'fn ')), AXPB),
      'progress',
      (done, total) => seen.push([done, total]),
    );
    expect(seen).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    const a = await up([1, 2]);
    const c = device.empty([2], 'float32');
    await ks.get('q2')!([a, a, c]);
    expect(await numbers(c)).toEqual([2, 4]);
  });

  test('a device the application made: Kiln runs its kernels on it and says so', async () => {
    const gpu = await nodeGpu();
    const adapter = (await gpu.requestAdapter())!;
    const own = await adapter.requestDevice();
    const d = await createWebGpuDevice(gpu, { device: own });
    try {
      expect(d.gpuDevice).toBe(own);
      expect(d.name).toMatch(/the application's device\)$/);
      const ks = await d.prepareKernels(file(addKernel()), 'app');
      const a = await d.upload(tensor([1, 2, 3], [3]));
      const c = d.empty([3], 'float32');
      await ks.get('add')!([a, a, c]);
      expect((await c.toCpu()).toNumbers()).toEqual([2, 4, 6]);
    } finally {
      d.destroy();
    }
  });

  describe('f16', () => {
    let noF16: WebGpuDevice;
    beforeAll(async () => {
      noF16 = await createWebGpuDevice(await nodeGpu(), { f16: false });
    });
    afterAll(() => noF16.destroy());

    test.runIf(device.hasF16)('an f16 kernel runs where shader-f16 is on', async () => {
      const [half] = (await device.prepareKernels(file(HALF_DOUBLE), 'h')).values();
      const x = await up([1.5, -3, 0.25], 'float16');
      const y = device.empty([3], 'float16');
      await half!([x, y]);
      expect(await numbers(y)).toEqual([3, -6, 0.5]);
    });

    test('a kernel needing shader-f16 is refused where it is off, naming kernel and feature', () => {
      expect(() => noF16.compileKernels(file(HALF_DOUBLE), 'h')).toThrow(
        `h: kernel half_double: needs the WebGPU feature 'shader-f16', which ${noF16.name} lacks`,
      );
    });
  });
});

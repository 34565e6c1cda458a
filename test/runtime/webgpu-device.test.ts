/**
 * The webgpu device: every dtype's trip to GPU storage and back (with the
 * conversions of kernel-spec.ts's GpuStorage rule and their refusals),
 * zero-filled tensors, and a lost device. Runs on any adapter, lavapipe included.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { DType } from '../../src/runtime/dtype.ts';
import type { NDArray } from '../../src/runtime/ndarray.ts';
import { tensor } from '../../src/runtime/ndarray.ts';
import { nodeGpu } from '../../src/runtime/node.ts';
import { createWebGpuDevice, type WebGpuDevice } from '../../src/runtime/webgpu/device.ts';
import { StagingPool } from '../../src/runtime/webgpu/staging.ts';
import { gpuStorageOf, type WebGpuStorage } from '../../src/runtime/webgpu/storage.ts';
import { describeWebGpu } from '../helpers/webgpu.ts';

const storageOf = (t: NDArray): WebGpuStorage => t.storage as WebGpuStorage;

test('gpuStorageOf follows the GpuStorage rule', () => {
  const expected: Record<DType, string> = {
    bool: 'i32',
    int8: 'i32',
    int16: 'i32',
    int32: 'i32',
    int64: 'i32',
    uint8: 'u32',
    uint16: 'u32',
    uint32: 'u32',
    uint64: 'u32',
    float32: 'f32',
    bfloat16: 'f32',
    float16: 'f16',
    float64: '',
  };
  for (const [dtype, storage] of Object.entries(expected)) {
    if (dtype === 'float64') continue;
    expect(gpuStorageOf(dtype, true)).toBe(storage);
  }
  expect(gpuStorageOf('float16', false)).toBe('f32');
  expect(() => gpuStorageOf('float64', true)).toThrow('WebGPU has no 64-bit floats');
});

describeWebGpu('the webgpu device', (device) => {
  /** A second device without shader-f16, on the same GPU instance. */
  let noF16: WebGpuDevice;
  beforeAll(async () => {
    noF16 = await createWebGpuDevice(await nodeGpu(), { f16: false });
  });
  afterAll(() => noF16.destroy());

  test('names its adapter and has the limits kernels need', () => {
    expect(device.kind).toBe('webgpu');
    expect(device.name).toMatch(/^webgpu \(.+\)$/);
    // The load-time report of the chosen adapter (Dawn in Node offers core adapters).
    expect(device.adapterReport).toMatchObject({ featureLevel: 'core' });
    expect(typeof device.adapterReport!.fallback).toBe('boolean');
    expect(device.limits.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
    expect(noF16.hasF16).toBe(false);
  });

  const cases: [DType, (number | bigint)[], string][] = [
    ['bool', [0, 1, 1, 0, 1], 'i32'],
    ['int8', [-128, 127, 0, 5, -1], 'i32'],
    ['int16', [-32768, 32767, 0, 5, -1], 'i32'],
    ['int32', [-(2 ** 31), 2 ** 31 - 1, 0, 5, -1], 'i32'],
    ['int64', [-(2n ** 31n), 2n ** 31n - 1n, 0n, 5n, -1n], 'i32'],
    ['uint8', [0, 255, 1, 2, 3], 'u32'],
    ['uint16', [0, 65535, 1, 2, 3], 'u32'],
    ['uint32', [0, 2 ** 32 - 1, 1, 2, 3], 'u32'],
    ['uint64', [0n, 2n ** 32n - 1n, 1n, 2n, 3n], 'u32'],
    ['float32', [1.5, -2, 0.1, 3e38, -0], 'f32'],
    ['bfloat16', [1.5, -2, 0.1015625, 3.3895313892515355e38, -0], 'f32'],
    ['float16', [1.5, -2, 65504, 2 ** -24, -0], 'f16'],
  ];
  for (const [dtype, values, storage] of cases) {
    test(`${dtype} round trips through ${storage} storage`, async () => {
      const t = tensor(values as ArrayLike<number>, [5], dtype);
      const g = await device.upload(t);
      expect(g.device).toBe(device);
      expect(storageOf(g).storage).toBe(storage);
      // Buffers are whole 16 bytes (a kernel may read them as vec4s): 5 f16 elements take 16, 5 of 4 bytes 32.
      expect(storageOf(g).buffer.size).toBe(storage === 'f16' ? 16 : 32);
      const back = await g.toCpu();
      expect(back.dtype).toBe(dtype);
      expect(back.shape).toEqual([5]);
      expect([...back.data]).toEqual([...t.data]);
    });
  }

  test('float16 without shader-f16 is stored as f32 and comes back exactly', async () => {
    const t = tensor([1.5, -2, 65504, 2 ** -24, 0.333251953125], [5], 'float16');
    const g = await noF16.upload(t);
    expect(storageOf(g)).toMatchObject({ storage: 'f32' });
    expect(storageOf(g).buffer.size).toBe(32);
    expect([...(await g.toCpu()).data]).toEqual([...t.data]);
  });

  test('int64 and uint64 values outside 32 bits are refused, naming the element', () => {
    expect(() => device.upload(tensor([1n, 2n ** 31n, 3n, 4n], [2, 2], 'int64'))).toThrow(
      'element 1 (index [0, 1]) is 2147483648, outside the i32 range WebGPU stores int64 in',
    );
    expect(() => device.upload(tensor([0n, 1n, 2n, 2n ** 32n], [4], 'uint64'))).toThrow(RangeError);
    expect(() => device.upload(tensor([-(2n ** 31n) - 1n], [1], 'int64'))).toThrow('is -2147483649');
  });

  test('float64 is refused: WebGPU has no 64-bit floats', () => {
    expect(() => device.upload(tensor([1], [1], 'float64'))).toThrow('WebGPU has no 64-bit floats');
    expect(() => device.empty([2], 'float64')).toThrow('WebGPU has no 64-bit floats');
  });

  test('empty tensors are zero-filled, at least 16 bytes, rounded up to 16', async () => {
    const z = device.empty([3, 3], 'float16');
    expect(storageOf(z).buffer.size).toBe(32);
    expect((await z.toCpu()).toNumbers()).toEqual(new Array(9).fill(0));
    const none = device.empty([0, 4], 'int8');
    expect(storageOf(none).buffer.size).toBe(16);
    expect((await none.toCpu()).shape).toEqual([0, 4]);
    expect((await device.empty([], 'int64').toCpu()).data).toEqual(new BigInt64Array(1));
  });

  test('a tensor already on the device is not copied; one of another device is', async () => {
    const g = await device.upload(tensor([1, 2], [2]));
    expect(await device.upload(g)).toBe(g);
    const h = await noF16.upload(g);
    expect(h.device).toBe(noF16);
    expect((await h.toCpu()).toNumbers()).toEqual([1, 2]);
  });

  test('read-back buffers are reused across downloads of nearby sizes; each download reads only its tensor', async () => {
    const pool = new StagingPool(device.gpuDevice);
    const a = pool.take(100);
    expect(a.size).toBe(256);
    pool.give(a);
    expect(pool.take(200)).toBe(a);
    const b = pool.take(300);
    expect(b.size).toBe(512);
    pool.give(a);
    pool.give(b);
    // A large read, then a small one through the same (reused) buffer: the small one sees only its elements.
    const big = Float32Array.from({ length: 1000 }, (_, i) => i + 0.5);
    expect([...(await (await device.upload(tensor(big, [1000]))).toCpu()).data]).toEqual([...big]);
    const small = await (await device.upload(tensor([7, 8, 9], [3], 'int32'))).toCpu();
    expect(small.dtype).toBe('int32');
    expect([...small.data]).toEqual([7, 8, 9]);
    const reads = await Promise.all([1, 2, 3].map(async (k) => (await device.upload(tensor([k, k], [2]))).toCpu()));
    expect(reads.map((r) => [...r.data])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  test('a lost device says so on every later call', async () => {
    const d = await createWebGpuDevice(await nodeGpu());
    const t = d.empty([2], 'float32');
    d.destroy();
    await expect.poll(() => d.lost).toBeDefined();
    expect(() => d.empty([2], 'float32')).toThrow('the WebGPU device was lost:');
    await expect(t.toCpu()).rejects.toThrow('the WebGPU device was lost:');
  });
});

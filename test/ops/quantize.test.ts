/**
 * quantize, dequantize and dequantize_blockwise: their shape and dtype rules, and their
 * legalizations (run by the js target, and by wasm and WebGPU where the helpers queue them)
 * against a float64 reference: round half to even, saturation, per-axis parameters, packed
 * 4-bit weights with and without zero points.
 */
import { describe, expect, test } from 'vitest';
import { expectClose, ref, runOp, tensorArg } from '../helpers/run-op.ts';
import { randomArray } from '../helpers/tir-interpreter.ts';
import { expectInfer, infer, n, T } from './helpers.ts';

/** Round half to even, as ONNX and the kernels do. */
function roundEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

describe('shapes and dtypes', () => {
  test('quantize keeps the shape and takes out_dtype; dequantize gives the scale dtype', () => {
    expectInfer('quantize', [T([n, 4]), T([]), T([], 'int8')], { out_dtype: 'int8' }, [n, 4], 'int8');
    expectInfer('quantize', [T([n, 4]), T([4])], {}, [n, 4], 'uint8');
    expectInfer('dequantize', [T([2, 3], 'int8'), T([3]), T([3], 'int8')], { axis: 1 }, [2, 3], 'float32');
    expectInfer('dequantize_blockwise', [T([6, 2, 8], 'uint8'), T([6, 2])], { k: 32, n: 6, block_size: 16 }, [32, 6]);
  });

  test('a scale per axis index must have the axis length; zero points must have the result dtype', () => {
    expect(() => infer('quantize', [T([2, 3]), T([2])], { axis: 1 })).toThrow(/'scale' .* has 2 values but axis 1 .* has 3/);
    expect(() => infer('quantize', [T([2, 3]), T([]), T([], 'uint8')], { out_dtype: 'int8' })).toThrow(
      /'zero_point' has dtype uint8 but out_dtype is int8/,
    );
    expect(() => infer('dequantize', [T([2, 3]), T([])], {})).toThrow(/argument 'x' has dtype float32/);
    expect(() => infer('dequantize_blockwise', [T([6, 3, 8], 'uint8'), T([6, 2])], { k: 32, n: 6, block_size: 16 })).toThrow(
      /expected argument 'b' .* to have shape \(6, 2, 8\)/,
    );
  });
});

describe('legalization', () => {
  test('quantize: half to even, the zero point added, saturated', () => {
    const x = ref([8], 'float32', [0.5, 1.5, 2.5, -0.5, -1.5, 1000, -1000, 1.2]);
    const out = runOp('quantize', [tensorArg(x), tensorArg(ref([], 'float32', [0.5])), tensorArg(ref([], 'int8', [3]))], {
      out_dtype: 'int8',
    }).outputs[0]!;
    expect(Array.from(out.data)).toEqual([4, 6, 8, 2, 0, 127, -128, 5]);
    const u = runOp('quantize', [tensorArg(x), tensorArg(ref([1], 'float32', [1]))]).outputs[0]!;
    expect(Array.from(u.data)).toEqual([0, 2, 2, 0, 0, 255, 0, 1]);
  });

  test('per axis: quantize then dequantize over axis 1 of a symbolic-batch tensor', () => {
    const x = ref([3, 4], 'float32', randomArray(12, 7, -3, 3));
    const scale = ref([4], 'float32', [0.01, 0.02, 0.05, 0.1]);
    const zp = ref([4], 'uint8', [0, 128, 10, 255]);
    const q = runOp('quantize', [tensorArg(x, ['n', 4]), tensorArg(scale), tensorArg(zp)], { axis: 1 }).outputs[0]!;
    const wantQ = Array.from(x.data, (v, i) =>
      Math.min(255, Math.max(0, roundEven(Math.fround(v / scale.data[i % 4]!)) + zp.data[i % 4]!)),
    );
    expect(Array.from(q.data)).toEqual(wantQ);
    const d = runOp('dequantize', [tensorArg(q), tensorArg(scale), tensorArg(zp)], { axis: -1 }).outputs[0]!;
    expectClose(
      d.data,
      wantQ.map((v, i) => (v - zp.data[i % 4]!) * scale.data[i % 4]!),
      { rtol: 1e-6, atol: 0 },
    );
  });

  for (const zeroPoints of ['none', 'packed', 'float'] as const) {
    test(`dequantize_blockwise: 4-bit blocks of 16 over K = 48, zero points ${zeroPoints}`, () => {
      const [K, N, B] = [48, 3, 16];
      const blocks = K / B;
      const b = ref([N, blocks, 8], 'uint8', Array.from(randomArray(N * blocks * 8, 3, 0, 256), Math.floor));
      const scales = ref([N, blocks], 'float32', randomArray(N * blocks, 4, 0.01, 0.1));
      const zpPacked = ref([N, 2], 'uint8', Array.from(randomArray(N * 2, 5, 0, 256), Math.floor));
      const zpFloat = ref([N, blocks], 'float32', randomArray(N * blocks, 6, 0, 15));
      const args = [tensorArg(b), tensorArg(scales)];
      if (zeroPoints === 'packed') args.push(tensorArg(zpPacked));
      if (zeroPoints === 'float') args.push(tensorArg(zpFloat));
      const out = runOp('dequantize_blockwise', args, { k: K, n: N, block_size: B, bits: 4 }).outputs[0]!;
      expect(out.shape).toEqual([K, N]);
      const want: number[] = [];
      for (let k = 0; k < K; k++) {
        for (let j = 0; j < N; j++) {
          const blk = Math.floor(k / B);
          const byte = b.data[(j * blocks + blk) * 8 + Math.floor((k % B) / 2)]!;
          const q = (k % 2 === 0 ? byte : byte >> 4) & 15;
          const zbyte = zpPacked.data[j * 2 + (blk >> 1)]!;
          const zp =
            zeroPoints === 'none'
              ? 8
              : zeroPoints === 'packed'
                ? ((blk & 1) === 0 ? zbyte : zbyte >> 4) & 15
                : zpFloat.data[j * blocks + blk]!;
          want.push((q - zp) * scales.data[j * blocks + blk]!);
        }
      }
      expectClose(out.data, want, { rtol: 1e-6, atol: 1e-7 });
    });
  }
});
